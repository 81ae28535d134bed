"""Words OCR ran together (perception/words.py) and a video frame's structured lines
(perception/video_text.py): splits on paraphrase-like runs, near-misses that must stay whole
(codes, brand and product names, long ordinary words), and a real album cover read by the real OCR."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from perception.video_text import keyframe_lines
from perception.words import split_runs, split_word
from tests.conftest import DATA, need


@pytest.mark.parametrize("text, split", [
    ("FLOWTHEORY", "FLOW THEORY"),
    ("SUBSCRIBENOW!", "SUBSCRIBE NOW!"),
    ("Live at NEWYORKTIMES square", "Live at NEW YORK TIMES square"),
    ("welcomeback", "welcome back"),
    ("(DEEPPURPLE)", "(DEEP PURPLE)"),
])
def test_a_long_run_of_words_is_split(text: str, split: str) -> None:
    assert split_runs(text) == split


@pytest.mark.parametrize("word", [
    "AB12CD", "X7R2", "H264X265",  # codes: digits
    "KeePassXC", "iPhone", "PostgreSQL", "LibreOffice", "YouTube",  # capitals inside: a name as written
    "INFORMATION", "understanding", "Notifications",  # one long word
    "Creativi",  # an OCR scrap of a word: cut only into scraps of one or two letters
    "BIMBLU",  # short: a word, a name or a code as it stands
])
def test_codes_names_and_words_stay_whole(word: str) -> None:
    assert split_word(word) is None
    assert split_runs(f"see {word} here") is None


def test_the_split_form_keeps_the_rest_of_the_line() -> None:
    assert split_runs("Order AB12CD from THEBESTSHOP today") == "Order AB12CD from THE BEST SHOP today"
    assert split_runs("01:00:00:20") is None


def _frame(path: Path, t: float) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(t / stream.time_base), stream=stream)
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t} s")


def test_an_album_cover_in_a_video_is_read_as_words_not_as_an_app_screen(ocr) -> None:  # type: ignore[no-untyped-def]
    """The dev set's song plays over its album cover: the band's name is printed without a
    space the OCR can see, and the cover's words stand in rows like a menu bar."""
    from perception.records import OcrLine

    video = need(DATA / "qa" / "video-dev" / "composite.mp4")
    image = _frame(video, 70.0)
    lines = tuple(OcrLine(70.0, b.text, b.score, b.box) for b in ocr.read(image))
    read = [x.text for x in lines]
    assert "FLOWTHEORY" in read, read
    structured = keyframe_lines(lines)
    assert "FLOW THEORY" in structured
    assert not any(x.startswith("Row of") or " lists " in x or x.endswith(" items") for x in structured), structured
