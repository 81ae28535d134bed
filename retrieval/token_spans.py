"""Answers that are a token (or a few) of a sentence, read from what the question's words ask:

- **a word at a position** — "which word did she end with?", "what was the first word he said?",
  "what word does the reading begin with?": the asked noun is *word* (singular), and the position
  comes from an ordinal on it (first / last / final ...) or from a verb of beginning or ending
  (begin, start, open / end, finish, close, conclude); the answer is the first or last word of
  the best sentence, not the sentence. "What word did he stress?" names no position: not this.
- **a token of a shape** — "what letter and number did he say?", "which digit and letter were read
  out?", "which letter did she say?": the asked noun and its conjuncts (letter, digit, number) make
  the shape of the answer (a letter then a number: "j3", "j 3" from "j three"); a plain "what
  number" is a number question (retrieval/spans.py), not this.
- **the number the question's other words choose** — "how many hours will he work tomorrow?"
  between "I put in 15 hours of work today" and "I'll work 17 tomorrow": the sentence that shares
  the most of the question's words besides the counted unit's phrase ("hours of work" says what
  is counted, not when) wins — a word said or one that sounds like it (retrieval/soundalike.py:
  "to borrow" for "tomorrow") — and its number is the answer even when the unit is left unsaid
  there (ties go to a number said with its unit, then to the better-ranked evidence).
- **a quoted word said, or heard as another** — "which season does the poem call 'gaudy'?" where ASR heard
  "the godly spring": the noun phrase that the sound-alike word describes, as heard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory import nlp
from retrieval.question import ORDER_WORDS, Question

if TYPE_CHECKING:
    from retrieval.spans import Found, Piece

BEGIN_VERBS = frozenset("begin start open commence".split())
END_VERBS = frozenset("end finish close conclude stop".split())
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# the shape of one token each noun names
_SHAPES = {"letter": r"[^\W\d_]", "digit": r"\d", "number": r"\d+", "numeral": r"\d+"}


def _focus(q: Question) -> object | None:
    """The question's token for the noun it asks about (the wh-word's noun)."""
    if not q.gap.focus_head:
        return None
    doc = nlp.parse(q.text)
    for tok in doc:
        if tok.lemma_.lower() == q.gap.focus_head and tok.pos_ in ("NOUN", "PROPN"):
            return tok
    return None


def position(q: Question) -> str | None:
    """"first" / "last" when the question asks for the word at that position, else None."""
    tok = _focus(q)
    if tok is None or tok.lemma_.lower() != "word" or tok.tag_ != "NN":  # type: ignore[attr-defined]
        return None
    for child in tok.children:  # type: ignore[attr-defined]
        order = ORDER_WORDS.get(child.lower_)
        if order is not None:
            return order
    for t in tok.doc:  # type: ignore[attr-defined]
        lemma = t.lemma_.lower()
        if lemma not in BEGIN_VERBS | END_VERBS or any(c.dep_ == "det" for c in t.children):
            continue  # "at the end" of something is when, not which word
        return "first" if lemma in BEGIN_VERBS else "last"
    return q.order


def shape(q: Question) -> re.Pattern[str] | None:
    """The pattern of the token a "what letter and number" question asks for, else None."""
    tok = _focus(q)
    if tok is None:
        return None
    parts = [t for t in (tok, *tok.conjuncts) if t.lemma_.lower() in _SHAPES]  # type: ignore[attr-defined]
    if not parts or len(parts) == 1 and parts[0].lemma_.lower() != "letter":
        return None
    if any(t.tag_ in ("NNS", "NNPS") for t in parts):
        return None  # "which letters", "what numbers": more than one token
    body = r"\s?".join(_SHAPES[t.lemma_.lower()] for t in parts)
    return re.compile(rf"(?<![\w'’]){body}(?![\w'’])")


def _by_position(where: str, pieces: Sequence[Piece]) -> Found | None:
    from retrieval.spans import Found, title_and_lines

    for i, piece in enumerate(pieces):
        _, lines = title_and_lines(piece)
        words = [w for line in lines for w in _WORD.findall(line)]
        if words:
            line = lines[0] if where == "first" else lines[-1]
            return Found(words[0] if where == "first" else words[-1], i, line, f"the {where} word of the best sentence")
    return None


def _by_shape(pattern: re.Pattern[str], pieces: Sequence[Piece]) -> Found | None:
    from retrieval.spans import Found, title_and_lines

    letter_only = pattern.pattern.count("\\") == 1 and "[^" in pattern.pattern
    for i, piece in enumerate(pieces):
        _, lines = title_and_lines(piece)
        for line in lines:
            text = nlp.digits(line, ordinals=False)
            if letter_only:  # a lone letter that is no word of its own ("a" is an article, "I" a pronoun)
                got = next((t.text for t in nlp.parse(text) if len(t.text) == 1 and t.is_alpha
                            and t.pos_ not in ("DET", "PRON", "CCONJ", "ADP")), None)
            else:
                m = pattern.search(text)
                got = m.group() if m else None
            if got:
                return Found(got, i, line, "the token of the asked shape in the best sentence")
    return None


def _unit_tokens(unit: str, doc: object) -> set[int]:
    """The token indices of the counted noun's phrase ("How many hours of work"): words that say
    what is counted, not which occasion."""
    out: set[int] = set()
    for tok in doc:  # type: ignore[attr-defined]
        if tok.pos_ in ("NOUN", "PROPN") and (tok.lemma_.lower() == unit or tok.lower_.rstrip("s") == unit.rstrip("s")):
            out |= {t.i for t in tok.subtree}
    return out


def _shares(word: str, sent: object, skip: set[int], text: str) -> bool:
    """The sentence says the question's word (as a lemma, a form, or a word that sounds like it)."""
    from retrieval.soundalike import heard

    kept = [t for t in sent if t.i not in skip]  # type: ignore[attr-defined]
    if any(t.lemma_.lower() == word or t.lower_ == word for t in kept):
        return True
    return bool(heard(word, " ".join(t.text for t in kept)))


def _by_context(q: Question, pieces: Sequence[Piece]) -> Found | None:
    from retrieval.entity_spans import _unit_number
    from retrieval.spans import Found, _asked, title_and_lines

    unit = q.gap.unit
    _, content = _asked(q)
    qdoc = nlp.parse(q.text)
    in_unit = {t.lemma_.lower() for t in qdoc if t.i in _unit_tokens(unit, qdoc)}
    others = content - {unit} - in_unit
    asked = set(re.findall(r"\d+", nlp.digits(q.text)))
    best: tuple[tuple[int, int, int], Found] | None = None
    for i, piece in enumerate(pieces):
        if piece.modality == "screen":
            continue
        _, lines = title_and_lines(piece)
        for line in lines:
            text = nlp.digits(line)
            sent = nlp.parse(text)[:]
            numbers = [t for t in sent if t.like_num and re.fullmatch(r"\d+(?:[.,]\d+)?", t.text) and t.text not in asked
                       and t.ent_type_ not in ("MONEY", "PERCENT", "ORDINAL")]
            if not numbers:
                continue
            with_unit = _unit_number(unit, sent)
            skip = _unit_tokens(unit, sent) if with_unit else set()
            shared = sum(_shares(w, sent, skip, text) for w in others)
            text_of = with_unit or numbers[0].text
            key = (shared, 1 if with_unit else 0, -i)
            if (with_unit or shared) and (best is None or key > best[0]):
                how = f"the number of {unit}s in the sentence that shares most of the question's words"
                best = (key, Found(text_of, i, line, how))
    return best[1] if best else None


def complement(span: str, question: str) -> str:
    """The span without a run of the question's own words at its start ("what is buried
    within thine own bud": "thine own bud -buriest thy content" → "buriest thy content"): a run
    of two words or more the question says (determiners and punctuation aside), cut only when what
    is left holds a word the question does not say."""
    qdoc = nlp.parse(question)
    said = {t.lemma_.lower() for t in qdoc} | {t.lower_ for t in qdoc}
    toks = [t for t in nlp.parse(span)]

    def cut(seq: list) -> int:  # type: ignore[type-arg]
        """How many tokens at the start of ``seq`` are the question's run."""
        k, run = 0, 0
        while k < len(seq) and (seq[k].is_punct or seq[k].pos_ == "DET" or seq[k].lower_ in said or seq[k].lemma_.lower() in said):
            run += not (seq[k].is_punct or seq[k].pos_ == "DET")
            k += 1
        return k if run >= 2 else 0

    kept = toks[cut(toks):]
    new = [t for t in kept if not t.is_punct and not t.is_stop and t.lower_ not in said and t.lemma_.lower() not in said]
    if not kept or not new:
        return span
    text = span[kept[0].idx: kept[-1].idx + len(kept[-1].text)]
    return text.strip(" -,;:") or span


_QUOTED = re.compile(r"""(?<!\w)['"‘“]([^\W\d_]+)['"’”](?!\w)""")


def _by_sound(q: Question, pieces: Sequence[Piece]) -> Found | None:
    """"Which season does the poem call 'gaudy'?" where ASR heard "the godly spring": a quoted
    word of the question, or an adjective of it ("which season is called gaudy"), that speech
    holds only as a word that sounds like it; the answer is the noun phrase that word describes,
    as it was heard."""
    from retrieval.soundalike import heard
    from retrieval.spans import Found, title_and_lines

    quoted = [w.lower() for w in _QUOTED.findall(q.text)]
    if q.kind != "what":
        return None
    # unquoted, a describing word of the question ("which season is called gaudy") counts only when
    # speech holds it as another word alone: said as asked, the other steps read it
    # (or a word in a describing role the tagger took for a noun: "call X gaudy", "describe as gaudy")
    described = [t.lower_ for t in nlp.parse(q.text) if t.lower_ not in quoted and t.is_alpha and not t.is_stop
                 and t.tag_ not in ("WDT", "JJS", "JJR") and (t.pos_ == "ADJ" or t.dep_ in ("oprd", "acomp")
                                                             or t.dep_ == "pobj" and t.head.lower_ == "as")]
    if not quoted and not described:
        return None
    q_lemmas = {t.lemma_.lower() for t in nlp.parse(q.text)}
    for i, piece in enumerate(pieces):
        if piece.modality != "speech":
            continue
        _, lines = title_and_lines(piece)
        for line in lines:
            for w in [*quoted, *described]:
                sounds = [h.lower() for h in heard(w, line) if " " not in h]  # said as asked, or heard as another
                if w not in quoted and w in sounds:
                    continue
                doc = nlp.parse(line)
                for chunk in doc.noun_chunks if sounds else ():
                    end = chunk.end
                    while end < len(doc) and doc[end].pos_ == "NOUN":
                        end += 1  # "the gaudy | spring": the parser cut the phrase before its noun
                    phrase = doc[chunk.start: end]
                    mods = [t for t in phrase if t.lower_ in sounds and t.i != phrase[-1].i]
                    if mods and phrase[-1].lemma_.lower() not in q_lemmas:
                        return Found(phrase.text, i, line, f"the noun phrase '{mods[0].text}' (for '{w}') describes")
    return None


def find(q: Question, pieces: Sequence[Piece]) -> Found | None:
    """A token answer of ``pieces`` (best first) for ``q``, or None when it asks for none."""
    if not pieces:
        return None
    where = position(q)
    if where is not None:
        return _by_position(where, pieces)
    pattern = shape(q)
    if pattern is not None:
        found = _by_shape(pattern, pieces)
        if found is not None:
            return found
    found = _by_sound(q, pieces)
    if found is not None:
        return found
    if q.wants == "number" and q.gap.unit and pieces[0].modality != "screen":
        return _by_context(q, pieces)
    return None
