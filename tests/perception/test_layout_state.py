"""Check boxes and radio buttons read from the pixels (perception/layout_state.py): a group of
radio buttons stacked a line apart, where each mark's region reaches its neighbours' edges —
synthetic marks and the real KeePassXC "Setup TOTP" dialog (real OCR) — and the near-misses:
filled squares in a table column are icons, not controls, even on a row with an empty mark."""

from __future__ import annotations

import numpy as np
import pytest

from perception import layout
from perception.records import OcrLine
from tests.conftest import DATA, need

SHOTS = DATA / "qa" / "screens-dev" / "shots"


def line(text: str, x: float, y: float, w: float, h: float = 20.0) -> OcrLine:
    return OcrLine(0.0, text, 0.99, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def _ring(image: np.ndarray, x: int, y: int, filled: bool) -> None:
    """A round radio button of 20 px: an outline, a dot inside when chosen."""
    yy, xx = np.mgrid[0:20, 0:20]
    r = np.hypot(yy - 9.5, xx - 9.5)
    patch = image[y:y + 20, x:x + 20]
    patch[(r >= 8) & (r <= 10)] = 90
    if filled:
        patch[r <= 4.5] = 60


@pytest.mark.parametrize("chosen", [0, 1, 2])
def test_stacked_radio_buttons_a_line_apart(chosen: int) -> None:
    """Three radio buttons 26 px apart (6 px between the marks): the region read for each mark
    holds the edges of the marks above and below; the mark is its own unbroken run of rows."""
    image = np.full((160, 500, 3), 255, dtype=np.uint8)
    names = ["Default settings", "Steam settings", "Custom settings"]
    for k in range(3):
        _ring(image, 40, 40 + 26 * k, filled=k == chosen)
    lines = [line(name, 76, 40 + 26 * k, 150) for k, name in enumerate(names)]
    states = dict(layout.read(lines, image).states)
    assert states == {name: "on" if k == chosen else "off" for k, name in enumerate(names)}


def test_a_column_of_filled_squares_is_no_control_on_a_row_with_an_empty_mark() -> None:
    # near-miss: a table's column of filled squares (icons) beside its cells; one row also holds
    # an empty radio button far to the left (a dialog over the table): the squares stay icons
    image = np.full((200, 900, 3), 255, dtype=np.uint8)
    lines = []
    for k in range(4):
        y = 30 + 40 * k
        image[y:y + 20, 600:620] = (40, 150, 40)
        lines.append(line(f"https://site{k}.example", 640, y, 200))
    _ring(image, 40, 70, filled=False)
    _ring(image, 40, 110, filled=True)
    lines += [line("Steam settings", 76, 70, 150), line("Default settings", 76, 110, 150)]
    states = dict(layout.read(lines, image).states)
    assert states == {"Steam settings": "off", "Default settings": "on"}


def test_real_totp_dialog_radio_group(ocr) -> None:  # type: ignore[no-untyped-def]
    from perception.screens import load_image

    image, why = load_image(need(SHOTS / "keepassxc_totp_setup.png"), 1920)
    assert image is not None, why
    read = layout.read([OcrLine(0.0, b.text, b.score, b.box) for b in ocr.read(image)], image)
    states = dict(read.states)
    assert states.get("Default settings (RFC 6238)") == "on"
    assert states.get("Steam @ settings") == "off" and states.get("Custom settings") == "off"
    # the entry table's filled squares (its lock column) check no cell (the highlighted row's
    # URL is "selected", read from its band, not from a mark)
    assert not any(text.startswith("http") and state in ("on", "off") for text, state in read.states)
