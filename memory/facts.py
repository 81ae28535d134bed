"""Semantic facts, offline: claims from transcript sentences and screen text, reconciled into facts
with support counts, history and supersession.

Extraction (:func:`extract_claims`) is rule-based and precise rather than greedy. A claim is
``subject | relation | value``: a subject noun phrase (1-5 words, not a pronoun) at the start of
a clause, a copula or a verb from a small closed set, and a value whose *category* picks the relation:

* ``when``   — weekdays, dates ("March 14", "the 3rd"), times ("3 pm", "15:30", "noon"), relative
  days ("tomorrow", "next week", "in 2 weeks"): "is on", "is at", "is <date>", "moved to",
  "was rescheduled to", "has been moved to", "postponed to/until", "changed to", "is scheduled for",
  "is due", "starts at" ...
* ``amount`` — numbers, money, percentages: "is 120000 dollars", "costs", "totals", "went up to" ...
* ``where``  — "is in/at/on <place>", "moved/relocated to <place>": a place is a capitalised word,
  a place noun (room, office, floor...), a room code ("room 4", "B12") or an unknown (not frequent) word.
* ``name``   — "my name is X", "I'm X", "call me X" ... with the speaker as subject (only when a
  speaker is given; the speaker id is kept as given, not lowercased).
* verb phrases for the rest: ``is`` ("Dana is the project lead"), ``is on`` / ``is in`` / ``is at``
  for non-place states ("is on leave", "is in progress"), ``is from`` / ``is with`` / ``is for`` /
  ``is about`` / ``is near`` / ``is under``, ``leads``, ``manages``,
  ``owns``, ``handles``, ``works at``, ``works on``, ``lives in``, ``reports to``, ``belongs to``,
  ``joined``, ``teaches``.

Questions, negations ("is not", "no longer", "isn't"), hypotheticals ("might be moved"), pronoun
subjects and label-colon screen lines ("Total: $300" — the subject would be ambiguous) give nothing.

Values keep their wording with light cleaning: number words become digits ("four thousand four
hundred seventy one" -> "4471", "twelve fifty" -> "1250", "three thirty pm" -> "3:30 pm"),
"3pm"/"3 p.m." -> "3 pm", leading articles of noun-phrase values are dropped, punctuation around
words (commas in "Monday, March 3rd") is stripped. :func:`canonical_value` maps a value to the comparison form used by :func:`same_value`
and in fact keys (times -> "15:00", dates -> "march 14", money -> "1250 usd", text -> lowercase).

Reconciliation (:func:`reconcile`) is a pure function of the set of mentions. Single-valued
relations (:data:`SINGLE_VALUED`: when, amount, where, name, lives in) keep one current value per
subject: the one whose latest mention is latest; the others point at it with ``superseded_by``.
All other relations are multi-valued (no supersession).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from memory.names import COMMON_WORDS, self_introductions

__all__ = [
    "SINGLE_VALUED",
    "Claim",
    "Fact",
    "Mention",
    "canonical_value",
    "current_facts",
    "extract_claims",
    "mentions_from",
    "numbers_to_digits",
    "reconcile",
    "same_value",
    "split_sentences",
]

SINGLE_VALUED: frozenset[str] = frozenset({"when", "amount", "where", "name", "lives in"})


@dataclass(frozen=True)
class Claim:
    """One statement: normalised subject (lowercase, leading articles/possessives dropped), relation,
    the value as stated (cleaned) and the sentence it came from."""

    subject: str
    relation: str
    value: str
    text: str


@dataclass(frozen=True)
class Mention:
    """A claim asserted in a source at ``t`` seconds; ``order`` = (source sequence number, t) ranks
    assertions globally (larger = later)."""

    claim: Claim
    source_id: str
    t: float
    order: tuple[int, float]
    wall_time: float | None = None


@dataclass(frozen=True)
class Fact:
    """A (subject, relation, value) with its mentions; ``key`` = "subject|relation|canonical value";
    ``superseded_by`` = key of the current fact of the same single-valued (subject, relation)."""

    key: str
    subject: str
    relation: str
    value: str
    text: str
    mentions: tuple[Mention, ...]
    support: int
    first_seen: Mention
    last_seen: Mention
    confidence: float
    superseded_by: str | None
    sources: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Number words

_UNITS = {w: k for k, w in enumerate("zero one two three four five six seven eight nine".split())}
_TEENS = {w: k + 10 for k, w in enumerate("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: (k + 2) * 10 for k, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ORD_UNITS = {w: k + 1 for k, w in enumerate("first second third fourth fifth sixth seventh eighth ninth".split())}
_ORDINAL_WORDS = {
    **_ORD_UNITS, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}
_NUMBER_WORDS = set(_UNITS) | set(_TEENS) | set(_TENS) | set(_SCALES) | {"hundred"}
_ONE_KEEP_BEFORE = {"the", "this", "that", "which", "no", "every", "any", "each", "some", "last", "next", "other", "another", "only", "little", "big", "new", "old"}
_TIME_AFTER = {"am", "pm", "o'clock"}
_TIME_BEFORE = {"at", "by", "until", "till", "from", "around", "@"}
_HYPHEN_NUMBER = re.compile(
    r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-(one|two|three|four|five|six|seven|eight|nine|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)\b",
    re.IGNORECASE,
)
_EDGE = re.compile(r"^([^\w$€£#]*)(.*?)([^\w%]*)$", re.UNICODE)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.6f}".rstrip("0").rstrip(".")


def _parse_run(run: list[str]) -> list[tuple[str, int, bool]]:
    """Number words -> numbers: ``(digits, value or -1, is one digit word)`` per number. Adjacent
    numbers that cannot combine ("four four", "twelve fifty") come out as separate numbers."""
    groups: list[tuple[str, int, bool]] = []
    total = cur = 0
    last: str | None = None
    started = False
    words = 0
    scale_last = 0
    dec: str | None = None
    ordinal = False

    def flush() -> None:
        nonlocal total, cur, last, started, words, scale_last, dec, ordinal
        if started:
            n = total + cur
            if dec:
                groups.append((f"{n}.{dec}", -1, False))
            elif ordinal:
                groups.append((_ordinal(n), -1, False))
            else:
                groups.append((str(n), n, words == 1 and last == "unit"))
        total = cur = words = scale_last = 0
        last, started, dec, ordinal = None, False, None, False

    def begin(value: int, kind: str) -> None:
        nonlocal cur, last, started, words
        flush()
        cur, last, started, words = value, kind, True, 1

    for w in run:
        if w == "and":
            continue
        if dec is not None:
            if w in _UNITS:
                dec += str(_UNITS[w])
                continue
            if w in _SCALES and dec:
                x = (total + cur + int(dec) / 10 ** len(dec)) * _SCALES[w]
                total, cur, dec, last, scale_last = 0, 0, None, "scale", _SCALES[w]
                if float(x).is_integer():
                    cur = int(x)
                else:
                    groups.append((_fmt(x), -1, False))
                    total = cur = words = 0
                    last, started = None, False
                continue
            flush()
        if w == "point":
            dec = ""
            continue
        if w == "a":
            begin(1, "unit")
            words = 2
            continue
        if w in _ORD_UNITS:
            cur += _ORD_UNITS[w]
            ordinal = True
            words += 1
            continue
        if w in _UNITS:
            if started and last in ("tens", "hundred", "scale"):
                cur += _UNITS[w]
                last, words = "unit", words + 1
            else:
                begin(_UNITS[w], "unit")
        elif w in _TEENS or w in _TENS:
            kind = "teen" if w in _TEENS else "tens"
            v = _TEENS.get(w) or _TENS[w]
            if started and last in ("hundred", "scale"):
                cur += v
                last, words = kind, words + 1
            else:
                begin(v, kind)
        elif w == "hundred":
            if started and last in ("unit", "teen", "tens") and 0 < cur < 100:
                cur *= 100
                last, words = "hundred", words + 1
            else:
                begin(100, "hundred")
        elif w in _SCALES:
            s = _SCALES[w]
            if started and last != "scale" and (not scale_last or s < scale_last):
                total += max(cur, 1) * s
                cur = 0
                last, scale_last, words = "scale", s, words + 1
            else:
                begin(0, "scale")
                total, scale_last = s, s
    flush()
    return groups


def _join_groups(groups: list[tuple[str, int, bool]], prev: str, nxt: str) -> str:
    """Spoken number groups as written: "three thirty pm" -> "3:30", "four four seven one" -> "4471",
    "twelve fifty" / "forty four seventy one" -> "1250" / "4471"; otherwise joined by spaces."""
    if len(groups) == 1:
        return groups[0][0]
    vals = [g[1] for g in groups]
    if len(groups) == 2 and (prev in _TIME_BEFORE or nxt in _TIME_AFTER) and 1 <= vals[0] <= 12 and 10 <= vals[1] <= 59:
        return f"{vals[0]}:{vals[1]:02d}"
    if all(g[2] for g in groups):
        return "".join(g[0] for g in groups)
    if 0 <= vals[0] < 100 and all(10 <= v <= 99 for v in vals[1:]):
        return "".join(g[0] for g in groups)
    return " ".join(g[0] for g in groups)


def numbers_to_digits(text: str) -> str:
    """Number words -> digits, leaving other words and punctuation alone ("twenty-one" -> "21",
    "a thousand" -> "1000", "two point five million" -> "2500000", "twenty first" -> "21st").
    A lone "one" after "the/this/no/every..." or before "of" stays a word."""
    text = _HYPHEN_NUMBER.sub(r"\1 \2", text)
    toks = text.split()
    parts = [_EDGE.match(t).groups() for t in toks]  # type: ignore[union-attr]
    low = [p[1].lower() for p in parts]
    out: list[str] = []
    i, n = 0, len(toks)
    while i < n:
        w = low[i]
        starts = w in _NUMBER_WORDS or (w == "a" and i + 1 < n and low[i + 1] in ("hundred", *_SCALES) and not parts[i][2])
        if starts and w in ("hundred", *_SCALES) and i > 0 and re.fullmatch(r"[$€£]?[\d.,]+", low[i - 1]):
            starts = False  # "1.5 million", "120 thousand": the amount reader applies the scale
        if not starts:
            out.append(toks[i])
            i += 1
            continue
        run: list[str] = []
        j = i
        trail = ""
        while j < n:
            lead, _, tr = parts[j]
            wj = low[j]
            nxt = low[j + 1] if j + 1 < n else ""
            if j > i and lead:
                break
            if wj in _NUMBER_WORDS or (wj == "a" and not run):
                run.append(wj)
            elif wj == "and" and run and run[-1] in ("hundred", *_SCALES) and nxt in _NUMBER_WORDS and not tr:
                run.append(wj)
            elif wj in _ORD_UNITS and run and run[-1] in _TENS:
                run.append(wj)
                trail = tr
                j += 1
                break
            elif wj == "point" and run and nxt in _UNITS and not tr:
                run.append(wj)
            else:
                break
            trail = tr
            j += 1
            if tr:
                break
        prev = low[i - 1] if i > 0 else ""
        after = low[j] if j < n else ""
        if run == ["one"] and (prev in _ONE_KEEP_BEFORE or after == "of"):
            out.append(toks[i])
            i += 1
            continue
        out.append(parts[i][0] + _join_groups(_parse_run(run), prev, after) + trail)
        i = j
    return " ".join(out)


# ---------------------------------------------------------------------------------------------
# Sentences and light normalisation

_ABBREV = {"mr", "mrs", "ms", "dr", "st", "prof", "jr", "sr", "vs", "e.g", "i.e", "approx", "no", "inc", "ltd", "co"}
_WEEKDAYS = {
    "monday": "monday", "mon": "monday", "tuesday": "tuesday", "tue": "tuesday", "tues": "tuesday",
    "wednesday": "wednesday", "wed": "wednesday", "thursday": "thursday", "thu": "thursday",
    "thur": "thursday", "thurs": "thursday", "friday": "friday", "fri": "friday",
    "saturday": "saturday", "sunday": "sunday",
}
_WEEKDAYS.update({f"{d}s": d for d in list(_WEEKDAYS.values())})
_MONTHS = {
    "january": "january", "jan": "january", "february": "february", "feb": "february",
    "march": "march", "mar": "march", "april": "april", "apr": "april", "may": "may",
    "june": "june", "jun": "june", "july": "july", "jul": "july", "august": "august",
    "aug": "august", "september": "september", "sep": "september", "sept": "september",
    "october": "october", "oct": "october", "november": "november", "nov": "november",
    "december": "december", "dec": "december",
}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SENT_END = re.compile(r"[.!?]+(?=[\s\"')\]]|$)|\n+|\s+\|\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a transcript or screen text: split at . ! ? (not after "Mr.", "Dr.", "p.m." when
    the next word is lowercase), newlines and " | " (the separator of OCR lines)."""
    text = text.translate(_APOSTROPHES)
    text = re.sub(r"^\s*\[[^\]\n]*\]\s*", "", text)  # "[Excel - Book1] ..." window title of a screen snippet
    out: list[str] = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.end() if m.group(0)[0] in ".!?" else m.start()
        if m.group(0)[0] == ".":
            before = re.search(r"([\w.]+)$", text[start:m.start()])
            word = before.group(1).lower() if before else ""
            after = text[m.end():].lstrip()
            if word in _ABBREV:
                continue
            if word in ("a.m", "p.m") and after[:1].islower():
                continue
            if re.search(r"\d$", text[: m.start()]) and re.match(r"\d", text[m.end():]):
                continue  # 3.5
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


_MISHEARD_TO = re.compile(
    r"\b(moved|rescheduled|postponed|pushed back|changed|shifted|delayed)\s+(?:the\s+|too\s+|two\s+)?"
    r"(?=(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|next|noon)\b)",
    re.IGNORECASE,
)


def _prepare(sentence: str) -> str:
    s = sentence.translate(_APOSTROPHES)
    s = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", s, flags=re.IGNORECASE)
    s = re.sub(r"\b(\d{1,2}(?::\d{2})?)\s*([ap])\.?m\b", r"\1 \2m", s, flags=re.IGNORECASE)
    s = re.sub(r"(\w)'s\s+(?=been\b)", r"\1 has ", s, flags=re.IGNORECASE)
    s = re.sub(
        r"(\w)'s\s+(?=(?:on|at|in|now|due|scheduled|set|planned|booked|moved|postponed|rescheduled|pushed|still|also|going)\b|[\d$€£])",
        r"\1 is ", s, flags=re.IGNORECASE,
    )
    s = re.sub(r"(\w)'re\b", r"\1 are", s, flags=re.IGNORECASE)
    # speech recognition drops or mishears the "to" of a change: "moved the Thursday", "moved Friday"
    s = _MISHEARD_TO.sub(r"\1 to ", s)
    s = numbers_to_digits(s)
    return re.sub(r"\s+", " ", s).strip()


# ---------------------------------------------------------------------------------------------
# Value scanners


class _Tok:
    """A value token: ``orig`` without surrounding punctuation, ``low`` lowercase, ``stop`` when
    followed by , ; : (a phrase boundary)."""

    __slots__ = ("orig", "low", "stop")

    def __init__(self, orig: str, low: str, stop: bool) -> None:
        self.orig, self.low, self.stop = orig, low, stop


def _tokens(text: str) -> list[_Tok]:
    out = []
    for raw in text.split():
        m = _EDGE.match(raw)
        core = m.group(2) if m else raw  # type: ignore[union-attr]
        trail = m.group(3) if m else ""
        core = core.strip("\"'()[]") if core not in ("o'clock",) else core
        if not core:
            if out and trail and any(c in trail for c in ",;:"):
                out[-1].stop = True
            continue
        if core.lower() in _FILLER_WORDS:
            continue
        out.append(_Tok(core, core.lower(), any(c in trail for c in ",;:")))
    return out


_DAYPARTS = {"morning", "afternoon", "evening", "night", "lunchtime", "midday", "noon", "midnight"}
_PERIODS = {"week", "weekend", "month", "year", "quarter", "morning", "afternoon", "evening", "night"}
_REL_PREFIX = {"next", "this", "coming", "following"}
_DURATIONS = {"minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years"}
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAY_RE = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")
_NUMDATE_RE = re.compile(r"^(?:\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{4}-\d{2}-\d{2})$")
_FOLLOW_OK = frozenset("""
and but because since so instead now again too as in at with for from by to or then please if unless
when while after before until this that which the a an we i you they he she it our my your their
right ok okay is are was were will per each net total only also already anyway though plus including
excluding sharp latest both like um uh everyone guys folks not no there here what yes yeah
""".split())


def _continues_noun(word: str) -> bool:
    """Whether the word after a date or amount makes it part of a noun phrase ("the third floor",
    "the second quarter", "5 star hotel"): an alphabetic word that is neither a function word nor
    a frequent word (run-on ASR text goes on with "thanks", "we", "the" ...)."""
    return word.isalpha() and word not in _FOLLOW_OK and word not in COMMON_WORDS


def _day(tok: str) -> tuple[int, bool] | None:
    """A day of the month: (day, written as an ordinal)."""
    if tok in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[tok], True
    m = _DAY_RE.match(tok)
    if m and 1 <= int(m.group(1)) <= 31:
        return int(m.group(1)), bool(m.group(2))
    return None


def _year(tok: str) -> bool:
    return tok.isdigit() and len(tok) == 4 and 1900 <= int(tok) <= 2100


def _time_unit(low: list[str], i: int, after_at: bool) -> tuple[int, list[tuple[int, str]]] | None:
    n = len(low)
    w = low[i]
    nxt = low[i + 1] if i + 1 < n else ""
    if w in ("noon", "midday"):
        return 1, [(6, "12:00")]
    if w == "midnight":
        return 1, [(6, "00:00")]
    hm: tuple[int, int] | None = None
    k = 0
    if m := _TIME_RE.match(w):
        hm, k = (int(m.group(1)), int(m.group(2))), 1
    elif w.isdigit() and len(w) <= 2:
        h = int(w)
        if nxt in ("am", "pm") and 1 <= h <= 12:
            hm, k = (h, 0), 1
        elif nxt == "o'clock" and 1 <= h <= 12:
            return 2, [(6, f"{h:02d}:00")]
        elif after_at and 0 <= h <= 23 and nxt not in _AMOUNT_UNITS and nxt not in _SCALE_WORDS:
            hm, k = (h, 0), 1
    elif w in ("half", "quarter") and nxt in ("past", "to") and i + 2 < n and low[i + 2].isdigit() and 1 <= int(low[i + 2]) <= 12:
        h = int(low[i + 2])
        mins = 30 if w == "half" else 15
        if nxt == "to":
            if w == "half":
                return None
            h, mins = (h - 1) or 12, 45
        hm, k = (h, mins), 3
    if hm is None or hm[0] > 23 or hm[1] > 59:
        return None
    h, mm = hm
    ampm = low[i + k] if i + k < n else ""
    if ampm in ("am", "pm") and 1 <= h <= 12:
        h = (h % 12) + (12 if ampm == "pm" else 0)
        k += 1
    return k, [(6, f"{h:02d}:{mm:02d}")]


def _when_unit(low: list[str], i: int, after_at: bool) -> tuple[int, list[tuple[int, str]]] | None:
    """One piece of a time expression at ``low[i]``: (tokens consumed, canonical parts)."""
    n = len(low)
    if i >= n:
        return None
    w = low[i]
    at = lambda j: low[j] if j < n else ""  # noqa: E731
    if w in ("today", "tonight", "tomorrow", "yesterday", "eod", "eow", "eom"):
        return 1, [(0, w)]
    if w == "later" and at(i + 1) == "today":
        return 2, [(0, "later today")]
    if w == "the" and at(i + 1) == "day" and at(i + 2) in ("after", "before") and at(i + 3) in ("tomorrow", "yesterday"):
        return 4, [(0, f"day {at(i + 2)} {at(i + 3)}")]
    if w == "day" and at(i + 1) in ("after", "before") and at(i + 2) in ("tomorrow", "yesterday"):
        return 3, [(0, f"day {at(i + 1)} {at(i + 2)}")]
    j = i + 1 if w == "the" else i
    if at(j) == "end" and at(j + 1) == "of":
        k = j + 2 + (at(j + 2) == "the")
        if at(k) in ("day", "week", "month", "year", "quarter"):
            return k + 1 - i, [(0, f"end of {at(k)}")]
    if w == "in" and (at(i + 1).isdigit() or at(i + 1) in ("a", "an")) and at(i + 2) in _DURATIONS:
        num = "1" if at(i + 1) in ("a", "an") else at(i + 1)
        return 3, [(0, f"in {num} {at(i + 2).rstrip('s')}")]
    if (w.isdigit() or w in ("a", "an")) and at(i + 1) in _DURATIONS and at(i + 2) == "from" and at(i + 3) == "now":
        num = "1" if w in ("a", "an") else w
        return 4, [(0, f"in {num} {at(i + 1).rstrip('s')}")]
    if w in _REL_PREFIX or (w == "the" and at(i + 1) in ("following", "coming")):
        k = i + 1 if w != "the" else i + 2
        nw = at(k)
        prefix = "next" if low[k - 1] in ("next", "coming", "following") else "this"
        if nw in _WEEKDAYS:
            return k + 1 - i, [(1, f"{prefix} {_WEEKDAYS[nw]}")]
        if nw in _PERIODS:
            return k + 1 - i, [(0 if nw not in _DAYPARTS else 5, f"{prefix} {nw}")]
        return None
    if w == "the" and at(i + 1) == "weekend":
        return 2, [(0, "weekend")]
    if w == "weekend":
        return 1, [(0, "weekend")]
    if w in _WEEKDAYS:
        return 1, [(1, _WEEKDAYS[w])]
    if w in _DAYPARTS or (w == "the" and at(i + 1) in _DAYPARTS):
        k = i + (w == "the")
        t = _time_unit(low, k, False)
        if t:
            return k - i + t[0], t[1]
        return k + 1 - i, [(5, at(k))]
    if _NUMDATE_RE.match(w):
        return 1, [(3, w)]
    # dates: month [the] day [year] | [the] day [of] month [year] | month [year] | the day
    if w in _MONTHS:
        k = i + 1
        parts = [(2, _MONTHS[w])]
        k2 = k + (at(k) == "the")
        d = _day(at(k2)) if at(k2) else None
        if d and (at(k2 + 1) not in _AMOUNT_UNITS):
            parts.append((3, str(d[0])))
            k = k2 + 1
        if _year(at(k)):
            parts.append((4, at(k)))
            k += 1
        if w == "may" and len(parts) == 1:
            return None  # "may" alone is a verb more often than a month
        return k - i, parts
    k = i + (w == "the")
    d = _day(at(k))
    if d:
        k2 = k + 1 + (at(k + 1) == "of")
        if at(k2) in _MONTHS:
            parts = [(2, _MONTHS[at(k2)]), (3, str(d[0]))]
            k2 += 1
            if _year(at(k2)):
                parts.append((4, at(k2)))
                k2 += 1
            return k2 - i, parts
        if w == "the" or d[1]:
            if not (w != "the" and at(k).isalpha()):  # a bare ordinal word needs "the"
                return k + 1 - i, [(3, str(d[0]))]
    return _time_unit(low, i, after_at)


_CONNECT_AT = {"at", "around", "about", "@"}


def _when_scan(toks: list[_Tok], after_at: bool = False, whole: bool = False) -> tuple[int, list[tuple[int, str]]] | None:
    """The longest time expression at the start of ``toks``: (tokens used, canonical parts).
    Pieces join directly or through at/on/in the/of/","; the word after must not continue a noun
    phrase ("the third floor" is not a date)."""
    low = [t.low for t in toks]
    n = len(low)
    i = 0
    parts: list[tuple[int, str]] = []
    flag = after_at
    while i < n:
        u = _when_unit(low, i, flag)
        if u:
            parts.extend(u[1])
            i += u[0]
            flag = False
            continue
        if parts and low[i] in (*_CONNECT_AT, "on", "of", "in") and not toks[i].stop:
            u = _when_unit(low, i + 1, low[i] in _CONNECT_AT)
            if u and not (low[i] == "in" and low[i + 1] != "the"):
                i += 1
                flag = low[i - 1] in _CONNECT_AT
                continue
        break
    if not parts:
        return None
    if whole and i < n:
        return None
    if i < n and not toks[i - 1].stop and _continues_noun(low[i]):
        return None
    return i, parts


def _canon_when(parts: list[tuple[int, str]]) -> str:
    return " ".join(p for _, p in sorted(parts, key=lambda x: x[0]))


_CURRENCY = {
    "$": "usd", "us$": "usd", "usd": "usd", "dollar": "usd", "dollars": "usd", "bucks": "usd",
    "€": "eur", "eur": "eur", "euro": "eur", "euros": "eur", "£": "gbp", "gbp": "gbp",
    "pound": "gbp", "pounds": "gbp", "yen": "jpy", "jpy": "jpy", "francs": "chf", "chf": "chf",
    "rupees": "inr", "inr": "inr", "cents": "cents", "cent": "cents", "percent": "%", "%": "%",
}
_AMOUNT_UNITS = set(_CURRENCY) | set("""
people persons employees staff users customers members units items pieces boxes pallets orders
invoices hours minutes days weeks months years kg kilograms grams tons tonnes km kilometers
kilometres miles meters metres liters litres gallons pages seats rooms tickets licenses licences
points calls visits sales downloads percentage
""".split())
_SCALE_WORDS = {"thousand": 1e3, "k": 1e3, "grand": 1e3, "million": 1e6, "m": 1e6, "mln": 1e6, "billion": 1e9, "bn": 1e9}
_QUALIFIERS = {"about", "around", "approximately", "roughly", "nearly", "almost", "over", "under", "exactly", "just", "only", "some", "up"}
_AMOUNT_RE = re.compile(r"^(us\$|[$€£])?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(k|m|bn|%)?$")


def _amount_scan(toks: list[_Tok], whole: bool = False) -> tuple[int, str] | None:
    """A number with optional currency, scale and unit at the start of ``toks``: (tokens, canonical)."""
    low = [t.low for t in toks]
    n = len(low)
    i = 0
    while i < n and low[i] in _QUALIFIERS and i < 2:
        i += 1
    cur = ""
    if i < n and low[i] in ("$", "€", "£", "usd", "eur", "gbp", "us$"):
        cur = _CURRENCY[low[i]]
        i += 1
    if i >= n or not (m := _AMOUNT_RE.match(low[i])):
        return None
    if m.group(1):
        cur = _CURRENCY[m.group(1)]
    x = float(m.group(2).replace(",", "") + (m.group(3) or ""))
    suffix = m.group(4)
    if suffix == "%":
        cur = "%"
    elif suffix:
        x *= _SCALE_WORDS[suffix]
    i += 1
    if i < n and low[i] in _SCALE_WORDS and not suffix and not toks[i - 1].stop:
        x *= _SCALE_WORDS[low[i]]
        i += 1
    unit = cur
    if i < n and not toks[i - 1].stop:
        if low[i] == "per" and i + 1 < n and low[i + 1] == "cent":
            unit, i = "%", i + 2
        elif low[i] in _CURRENCY:
            unit, i = _CURRENCY[low[i]], i + 1
        elif low[i] in _AMOUNT_UNITS and not cur:
            unit, i = low[i].rstrip("s") if low[i] not in ("hours", "minutes", "days", "weeks", "months", "years") else low[i][:-1], i + 1
    if whole and i < n:
        return None
    if i < n and not toks[i - 1].stop and _continues_noun(low[i]):
        return None
    return i, f"{_fmt(x)} {unit}".strip()


_NP_STOP = frozenset("""
and but because since so which who whom whose when where while if although though unless until as
then instead now again too also anymore anyway please right today tomorrow yet either
""".split())
_BAD_VALUE_START = frozenset("""
it this that these those them him us me you there here what which who something anything nothing
everything someone anyone everyone not no be been being to going gonna is are was were do does did
have has had will would can could should we i they he she very really so just a an the
""".split())
_ARTICLES = {"the", "a", "an"}
_AUX = frozenset("is are was were be been being am has have had do does did will would can could should shall might must".split())
_FILLER_WORDS = frozenset({"um", "umm", "uh", "uhm", "er", "erm", "hmm", "mm"})


def _np_scan(toks: list[_Tok], max_words: int = 6) -> list[str] | None:
    """A noun-phrase value: words up to a clause word or punctuation, leading articles dropped."""
    words: list[_Tok] = []
    for t in toks:
        if t.low in _NP_STOP or t.low in _AUX:
            break
        words.append(t)
        if t.stop:
            break
    while words and words[0].low in _ARTICLES:
        words.pop(0)
    if not words or len(words) > max_words:
        return None
    if words[-1].low in _PREPOSITIONS or words[-1].low in _DETERMINERS:
        return None
    if words[0].low in _BAD_VALUE_START or (len(words) == 1 and words[0].low in ("her", "his", "their", "our", "my", "your")):
        return None
    if not all(re.fullmatch(r"[\w'&\-.#/$€£%:+]+", t.orig) for t in words):
        return None
    return [t.orig for t in words]


_PLACE_NOUNS = frozenset("""
room rooms office offices building floor hall lobby kitchen lab laboratory warehouse cafeteria canteen
auditorium basement garage street road avenue lane square city town village country campus site hq
headquarters station airport hotel restaurant cafe bar pub library school university hospital clinic
park center centre house home apartment flat store shop mall plant factory studio desk wing suite
area zone dock bay gate terminal branch depot yard parking garden church museum theater theatre
stadium arena gym court port harbor harbour downtown upstairs downstairs conference boardroom
reception annex tower block
""".split())
# Words that follow "is on/in/at" as states, not places ("on leave", "in progress", "at risk").
_STATE_WORDS = frozenset("""
vacation holiday holidays leave break lunch sale fire board call duty standby maternity paternity
strike trial target record air display deck top alert pause course hand demand budget agenda
mind meeting meetings track hold session time line progress charge use order stock place review
danger trouble debt love doubt shape touch control bed love favor favour sync budget scope
""".split())


def _placelike(words: list[str], shouting: bool, unknown: bool = True) -> bool:
    """A place: a capitalised word (unless the whole clause is in capitals), a place noun, a room
    code ("room 4", "B12") or, with ``unknown``, one or two words that are not frequent words."""
    lows = [w.lower() for w in words]
    if not shouting and any(w[:1].isupper() for w in words):
        return True
    if any(w in _PLACE_NOUNS for w in lows):
        return True
    if len(lows) <= 3 and any(re.fullmatch(r"[a-z]?\d+[a-z]?", w) for w in lows):
        return True
    return unknown and len(lows) <= 2 and all(w.isalpha() and w not in COMMON_WORDS and w not in _STATE_WORDS for w in lows)


# ---------------------------------------------------------------------------------------------
# Clauses

_VERBS = re.compile(
    r"\b(?:"
    r"(?P<change>(?:(?:has|have|had)\s+(?:now\s+|just\s+)?been\s+|(?:has|have)\s+|(?:was|were|is|are|got|gets|get|will\s+be|is\s+being)\s+(?:now\s+|just\s+)?)?"
    r"(?P<cverb>moved|rescheduled|postponed|pushed(?:\s+back)?|changed|shifted|delayed|bumped|brought\s+forward|switched|updated|relocated)"
    r"(?:\s+(?:again|now|officially|up|forward))?(?:\s+from\s+.+?)?\s+(?:back\s+)?(?P<cprep>to|until|till|for|into))"
    r"|(?P<achange>(?:(?:has|have)\s+(?:been\s+)?|(?:was|were|is|are)\s+|will\s+be\s+)?"
    r"(?:(?:is|are|was|were)\s+(?:up|down)|went(?:\s+up|\s+down)?|goes\s+up|goes\s+down|gone\s+up|gone\s+down|increased|decreased|rose|risen|dropped|fell|fallen|grew|grown|raised|cut|reduced|climbed|jumped|lowered)"
    r"(?:\s+from\s+.+?)?\s+to)"
    r"|(?P<wverb>(?:is|are|was|were|will\s+be|has\s+been|have\s+been)\s+(?:now\s+|still\s+|also\s+)?(?:scheduled|planned|booked|slated|due|expected|set)(?:\s+(?:for|on|at|by))?"
    r"|(?:starts?|begins?|kicks?\s+off|started|began|kicked\s+off)(?:\s+(?:at|on))?"
    r"|(?:launches|opens|closes|happens|takes\s+place)(?:\s+(?:at|on))?)"
    r"|(?P<averb>costs?|totals?|totall?ed|comes\s+to|came\s+to|adds\s+up\s+to|added\s+up\s+to|amounts\s+to|amounted\s+to|(?:is|was)\s+worth|sums?\s+to)"
    r"|(?P<verb>leads|is\s+leading|heads|is\s+heading|manages|is\s+managing|oversees|supervises|runs|is\s+running|owns|handles|is\s+handling|coordinates|is\s+coordinating|is\s+responsible\s+for|works\s+(?:at|for)|is\s+working\s+(?:at|for)|works\s+on|is\s+working\s+on|lives\s+(?:in|at)|is\s+living\s+in|reports\s+to|belongs\s+to|joined|teaches)"
    r"|(?P<cop>(?:is|are)\s+going\s+to\s+be|will\s+be|is|are|was|were|remains|stays)(?:\s+(?:now|still|also|currently|actually|definitely|officially|finally|again|always|usually|normally))*"
    r")\b",
    re.IGNORECASE,
)
_VERB_RELATION = {
    "leads": "leads", "is leading": "leads", "heads": "leads", "is heading": "leads",
    "manages": "manages", "is managing": "manages", "oversees": "manages", "supervises": "manages",
    "runs": "manages", "is running": "manages", "owns": "owns", "handles": "handles",
    "is handling": "handles", "coordinates": "handles", "is coordinating": "handles",
    "is responsible for": "handles", "works at": "works at", "works for": "works at",
    "is working at": "works at", "is working for": "works at", "works on": "works on",
    "is working on": "works on", "lives in": "lives in", "lives at": "lives in",
    "is living in": "lives in", "reports to": "reports to", "belongs to": "belongs to",
    "joined": "joined", "teaches": "teaches",
}
_EVENT_NOUN = {"launches": "launch", "launch": "launch", "opens": "opening", "closes": "closing"}
_DETERMINERS = {"the", "a", "an", "our", "my", "your", "their", "his", "her", "its", "this", "that", "these", "those"}
_PRONOUNS = frozenset("""
i you he she it we they me him us them this that these those there here one ones each all both some
any none most many few several everybody everyone everything somebody someone something anybody
anyone anything nobody nothing who what which whoever whatever
""".split())
_SUBJECT_STOP = frozenset("""
i you he she it we they me him us them there here everything something anything nothing everyone
someone anyone nobody everybody somebody am is are was were be been being do does did have has had
will would can could should shall may might must not never no if because since when where while
although though unless whether which who whom whose what why how that um uh like so just also then
now still already really actually well okay ok yes yeah think know said says told ask asked guess
believe heard hear remember forgot mean i'm it's there's that's what's let's up down out off back
""".split())
_PREPOSITIONS = {"in", "on", "at", "to", "for", "from", "with", "by", "about", "after", "before", "during", "since", "until", "of", "as", "into", "over", "under"}
_FILLER = re.compile(
    r"^(?:(?:so|okay|ok|well|and|but|also|um+|uh+|oh|now|yes|yeah|alright|anyway|actually|basically|hi|hello|hey|right)\b,?\s*"
    r"|(?:everyone|all|guys|folks|team),\s*"
    r"|(?:i\s+think|i\s+believe|i\s+heard|i\s+guess|i\s+know|just\s+a\s+reminder|a\s+reminder|reminder|remember|please\s+note|note|fyi|by\s+the\s+way|heads\s+up|just\s+so\s+you\s+know|as\s+you\s+know|as\s+a\s+reminder|just\s+to\s+let\s+you\s+know|let\s+me\s+remind\s+you|quick\s+update|update)\b(?:\s+that)?\s*[,:]?\s*)",
    re.IGNORECASE,
)
_QUESTION_START = frozenset("""
is are was were do does did will would can could should shall has have had when where what who whom
whose why how which isn't aren't wasn't weren't didn't doesn't don't won't may might
""".split())
_NEGATION = re.compile(r"^(?:not|no\s+longer|never|n't)\b", re.IGNORECASE)
_CLAUSE_SEP = re.compile(r"\s*;\s*|,?\s+(?:and|but|while|whereas)\s+(?:also\s+)?|,\s+so\s+", re.IGNORECASE)
_NAME_CUE = re.compile(r"\b(?:my\s+name|i'm|i\s+am|call\s+me)\b", re.IGNORECASE)


def _subject(raw: str) -> str | None:
    """The normalised subject, "" when only determiners are left ("this"), None when not a noun phrase."""
    if "," in raw:  # "Sorry, the review ..." / "As discussed, our office ...": keep what follows a lead-in
        raw = raw.rsplit(",", 1)[1]
        if raw.split()[:1] and raw.split()[0].lower() not in _DETERMINERS:
            return None
    words = [w.strip(".,:;!?\"'()[]") for w in raw.lower().split()]
    words = [w for w in words if w]
    while words and words[0] in _DETERMINERS:
        words.pop(0)
    cleaned: list[str] = []
    for k, w in enumerate(words):
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if w in ("#", "no", "no.", "number", "num", "nr") and re.match(r"#?\d", nxt):
            continue
        w = w.lstrip("#") if re.fullmatch(r"#\d+", w) else w
        if cleaned and w.isdigit() and cleaned[-1].isdigit():
            cleaned[-1] += w
            continue
        cleaned.append(w)
    if not cleaned:
        return ""
    if len(cleaned) > 5 or cleaned[0] in _PRONOUNS or cleaned[0] in _PREPOSITIONS:
        return None
    if cleaned[-1] in _PREPOSITIONS or cleaned[-1] in _DETERMINERS or cleaned[-1] in ("and", "or", "with"):
        return None
    if len(cleaned) == 1 and len(cleaned[0]) == 1 and not cleaned[0].isdigit():
        return None
    for k, w in enumerate(cleaned):
        if w in _SUBJECT_STOP or "n't" in w or not re.fullmatch(r"[\w][\w'&\-.]*", w):
            return None
        if k and w in _DETERMINERS and cleaned[k - 1] not in _PREPOSITIONS and cleaned[k - 1] not in ("and", "or"):
            return None  # "monday the review", "dana our budget": not one noun phrase
    return " ".join(cleaned)


def _clean_value(words: Iterable[str]) -> str:
    return " ".join(words).strip(" .,;:!?\"'")


def _relation_value(kind: str, verb: str, rest: str, shouting: bool) -> tuple[str, str] | None:
    """(relation, value) for a verb of class ``kind`` followed by ``rest``, or None."""
    toks = _tokens(rest)
    if not toks:
        return None

    def when(ts: list[_Tok], after_at: bool = False) -> str | None:
        w = _when_scan(ts, after_at)
        return _clean_value(t.orig for t in ts[: w[0]]) if w else None

    def amount(ts: list[_Tok]) -> str | None:
        a = _amount_scan(ts)
        return _clean_value(t.orig for t in ts[: a[0]]) if a else None

    if kind == "change":
        cverb, cprep = verb.split("|")
        if v := when(toks):
            return "when", v
        if cprep in ("until", "till", "for"):
            return None
        if v := amount(toks):
            return "amount", v
        np = _np_scan(toks)
        if np is None:
            return None
        if cverb in ("moved", "relocated", "shifted") or _placelike(np, shouting, unknown=False):
            return "where", _clean_value(np)
        if cverb in ("changed", "switched", "updated") and np[0].lower() not in _PREPOSITIONS:
            return "is", _clean_value(np)
        return None
    if kind in ("achange", "averb"):
        v = amount(toks)
        return ("amount", v) if v else None
    if kind == "wverb":
        if toks[0].low in ("for", "on", "at", "by") and not re.search(r"\b(?:for|on|at|by)$", verb):
            after_at = toks[0].low == "at"
            toks = toks[1:]
        else:
            after_at = verb.endswith(" at")
        v = when(toks, after_at)
        return ("when", v) if v else None
    if kind == "verb":
        np = _np_scan(toks)
        return (_VERB_RELATION[verb], _clean_value(np)) if np else None
    # copula
    present = verb.split()[0] in ("is", "are", "will", "remains", "stays")
    p = toks[0].low
    if p in ("on", "at", "in") and len(toks) > 1:
        if p == "in" and (w := _when_scan(toks)):
            return "when", _clean_value(t.orig for t in toks[: w[0]])
        rest_toks = toks[1:]
        if v := when(rest_toks, p == "at"):
            return "when", v
        if p == "at" and (v := amount(rest_toks)):
            return "amount", v
        np = _np_scan(rest_toks)
        if np is None:
            return None
        if _placelike(np, shouting):
            return "where", _clean_value(np)
        return (f"is {p}", _clean_value(np)) if present else None
    if v := when(toks):
        return "when", v
    if v := amount(toks):
        return "amount", v
    if not present:
        return None
    if p in ("from", "with", "near", "under", "for", "about") and len(toks) > 1:
        np = _np_scan(toks[1:])
        return (f"is {p}", _clean_value(np)) if np else None
    np = _np_scan(toks, max_words=5)
    return ("is", _clean_value(np)) if np and _plain_state(np) else None


def _plain_state(np: list[str]) -> bool:
    """A value for the plain "is" relation: not a participle, gerund or adverb ("is provided",
    "is going", "is hereby granted") and not a preposition phrase."""
    first = np[0].lower()
    if first in _PREPOSITIONS or first in ("like", "hereby", "about"):
        return False
    return not (first.isalpha() and len(first) > 3 and re.search(r"(?:ed|ing|ly)$", first))


def _clause_claim(clause: str, text: str, speaker: str | None) -> list[Claim] | None:
    """Claims of one clause: [] for a clause that is a self-introduction without a speaker,
    None when the clause states nothing."""
    c = clause.strip(" ,;:")
    while (m := _FILLER.match(c)) and m.end() > 0:
        c = c[m.end():]
    if not c:
        return None
    names = self_introductions(c)
    if names:
        return [Claim(speaker.strip(), "name", n, text) for n in names] if speaker and speaker.strip() else []
    if _NAME_CUE.search(c):
        return []
    first = c.split()[0].lower().strip(",")
    if first in _QUESTION_START:
        return None
    shouting = sum(ch.isupper() for ch in c) > 0.6 * max(1, sum(ch.isalpha() for ch in c))
    for m in _VERBS.finditer(c):
        subject = _subject(c[: m.start()])
        if subject == "":
            continue
        if subject is None:
            return None
        rest = c[m.end():].strip()
        if _NEGATION.match(rest):
            return None
        kind = next(k for k in ("change", "achange", "wverb", "averb", "verb", "cop") if m.group(k))
        verb = re.sub(r"\s+", " ", m.group(kind).lower())
        if kind == "change":
            verb = f"{m.group('cverb').lower().split()[0]}|{m.group('cprep').lower()}"
        rv = _relation_value(kind, verb, rest, shouting)
        if rv:
            if kind == "wverb" and verb.split()[0] in _EVENT_NOUN:  # "the product launches on X": the product launch
                subject = f"{subject} {_EVENT_NOUN[verb.split()[0]]}"
            return [Claim(subject, rv[0], rv[1], text)]
        if kind not in ("verb", "averb"):  # "leads", "runs", "total" may be nouns ("the test runs are ..."): look further
            return None
    return None


def extract_claims(text: str, speaker: str | None = None) -> list[Claim]:
    """Claims stated in ``text`` (ASR transcript or OCR lines), in order, without duplicates.

    Sentences are split at . ! ? newlines and " | "; a sentence splits further into clauses at
    ";" and at "and"/"but"/"while" when the part before states a claim on its own. Questions
    (ending in "?" or starting with is/are/when/what/...) give nothing. See the module docstring.
    """
    out: list[Claim] = []
    for sentence in split_sentences(text):
        if sentence.rstrip("\"') ").endswith("?"):
            continue
        prepared = _prepare(sentence).rstrip(" .!")
        start = 0
        found: list[Claim] = []
        for m in _CLAUSE_SEP.finditer(prepared):
            left = _clause_claim(prepared[start: m.start()], sentence, speaker)
            if left is not None:
                found.extend(left)
                start = m.end()
        tail = _clause_claim(prepared[start:], sentence, speaker)
        found.extend(tail or [])
        for claim in found:
            if claim not in out:
                out.append(claim)
    return out


# ---------------------------------------------------------------------------------------------
# Values and reconciliation


@lru_cache(maxsize=8192)
def canonical_value(value: str) -> str:
    """The comparison form of a value: a time expression -> its parts in a fixed order
    ("Thursday at 3 pm" -> "thursday 15:00", "14th of March" -> "march 14"); an amount ->
    "<number> <unit>" ("$1,250.00" -> "1250 usd", "120k dollars" -> "120000 usd", "5 percent" ->
    "5 %"); anything else -> lowercase words without punctuation or leading articles."""
    toks = _tokens(_prepare(value))
    for t in toks:
        t.stop = False
    if not toks:
        return ""
    if w := _when_scan(toks, whole=True):
        return _canon_when(w[1])
    if a := _amount_scan(toks, whole=True):
        return a[1]
    words = [re.sub(r"[^\w'&\-./:%$]+", "", t.low).strip(".") for t in toks]
    words = [w for w in words if w]
    while words and words[0] in _ARTICLES:
        words.pop(0)
    return " ".join(words)


def same_value(a: str, b: str) -> bool:
    """Whether two stated values mean the same: equal :func:`canonical_value` (case, punctuation,
    "3 pm" / "3pm" / "15:00" / "three pm", number words vs digits, "$120,000" / "120000 dollars")."""
    return canonical_value(a) == canonical_value(b)


def _mention_key(m: Mention) -> tuple[object, ...]:
    c = m.claim
    return (m.order, m.source_id, m.t, m.wall_time is None, m.wall_time or 0.0, c.subject, c.relation, c.value, c.text)


def reconcile(mentions: Iterable[Mention]) -> list[Fact]:
    """Facts from mentions, sorted by key; a pure function of the *set* of mentions.

    Mentions group by (subject, relation); values equal under :func:`same_value` form one fact
    (its ``value`` is the latest wording). For a single-valued relation the fact whose latest
    mention is latest (by ``order``, then support, then key) is current; every other fact of the
    group gets ``superseded_by`` = the current key, so a value asserted again later becomes current
    again. ``confidence`` = 1 - 0.5 ** support (one mention 0.5, two 0.75, three 0.875).
    """
    groups: dict[tuple[str, str], dict[str, list[Mention]]] = {}
    for m in sorted(set(mentions), key=_mention_key):
        c = m.claim
        groups.setdefault((c.subject, c.relation), {}).setdefault(canonical_value(c.value), []).append(m)
    facts: list[Fact] = []
    for (subject, relation), by_value in groups.items():
        keyed = [(f"{subject}|{relation}|{canon}", ms) for canon, ms in by_value.items()]
        current: str | None = None
        if relation in SINGLE_VALUED and len(keyed) > 1:
            current = max(keyed, key=lambda kv: (_mention_key(kv[1][-1]), len(kv[1]), kv[0]))[0]
        for key, ms in keyed:
            value = ms[-1].claim.value
            facts.append(Fact(
                key=key,
                subject=subject,
                relation=relation,
                value=value,
                text=f"{subject} \u2014 {relation}: {value}",
                mentions=tuple(ms),
                support=len(ms),
                first_seen=ms[0],
                last_seen=ms[-1],
                confidence=round(1.0 - 0.5 ** len(ms), 6),
                superseded_by=None if current in (None, key) else current,
                sources=tuple(sorted({m.source_id for m in ms})),
            ))
    return sorted(facts, key=lambda f: f.key)


def current_facts(facts: Iterable[Fact]) -> list[Fact]:
    """The facts that are not superseded."""
    return [f for f in facts if f.superseded_by is None]


def mentions_from(
    text: str, source_id: str, t: float, seq: int, speaker: str | None = None, wall_time: float | None = None
) -> list[Mention]:
    """Mentions of the claims in ``text`` said or shown at ``t`` seconds into source number ``seq``."""
    return [Mention(c, source_id, t, (seq, t), wall_time) for c in extract_claims(text, speaker)]
