"""Values of claims, offline: the comparison form of a stated value (:func:`canonical_value`),
so that "Thursday at 3 pm" / "thursday 3pm" / "3 PM on Thursday" or "$120,000" / "120000 dollars"
are one fact. Spoken numbers become digits through :func:`memory.nlp.digits`.

A whole value is read as a time expression (weekdays, dates "March 14" / "the 14th of March",
clock times "3 pm" / "15:30" / "noon", relative days "tomorrow" / "next week" / "in 2 weeks"),
its parts put in a fixed order ("thursday 15:00", "march 14"); else as an amount ("1250 usd",
"120000 usd", "5 %"); else as lowercase words without punctuation or leading articles.
"""

from __future__ import annotations

import re
from functools import lru_cache

from memory import nlp

__all__ = ["canonical_value", "same_value"]

_ORD_UNITS = {w: k + 1 for k, w in enumerate("first second third fourth fifth sixth seventh eighth ninth".split())}
_ORDINAL_WORDS = {
    **_ORD_UNITS, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}
_EDGE = re.compile(r"^([^\w$€£#]*)(.*?)([^\w%]*)$", re.UNICODE)

def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.6f}".rstrip("0").rstrip(".")



def _weekday(word: str) -> str | None:
    """The full name of a weekday word ("thu", "Tuesdays"); the words are :mod:`memory.nlp`'s."""
    found = nlp.calendar_word(word)
    return found[1] if found and found[0] == "weekday" else None


def _month(word: str) -> str | None:
    found = nlp.calendar_word(word)
    return found[1] if found and found[0] == "month" else None


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _prepare(value: str) -> str:
    s = value.translate(_APOSTROPHES)
    s = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", s, flags=re.IGNORECASE)
    s = re.sub(r"\b(\d{1,2}(?::\d{2})?)\s*([ap])\.?m\b", r"\1 \2m", s, flags=re.IGNORECASE)
    s = nlp.digits(s, ordinals=True)
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

def _day(tok: str) -> tuple[int, bool] | None:
    """A day of the month: (day, written as an ordinal)."""
    if tok in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[tok], True
    m = _DAY_RE.match(tok)
    if m and 1 <= int(m.group(1)) <= 31:
        return int(m.group(1)), bool(m.group(2))
    return None


def _year(tok: str) -> bool:
    return tok.isdecimal() and len(tok) == 4 and 1900 <= int(tok) <= 2100


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
    elif w.isdecimal() and len(w) <= 2:
        h = int(w)
        if nxt in ("am", "pm") and 1 <= h <= 12:
            hm, k = (h, 0), 1
        elif nxt == "o'clock" and 1 <= h <= 12:
            return 2, [(6, f"{h:02d}:00")]
        elif after_at and 0 <= h <= 23 and nxt not in _AMOUNT_UNITS and nxt not in _SCALE_WORDS:
            hm, k = (h, 0), 1
    elif w in ("half", "quarter") and nxt in ("past", "to") and i + 2 < n and low[i + 2].isdecimal() and 1 <= int(low[i + 2]) <= 12:
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
    if w == "in" and (at(i + 1).isdecimal() or at(i + 1) in ("a", "an")) and at(i + 2) in _DURATIONS:
        num = "1" if at(i + 1) in ("a", "an") else at(i + 1)
        return 3, [(0, f"in {num} {at(i + 2).rstrip('s')}")]
    if (w.isdecimal() or w in ("a", "an")) and at(i + 1) in _DURATIONS and at(i + 2) == "from" and at(i + 3) == "now":
        num = "1" if w in ("a", "an") else w
        return 4, [(0, f"in {num} {at(i + 1).rstrip('s')}")]
    if w in _REL_PREFIX or (w == "the" and at(i + 1) in ("following", "coming")):
        k = i + 1 if w != "the" else i + 2
        nw = at(k)
        prefix = "next" if low[k - 1] in ("next", "coming", "following") else "this"
        if day := _weekday(nw):
            return k + 1 - i, [(1, f"{prefix} {day}")]
        if nw in _PERIODS:
            return k + 1 - i, [(0 if nw not in _DAYPARTS else 5, f"{prefix} {nw}")]
        return None
    if w == "the" and at(i + 1) == "weekend":
        return 2, [(0, "weekend")]
    if w == "weekend":
        return 1, [(0, "weekend")]
    if day := _weekday(w):
        return 1, [(1, day)]
    if w in _DAYPARTS or (w == "the" and at(i + 1) in _DAYPARTS):
        k = i + (w == "the")
        t = _time_unit(low, k, False)
        if t:
            return k - i + t[0], t[1]
        return k + 1 - i, [(5, at(k))]
    if _NUMDATE_RE.match(w):
        return 1, [(3, w)]
    # dates: month [the] day [year] | [the] day [of] month [year] | month [year] | the day
    if month := _month(w):
        k = i + 1
        parts = [(2, month)]
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
        if month := _month(at(k2)):
            parts = [(2, month), (3, str(d[0]))]
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
    return i, f"{_fmt(x)} {unit}".strip()


_ARTICLES = {"the", "a", "an"}
_FILLER_WORDS = frozenset({"um", "umm", "uh", "uhm", "er", "erm", "hmm", "mm"})


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

