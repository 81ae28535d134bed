"""What the screen recorder does to a grabbed picture before it is stored: change detection
(a grey thumbnail compared tile by tile) and redaction (secret text boxes blacked out, OCR's
misread digits restored)."""

from __future__ import annotations

import re
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

ImageArray = npt.NDArray[np.uint8]
THUMB = (160, 100)  # grey thumbnail (width, height) for change detection
TILE = 10  # pixels of the thumbnail per tile side


def thumbnail(image: ImageArray) -> npt.NDArray[np.float32]:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)


def _changed_tiles(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], threshold: float) -> npt.NDArray[np.bool_]:
    h, w = b.shape
    diff = np.abs(a - b)[: h - h % TILE, : w - w % TILE]
    return diff.reshape(h // TILE, TILE, w // TILE, TILE).mean(axis=(1, 3)) >= threshold


def changed(a: npt.NDArray[np.float32] | None, b: npt.NDArray[np.float32], threshold: float) -> bool:
    """Any tile of the thumbnail changed (a few characters typed count; noise does not)."""
    return a is None or bool(_changed_tiles(a, b, threshold).any())


def changed_band(a: npt.NDArray[np.float32] | None, b: npt.NDArray[np.float32], threshold: float,
                 most: float = 0.6) -> tuple[float, float] | None:
    """The horizontal band (top, bottom as fractions of the height) holding every changed tile,
    one tile of margin each side; None when most of the screen changed (read it all)."""
    if a is None:
        return None
    rows = np.flatnonzero(_changed_tiles(a, b, threshold).any(axis=1))
    if rows.size == 0:
        return None
    n = b.shape[0] // TILE
    top, bottom = max(0, int(rows[0]) - 1) / n, min(n, int(rows[-1]) + 2) / n
    return None if bottom - top > most else (top, bottom)


def centre_y(box: Any) -> float:
    return sum(p[1] for p in box) / max(1, len(box))


_CONFUSED = str.maketrans({"l": "1", "I": "1", "|": "1", "O": "0", "o": "0"})
_DIGITISH = re.compile(r"(?<![A-Za-z])[0-9lI|Oo]{3,}(?![A-Za-z])")
_DIGIT_RUN = re.compile(r"(?<!\d)\d+(?: \d+){1,5}(?!\d)")


def ocr_digits(text: str) -> str:
    """Digits OCR misread as letters, restored inside number-like tokens ("111l" → "1111")."""
    def fix(m: re.Match[str]) -> str:
        token = m.group(0)
        return token.translate(_CONFUSED) if sum(c.isdigit() for c in token) * 2 >= len(token) else token

    fixed = _DIGITISH.sub(fix, text)
    # "4111 1111 1111 1111" read as "41111111 1111 1111": a card-length run of digit groups, joined
    return _DIGIT_RUN.sub(lambda m: m.group(0).replace(" ", "") if 13 <= sum(c.isdigit() for c in m.group(0)) <= 19
                          else m.group(0), fixed)


def black_out(image: ImageArray, box: Any) -> None:
    """Fill a text box (four corners) in black, with a small margin."""
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    x0, x1 = max(0, int(min(xs)) - 3), min(image.shape[1], int(max(xs)) + 3)
    y0, y1 = max(0, int(min(ys)) - 3), min(image.shape[0], int(max(ys)) + 3)
    image[y0:y1, x0:x1] = 0
