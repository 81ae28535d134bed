"""Rows of items (perception/layout.py's helper): boxes the OCR merged across a blank gap are split
at it, and the menu bar is named.

- **merged items**: in a row of ≥ 3 boxes (a menu bar, a toolbar, a table's row), a box whose
  pixels hold a blank run of columns at least 0.8 of its height wide — a word space is a third
  of it or less — is two items the OCR read as one line ("ToolsSettings", "ViewHelp",
  "GmailImages", "Netflix - Clone  Ref: john.doe@…"). The text is cut at the break between
  words nearest to where the gap lies in the box (a space, a lower-case letter before a capital,
  a digit beside a letter); with no such break near it the box is kept whole (an icon's blank
  inside a one-word box is no gap between items).
- **menu bar**: the top row of items of a window — the first row of ≥ 3 short boxes (one or two
  words, no digits) in the top fifth of the capture, no other row of items above it, starting at
  the capture's left edge, not stacked with another row into a block of tabs — up to the first gap wider than four line heights (the buttons at the
  far right of a ribbon's tab row, a clock on a desktop's top bar are no menus).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from statistics import median
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from perception.layout import Box

INK = 60.0  # RGB distance from the box's own colour (its median pixel) at which a pixel is ink
GAP = 0.8  # a blank run this many box heights wide parts two items
MENU = "Menu bar"  # the reader's own name for a window's top row of items
_LATIN = re.compile(r"[A-Za-z]")


def _blank_runs(image: np.ndarray, b: Box) -> list[tuple[int, int]]:
    """The runs of ink-free columns inside the box's inked extent, as (first x, end x)."""
    h, w = image.shape[:2]
    x0, x1 = max(int(b.x0), 0), min(int(np.ceil(b.x1)), w)
    y0, y1 = max(int(b.y0), 0), min(int(np.ceil(b.y1)), h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return []
    px = image[y0:y1, x0:x1, :3].astype(np.float32)
    colour = np.median(px.reshape(-1, 3), axis=0)
    ink = (np.linalg.norm(px - colour, axis=2) > INK).any(axis=0)
    cols = np.flatnonzero(ink)
    if len(cols) < 2:
        return []
    runs, start = [], None
    for x in range(int(cols[0]), int(cols[-1]) + 1):
        if not ink[x] and start is None:
            start = x
        elif ink[x] and start is not None:
            runs.append((x0 + start, x0 + x))
            start = None
    return runs


def _kind(ch: str) -> int:
    return 0 if ch.isalpha() else 1 if ch.isdigit() else 2


def _breaks(text: str) -> list[tuple[int, int]]:
    """Where the text may part into two items, as (end of the left part, start of the right):
    at spaces, a lower-case letter before a capital, a letter, digit or sign beside another kind
    ("w3sch..6/13/2020": the gap lies at one of them, the nearest is taken)."""
    out = []
    for k in range(1, len(text)):
        a, c = text[k - 1], text[k]
        if c == " " and a != " ":
            j = k
            while j < len(text) and text[j] == " ":
                j += 1
            if j < len(text):
                out.append((k, j))
        elif a != " " and c != " " and ((a.islower() and c.isupper()) or _kind(a) != _kind(c)):
            out.append((k, k))
    return out


def split_box(b: Box, image: np.ndarray) -> list[Box]:
    """``b`` cut at each blank gap ≥ ``GAP`` heights wide that falls near a break between words."""
    from perception.layout import Box

    runs = [r for r in _blank_runs(image, b) if r[1] - r[0] >= GAP * b.h]
    breaks = _breaks(b.text)
    if not runs or not breaks:
        return [b]
    span = max(b.x1 - b.x0, 1.0)
    cuts: list[tuple[int, int, float, float]] = []
    for left, right in runs:
        at = len(b.text) * ((left + right) / 2 - b.x0) / span  # the character the gap's middle falls on
        k, j = min(breaks, key=lambda br: abs((br[0] + br[1]) / 2 - at))
        if abs((k + j) / 2 - at) <= max(2.0, 0.1 * len(b.text)) and all(k != c[0] for c in cuts):
            cuts.append((k, j, float(left), float(right)))
    out, start, x = [], 0, b.x0
    for k, j, left, right in sorted(cuts):
        part = b.text[start:k].strip()
        if part:
            out.append(Box(part, x, b.y0, left, b.y1))
        start, x = j, right
    part = b.text[start:].strip()
    if part:
        out.append(Box(part, x, b.y0, b.x1, b.y1))
    return out if len(out) >= 2 else [b]


def split_rows(rows: Sequence[Sequence[Box]], image: Any) -> list[list[Box]]:
    """The rows with each merged box of a row of ≥ 3 boxes split into its items."""
    if image is None:
        return [list(r) for r in rows]
    return [[p for b in r for p in split_box(b, image)] if len(r) >= 3 else list(r) for r in rows]


def item_rows_of(rows: Sequence[Sequence[Box]]) -> list[list[Box]]:
    """Rows of ≥ 3 short boxes (≤ 3 words each): a menu bar, a tab row, a row of buttons."""
    return [list(r) for r in rows if len(r) >= 3 and all(len(b.text.split()) <= 3 and _LATIN.search(b.text) for b in r)]


def stacked_rows(item_rows: Sequence[Sequence[Box]]) -> list[list[Sequence[Box]]]:
    """Rows of items stacked into one block (a dialog's tabs wrapped over two lines): each right
    under the last (gap under a line height), of one height, spanning the same width (left and
    right ends within a line height or so) — a menu bar over a toolbar spans another width — and
    not lined up in columns (a table's rows are)."""
    blocks: list[list[Sequence[Box]]] = []
    run: list[Sequence[Box]] = []
    for row in [*item_rows, []]:
        last = run[-1] if run else None
        if row and last is not None:
            h = median(b.h for b in last)
            gap = min(b.y0 for b in row) - max(b.y1 for b in last)
            # a table's rows line their cells up in columns: wrapped tabs do not
            aligned = sum(any(abs(b.x0 - a.x0) <= 0.5 * h for a in last) for b in row[1:])
            if 0 <= gap < h and 0.8 <= median(b.h for b in row) / h <= 1.25 and aligned <= 0.5 * (len(row) - 1) \
                    and abs(row[0].x0 - last[0].x0) <= h and abs(row[-1].x1 - last[-1].x1) <= 1.5 * h:
                run.append(row)
                continue
        if len(run) >= 2:
            blocks.append(run)
        run = [row] if row else []
    return blocks


def menu_bar(rows: Sequence[Sequence[Box]], item_rows: Sequence[Sequence[Box]],
             stacked: Sequence[Sequence[Sequence[Box]]] = ()) -> tuple[str, ...]:
    """The items of the capture's menu bar (see the module's doc), or (). A row stacked with
    others into one block (a dialog's tabs wrapped over two lines) is no menu bar."""
    boxes = [b for r in rows for b in r]
    if not boxes or not item_rows:
        return ()
    top, bottom = min(b.y0 for b in boxes), max(b.y1 for b in boxes)
    row = item_rows[0]  # rows run top to bottom: no row of items above it
    if any(row[0] is r[0] for block in stacked for r in block):
        return ()
    h = float(np.median([b.h for b in row]))
    if min(b.y0 for b in row) > top + 0.2 * (bottom - top) or row[0].x0 > min(b.x0 for b in boxes) + 3 * h:
        return ()
    run = [row[0]]
    for b in row[1:]:
        if b.x0 - run[-1].x1 > 4 * h:
            break
        run.append(b)
    if len(run) < 3 or any(len(b.text.split()) > 2 or any(ch.isdigit() for ch in b.text) for b in run):
        return ()
    return tuple(b.text for b in run)
