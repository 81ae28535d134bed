"""The structured lines of a video keyframe's text (perception/map.py): what layout-aware reading
(perception/layout.py) is for in a video — a slide's title and its "Label: value" fields, the
lines of a burned-in caption as one sentence — and, beside each OCR line that ran words
together, the line with them split (perception/words.py: "FLOWTHEORY" → "FLOW THEORY").

Lists, rows of items (a menu bar, a tab row) and selected / checked state are an app's screen,
read from screenshots (perception/screens.py). In a video frame the same geometry is artwork —
the words of an album cover in three rows became "Row of Reali: 3 items" — so it is left out
here; the frame's raw lines are stored as read all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from perception import layout
from perception.words import split_runs

VIDEO_TEXT_VERSION = 1  # in the keyframes fingerprint: a change here re-reads video frames


def keyframe_lines(lines: Sequence[Any]) -> tuple[str, ...]:
    """A video frame's structured lines from its (redacted) OCR lines."""
    read = replace(layout.read(lines), lists=(), states=()).lines()
    split = [s for s in (split_runs(line.text) for line in lines) if s]
    return tuple(dict.fromkeys([*read, *split]))
