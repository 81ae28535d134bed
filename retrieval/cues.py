"""What kind of answer a question wants, and whether a snippet has that kind of thing in it.

Small models cannot be trusted to find the date in three sentences; the structure can: a "when"
question prefers snippets with dates and times, a "how much" question snippets with numbers, a
"who" question snippets with names. The kind comes from the question's parse
(retrieval/question.py), the things from the snippet's entities (memory/nlp.py).
"""

from __future__ import annotations

import re

from memory import nlp


def wanted(question: str) -> str | None:
    """The answer type of a question: "time", "number", "name", "place", "app", "yesno" or None."""
    from retrieval.question import parse

    return parse(question).wants


def has(kind: str, text: str, question: str = "") -> bool:
    """The text holds a thing of the kind (not one the question itself names)."""
    if kind == "number":
        return bool(re.search(r"\d", nlp.digits(text)))
    labels = {"time": "time", "name": "person", "place": "place"}.get(kind)
    if labels is None:
        return False
    asked = question.lower()
    if any(nlp.is_type(s, labels) and s.text.lower() not in asked for s in nlp.typed_spans(text)):
        return True
    if kind == "name":  # names the entity recogniser does not know: proper nouns of the sentence
        return any(t.pos_ == "PROPN" and t.i > 0 and t.lower_ not in asked for t in nlp.parse(text))
    return False
