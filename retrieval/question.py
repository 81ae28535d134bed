"""What a question asks, read from its words: the kind of answer, people named, time navigation.

The deterministic planner plans from this, and the answer step uses it to pick among evidence:
"how many times" counts occurrences, "first" / "last" orders them, "after the break" finds the
break first and only looks later, "what was on screen when Dana spoke" reads what was shown at
the moment something was said. Wall-clock words ("yesterday", "at 3 pm", "this morning") become
a window on wall times (screen captures and videos indexed with a wall-clock start).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from retrieval import cues

_COUNT = re.compile(r"\bhow (many times|often)\b|\bhow many\b.*\b(times|mentions?)\b|\bnumber of times\b", re.I)
_FIRST = re.compile(r"\b(first|earliest|initially|originally|at first|to begin with)\b", re.I)
_LAST = re.compile(r"\b(last|latest|finally|most recent(ly)?|in the end)\b", re.I)
_HISTORY = re.compile(r"\b(before (it|that|this) (changed|moved)|originally|used to|previous(ly)?|old|history|changed|change)\b", re.I)
_SHOWN = re.compile(r"\b(on (the )?screen|shown|show(ed|s)?|displayed|slide|written|read on)\b", re.I)
_SAID = re.compile(r"\b(said|say|says|saying|spoke|speak|told|mention(ed)?|talk(ed)?)\b", re.I)
# "after the break", "before Dana spoke", "when the invoice was shown"; the anchor runs to "?" or a comma
_ANCHOR = re.compile(r"(?=\b(after|before|when|while|during)\s+(?!that\b|this\b|it\b)([^?,.;]{3,80}))", re.I)
# "the woman who mentioned the invoice", "the speaker that talked about parking": a person found through what they did
_HOP = re.compile(r"\b(?:the|that)\s+(?:person|man|woman|speaker|one|guy|lady|people)\s+(?:who|that)\s+([^?,.;]{3,80}?)(?=\s+(?:say|said|says|talk|talked|mention|mentioned|do|did|show|showed)\b|[?,.;]|$)", re.I)
_SUMMARY = re.compile(r"^\s*(summari[sz]e|sum up|recap|give (me )?(a |an )?(short |brief )?(summary|overview|recap)|"
                      r"what (were the|are the) (main )?(topics|points)|what topics)\b", re.I)
_LUNCH = re.compile(r"\blunch\b", re.I)
_AT_CLOCK = re.compile(r"\bat (\d{1,2})(?::(\d{2}))?\s*(am|pm)\b", re.I)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS = re.compile(r"\b(today|yesterday|this morning|this afternoon|this evening|last (" + "|".join(_WEEKDAYS) + r"))\b", re.I)
_STOP = re.compile(
    r"\b(how many times|how often|the first time|the last time|for the first time|for the last time|"
    r"first|last|earliest|latest|finally|initially|originally|at first|in the end|yesterday|today|"
    r"this morning|this afternoon|this evening)\b", re.I,
)


@dataclass(frozen=True)
class Anchor:
    """A moment the question navigates from: ``relation`` is after / before / during."""

    relation: str
    phrase: str

    @property
    def modality(self) -> str | None:
        """What kind of moment it is: something said ("when Dana spoke"), shown, or either."""
        said, shown = bool(_SAID.search(self.phrase)), bool(_SHOWN.search(self.phrase))
        return "speech" if said and not shown else "screen" if shown and not said else None


@dataclass(frozen=True)
class Question:
    text: str
    topic: str  # the question without its time-navigation words: what to search for
    wants: str | None  # "time" | "number" | "name" | None (cues.wanted)
    count: bool = False
    order: str | None = None  # "first" | "last"
    anchor: Anchor | None = None
    shown: bool = False  # asks about what was on screen
    said: bool = False  # asks about what was said
    history: bool = False  # asks how a fact was before it changed
    hop: str | None = None  # "the woman who mentioned the invoice": find who did this, then ask about them
    options: tuple[str, ...] = ()  # "which was first, the audit or the budget?": the alternatives
    key_terms: tuple[str, ...] = ()  # names and codes the question is about ("Tokyo", "CEO", "4471")
    summary: bool = False  # "summarise ...", "give me an overview of ...": a part, not a fact
    named: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name in the question → entity ids
    wall: tuple[float | None, float | None] | None = None  # a wall-clock window

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return tuple(sorted({i for ids in self.named.values() for i in ids}))

    def to_json(self) -> dict[str, object]:
        return {
            "topic": self.topic, "wants": self.wants, "count": self.count, "order": self.order,
            "anchor": None if self.anchor is None else {"relation": self.anchor.relation, "phrase": self.anchor.phrase},
            "shown": self.shown, "said": self.said, "history": self.history,
            "named": {k: list(v) for k, v in self.named.items()}, "wall": list(self.wall) if self.wall else None,
            "hop": self.hop, "options": list(self.options), "key_terms": list(self.key_terms), "summary": self.summary,
        }


def parse(text: str, people: Mapping[str, Sequence[str]] = {}, now: float | None = None) -> Question:
    """``people``: names and ids (lowercase) → entity ids; ``now``: the wall-clock time "today"
    and "yesterday" are relative to (the latest wall time in memory, or the clock)."""
    text = " ".join(text.split())
    low = text.lower()
    named = {
        name: tuple(ids) for name, ids in people.items()
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low)
    }
    hop = None
    if m := _HOP.search(text):
        hop = m.group(1).strip()
        text_wo_hop = text[: m.start()] + "they" + text[m.end(1):]
    else:
        text_wo_hop = text
    anchor, topic = None, text_wo_hop
    for m in _ANCHOR.finditer(text_wo_hop):
        relation = {"while": "during", "when": "during"}.get(m.group(1).lower(), m.group(1).lower())
        # "when is the review?" asks for a time, it does not navigate: an anchor needs a clause before it
        if relation == "during" and m.start() == 0:
            continue
        anchor = Anchor(relation, m.group(2).strip())
        topic = text_wo_hop[: m.start()] + text_wo_hop[m.start() + len(m.group(1)) + 1 + len(m.group(2)):]
        break
    topic = _STOP.sub(" ", topic)
    topic = " ".join(topic.replace("?", " ").split()) or text
    order = "first" if _FIRST.search(low) else "last" if _LAST.search(low) and not _DAY_WORDS.search(low) else None
    return Question(
        text=text,
        topic=topic,
        wants=cues.wanted(text),
        count=bool(_COUNT.search(text)),
        order=order,
        anchor=anchor,
        shown=bool(_SHOWN.search(topic)),
        said=bool(_SAID.search(topic)),
        history=bool(_HISTORY.search(text)),
        named=named,
        wall=wall_window(text, now),
        hop=hop,
        options=_options(text),
        summary=bool(_SUMMARY.search(text)),
        key_terms=_key_terms(text, named),
    )


def wall_window(text: str, now: float | None) -> tuple[float | None, float | None] | None:
    """Wall-clock words → (from, to) in epoch seconds (local time), or None when it has none."""
    if now is None:
        return None
    low = text.lower()
    today = dt.datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    day: dt.datetime | None = None
    if "yesterday" in low:
        day = today - dt.timedelta(days=1)
    elif re.search(r"\btoday\b|\bthis (morning|afternoon|evening)\b", low):
        day = today
    elif m := re.search(r"\blast (" + "|".join(_WEEKDAYS) + r")\b", low):
        back = (today.weekday() - _WEEKDAYS.index(m.group(1))) % 7 or 7
        day = today - dt.timedelta(days=back)
    start_h, end_h = 0.0, 24.0
    if m := _AT_CLOCK.search(low):
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "pm" else 0)
        minute = int(m.group(2) or 0)
        start_h, end_h = hour + minute / 60 - 0.5, hour + minute / 60 + 0.5
        day = day or today
    elif "morning" in low:
        start_h, end_h = 5.0, 12.0
    elif "afternoon" in low:
        start_h, end_h = 12.0, 18.0
    elif "evening" in low:
        start_h, end_h = 18.0, 24.0
    elif _LUNCH.search(low) and re.search(r"\b(after|before)\s+lunch\b", low) and day is not None:
        start_h, end_h = (13.0, 24.0) if "after lunch" in low else (0.0, 12.0)
    if day is None:
        return None
    return (day + dt.timedelta(hours=start_h)).timestamp(), (day + dt.timedelta(hours=end_h)).timestamp()


_OPTIONS = re.compile(r"[,:]\s*(?:the\s+)?([^,?]+?)\s+or\s+(?:the\s+)?([^,?]+?)\s*\??$", re.I)
_QUESTION_WORDS = {"what", "who", "whom", "whose", "when", "where", "which", "why", "how", "did", "does", "do", "is",
                   "was", "were", "are", "can", "could", "i", "the", "a", "an", "in", "on", "at"}


def _options(text: str) -> tuple[str, ...]:
    m = _OPTIONS.search(text)
    return (m.group(1).strip(), m.group(2).strip()) if m else ()


def _key_terms(text: str, named: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Proper names, acronyms and codes in the question (not its first word, not known people,
    not quoted speech): if memory never mentions them, it cannot hold the answer."""
    unquoted = re.sub(r"(['\"]).*?\1(?=\W|$)", " ", text)
    unquoted = _DAY_WORDS.sub(" ", _AT_CLOCK.sub(" ", unquoted))  # wall-clock words are a window, not words to find
    tokens = re.findall(r"[A-Za-z][\w-]*|\d[\w-]*", unquoted)
    out = []
    for k, tok in enumerate(tokens):
        low = tok.lower()
        if k == 0 or low in _QUESTION_WORDS or low in named or any(low in n.split() for n in named):
            continue
        if tok[0].isupper() or any(c.isdigit() for c in tok):
            out.append(tok.removesuffix("'s"))
    return tuple(dict.fromkeys(out))
