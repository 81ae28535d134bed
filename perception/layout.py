"""Layout-aware reading of a capture: OCR boxes → rows, label → value pairs, lists, selected /
checked state, titles and paragraphs, rendered as short structured lines the memory stores next to
the capture's raw lines (same image, same time: they cite the same capture).

Geometry only, no word lists:

- **rows**: boxes whose vertical extents overlap by half the smaller height, left to right;
- **pairs**: a box "Label: value" (one OCR box, split at its first colon); a box ending in ":"
  with the next box to its right on the same row (nothing between); a label stacked above its
  field (the nearest box under it, inset — up to three heights after a swatch or an icon —,
  closer to it than to the next box down, or followed by a note back at the label's left edge no
  nearer to it: web forms, grids of fields, whose row of labels is named by its section heading:
  "Western Text Font Size: 44"; a glyph is no value); else a ":" label's box right under it (aligned, within two line heights); a ":"
  label with none of these is shown without a value ("Password: ∅": masked, or empty). Two
  boxes on a row without a colon are no pair (a contents line and its page number);
- **lists**: a column of ≥ 3 boxes, left edges aligned, one below the other at a steady pitch
  (a box joins the column whose last box is nearest above it), with the box above it (aligned, within two pitches) as its heading; rendered
  "Heading: N items" and "Heading lists a; b; c" (no colon: the items are no label's value);
- **tables** (perception/layout_table.py): a header row over aligned rows → "<row> <header>: <cell>"
  for the cells that hold a number, a date or a time;
- **rows of items**: ≥ 3 short boxes on one row (a menu bar, a tab row) → "Row of <first>: N
  items" and its items; rows of items stacked tightly over one width (tabs wrapped over two
  lines) → "Rows of <first>: N items" too; a box merged across a blank gap in a row of items is
  split at it, and the top row of items is the "Menu bar" (perception/layout_bar.py);
- **selected / checked** (needs the pixels): among siblings (one row, or one list), the box whose
  background stands apart from the others' → "Selected: X"; a control glyph left of a box (a
  check box, a radio button): filled → "X: on", empty → "X: off"; coloured buttons among grey
  ones → "X: on", the grey "X: off" (perception/layout_state.py);
- **title**: the tallest line near the top → "Title: …";
- **paragraphs**: lines of one height stacked tightly with overlapping extents (a caption burned
  into a video, a slide's bullet wrapped over two lines) → one line, one sentence.

Fields are never merged across a colon: each "Label: value" box is a block of its own, so a
slide's stacked fields stay apart (a run-on "label" would swallow the next field's value).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from perception.layout_bar import MENU, item_rows_of, menu_bar, split_rows, stacked_rows
from perception.layout_table import tables_of

LIST_WORD = " lists "  # "<heading> lists a; b; c": the reader's own words for a list (memory.claims reads no claim in it)

LAYOUT_VERSION = 3  # in the keyframes fingerprint: a change here re-reads captures
NO_VALUE = "∅"  # the value of a "Label:" with nothing readable beside or under it (a masked password)

_FIELD = re.compile(r"^(?P<label>[^:]*[A-Za-z][^:]{0,40}?)\s*:\s+(?P<value>\S.*)$")
_WORDS = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")
_MAX_LABEL_WORDS = 6


@dataclass(frozen=True)
class Box:
    """One OCR line as an upright rectangle."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def h(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class Layout:
    rows: tuple[tuple[Box, ...], ...]
    pairs: tuple[tuple[str, str], ...]
    lists: tuple[tuple[str, tuple[str, ...]], ...]  # (heading, items)
    states: tuple[tuple[str, str], ...]  # (text, "selected" | "on" | "off")
    title: str
    paragraphs: tuple[str, ...]

    def lines(self) -> tuple[str, ...]:
        """The structured lines the memory stores: each a block of its own meaning."""
        out: list[str] = []
        if self.title:
            out.append(f"Title: {self.title}")
        out.extend(f"{label}: {value}" for label, value in self.pairs)
        selected = [t for t, s in self.states if s == "selected"]
        if selected:
            out.append("Selected: " + "; ".join(dict.fromkeys(selected)))
        out.extend(f"{t}: {s}" for t, s in self.states if s in ("on", "off"))
        for heading, items in self.lists:
            out.append(f"{heading}: {len(items)} items")
            out.append(f"{heading}{LIST_WORD}" + "; ".join(items))  # no colon: the items are no value of a label
        out.extend(self.paragraphs)
        return tuple(dict.fromkeys(x for x in out if x.strip()))


def boxes_of(lines: Sequence[Any]) -> list[Box]:
    """OCR lines (anything with ``text`` and ``box`` corners) as rectangles; lines without a box
    are left out (a recorder's sidecar may not have them)."""
    out = []
    for line in lines:
        box = getattr(line, "box", None) or ()
        if len(box) < 2 or not line.text.strip():
            continue
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        out.append(Box(line.text.strip(), min(xs), min(ys), max(xs), max(ys)))
    return out


def _control(ch: str) -> bool:
    """A geometric shape (U+25A0–25FF: ○ ● □ ■) or a ballot box (☐ ☑ ☒): a control the OCR read
    along with the text beside it."""
    return 0x25A0 <= ord(ch) <= 0x25FF or 0x2610 <= ord(ch) <= 0x2612


def split_at_controls(boxes: Sequence[Box]) -> list[Box]:
    """A box the OCR read across two options ("PDF/A-2b○ PDF/A-1b": a radio button between) is two
    boxes, cut at the control; each part's extent is its share of the characters."""
    out: list[Box] = []
    for b in boxes:
        cuts = [k for k, ch in enumerate(b.text) if _control(ch) and 0 < k < len(b.text) - 1]
        if not cuts:
            out.append(b)
            continue
        per = (b.x1 - b.x0) / len(b.text)
        start = 0
        for end in [*cuts, len(b.text)]:
            part = b.text[start:end]
            text = part.strip()
            if text and _WORDS.search(text):
                lead = len(part) - len(part.lstrip())
                x0 = b.x0 + per * (start + lead)
                out.append(Box(text, x0, b.y0, x0 + per * len(text), b.y1))
            start = end + 1
    return out


def rows_of(boxes: Sequence[Box]) -> list[list[Box]]:
    """Boxes grouped into rows (vertical overlap ≥ half the smaller height), top to bottom."""
    rows: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        for row in reversed(rows[-3:]):
            top, bottom = min(x.y0 for x in row), max(x.y1 for x in row)
            h = min(b.h, median(x.h for x in row))
            if min(bottom, b.y1) - max(top, b.y0) >= 0.5 * h:
                row.append(b)
                break
        else:
            rows.append([b])
    return [sorted(r, key=lambda b: b.x0) for r in rows]


def _is_label(text: str) -> bool:
    words = text.rstrip(":").split()
    return bool(_WORDS.search(text)) and 0 < len(words) <= _MAX_LABEL_WORDS


def _below(label: Box, boxes: Sequence[Box]) -> Box | None:
    """The box right under ``label``: left edges aligned (or overlapping), within two heights."""
    under = [b for b in boxes if b is not label and b.y0 >= label.cy and b.y0 - label.y1 <= 2 * label.h
             and (abs(b.x0 - label.x0) <= 1.5 * label.h or (b.x0 < label.x1 and b.x1 > label.x0))]
    return min(under, key=lambda b: (b.y0, abs(b.x0 - label.x0)), default=None)


def is_glyph(text: str) -> bool:
    """One character that is no Latin letter or digit: an icon the OCR read as a glyph ("京", "×")."""
    t = text.strip()
    return len(t) == 1 and not (t.isascii() and t.isalnum())


def _band(b: Box, boxes: Sequence[Box], inset: float = 1.5) -> list[Box]:
    """The other boxes in ``b``'s column: left edges within 1.5 heights (up to ``inset`` heights
    to the right: a field's text after a swatch or an icon), or overlapping it."""
    return [x for x in boxes if x is not b and (-1.5 * b.h <= x.x0 - b.x0 <= inset * b.h or (x.x0 < b.x1 and x.x1 > b.x0))]


def _couple(label: Box, boxes: Sequence[Box]) -> Box | None:
    """The value of a label stacked above its field (a web form, a grid of fields): the nearest box
    right under it (inset up to three heights: a colour's code after its swatch), closer to the
    label than to the next box down — a list's items are evenly spaced, a label and its value are
    a tight couple — or, when the next box is a note back at the label's left edge (out of the
    field), no nearer to the value than the value is to the label."""
    band = _band(label, boxes, inset=3.0)
    below = sorted((x for x in band if x.y0 >= label.y1 - 0.2 * label.h), key=lambda x: x.y0)
    if not below:
        return None
    value = below[0]
    gap = value.y0 - label.y1
    after = below[1].y0 - value.y1 if len(below) > 1 else float("inf")
    inset = value.x0 - label.x0 >= 0.3 * label.h  # the value sits in a field: wrapped text and lists do not
    # the next box back at the label's left edge, out of the field, is a note under the field
    # ("Action" over "Delete", then "Action is only performed when ..."): it closes the field
    # and the value no nearer to it than to the label
    closed = len(below) > 1 and value.x0 - below[1].x0 >= 0.3 * label.h and abs(below[1].x0 - label.x0) <= 0.3 * label.h \
        and after >= gap
    if gap <= 1.5 * label.h and (gap < 0.75 * after or closed) and inset and len(value.text.split()) <= 8 \
            and not value.text.endswith(":") and not is_glyph(value.text):
        return value
    return None


def _section(row: Sequence[Box], rows: Sequence[Sequence[Box]]) -> str:
    """The heading of a row of labels (a section of a grid form): a line alone on its row, right
    above the row's first label and starting left of it."""
    first = row[0]
    above = [r[0] for r in rows if len(r) == 1 and r[0].y1 <= first.y0 and first.y0 - r[0].y1 <= 1.5 * first.h
             and r[0].x0 <= first.x0 + first.h and _is_label(r[0].text)]
    return max(above, key=lambda b: b.y1).text if above else ""


def pairs_of(rows: Sequence[Sequence[Box]]) -> tuple[list[tuple[str, str]], set[int]]:
    """The capture's (label, value) pairs, and the ids of the boxes they were read from."""
    boxes = [b for r in rows for b in r]
    used: set[int] = set()  # boxes taken (a value belongs to one label)
    out: list[tuple[str, str]] = []
    for row in rows:
        # a row of labels with their values stacked under them: a grid, named by its section
        stacked = {id(b): v for b in row if _is_label(b.text) and not _FIELD.match(b.text) and id(b) not in used
                   and (v := _couple(b, boxes)) is not None and id(v) not in used
                   and (_couple(v, boxes) is None or not _is_label(v.text))}  # a label's value is no label
        section = _section(row, rows) if len(stacked) >= 2 and len(stacked) == len(row) else ""
        for k, b in enumerate(row):
            if id(b) in used:
                continue
            m = _FIELD.match(b.text)
            if m and "//" not in m.group("value")[:2] and _is_label(m.group("label")):
                out.append((m.group("label").strip(), m.group("value").strip()))
                used.add(id(b))
                continue
            colon = b.text.endswith(":") and _is_label(b.text)
            right = row[k + 1] if k + 1 < len(row) else None
            value = right if colon and right is not None and not right.text.endswith(":") else None
            label = b.text.rstrip(": ")
            if value is None and id(b) in stacked:
                value = stacked[id(b)]
                label = f"{section} {label}" if section else label
            if value is None and colon:
                value = _below(b, boxes)
            if value is not None and id(value) not in used and not value.text.endswith(":"):
                used |= {id(b), id(value)}
                out.append((label, value.text))
            elif colon:  # a field whose value is not readable (masked, empty)
                used.add(id(b))
                out.append((label, NO_VALUE))
    return list(dict.fromkeys(out)), used


def columns_of(rows: Sequence[Sequence[Box]], taken: frozenset[int] | set[int] = frozenset(),
               headers: bool = True) -> list[tuple[Box | None, list[Box]]]:
    """Columns of ≥ 3 left-aligned boxes of ≤ 8 words at a steady pitch (boxes of a label → value
    pair are not items), each with the box right above it (aligned, within two pitches) as its
    heading, or None."""
    boxes = [b for r in rows for b in r if id(b) not in taken and len(b.text.split()) <= 8]
    columns: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: (b.y0, b.x0)):
        fits = []
        for col in columns:
            last = col[-1]
            pitch = col[-1].y0 - col[-2].y0 if len(col) >= 2 else 3.0 * last.h
            if abs(b.x0 - last.x0) <= 0.35 * min(b.h, last.h) and 0 < b.y0 - last.y0 <= max(pitch * 1.35, 1.2 * last.h) \
                    and 0.75 <= b.h / last.h <= 1.33:
                fits.append(col)
        if fits:  # the column whose last box is nearest above (a heading's column does not skip its first item)
            max(fits, key=lambda col: col[-1].y0).append(b)
        else:
            columns.append([b])
    out: list[tuple[Box | None, list[Box]]] = []
    for col in columns:
        if len(col) < 3:
            continue
        header = _column_header(col) if headers else None  # siblings for the selected state keep theirs
        if header is not None:
            col = col[1:]
        first = header or col[0]
        pitch = median(col[i + 1].y0 - col[i].y0 for i in range(len(col) - 1)) if len(col) >= 2 else 2.0 * first.h
        above = [b for b in boxes if b.y1 <= first.y0 + 0.2 * first.h and first.y0 - b.y0 <= 2.2 * pitch
                 and b.x0 - 0.5 * first.h <= first.x0 and b.x1 > first.x0 and b not in col and b is not header]
        heading = max(above, key=lambda b: b.y0) if above else None
        if header is not None:  # "Inbox" over its table's "Created" column: both name the list
            heading = Box(f"{heading.text} {header.text}" if heading is not None else header.text,
                          *(((heading or header).x0, (heading or header).y0, header.x1, header.y1)))
        out.append((heading, col))
    return out


def _column_header(col: Sequence[Box]) -> Box | None:
    """The first box of a column is its header, not an item, when it is words and every box under
    it holds a number, a date or a time (a table's "Created" over its dates)."""
    first, rest = col[0], col[1:]
    if len(rest) < 2 or _DIGIT.search(first.text) or not _WORDS.search(first.text):
        return None
    return first if all(_DIGIT.search(b.text) for b in rest) else None


def lists_of(rows: Sequence[Sequence[Box]], taken: frozenset[int] | set[int] = frozenset()) -> list[tuple[str, tuple[str, ...]]]:
    out = []
    shown = {id(b) for r in rows for b in r}
    for heading, col in columns_of(rows, taken):
        named = heading is not None and (_is_label(heading.text) or id(heading) not in shown)  # or a header under its heading
        if named and ":" not in heading.text.rstrip(":"):
            out.append((heading.text.rstrip(": "), tuple(b.text for b in col)))
    item_rows = item_rows_of(rows)
    blocks = stacked_rows(item_rows)
    bar = menu_bar(rows, item_rows, blocks)
    whole = bool(bar) and len(bar) == len(item_rows[0])  # named once: its items twice would weigh twice in retrieval
    for row in item_rows:
        out.append((MENU, bar) if whole and row is item_rows[0] else (f"Row of {row[0].text}", tuple(b.text for b in row)))
    if bar and not whole:
        out.append((MENU, bar))
    for block in blocks:
        out.append((f"Rows of {block[0][0].text}", tuple(b.text for r in block for b in r)))
    return out


def title_of(rows: Sequence[Sequence[Box]]) -> str:
    """The tallest line in the top fifth of the capture, when it stands out (≥ 1.25x the median)."""
    boxes = [b for r in rows for b in r]
    if len(boxes) < 3:
        return ""
    top = min(b.y0 for b in boxes) + 0.2 * (max(b.y1 for b in boxes) - min(b.y0 for b in boxes))
    typical = median(b.h for b in boxes)
    high = [b for b in boxes if b.y0 <= top and b.h >= 1.25 * typical and _WORDS.search(b.text)]
    return max(high, key=lambda b: b.h).text if high else ""


def paragraphs_of(rows: Sequence[Sequence[Box]], listed: frozenset[int] | set[int] = frozenset()) -> list[str]:
    """Lines of one height stacked tightly (gap < 0.8 height), extents overlapping, none a field
    nor an item of a list, every line but the last of three words or more: one caption or one
    wrapped sentence."""
    lines = [r[0] for r in rows if len(r) == 1 and id(r[0]) not in listed]
    out: list[str] = []
    run: list[Box] = []

    def close() -> None:
        if len(run) >= 2:
            out.append(" ".join(b.text for b in run))

    for b in lines:
        last = run[-1] if run else None
        if last is not None and 0 <= b.y0 - last.y1 < 0.8 * last.h and 0.8 <= b.h / last.h <= 1.25 \
                and b.x0 < last.x1 and b.x1 > last.x0 and not _FIELD.match(b.text) and not _FIELD.match(last.text) \
                and len(last.text.split()) >= 3:
            run.append(b)
            continue
        close()
        run = [b]
    close()
    return out


def _empty_fields(rows: Sequence[Sequence[Box]], taken: set[int], image: Any) -> list[tuple[str, str]]:
    """"Name: ∅" for a label alone on its row (a few words, no digits, not a field already) over an
    input box with nothing in it (perception/layout_state.py reads the box's edges)."""
    from perception.layout_state import empty_field

    boxes = [b for r in rows for b in r]
    out = []
    for row in rows:
        b = row[0]
        if len(row) != 1 or id(b) in taken or _DIGIT.search(b.text) or len(b.text.split()) > 4 or not _is_label(b.text):
            continue
        if empty_field(image, b, boxes):
            out.append((b.text.rstrip(": "), NO_VALUE))
    return out


def read(lines: Sequence[Any], image: Any = None) -> Layout:
    """The layout of one capture's OCR lines; with the pixels (an RGB array), the selected and
    checked state too."""
    read_rows = rows_of(split_at_controls(boxes_of(lines)))
    rows = split_rows(read_rows, image)  # items merged by the OCR split at their gap
    boxes = [b for r in rows for b in r]
    pairs, taken = pairs_of(rows)
    pairs += [p for p in tables_of(rows) if p not in pairs]
    lists = lists_of(rows, taken)
    states: list[tuple[str, str]] = []
    if image is not None:
        from perception.layout_state import states_of

        groups = [col for _, col in columns_of(rows, taken, headers=False)] + [list(r) for r in rows if len(r) >= 2]
        states = states_of(boxes, groups, image)
        pairs += _empty_fields(rows, taken, image)
    listed = {id(b) for _, col in columns_of(rows, taken) for b in col}
    return Layout(tuple(tuple(r) for r in rows), tuple(pairs), tuple(lists), tuple(states),
                  title_of(read_rows), tuple(paragraphs_of(rows, listed)))  # a split makes no line taller
