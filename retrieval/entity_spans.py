"""Span answers, step 3: for who / when / where / how many, the entity of the asked type (PERSON;
DATE / TIME; GPE / LOC / FAC; CARDINAL / QUANTITY / MONEY / PERCENT, and number-like tokens) in
the best sentence or screen line, not one the question already names — for "who will send X",
the subject of *send* in the sentence; for "how many hours", the number that counts hours.
:func:`retrieval.spans.find` runs it piece by piece with the other steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory import nlp
from perception.layout import is_glyph
from retrieval.question import Question
from retrieval.reading import TIME_NOUNS
from retrieval.spans import _LIST_SIZE, _ROLE_FILL, Found, Piece, _asked, _lemmas, _not_a_name, _verbs, title_and_lines

if TYPE_CHECKING:
    from spacy.tokens import Span as SpacySpan
    from spacy.tokens import Token

_WANT_LABELS = {"name": "person", "time": "time", "place": "place", "number": "number", "duration": "duration"}


def _subject_of(verb: str, sent: SpacySpan) -> Token | None:
    for tok in sent:
        if tok.lemma_.lower() == verb and tok.pos_ in ("VERB", "AUX"):
            subj = [c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass")]
            if subj and subj[0].pos_ in ("PROPN", "NOUN"):
                return subj[0]
    return None


def _named_subject(q: Question, sent: SpacySpan, asked: str) -> str | None:
    """The proper name that is the subject of the sentence's main verb, when the question's
    wh-word is the subject ("who is going to handle the contract")."""
    if q.gap.role not in ("nsubj", "nsubjpass"):
        return None
    for tok in sent:
        if tok.dep_ == "ROOT":
            subj = [c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ == "PROPN"]
            if subj and subj[0].text.lower() not in asked:
                words = " ".join(t.text for t in subj[0].subtree if t.dep_ in ("compound", "flat") or t.i == subj[0].i)
                return None if _not_a_name(words) else words
    return None


def _unit_number(unit: str, sent: SpacySpan) -> str | None:
    """"how many hours": the number that counts hours ("15 hours")."""
    for tok in sent:
        if tok.pos_ in ("NOUN", "PROPN") and (tok.lemma_.lower() == unit or tok.lower_.rstrip("s") == unit.rstrip("s")):
            # a count, never a rank: "First item." numbers no items
            nums = [c for c in tok.children if (c.like_num or c.dep_ == "nummod") and c.ent_type_ != "ORDINAL"]
            if nums:
                return f"{nums[0].text} {tok.text}"
            if tok.i > sent.start and (prev := tok.nbor(-1)).like_num and prev.ent_type_ != "ORDINAL":
                return f"{prev.text} {tok.text}"
    return None


def _asks_identifier(asked: str) -> bool:
    """"what is the invoice number", "the order no.": a number that names a thing."""
    return re.search(r"\b(number|no\.|nr|id)\b|#", asked) is not None


def by_type(q: Question, pieces: Sequence[Piece]) -> Found | None:
    label = _WANT_LABELS.get(q.wants or "")
    if label is None:
        return None
    asked = q.text.lower()
    _, content = _asked(q)
    for i, piece in enumerate(pieces):
        _, lines = title_and_lines(piece)
        if piece.modality == "screen":  # only the lines about what is asked, and the two after each
            # (OCR order may put a box between a title and its value), the line sharing most of the
            # question's words first ("FS210 Spoiler Alert" over "6 episodes", for "how long")
            # a list's size ("Row of Methodisch: 3 items") answers "how many" only through the list
            # step (retrieval/layout_spans.py), which checks that the question names that list
            lines = [x for x in lines if not _LIST_SIZE.match(x)]
            shared = {k: len(_lemmas(x) & content) for k, x in enumerate(lines)}
            about = sorted((k for k in shared if shared[k]), key=lambda k: (-shared[k], k))
            if about:
                lines = [lines[k] for k in dict.fromkeys(k for a in about for k in (a, a + 1, a + 2) if k < len(lines))]
            else:  # no line names what is asked: a readout that is the value alone (a timecode, a
                # clock, a counter) still answers it, as the moment picked it, not the words
                lines = [x for x in lines if _is_readout(x, label)]
        for line in lines:
            text = nlp.digits(line) if label in ("number", "duration") else line
            sent = nlp.parse(text)[:]
            for verb in _verbs(q) if q.wants == "name" else ():
                subj = _subject_of(verb, sent)
                if subj is not None and subj.text.lower() not in asked:
                    words = " ".join(t.text for t in subj.subtree if t.dep_ != "det")
                    return Found(words, i, line, f"the subject of '{verb}' in the best sentence")
            if q.gap.unit and label == "number":
                got = _unit_number(q.gap.unit, sent)
                if got is not None:
                    return Found(got, i, line, f"the number of {q.gap.unit}s in the best sentence")
                if piece.modality != "screen":
                    continue  # "how many hours": a number that counts something else is not the answer
            typed = [s for s in nlp.typed_spans(text) if nlp.is_type(s, label) and s.text.lower() not in asked
                     and not is_glyph(s.text)  # an icon read as "①" is no number
                     and _fits(s, text, q, asked, label)]
            typed = sorted(typed, key=lambda s: _preference(s, text, q))
            if label == "person" and (named := _named_subject(q, sent, asked)) is not None and (
                    not typed or _preference(typed[0], text, q)[1:3] == (1, 1)):
                # a name the tagger leaves untyped ("Priya") in the wh-word's role, before a typed
                # name in another role
                return Found(named, i, line, "the name in the subject of the best sentence")
            for s in typed:
                if label == "place":
                    grown = nlp.with_head_noun(text, s)
                    if grown is not s and re.search(rf"\b{re.escape(grown.text.split()[-1].lower())}\b", asked):
                        continue  # "where is the team?": the London team is what is asked about, not where
                    s = grown
                shown = text[s.start - 1: s.end] if s.label == "MONEY" and text[s.start - 1: s.start] in "$€£" and s.start else s.text
                return Found(shown, i, line, f"the {s.label} in the best {'line' if piece.modality == 'screen' else 'sentence'}")
    return None


def _is_readout(line: str, label: str) -> bool:
    """The screen line is one value of the asked type and nothing else ("01:00:42:11", "14:05",
    "3/13/2022"), not a value among words ("Stops at 00:14:05")."""
    text = line.strip(" .;,")
    spans = [s for s in nlp.typed_spans(text) if nlp.is_type(s, label)]
    return len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text)


# the entity label a question's focus noun names ("what is the date of ...": a DATE, not "morning")
_FOCUS_LABELS = {"date": "DATE", "day": "DATE", "year": "DATE", "month": "DATE", "time": "TIME", "hour": "TIME"}


def _asks_amount(q: Question) -> bool:
    """"how much": an amount (money, a quantity), never a rank."""
    doc = nlp.parse(q.text)
    return any(t.lower_ == "how" and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "much" for t in doc)


def _fits(s: nlp.Typed, text: str, q: Question, asked: str, label: str) -> bool:
    if s.label == "ORDINAL" and (_asks_identifier(asked) or q.kind == "how_many"):
        return False  # "what is the invoice number", "how much is it": a code or an amount, never "first"
    if label == "number" and _asks_amount(q) and text[:s.start].rstrip().endswith(("#", "No.", "no.")):
        return False  # "Invoice #4471" names the invoice; it is not what it costs
    want = _FOCUS_LABELS.get(q.gap.focus_head) if label == "time" else None
    if want is None:
        return True
    # "the weekly review" holds no date: an adjective alone is how often, not which day
    if want == "TIME" and s.label == "DATE" and re.search(r"\d:\d\d", s.text):
        return True  # a date with its clock time ("2023-09-16 23:35:27") answers "at what time"
    return s.label == want and not all(t.pos_ == "ADJ" for t in nlp.parse(text) if s.start <= t.idx < s.end)


def _preference(s: nlp.Typed, text: str, q: Question) -> tuple[int, int, int, int]:
    """Among spans of the asked type in one line: for "how much" money and quantities before bare
    numbers; one attached to a verb the question uses ("the call starts at 9 pm") before others;
    one in the role the wh-word has (the subject for "who will ...") before others; a clock time before a part of the day ("9 pm" before "evening"); then the order of the line."""
    amount = 0 if not _asks_amount(q) or s.label in ("MONEY", "QUANTITY", "PERCENT") else 1
    verbs = set(_verbs(q))
    doc = nlp.parse(text)
    inside = [t for t in doc if s.start <= t.idx < s.end]
    governs = 0 if any(a.lemma_.lower() in verbs for t in inside for a in t.ancestors) else 1
    # in the role the wh-word has: "who is going to handle the contract" → "Priya will send the
    # contract to Globex" gives the subject, not the name in the prepositional phrase
    roots = [t for t in inside if not (s.start <= t.head.idx < s.end) or t.head.i == t.i]
    role = 0 if q.wants != "name" or any(t.dep_ in _ROLE_FILL.get(q.gap.role, ()) for t in roots) else 1
    digits = 0 if s.label != "TIME" or any(c.isdigit() for c in s.text) else 1  # a clock time before a daypart
    return amount, governs, role, digits


# -- a date of what is asked -----------------------------------------------------------------


def elsewhere(q: Question, piece: Piece, found: Found) -> bool:
    """A date or time found for "when is X" that belongs to something else: the piece never names
    X nor any word the question uses (for a screen line: its title, the line and the two above it;
    for speech: the whole utterance), and the line holds words of its own beside the date — a
    label, a subject, a verb ("Due: March 14", "It is due on March 14th", "Move starts April 7"),
    so the date is that thing's, not the one asked about. A line that is the date alone ("March
    3" under a title) dates what the piece shows. A date made only of adjectives ("weekly") says how
    often, not when, and is weak too. :func:`retrieval.spans.find` then looks on for a date of X
    (or one standing alone) and keeps this one when none is found."""
    if q.wants != "time":
        return False
    doc = nlp.parse(found.line)
    start = found.line.find(found.text)
    inside = [t for t in doc if start <= t.idx < start + len(found.text)] if start >= 0 else []
    spanned = {t.i for t in inside}
    if inside and all(t.pos_ == "ADJ" for t in inside):
        return True  # "the weekly review": how often
    asked = {t.lemma_.lower() for t in nlp.parse(q.text) if t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ")
             and not t.is_stop and t.lemma_.lower() not in TIME_NOUNS and t.tag_ not in ("WDT", "WP", "WRB")}
    title, lines = title_and_lines(piece)
    if piece.modality == "screen":
        at = next((k for k, x in enumerate(lines) if x == found.line), len(lines))
        context = " ".join([title, *lines[max(0, at - 2): at + 1]])
    else:
        context = piece.text
    if asked & _lemmas(context, join=False):
        return False
    own = [t for t in doc if t.i not in spanned and not t.is_punct and (t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ")
                                                                     or t.dep_ in ("nsubj", "nsubjpass"))]
    return bool(own)
