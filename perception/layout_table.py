"""Tables in a capture (perception/layout.py's helper): a header row of short labels over rows of
cells aligned under them (the table ends at a row of one cell, or a gap of three lines). Each
row is named by its cell in the table's name column — of the columns whose cells all have
letters and are all different, the one with the fewest digits (an entry's title, a document's
name, not its date) —
and each of its cells that holds a number, a date or a time is rendered as a pair of its own,
``"<row name> <header>: <cell>"`` ("Apple Modified: 3/13/2022 9:07 AM"), so a question about one
row's value finds the value beside a label that names both.

A cell the OCR read across two columns ("https://www.icloud.com... 3/13/2022 9:07 AM") is cut
where the next header starts, at the nearest space, in proportion to its width.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from statistics import median
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perception.layout import Box

MAX_LINES = 60  # a long table renders its first rows: a capture's memory stays a few blocks
_LETTERS = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")


def _header(row: Sequence[Box]) -> bool:
    return len(row) >= 3 and all(_LETTERS.search(b.text) and len(b.text.split()) <= 5 and not _DIGIT.search(b.text)
                                 for b in row)


def _cut(cell: Box, at: float) -> tuple[str, str]:
    """The cell's text cut at x = ``at`` (by the share of its width), at the nearest space."""
    share = (at - cell.x0) / max(cell.x1 - cell.x0, 1.0)
    k = int(round(share * len(cell.text)))
    spaces = [i for i, c in enumerate(cell.text) if c == " "]
    if not spaces:
        return cell.text, ""
    k = min(spaces, key=lambda i: abs(i - k))
    return cell.text[:k].strip(), cell.text[k:].strip()


def _cells(row: Sequence[Box], heads: Sequence[Box]) -> dict[int, str]:
    """A data row's cells by column (the last header starting left of the cell)."""
    h = median(b.h for b in heads)
    out: dict[int, str] = {}
    for b in row:
        cols = [i for i, x in enumerate(heads) if x.x0 <= b.x0 + 0.6 * h]
        if not cols:
            continue
        i = cols[-1]
        text = b.text
        if i + 1 < len(heads) and b.x1 > heads[i + 1].x0 + h:  # read across the next column
            text, rest = _cut(b, heads[i + 1].x0)
            if rest:
                out.setdefault(i + 1, rest)
        if text:
            out.setdefault(i, text)
    return out


def tables_of(rows: Sequence[Sequence[Box]]) -> list[tuple[str, str]]:
    """(label, value) pairs of the capture's tables, ``label`` = row name + column header."""
    out: list[tuple[str, str]] = []
    k = 0
    while k < len(rows):
        heads = list(rows[k])
        if not _header(heads):
            k += 1
            continue
        h = median(b.h for b in heads)
        body: list[dict[int, str]] = []
        last = max(b.y1 for b in heads)
        j = k + 1
        while j < len(rows) and min(b.y0 for b in rows[j]) - last <= 3.0 * h:
            cells = _cells(rows[j], heads)
            if len(cells) < 2:
                break
            body.append(cells)
            last = max(b.y1 for b in rows[j])
            j += 1
        if len(body) < 2:
            k += 1
            continue
        names = [i for i in range(len(heads))
                 if all(_LETTERS.search(r.get(i, "")) for r in body) and len({r[i] for r in body}) == len(body)]
        if not names:
            k += 1  # not a table (a filter bar over a list): the next row may head one
            continue
        # the name column: of those, the one with the fewest cells holding digits (a title, not a date)
        col = min(names, key=lambda i: (sum(bool(_DIGIT.search(r[i])) for r in body), i))
        for r in body:
            for i, text in sorted(r.items()):
                if i != col and _DIGIT.search(text):
                    out.append((f"{r[col]} {heads[i].text}", text))
        k = j
    return out[:MAX_LINES]
