"""Selected and checked state from the pixels around OCR boxes (perception/layout.py's helper).

- **highlight**: each box's background is the median colour of thin strips above and below it
  (unknown when they differ: the box is on the edge of a band). Among siblings (a column of
  items, a row of tabs or buttons), a minority whose background stands apart from the rest, which agree among themselves, is *selected* (a highlighted tab, the
  current folder in a side panel). When the strips show no such minority, the same is asked of
  the colour inside each box (the median of its pixels: the text is the minority), for a
  highlight band no taller than the OCR box itself (Dolphin's Places "Home"). When the siblings
  split into coloured and grey backgrounds with no such minority, the coloured ones are *on* and
  the grey ones *off* (toggle buttons). A box of one character that is no letter or digit of the
  Latin script is an icon the OCR read as a glyph ("京", "品"): never an item.
- **control glyph**: a small square mark just left of a box (a check box, a radio button). Its
  centre filled with ink or colour → *on*, an outline with an empty centre → *off*. Read only
  from a mark outlined on all four sides, about a line high and square, set apart from the text
  by a gap (a letter "O" starting a word is not), in a column of marks that holds an empty one
  (a column of filled marks is a column of icons).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from perception.layout import is_glyph

if TYPE_CHECKING:
    from perception.layout import Box

APART = 40.0  # RGB distance at which two backgrounds differ
SAME = 22.0  # ... and within which they agree
INK = 60.0  # a pixel this far from the background is ink


def _clip(image: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    h, w = image.shape[:2]
    a, b = max(int(x0), 0), min(int(x1), w)
    c, d = max(int(y0), 0), min(int(y1), h)
    if a >= b or c >= d:
        return np.zeros((0, 3), dtype=np.float32)
    return image[c:d, a:b, :3].reshape(-1, 3).astype(np.float32)


def background(image: np.ndarray, b: Box) -> np.ndarray | None:
    """The colour just above and just below the box (median of thin strips), or None when the
    two differ: the box sits on the edge of a band, not on one background."""
    pad = max(2.0, 0.2 * b.h)
    top = _clip(image, b.x0, b.y0 - pad, b.x1, b.y0 - 1)
    bottom = _clip(image, b.x0, b.y1 + 1, b.x1, b.y1 + pad)
    if len(top) < 4 or len(bottom) < 4:
        return None
    above, below = np.median(top, axis=0), np.median(bottom, axis=0)
    if np.linalg.norm(above - below) > SAME:
        return None
    return (above + below) / 2


def _saturation(c: np.ndarray) -> float:
    hi, lo = float(c.max()), float(c.min())
    return (hi - lo) / hi if hi > 0 else 0.0


def fill(image: np.ndarray, b: Box) -> np.ndarray | None:
    """The colour inside the box: the median of its pixels (the text's ink is the minority)."""
    px = _clip(image, b.x0, b.y0, b.x1, b.y1)
    return np.median(px, axis=0) if len(px) >= 4 else None


def _minority(known: Sequence[tuple[Box, np.ndarray]]) -> list[Box]:
    """Among ≥ 3 siblings, the few (≤ a third) whose colour stands apart while all the rest agree."""
    if len(known) < 3:
        return []
    centre = np.median(np.stack([c for _, c in known]), axis=0)
    odd = [b for b, c in known if np.linalg.norm(c - centre) > APART]
    near = sum(np.linalg.norm(c - centre) <= SAME for _, c in known)
    return odd if odd and len(odd) <= max(1, len(known) // 3) and near == len(known) - len(odd) else []


def _banded(group: Sequence[Box], image: np.ndarray) -> list[Box]:
    """The one sibling whose inside stands apart (a highlight band no taller than its box), when
    its inside differs from the strips around it, the band runs on to the right of its text (a
    tag's chip ends with its text) and every other sibling is plain text on the background of
    its strips."""
    inside = [(b, fill(image, b), background(image, b)) for b in group]
    known = [(b, f) for b, f, _ in inside if f is not None]
    odd = _minority(known)
    if len(odd) != 1:
        return []
    plain = all(bg is None or np.linalg.norm(f - bg) <= SAME for b, f, bg in inside if b is not odd[0] and f is not None)
    b, f, bg = next(x for x in inside if x[0] is odd[0])
    # a highlight band runs on past the text (a row of a list); a tag's chip ends at its text
    past = _clip(image, b.x1 + 0.5 * b.h, b.cy - 0.2 * b.h, b.x1 + 2.0 * b.h, b.cy + 0.2 * b.h)
    runs_on = len(past) >= 4 and np.linalg.norm(np.median(past, axis=0) - f) <= SAME
    return odd if plain and runs_on and bg is not None and np.linalg.norm(f - bg) > APART else []


def _highlight(group: Sequence[Box], image: np.ndarray) -> list[tuple[str, str]]:
    group = [b for b in group if not is_glyph(b.text)]
    bgs = [background(image, b) for b in group]
    known = [(b, c) for b, c in zip(group, bgs) if c is not None]
    odd = _minority(known) or _banded(group, image)
    if odd:
        return [(b.text, "selected") for b in odd]
    if len(known) < 2:
        return []
    coloured = [_saturation(c) >= 0.35 and float(c.max()) >= 60 for _, c in known]
    buttons = len(known) >= 3 and all(len(b.text.split()) <= 3 for b, _ in known)
    if buttons and any(coloured) and not all(coloured):
        # buttons: the grey ones filled (not the page's white), the coloured ones of one colour
        greys = [c for (_, c), col in zip(known, coloured) if not col]
        fills = [c for (_, c), col in zip(known, coloured) if col]
        if all(_saturation(c) < 0.15 and float(c.max()) < 240 for c in greys) \
                and all(np.linalg.norm(c - fills[0]) <= SAME for c in fills):
            return [(b.text, "on" if col else "off") for (b, _), col in zip(known, coloured)]
    return []


def _glyph(image: np.ndarray, b: Box) -> tuple[str, float] | None:
    """"on" / "off" for a check box or radio button at the left of the box (outside it, or read
    into it by the OCR as a stray letter), or None. The glyph is the leftmost run of ink columns
    that is about a line high, about square, outlined on all four sides and followed by a clear gap."""
    h = b.h
    bg = background(image, b)
    if bg is None:
        return None
    H, W = image.shape[:2]
    a, c = max(int(b.x0 - 2.2 * h), 0), max(int(b.cy - 0.8 * h), 0)
    region = image[c:min(int(b.cy + 0.8 * h) + 1, H), a:min(int(b.x0 + 1.8 * h), W), :3].astype(np.float32)
    if region.shape[0] < 6 or region.shape[1] < 6:
        return None
    ink = np.linalg.norm(region - bg, axis=2) > INK
    cols = ink.any(axis=0)
    runs: list[tuple[int, int]] = []
    start = None
    for x, on in enumerate([*cols, False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            runs.append((start, x))
            start = None
    for k, (x0, x1) in enumerate(runs):
        gap = (runs[k + 1][0] - x1) if k + 1 < len(runs) else region.shape[1] - x1
        ys = np.nonzero(ink[:, x0:x1].any(axis=1))[0]
        gw, gh = x1 - x0, ys.max() - ys.min() + 1
        if not (0.6 * h <= gw <= 1.5 * h and 0.75 * h <= gh <= 1.5 * h and 0.75 <= gw / gh <= 1.33 and gap >= 0.25 * h):
            continue
        glyph = ink[ys.min(): ys.max() + 1, x0:x1]
        band = max(1, int(round(0.15 * min(gw, gh))))
        sides = (glyph[:band].any(axis=0).mean(), glyph[-band:].any(axis=0).mean(),
                 glyph[:, :band].any(axis=1).mean(), glyph[:, -band:].any(axis=1).mean())
        if min(sides) < 0.45:
            continue  # not outlined: a letter or an icon
        inner = glyph[int(0.3 * gh): gh - int(0.3 * gh), int(0.3 * gw): gw - int(0.3 * gw)]
        if inner.size == 0:
            return None
        return ("on" if inner.mean() >= 0.2 else "off"), a + x0
    return None


def states_of(boxes: Sequence[Box], groups: Sequence[Sequence[Box]], image: np.ndarray) -> list[tuple[str, str]]:
    """(text, "selected" | "on" | "off") for the boxes whose state the pixels show."""
    out: list[tuple[str, str]] = []
    for group in groups:
        out.extend(_highlight(group, image))
    # controls come in columns (or side by side on a row: radio buttons inline), and a column or
    # row of them holds an empty one: a column of marks that are all filled is a column of icons
    marks = [(b, g) for b in boxes if not is_glyph(b.text) and (g := _glyph(image, b)) is not None]
    for b, (state, x) in marks:
        column = [s for c, (s, y) in marks if abs(y - x) <= 0.5 * b.h]
        row = [s for c, (s, _) in marks if c is not b and abs(c.cy - b.cy) <= 0.5 * b.h]
        if "off" in column or "off" in row:
            text = b.text
            head, _, rest = text.partition(" ")
            if x >= b.x0 - 0.3 * b.h and len(head) == 1 and rest:
                text = rest  # the OCR read the glyph itself as a letter ("O Lossless compression")
            out.append((text.rstrip(": "), state))
    return list(dict.fromkeys(out))


def _rules(ink: np.ndarray, share: float = 0.8) -> list[tuple[int, int]]:
    """Runs of rows (start, end) where most of the width is ink: the horizontal edges of a box."""
    full = ink.mean(axis=1) >= share
    runs: list[tuple[int, int]] = []
    start = None
    for y, on in enumerate([*full, False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            runs.append((start, y))
            start = None
    return runs


def empty_field(image: np.ndarray, label: Box, boxes: Sequence[Box]) -> bool:
    """An input field right under ``label`` with nothing in it: two long horizontal edges (its
    top and bottom), at least a line apart, the first within a line of the label, nothing but
    background between them, and no OCR box inside (a filled field has its text read)."""
    h = label.h
    bg = background(image, label)
    if bg is None:
        return False
    H, W = image.shape[:2]
    x0, x1 = max(int(label.x0 - 0.5 * h), 0), min(int(label.x0 + 12 * h), W)
    y0, y1 = int(label.y1 + 1), min(int(label.y1 + 4.5 * h), H)
    if x1 - x0 < 6 * h or y1 - y0 < 2 * h:
        return False
    region = image[y0:y1, x0:x1, :3].astype(np.float32)
    ink = np.linalg.norm(region - bg, axis=2) > 0.5 * INK
    rules = _rules(ink)
    if len(rules) < 2 or rules[0][0] > 1.0 * h:
        return False
    top, bottom = rules[0][1], rules[1][0]
    if bottom - top < 1.0 * h:
        return False
    inside = ink[top + 2: bottom - 2, int(0.5 * h): -int(0.5 * h) or None]
    if inside.size == 0 or inside.mean() > 0.02:
        return False
    fy0, fy1 = y0 + top, y0 + bottom
    return not any(b is not label and b.y1 > fy0 and b.y0 < fy1 and b.x1 > x0 and b.x0 < x1 for b in boxes)
