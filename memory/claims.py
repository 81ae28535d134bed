"""Claims, offline: ``subject | relation | value`` statements read from the dependency parse of
transcript sentences and screen text (:mod:`memory.nlp`), for semantic memory (:mod:`memory.facts`).

Per clause (the root verb of a sentence, the verbs joined to it by "and" / "but", and a clause
reported by the root: "I think the review is on Monday"):

* the **subject** is the clause's ``nsubj`` / ``nsubjpass`` noun phrase, lowercase, without leading
  determiners or possessives ("Our office" -> "office"); pronouns, wh-words and phrases over six
  words are no subject;
* the **value** is the verb's ``attr`` / ``dobj`` / ``oprd`` phrase or the ``pobj`` of one of its
  prepositions (also those hanging off an adjective or a particle: "is due on", "went up to"),
  or a date said without its preposition ("moved Thursday", ASR's "moved the Thursday"); a value
  "from" somewhere gives way to the one it went "to" (values: :mod:`memory.claim_values`);
* the **category** of the value comes from spaCy's entity types: DATE / TIME (and an ordinal day
  "the 14th" that :func:`memory.nlp.when` reads as a date) -> ``when``; MONEY / CARDINAL / PERCENT /
  QUANTITY -> ``amount``; GPE / LOC / FAC, or a place phrase after "at" or with a determiner,
  number or modifier ("the third floor", "room 4") -> ``where``. Those three are the relation when
  the verb states or changes the subject's value: a copula, a passive ("was moved to"), a
  destination ("moved to", "pushed to", "postponed until"). An active verb that dates its own
  event ("the product launches on Wednesday") makes the event the subject ("product launch").
* otherwise the **relation** is the verb in the third person with its particle and preposition
  ("leads", "heads", "works at", "lives in", "reports to", "is", "is on" for "is on leave").

Questions (a "?", a leading auxiliary or wh-word), negations (a ``neg`` dependent, "no longer"),
hypotheticals (a modal other than will / shall, an "if" clause) and pronoun subjects give nothing.
A speaker's self-introduction gives a ``name`` claim with the speaker id as subject
(:func:`memory.names.self_introductions`), and only when the speaker is known. Spoken numbers in
subjects and values become digits (:func:`memory.nlp.digits`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from memory import nlp
from memory.claim_values import (MAX_WORDS, WHEN_LABELS, clean_value, contiguous, ent_label, value_category,
                                  value_tokens, value_words)
from memory.names import self_introductions
from perception.layout import LIST_WORD

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

__all__ = ["Claim", "extract_claims", "split_sentences"]

_SUBJECT_DEPS = ("nsubj", "nsubjpass")
_PRICED = frozenset({"MONEY", "PERCENT", "QUANTITY"})  # an amount a verb's object states ("costs $5"); a bare count does not
_AGENTS = frozenset({"PERSON", "ORG", "NORP", "GPE"})


@dataclass(frozen=True)
class Claim:
    """One statement: normalised subject (lowercase, leading articles/possessives dropped), relation,
    the value as stated (cleaned) and the sentence it came from."""

    subject: str
    relation: str
    value: str
    text: str


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_PIECES = re.compile(r"\n+|\s+\|\s+")
_TITLE = re.compile(r"^\s*\[[^\]\n]*\]\s*")  # "[Excel - Book1] ..." window title of a screen snippet


def _pieces(text: str) -> list[str]:
    """The pieces of a transcript or screen text the parser reads: OCR lines (newlines, " | "),
    a leading "[window title]" dropped."""
    text = _TITLE.sub("", text.translate(_APOSTROPHES))
    return [piece.strip() for piece in _PIECES.split(text) if piece.strip()]


def _parsed_sentences(text: str) -> list[Span]:
    """The sentences of a transcript or screen text as parsed spans: its pieces (:func:`_pieces`)
    split further by the parser's sentence boundaries."""
    return [s for piece in _pieces(text) for s in nlp.parse(piece).sents if s.text.strip()]


def parse_ahead(texts: Iterable[str]) -> None:
    """Parse the pieces of many texts in one batch (:func:`memory.nlp.parse_all`), before their
    claims are read one text at a time: the parses :func:`extract_claims` makes, made faster."""
    nlp.parse_all(piece for text in texts for piece in _pieces(text))


def split_sentences(text: str) -> list[str]:
    """The sentences of a transcript or screen text (see :func:`_parsed_sentences`)."""
    return [s.text.strip() for s in _parsed_sentences(text)]


def extract_claims(text: str, speaker: str | None = None) -> list[Claim]:
    """Claims stated in ``text`` (ASR transcript or OCR lines), in order, without duplicates;
    see the module docstring."""
    out: list[Claim] = []
    for sent in _parsed_sentences(text):
        for claim in _sentence_claims(sent, speaker):
            if claim not in out:
                out.append(claim)
    return out


def _sentence_claims(span: Span, speaker: str | None) -> list[Claim]:
    sentence = span.text.strip()
    if sentence.rstrip("\"') ").endswith("?"):
        return []
    if LIST_WORD in sentence and ";" in sentence:
        return []  # the layout reader's list of items ("Row of File lists File; Edit; View")
    _, colon, rest = sentence.partition(": ")
    body = rest if colon else sentence  # "Reminder: the standup is at 9 am"; "Last modified: 5/29/2020" states nothing
    ready = _digits(body)
    # the sentence as parsed within its text, unless its numbers or a label change it
    sents = [span] if ready == sentence else list(nlp.parse(ready).sents)
    names = self_introductions(span)  # the shared parse: the sentence is not parsed again
    found: list[Claim] = []
    if names and speaker and speaker.strip():
        found += [Claim(speaker.strip(), "name", n, sentence) for n in names]
    said = {n.lower() for n in names}
    for sent in sents:
        if _is_question(sent):
            continue
        for verb in _clauses(sent.root):
            claim = _clause_claim(verb, sentence, frozenset(said))
            if claim is not None and claim.value.lower() not in said:  # "my name is Alice": the name claim only
                found.append(claim)
    return found


_CLOCK = re.compile(r"\b(1[0-2]|[1-9]) ([1-5]\d)(?= [ap]\.?m\b)|(?<=\bat )(1[0-2]|[1-9]) ([1-5]\d)\b", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\b\d(?: \d){2,}\b")


def _digits(text: str) -> str:
    """Spoken numbers as digits (:func:`memory.nlp.digits`), a spoken clock as a clock ("3 30 pm",
    "at 9 30" -> "3:30 pm", "at 9:30") and digits read one by one as one number ("4 2 7 1" -> "4271")."""
    out = nlp.digits(text)
    out = _CLOCK.sub(lambda m: f"{m.group(1) or m.group(3)}:{m.group(2) or m.group(4)}", out)
    return _DIGIT_RUN.sub(lambda m: m.group(0).replace(" ", ""), out)


def _is_question(sent: Span) -> bool:
    """A leading wh-word, or a leading auxiliary before the subject ("is the review on Monday")."""
    words = [t for t in sent if not t.is_punct]
    if not words:
        return True
    first = words[0]
    if first.tag_ in ("WDT", "WP", "WP$", "WRB"):
        return True
    if first.pos_ == "AUX" or first.tag_ == "MD":
        subjects = [t for t in first.head.children if t.dep_ in (*_SUBJECT_DEPS, "expl")]
        return bool(subjects) and subjects[0].i > first.i or not subjects and first.dep_ == "ROOT"
    return False


def _clauses(root: Token) -> list[Token]:
    """The root verb, the verbs joined to it, and a clause it reports ("I think [the review is ...]")."""
    out = [root] if root.pos_ in ("VERB", "AUX") else [c for c in root.children if c.pos_ in ("VERB", "AUX")
                                                          and c.dep_ in ("acl", "appos", "dep", "parataxis", "ccomp")]
    for verb in out:
        for child in verb.children:
            if child.dep_ == "conj" and child.pos_ in ("VERB", "AUX") or child.dep_ == "ccomp" and verb.i == out[0].i and not _imperative(verb):
                out.append(child)
    return out


def _imperative(verb: Token) -> bool:
    """A bare verb without a subject: "let's move ...", "make sure ..." propose, they state nothing."""
    return verb.tag_ == "VB" and not any(c.dep_ in (*_SUBJECT_DEPS, "aux") for c in verb.children)


def _negated_or_hypothetical(verb: Token) -> bool:
    for child in verb.children:
        if child.dep_ == "neg":
            return True
        if child.tag_ == "MD" and child.lemma_.lower() not in ("will", "shall"):
            return True
        if child.dep_ == "mark" and child.lemma_.lower() in ("if", "unless", "whether"):
            return True
        if child.dep_ == "advmod" and child.lower_ in ("longer", "anymore") and any(c.dep_ == "neg" for c in child.children):
            return True
    return False


def _subject(verb: Token, names: frozenset[str] = frozenset()) -> str | None:
    """The subject phrase; a name the speaker introduced themselves with is no part of it ("I'm Bob
    and the review moved ...", which a parser may read as the subject "Bob and the review")."""
    subjects = [t for t in verb.children if t.dep_ in _SUBJECT_DEPS]
    if not subjects:
        return None
    head = subjects[-1]
    conj = [c for c in head.children if c.dep_ == "conj"]
    if names and head.text.lower() in names and conj:
        return _phrase(_np_words(conj[0]))
    if head.pos_ == "PRON" or head.tag_ in ("WDT", "WP", "WP$", "EX", "PRP", "PRP$") or head.lower_ in ("this", "that", "these", "those"):
        return None
    words = _np_words(head)
    for other in reversed(subjects[:-1]):  # "Invoice 44 71 total": the parser split one noun phrase
        if other.right_edge.i + 1 == words[0].i and other.pos_ in ("NOUN", "PROPN"):
            words = list(other.subtree) + words
    return _phrase(words)


def _np_words(head: Token) -> list[Token]:
    """A noun phrase's words without its clauses (relative, participle, adverbial) and appositions."""
    cut = {t.i for c in head.children if c.dep_ in ("relcl", "acl", "appos", "advcl") for t in c.subtree}
    return [t for t in head.subtree if t.i not in cut]


def _phrase(words: list[Token]) -> str | None:
    """A subject phrase as text: lowercase, without leading determiners and possessives."""
    while words and words[0].dep_ in ("det", "poss", "predet") and words[0].whitespace_:
        words.pop(0)
    if any(t.pos_ in ("PRON", "VERB", "AUX") for t in words) or not words:
        return None
    if contiguous(words):
        text = words[0].doc[words[0].i: words[-1].i + 1].text.lower()
    else:
        text = " ".join(w.lower_ for w in words)
    text = re.sub(r"\s+", " ", re.sub(r"[#\"()\[\]]|[.,:;!?]+$", "", text)).strip(" ,")
    text = re.sub(r"\b(?:no|number|nr)\.? (?=\d)", "", text)
    if len(text.split()) > MAX_WORDS or not re.search(r"\w", text):
        return None
    return re.sub(r"(\d) (?=\d)", r"\1", text)


@lru_cache(maxsize=1024)
def _third_person(lemma: str) -> str:
    if lemma == "be":
        return "is"
    if lemma == "have":
        return "has"
    if re.search(r"(?:s|sh|ch|x|z|o)$", lemma):
        return lemma + "es"
    if re.search(r"[^aeiou]y$", lemma):
        return lemma[:-1] + "ies"
    return lemma + "s"


@lru_cache(maxsize=1024)
def _event_noun(lemma: str) -> str:
    """The noun for a verb's event: the lemma where the parser reads "the <lemma>" as a noun
    ("launch"), else the gerund ("opening")."""
    doc = nlp.parse(f"the {lemma} is")
    if len(doc) > 1 and doc[1].pos_ == "NOUN":
        return lemma
    stem = lemma[:-1] if lemma.endswith("e") and not lemma.endswith("ee") else lemma
    return stem + "ing"


def _clause_claim(verb: Token, sentence: str, names: frozenset[str] = frozenset()) -> Claim | None:
    if verb.pos_ not in ("VERB", "AUX") or _negated_or_hypothetical(verb):
        return None
    copula = verb.lemma_ == "be"
    passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in verb.children)
    chosen: tuple[Token, str, list[Token], str] | None = None
    person = any(c.dep_ in _SUBJECT_DEPS and ent_label(c) == "PERSON" for c in verb.children)
    for tok, prep in value_tokens(verb):
        words = value_words(tok)
        if words is None:
            continue
        category = value_category(tok, words, prep, person, passive)
        if category and chosen is None or category and not chosen[3]:  # type: ignore[index]
            chosen = (tok, prep, words, category)
            break
        if chosen is None:
            chosen = (tok, prep, words, category)
    if chosen is None:
        return None
    tok, prep, words, category = chosen
    value = clean_value(words, category)
    objects = [c for c in verb.children if c.dep_ == "dobj" and c.i not in {w.i for w in words}]
    if (category in ("when", "where") and objects and prep in ("to", "until", "till") and not copula
            and any(c.dep_ in _SUBJECT_DEPS for c in verb.children)):
        # "the team moved the review to Thursday", "we moved the standup to 9:30": the thing moved
        moved = _phrase(_np_words(objects[0]))
        return Claim(moved, category, value, sentence) if moved and value else None
    subject = _subject(verb, names)
    if subject is None:
        return None
    has_object = bool(objects)
    states = (copula or passive or prep in ("to", "until", "till", "for") and not has_object
              or tok.dep_ == "npadvmod" and ent_label(tok) in WHEN_LABELS  # ASR's "moved Thursday"
              or category == "amount" and (prep == "at" or prep == "" and ent_label(tok) in _PRICED))  # "costs $1,200", "stands at 90k"
    if category == "when" and prep == "in" and ent_label(tok) in WHEN_LABELS and not value.lower().startswith("in "):
        value = f"in {value}"  # "is in two weeks": a time from now
    if category and states:
        return Claim(subject, category, value, sentence)
    if category == "when" and prep in ("on", "at", "in", "") and not has_object:
        return Claim(f"{subject} {_event_noun(verb.lemma_.lower())}", "when", value, sentence)
    if passive or category in ("when", "amount") or not value:  # a count a verb does not state is no thing either
        return None  # "is provided as is", "permission is granted to": a passive states no relation here
    if not copula and not _named(verb):
        return None  # "export inserts blank pages", "higher values offer more protection": no one's relation
    relation = _third_person(verb.lemma_.lower())
    particles = [c.lower_ for c in verb.children if c.dep_ == "prt"]
    if copula and prep:
        relation = f"is {prep}"
    elif not copula:
        relation = " ".join([relation, *particles, *([prep] if prep else [])])
    if copula and not prep and (ent_label(tok) or tok.pos_ not in ("NOUN", "PROPN")):
        return None  # "is great", "is finished": a state adjective, not a thing
    return Claim(subject, relation, value, sentence)


def _named(verb: Token) -> bool:
    """The verb's subject is a name: a person, organisation or place entity or a proper noun."""
    return any(c.dep_ in _SUBJECT_DEPS and (ent_label(c) in _AGENTS or c.pos_ == "PROPN") for c in verb.children)


