"""Span answers: the shortest span of the evidence that answers the question, the whole sentence
or screen line kept as the cited evidence.

In order, for the best pieces of evidence (a spoken sentence, a block of screen lines):

0. from a capture's layout lines (retrieval/layout_spans.py): the item shown selected or checked
   for "which X was selected / chosen / open", the size of the list the question points at for
   "how many X";
1. (retrieval/label_spans.py) a label → value pair the evidence carries (``attrs = {"label": ..., "value": ...}``, from
   layout-aware screen reading) whose label matches what the question asks about;
2. a plain screen line "Label: value", or a label line followed by its value line, whose label
   matches (the value must be of the asked type: a number for "how many", a date for "when");
3. (retrieval/entity_spans.py) for who / when / where / how many: the entity of the asked type (PERSON; DATE / TIME; GPE /
   LOC / FAC; CARDINAL / QUANTITY / MONEY / PERCENT, and number-like tokens) in the best sentence,
   not one the question already names — for "who will send X", the subject of *send* in the
   sentence; for "how many hours", the number that counts hours;
4. for what / which: the phrase that fills the question's gap — the sentence's verb that the
   question's verb aligns with, and its argument that the question does not already say (the
   object of "desire" in "from fairest creatures we desire increase"); else the noun phrase that
   holds the question's modifier ("the gaudy spring" for "which season is gaudy").

No span: None, and the caller quotes the evidence and says so. A label the capture shows with no
readable value (``Password: ∅``, perception/layout.py) that matches best: a Found with an empty
text, and the caller answers that it is not in memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from memory import nlp
from retrieval.question import SAY_VERBS, TEXT_NOUNS, Question

if TYPE_CHECKING:
    from spacy.tokens import Token

_TITLE = re.compile(r"^\[(?P<title>[^\]]*)\]\s*")
_LABEL_VALUE = re.compile(r"^(?P<label>[^:=]{0,38}[A-Za-z][^:=]{0,38}?)\s*[:=]\s*(?P<value>\S.*)$")
_GLUE_DOT = re.compile(r"(?<=\w)\s*[·•]\s*(?=\w)")
_GLUE_COLON = re.compile(r"(?<=[A-Za-z]):(?=\d)")
_COUNT_LINE = re.compile(r"^\d+ items$")  # perception/layout.py's count of a list
_LIST_SIZE = re.compile(r"^.+:\s*\d+ items$")  # ... and the line that holds it
_YESNO = {"yes": "yes", "no": "no", "on": "yes", "off": "no", "enabled": "yes", "disabled": "no", "true": "yes",
          "false": "no", "checked": "yes", "unchecked": "no"}
_LIGHT_VERBS = {"be", "do", "have", "set", "use", "show", "see", "display", "get", "make", "say", "tell", "mention"}
# the question's wh-role → the roles that fill it in a sentence, best first
_ROLE_FILL = {
    "nsubj": ("nsubj", "nsubjpass", "agent"), "nsubjpass": ("nsubjpass", "nsubj", "dobj"),
    "dobj": ("dobj", "attr", "oprd", "xcomp", "ccomp", "advcl", "nsubjpass"), "attr": ("attr", "nsubj", "dobj", "acomp"),
    "pobj": ("pobj", "prep"), "poss": ("poss", "nsubj", "nsubjpass"), "det": ("dobj", "nsubj", "attr", "pobj", "nsubjpass"),
    "advmod": ("advmod", "npadvmod", "prep", "advcl"),
}


@dataclass(frozen=True)
class Piece:
    """A piece of evidence as the span finder sees it."""

    text: str
    modality: str = "speech"  # "speech" | "screen" | "statement"
    speaker: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)
    far: bool = False  # far below the best evidence: only a value beside the asked label answers from it


@dataclass(frozen=True)
class Found:
    text: str  # the answer: the span
    index: int  # the piece it came from
    line: str  # the sentence or screen line that holds it
    how: str  # how it was found (the answer's note)


def split_title(text: str) -> tuple[str, list[str]]:
    """A screen block "[App - Window] line | line" → its title and its lines."""
    m = _TITLE.match(text)
    title = m.group("title") if m else ""
    body = text[m.end():] if m else text
    return title, [_unglue(x.strip()) for x in body.split(" | ") if x.strip()]


def _unglue(line: str) -> str:
    """Words the OCR ran together at a separator ("6 episodes·Time left:14 hours") set apart, so
    the parser reads "episodes" and "14 hours" as words of their own."""
    return _GLUE_COLON.sub(": ", _GLUE_DOT.sub(" · ", line))


def title_and_lines(piece: Piece) -> tuple[str, list[str]]:
    """A screen piece → its title and lines; speech → its sentences."""
    if piece.modality != "screen":
        return "", nlp.sentences(piece.text) or [piece.text]
    return split_title(piece.text)


# -- what the question asks about ------------------------------------------------------------


def _asked(q: Question) -> tuple[set[str], set[str]]:
    """The lemmas of the noun asked about (its focus) and of the question's other content words."""
    doc = nlp.parse(q.text)
    focus = _lemmas(q.gap.focus) if q.gap.focus else set()
    if q.gap.unit:
        focus.add(q.gap.unit)
    content = {k for t in doc if t.pos_ in ("NOUN", "PROPN", "ADJ", "VERB", "NUM") and not t.is_stop
               and t.lemma_.lower() not in _LIGHT_VERBS and t.tag_ not in ("WDT", "WP", "WRB") for k in _keys(t)}
    return focus - {"what", "which"}, content


def _keys(t: Token) -> set[str]:
    """A word's lemma, and the lemma of its usual spelling where spaCy's norm gives another
    ("colour" → "color", "organisation" → "organization": a British question, an American label)."""
    out = {t.lemma_.lower()}
    if t.is_alpha and t.norm_ != t.lower_ and t.norm_.isalpha():
        out.add(nlp.parse(t.norm_)[0].lemma_.lower())
    return out


def _lemmas(text: str, join: bool = True) -> set[str]:
    """Content lemmas and words of a text, and (``join``) each pair of adjacent words written as
    one ("user name" meets the label "Username", "file name" meets "Filename")."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    joined = {a + b for a, b in zip(words, words[1:]) if a.isalpha() and b.isalpha()} if join else set()
    return {k for t in nlp.parse(text) if not t.is_punct and not t.is_stop for k in _keys(t)} | {
        w for w in words if len(w) > 1} | joined


def _typed(value: str, wants: str | None) -> bool:
    """The value is of the asked type (anything, when the question asks for no type; for "who",
    anything but a value spaCy reads as a place, a date, a time or a number)."""
    if wants == "name":
        return bool(value.strip()) and not _not_a_name(value)
    if wants in (None, "app", "place"):
        return bool(value.strip())
    if wants == "yesno":
        return value.strip().lower() in _YESNO
    spans = nlp.typed_spans(value)
    if wants == "time":
        return any(s.label in ("DATE", "TIME") for s in spans) or bool(re.search(r"\d{1,2}:\d{2}|\d/\d", value))
    return bool(re.search(r"\d", nlp.digits(value)))  # number, duration


_NOT_NAMES = frozenset({"GPE", "LOC", "FAC", "DATE", "TIME", "MONEY", "CARDINAL", "NUMBER", "PERCENT", "QUANTITY", "ORDINAL"})


def _not_a_name(value: str) -> bool:
    """"Rotterdam", "Friday", "12": the value is mostly an entity of a type no "who" asks for."""
    size = len(value.strip())
    return any(s.label in _NOT_NAMES and len(s.text) >= 0.5 * size for s in nlp.typed_spans(value.strip()))


# -- 3: an entity of the asked type (retrieval/entity_spans.py) -------------------------------


def _verbs(q: Question, keep_saying: bool = False) -> list[str]:
    """The question's content verbs (the root too: the small parser tags some verbs as adjectives);
    ``keep_saying``: verbs of saying count too, except the one the wh-word hangs on ("what did he
    say to ask ...": "ask" is content, "say" is not)."""
    doc = nlp.parse(q.text)
    skip = _LIGHT_VERBS | {"go"} | (set() if keep_saying else SAY_VERBS)
    return list(dict.fromkeys(t.lemma_.lower() for t in doc if (t.pos_ == "VERB" or t.dep_ == "ROOT" and t.pos_ != "AUX")
                              and t.lemma_.lower() not in skip))


# -- 3b: the number or code that names the asked thing ---------------------------------------


def _numbered(q: Question, pieces: Sequence[Piece]) -> Found | None:
    """"which level / floor / gate / room": the asked noun with the number or code right after it
    in the best sentence or line ("level 3", "gate B12"); a number before a plural noun counts
    things ("3 levels"), it names none."""
    head = q.gap.focus_head
    if not head or q.gap.wh not in ("which", "what"):
        return None
    asked = set(re.findall(r"\w+", q.text.lower()))
    for i, piece in enumerate(pieces):
        _, lines = title_and_lines(piece)
        for line in lines:
            doc = nlp.parse(line)
            for tok in doc[:-1]:
                nxt = doc[tok.i + 1]
                if tok.lemma_.lower() != head or tok.tag_ not in ("NN", "NNP"):
                    continue
                if (nxt.like_num or re.fullmatch(r"[A-Za-z]{0,3}\d[\w-]*", nxt.text)) and nxt.lower_ not in asked:
                    return Found(f"{tok.text} {nxt.text}", i, line, f"the {head} named by its number in the best "
                                 f"{'line' if piece.modality == 'screen' else 'sentence'}")
    return None


# -- 4: the phrase that fills the gap --------------------------------------------------------


def _gap_phrase(q: Question, pieces: Sequence[Piece]) -> Found | None:
    qdoc = nlp.parse(q.text)
    q_lemmas = {t.lemma_.lower() for t in qdoc if not t.is_punct}
    q_words = {t.lower_ for t in qdoc if not t.is_punct}
    verbs = _verbs(q, keep_saying=True)
    fills = _ROLE_FILL.get(q.gap.role, ("dobj", "nsubj", "attr"))
    norm_q = " ".join(re.findall(r"\w+", q.text.lower()))
    for i, piece in enumerate(pieces):
        _, lines = title_and_lines(piece)
        for line in lines:
            sent = nlp.parse(line)[:]
            for verb in verbs:
                for tok in sent:
                    if tok.lemma_.lower() != verb:
                        continue
                    # only an argument in a role the wh-word can stand for ("what did they ask": an
                    # object or a clause, never the subject who asked)
                    args = [c for c in tok.children if c.dep_ in fills]
                    ranked = sorted(args, key=lambda c: fills.index(c.dep_))
                    for arg in ranked:
                        words = [t for t in arg.subtree]
                        text = " ".join(t.text for t in words).strip(" ,.;")
                        new = {t.lemma_.lower() for t in words if not t.is_stop and not t.is_punct} - q_lemmas
                        # new words, or (a clause of three words or more) words the question puts otherwise
                        if (not new and len(words) < 3) or " ".join(re.findall(r"\w+", text.lower())) in norm_q:
                            continue
                        return Found(text, i, line, f"what fills the question's gap around '{verb}' in the best sentence")
            # a modifier the question uses, on a noun it does not ("which season is 'gaudy'": "the gaudy spring")
            for chunk in sent.noun_chunks:
                mods = {t.lemma_.lower() for t in chunk if t.dep_ in ("amod", "compound") and not t.is_stop}
                if mods & q_lemmas and chunk.root.lemma_.lower() not in q_lemmas:
                    from retrieval.token_spans import complement  # not the question's own words back

                    return Found(complement(chunk.text, q.text), i, line, "the noun phrase the question's words describe, in the best sentence")
            # the new noun phrase right after a run of the question's own words ("within thine own bud
            # [buriest] thy content"): the sentence says the asked part next to the part it shares
            shared = [t.i for t in sent if not t.is_stop and not t.is_punct
                      and (t.lemma_.lower() in q_lemmas or t.lower_ in q_words)]
            if len(shared) >= 2:
                after = [c for c in sent.noun_chunks if c.start > shared[-1] and c.start - shared[-1] <= 3
                         and c.root.pos_ != "PRON"  # "we", "it" stand for something; they say nothing new
                         and not ({t.lemma_.lower() for t in c if not t.is_stop} & q_lemmas)]
                if after:
                    return Found(after[0].text, i, line, "the phrase next to the question's own words, in the best sentence")
    return None


# -- the app that showed it ------------------------------------------------------------------


def _by_app(q: Question, pieces: Sequence[Piece]) -> Found | None:
    for i, piece in enumerate(pieces):
        if piece.modality != "screen":
            continue
        title, _ = title_and_lines(piece)
        if not title:
            continue
        app, _, window = title.partition(" - ")
        asks_window = q.gap.focus_head in ("title", "name", "window")
        if asks_window and window:
            return Found(window, i, title, "the window title of the capture that showed it")
        return Found(app, i, title, "the app of the capture that showed it")
    return None


def _whole(q: Question, pieces: Sequence[Piece]) -> Found | None:
    """"What was the last line", "what exactly did she say": the question asks for a piece of
    text, so the sentence (or screen line) itself is the span."""
    asks_text = q.gap.focus_head in TEXT_NOUNS or q.verbatim
    if not asks_text or q.kind != "what":
        return None
    if pieces[0].modality == "screen":
        return None
    text = pieces[0].text.strip()
    return Found(text, 0, text, "the sentence itself (the question asks for what was said, word for word)")


def find(q: Question, pieces: Sequence[Piece]) -> Found | None:
    """The span of ``pieces`` (best first) that answers ``q``, or None. Piece by piece, in the
    order retrieval ranked them: a weaker piece never wins over a better one that holds a span."""
    if not pieces:
        return None
    from retrieval import token_spans  # a word at a position, a token of a shape, the number the words choose

    token = token_spans.find(q, pieces)
    if token is not None:
        return token
    whole = _whole(q, pieces)
    if whole is not None:
        return whole
    from retrieval import shapes  # "which email address": a span of that shape, or none shown

    shaped = shapes.find(q, pieces)
    if shaped is not None:
        return shaped  # type: ignore[return-value]
    from retrieval import entity_spans, entity_types, label_spans, layout_spans  # they read pieces with this module's helpers

    # "which place was selected in the Places panel" asks an item shown selected, not where
    if q.kind == "which_app" or (q.kind == "where" and pieces[0].modality == "screen" and not layout_spans.asks_choice(q)):
        found = _by_app(q, pieces)
        if found is not None:
            return found

    labelled = (layout_spans.chosen, layout_spans.counted, label_spans.by_label)  # read from the capture's structure
    steps = [*labelled, entity_spans.by_type, entity_types.by_label]  # "which company": an ORG, from spaCy's glossary
    if q.kind in ("what", "where") and q.gap.focus_head:  # "which gate", "what room is it in"
        steps.insert(3, _numbered)
    if q.kind == "what" and q.gap.wh or q.gap.wh == "whose":  # a gap to fill: a line of words ("lay blue at x four") asks for none
        steps.append(_gap_phrase)
    kept: Found | None = None  # a date of something else ("Due: March 14" for "when is the meeting")
    for i in layout_spans.by_words(q, pieces):
        piece = pieces[i]
        for step in steps if not piece.far else [s for s in steps if s in labelled]:
            found = step(q, [piece])
            if found is None:
                continue
            found = replace(found, index=i)
            if step is entity_spans.by_type and entity_spans.elsewhere(q, piece, found):
                kept = kept or found  # a later piece may date what is asked
                break
            return found
    return kept
