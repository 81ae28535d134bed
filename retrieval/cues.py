"""What kind of answer a question wants, and whether a snippet has that kind of thing in it.

Small models cannot be trusted to find the date in three sentences; the structure can: a "when"
question prefers snippets with dates and times, a "how much" question snippets with numbers, a
"who" question snippets with names.
"""

from __future__ import annotations

import re

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_DATE = re.compile(
    rf"\b({_MONTHS}|{_DAYS}|today|tomorrow|yesterday|tonight|next (week|month|year)|"
    r"\d{1,2}:\d{2}|\d{1,2}(st|nd|rd|th)|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(/\d{2,4})?|"
    r"(morning|afternoon|evening|noon|midnight))\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+\b")

_WANTS = (
    ("time", re.compile(r"^\s*(when|what (time|date|day)|which (day|date|month)|how long|until when)\b"
                        r"|^\s*what (is|was|were|are) the [\w\s]{0,30}?\b(time|date|day|deadline)\b", re.I)),
    ("number", re.compile(r"^\s*(how (much|many)|what (number|amount|price|total|percentage)|what is the (number|amount|price|cost|total|budget))\b|\b(number|amount|price|cost|budget|total)\b", re.I)),
    ("name", re.compile(r"^\s*(who|whom|whose|which person)\b", re.I)),
)


def wanted(question: str) -> str | None:
    for kind, pattern in _WANTS:
        if pattern.search(question):
            return kind
    return None


def has(kind: str, text: str, question: str = "") -> bool:
    if kind == "time":
        return bool(_DATE.search(text))
    if kind == "number":
        return bool(_NUMBER.search(text))
    if kind == "name":
        asked = {w.lower() for w in re.findall(r"\w+", question)}
        return any(m.group(0).lower() not in asked for m in _NAME.finditer(text))
    raise ValueError(f"unknown answer kind {kind!r}")
