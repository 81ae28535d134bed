"""Span answers, steps 1 and 2 of :mod:`retrieval.spans`: the value beside the label the question
asks about — a label → value pair the evidence carries (``attrs``, from layout-aware screen
reading), a plain screen line "Label: value", a label line followed by its value line, or a label
and its value shown without a colon ("Q2 marketing budget $120,000"). The value must be of the
asked type (a number for "how many", a date for "when")."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from memory import nlp
from perception.layout import NO_VALUE
from retrieval.question import Question
from retrieval.spans import _COUNT_LINE, _LABEL_VALUE, _YESNO, Found, Piece, _asked, _lemmas, _typed, title_and_lines

if TYPE_CHECKING:
    from spacy.tokens import Token


def _label_score(label: str, focus: set[str], content: set[str]) -> float:
    words = _lemmas(label)
    if not words or len(label.split()) > 6:
        return 0.0
    hit_focus = len(words & focus)
    hit = len(words & content)
    if not hit_focus and not hit:
        return 0.0
    return 2.0 * hit_focus + hit - 0.1 * len(words - focus - content)


def _pairs(piece: Piece) -> list[tuple[str, str, str]]:
    """(label, value, line) pairs of a piece: its attrs, "Label: value" lines, and a label line
    (ending in ":") followed by a value line."""
    out: list[tuple[str, str, str]] = []
    a = piece.attrs
    if a.get("label") and a.get("value"):
        out.append((str(a["label"]), str(a["value"]), f"{a['label']}: {a['value']}"))
    for pair in a.get("pairs", ()) or ():
        if isinstance(pair, Mapping) and pair.get("label") and pair.get("value"):
            out.append((str(pair["label"]), str(pair["value"]), f"{pair['label']}: {pair['value']}"))
    if piece.modality != "screen":
        return out
    _, lines = title_and_lines(piece)
    for k, line in enumerate(lines):
        m = _LABEL_VALUE.match(line)
        if m and line[m.end("label"): m.end("label") + 1] == ":" and m.group("label")[-1:].isdigit() \
                and m.group("value")[:1].isdigit():
            m = None  # the colon of a clock time or a timecode ("Stops at 00:14:05"), no label's
        if m and m.group("value").strip():  # a label never spans a separator ("6 episodes · Time left")
            out.append((re.split(r"\s[·•]\s", m.group("label"))[-1], m.group("value").strip(), line))
        nxt = lines[k + 1] if k + 1 < len(lines) else None
        if nxt is not None and line.rstrip().endswith(":") and not nxt.rstrip().endswith(":") \
                and not _LABEL_VALUE.match(nxt):
            # a label line and the next line its value (not a pair of its own); a short line alone
            # is no label (a menu bar's "Entries" over "Groups")
            out.append((line.rstrip(": "), nxt, f"{line} {nxt}"))
        elif not m:
            out.extend(_unmarked_pairs(line, nxt))
    return out


_VALUE_LABELS = frozenset({"MONEY", "DATE", "TIME", "PERCENT", "QUANTITY", "CARDINAL", "NUMBER"})
_NAME_TAGS = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "PUNCT", "SYM"})


def _value_start(line: str) -> int | None:
    """Where the value that ends the line starts: an amount, a date, a time or a number spaCy
    types (with a currency sign before it), running to the line's end; None when the line does
    not end in one. A value in brackets closes the line as well ("21 Files (655.6 KiB)",
    "Inbox (12)": a status bar's total, a folder's count); a bracket cut off by the OCR ("(41.8 ..")
    is a truncated value, not a value."""
    text = line.rstrip(" .;,")
    bracket = text.endswith(")") and "(" in text
    if bracket:
        text = text[:-1].rstrip()
    spans = [t for t in nlp.typed_spans(text) if t.label in _VALUE_LABELS and t.end >= len(text)]
    if not spans:  # a number and its unit after a label ("Size 655.6 KiB", "Free 3.2 GB"): the last word an
        # abbreviation counted by the number right before it ("21 Files" is a count, "Chapter 3 Results" a name)
        last = nlp.parse(text)[-1]
        counted = [c for c in last.children if c.dep_ == "nummod" and c.i == last.i - 1 and c.i > 0]
        spans = [t for t in nlp.typed_spans(text) if t.label in _VALUE_LABELS and counted and last.is_alpha
                 and len(last.text) <= 3 and t.end == counted[0].idx + len(counted[0].text)]
    if not spans:
        return None
    start = spans[-1].start
    while start > 0 and not text[start - 1].isalnum() and not text[start - 1].isspace():
        start -= 1  # "$", "€", "#"
    opened = text[start:start + 1] == "("
    if bracket != opened:
        return None  # "(41.8 .." cut off, or "Total (incl. VAT) 40": no value in brackets
    return start + 1 if opened else start


def _names_a_field(label: str) -> bool:
    """A slide's or a table's label: a short verbless phrase that ends in a common noun or an
    adjective ("Q2 marketing budget", "Total due", "Attendees"), with no value of its own."""
    doc = nlp.parse(label)
    words = [t for t in doc if not t.is_punct]
    return (0 < len(words) <= 6 and all(t.pos_ in _NAME_TAGS for t in doc) and _common(words[-1])
            and any(t.is_alpha for t in words) and _value_start(label) is None)


def _common(t: Token) -> bool:
    """A common noun or an adjective, also when a capital made the tagger call it a name ("21
    Files", "Inbox": a label's capital, not a person's)."""
    if t.pos_ in ("NOUN", "ADJ"):
        return True
    return t.pos_ == "PROPN" and t.is_title and nlp.parse(t.lower_)[0].pos_ == "NOUN"


def _unmarked_pairs(line: str, nxt: str | None) -> list[tuple[str, str, str]]:
    """Label → value pairs shown without a colon, as slides and dashboards show them: the value
    after its label on one line ("Q2 marketing budget $120,000"), or alone on the line under it
    ("Q2 marketing budget" over "$120,000"). A sentence ("We spent $120,000 on ads"), a name
    with a number in it ("Windows 11", "Chapter 3") and two labels in a row are not pairs."""
    start = _value_start(line)
    if start is not None and start > 0 and _names_a_field(line[:start].strip(" (")):
        return [(line[:start].strip(" ("), line[start:].strip(" .;,)"), line)]
    if nxt is not None and start is None and _names_a_field(line.strip()) and _value_start(nxt) == 0:
        return [(line.strip(), nxt.strip(" .;,"), f"{line} {nxt}")]
    return []


def _names_focus(label: str, q: Question) -> bool:
    """A label that holds every word of a compound asked noun vouches for its value's type
    ("Decryption Time: 1.0 s" answers "what decryption time", a duration though "time" asks a
    clock time; a bare "what time" still asks for one)."""
    if q.wants not in ("time", "number", "duration") or not q.gap.focus:
        return False
    focus = [w for w in q.gap.focus.split() if w.lower() not in ("what", "which")]
    return len(focus) >= 2 and all(_lemmas(w) & _lemmas(label) for w in focus)


def by_label(q: Question, pieces: Sequence[Piece]) -> Found | None:
    focus, content = _asked(q)
    if not focus and not content:
        return None
    # a label that shares only a modifier with the question ("New site" for "who will lead the move
    # to the new warehouse") names another thing, unless the block it sits in is about what the
    # question asks ("Warehouse | New site: Rotterdam" for "where is the new warehouse"); for "who"
    # the label itself must say it ("Owner", "Signed by")
    modifiers = {t.lemma_.lower() for t in nlp.parse(q.text) if t.pos_ == "ADJ" and t.is_lower} - focus  # not "Extended ASCII"
    best: tuple[float, int, Found] | None = None
    for i, piece in enumerate(pieces):
        title = title_and_lines(piece)[0] or (piece.text.split(" | ")[0] if piece.modality == "screen" else "")
        about = q.wants != "name" and bool(_lemmas(title) & ((focus | content) - modifiers))
        for label, value, line in _pairs(piece):
            score = _label_score(label, focus, content)
            if score > 0 and not about and not (_lemmas(label) & (focus | content)) - modifiers:
                continue
            # a label shown empty says "not shown" only for the very thing asked ("what name ...":
            # "Name: ∅"; with no focus parsed, every word of the label asked), not for a label that
            # shares a word with the rest ("Document Types: ∅" for "what ASN does the document have")
            if value.strip() == NO_VALUE and score > 0 and (
                    _lemmas(label) & focus if focus else all(_lemmas(w) & content for w in label.split())):
                found = Found("", i, line, f"'{label.strip()}' is shown without a readable value (masked or empty)")
                key = (score - 0.5 * i, -i)
                if best is None or key > (best[0], -best[1]):
                    best = (key[0], i, found)
                continue
            if value.strip() == NO_VALUE:
                continue  # nothing readable there: never an answer of its own
            if score <= 0 or not (_typed(value, q.wants) or _names_focus(label, q)) or (_COUNT_LINE.match(value) and not q.gap.unit):
                continue  # a list's size ("Size: 5 items") answers "how many X", not "what size"
            if _lemmas(value, join=False) <= content and q.wants not in ("number", "duration", "time", "yesno"):
                continue  # the "value" only repeats the question
            shown = _YESNO.get(value.strip().lower(), value.strip()) if q.wants == "yesno" else value.strip()
            found = Found(shown, i, line, f"the value beside '{label.strip()}'")
            key = (score - 0.5 * i, -i)
            if best is None or key > (best[0], -best[1]):
                best = (key[0], i, found)
    return best[2] if best else None
