"""Which sampled frames deserve OCR: cheap change detection on a downscaled grayscale grid.

A frame is read when (a) the whole picture changed (a cut, a new slide), (b) a tile that held
text changed (text edited, scrolled), or (c) something changed and the last read is older than
``max_staleness`` seconds (new text appearing in a busy, moving picture). A still screen, or a
talking head with no text, costs almost nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from models.base import ImageArray

GRID = 8
THUMB = 64
Signature = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ChangeOptions:
    tile_threshold: float = 10.0  # mean absolute grey difference (0-255) for a tile to count
    cut_threshold: float = 30.0  # mean over the whole picture for a cut
    max_staleness: float = 10.0  # seconds


def signature(image: ImageArray) -> Signature:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)


_SIGNATURES: dict[int, tuple[weakref.ref, Signature]] = {}  # type: ignore[type-arg]


def frame_signature(image: ImageArray) -> Signature:
    """:func:`signature` of a decoded video frame, computed once while the frame lives: the
    keyframe stage (``perception.clip_signals``) and the face stage (``perception.faces``) both
    look at every sampled frame (an area resize: 0.6 CPU-ms at 360p, 2.8 at 720p). Only for
    frames nothing writes into (a clip's decoded frames); a buffer refilled in place (a screen
    capture) takes :func:`signature`. The result is shared: read it, never change it."""
    key = id(image)
    hit = _SIGNATURES.get(key)
    if hit is not None and hit[0]() is image:
        return hit[1]
    sig = signature(image)

    def forget(ref: weakref.ref) -> None:  # type: ignore[type-arg]
        entry = _SIGNATURES.get(key)
        if entry is not None and entry[0] is ref:
            del _SIGNATURES[key]

    _SIGNATURES[key] = (weakref.ref(image, forget), sig)
    return sig


def tile_diff(a: Signature, b: Signature) -> npt.NDArray[np.float32]:
    cell = THUMB // GRID
    diff = np.abs(a - b).reshape(GRID, cell, GRID, cell)
    return diff.mean(axis=(1, 3))


def text_mask(boxes: Sequence[Sequence[tuple[float, float]]], width: int, height: int) -> npt.NDArray[np.bool_]:
    mask = np.zeros((GRID, GRID), dtype=bool)
    for box in boxes:
        xs = [p[0] for p in box]
        ys = [p[1] for p in box]
        x0, x1 = int(min(xs) * GRID / width), int(max(xs) * GRID / width)
        y0, y1 = int(min(ys) * GRID / height), int(max(ys) * GRID / height)
        mask[max(0, y0) : min(GRID, y1 + 1), max(0, x0) : min(GRID, x1 + 1)] = True
    return mask


class ChangeDetector:
    """Stateful across the frames of one source, in time order."""

    def __init__(self, options: ChangeOptions) -> None:
        self.options = options
        self._last: Signature | None = None
        self._last_t = -1e9
        self._mask = np.zeros((GRID, GRID), dtype=bool)

    def should_read(self, t: float, sig: Signature) -> bool:
        if self._last is None:
            return True
        diff = tile_diff(sig, self._last)
        if float(diff.mean()) >= self.options.cut_threshold:
            return True
        changed = diff >= self.options.tile_threshold
        if bool((changed & self._mask).any()):
            return True
        return bool(changed.any()) and t - self._last_t >= self.options.max_staleness

    def changed_since_read(self, sig: Signature) -> bool:
        """Whether any pixel of the thumbnail changed by a tile's threshold since the last read:
        small text changing (a timecode's digits) moves a few pixels, not a whole tile's mean."""
        if self._last is None:
            return True
        return bool(float(np.abs(sig - self._last).max()) >= self.options.tile_threshold)

    def mark_read(self, t: float, sig: Signature, mask: npt.NDArray[np.bool_]) -> None:
        self._last, self._last_t, self._mask = sig, t, mask


def changed_fraction(a: Signature, b: Signature, options: ChangeOptions) -> float:
    """Share of tiles that changed between two signatures (a cut changes them all)."""
    diff = tile_diff(a, b)
    if float(diff.mean()) >= options.cut_threshold:
        return 1.0
    return float((diff >= options.tile_threshold).mean())
