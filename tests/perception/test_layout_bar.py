"""Rows of items (perception/layout_bar.py): boxes the OCR merged across a blank gap are split at
it, and a window's top row of items is its menu bar. Crafted pixels for the geometry (paraphrases
and near-misses), real OCR on real screenshots — the dev set's and the other real screenshots in
../shared/data/screens/omniparser, which no question asks about."""

from __future__ import annotations

import numpy as np
import pytest

from perception import layout
from perception.layout_bar import MENU, split_box
from perception.records import OcrLine
from tests.conftest import DATA, need

SHOTS = DATA / "qa" / "screens-dev" / "shots"
OTHER = DATA / "screens" / "omniparser"
H = 20.0


def line(text: str, x: float, y: float, w: float, h: float = H) -> OcrLine:
    return OcrLine(0.0, text, 0.99, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def inked(image: np.ndarray, spans: list[tuple[int, int]], y: int = 100, h: int = int(H)) -> None:
    """Dark 'letters' two pixels wide with one-pixel spaces, over each (x0, x1) span: a word."""
    for x0, x1 in spans:
        for x in range(x0, x1, 3):
            image[y + 4:y + h - 4, x:x + 2] = 20


def blank() -> np.ndarray:
    return np.full((400, 800, 3), 240, dtype=np.uint8)


def box(text: str, x0: float, x1: float) -> layout.Box:
    return layout.Box(text, x0, 100.0, x1, 100.0 + H)


@pytest.mark.parametrize("text, words, parts", [
    ("ToolsSettings", [(300, 335), (355, 410)], ["Tools", "Settings"]),  # a capital after a lower-case letter
    ("ViewHelp", [(300, 330), (350, 380)], ["View", "Help"]),  # another row's paraphrase
    ("Tools  View", [(300, 335), (360, 390)], ["Tools", "View"]),  # a space the OCR kept
    ("112412321TestCorrespondent1", [(300, 370), (390, 500)], ["112412321", "TestCorrespondent1"]),  # a table's cells
    ("Zoom In Quick Annotations", [(300, 330), (336, 350), (375, 420), (426, 500)], ["Zoom In", "Quick Annotations"]),
])
def test_a_box_merged_across_a_gap_is_split(text: str, words: list[tuple[int, int]], parts: list[str]) -> None:
    image = blank()
    inked(image, words)
    b = box(text, words[0][0] - 2, words[-1][1] + 2)
    got = split_box(b, image)
    assert [p.text for p in got] == parts
    assert all(p.x1 <= q.x0 for p, q in zip(got, got[1:]))  # each part has its own extent


@pytest.mark.parametrize("text, words", [
    ("Show Sidebar", [(300, 335), (341, 400)]),  # a word space: a third of a height
    ("HowSearchworks", [(300, 325), (331, 380), (386, 420)]),  # the OCR lost the spaces, not the words
    ("Expiration Never", [(300, 380), (390, 430)]),  # half a height: a label and its value stay as read
    ("Tools", [(300, 335), (370, 380)]),  # an icon's blank inside one word: no break between words there
])
def test_no_split_without_a_gap_between_items(text: str, words: list[tuple[int, int]]) -> None:
    image = blank()
    inked(image, words)
    b = box(text, words[0][0] - 2, words[-1][1] + 2)
    assert split_box(b, image) == [b]


def test_split_only_in_a_row_of_items() -> None:
    """A line alone on its row (a sentence, a title) is never cut, however wide its blanks."""
    image = blank()
    inked(image, [(100, 216), (236, 314)])
    alone = layout.read([line("Introduction Overview", 98, 100, 218)], image)
    assert alone.rows[0][0].text == "Introduction Overview"
    inked(image, [(20, 60), (340, 380), (420, 470)])
    row = layout.read([line("File", 18, 100, 44), line("Introduction Overview", 98, 100, 218), line("Help", 338, 100, 44),
                       line("Window", 418, 100, 54)], image)
    assert [b.text for b in row.rows[0]] == ["File", "Introduction", "Overview", "Help", "Window"]


# -- the menu bar ---------------------------------------------------------------------------------


def _menu(lines: list[OcrLine]) -> tuple[str, ...]:
    return dict(layout.read(lines).lists).get(MENU, ())


def test_the_top_row_of_items_is_the_menu_bar() -> None:
    body = [line(f"Paragraph line {k} of the page", 40, 200 + 30 * k, 400) for k in range(8)]
    title = [line("Report.odt - Writer", 300, 10, 160)]
    menus = ["File", "Edit", "View", "Insert", "Format", "Help"]
    bar = [line(t, 12 + 70 * k, 40, 50) for k, t in enumerate(menus)]
    assert _menu(title + bar + body) == tuple(menus)
    # a ribbon's tab row, its buttons far to the right: the menus end at the wide gap
    far = [line("Comments", 900, 40, 80), line("Share", 1000, 40, 50)]
    assert _menu(title + bar + far + body) == tuple(menus)
    # paraphrase: a desktop's top bar, no window title above
    assert _menu(bar + body) == tuple(menus)


@pytest.mark.parametrize("case", ["low", "digits", "inset", "two", "tabs"])
def test_no_menu_bar_from_other_rows(case: str) -> None:
    body = [line(f"Paragraph line {k} of the page", 40, 200 + 30 * k, 400) for k in range(8)]
    items = ["General", "Advanced", "Autotype", "Browser"]
    if case == "low":  # a dialog's tab row under the page's text is no menu bar
        lines = body + [line(t, 40 + 90 * k, 480, 80) for k, t in enumerate(items)]
    elif case == "digits":  # a table's header of dates
        lines = [line(t, 12 + 90 * k, 40, 80) for k, t in enumerate(["Jan 2021", "Feb 2021", "Mar 2021"])] + body
    elif case == "inset":  # a toolbar in the middle of the top
        lines = [line(t, 300 + 90 * k, 40, 80) for k, t in enumerate(items)] + body
    elif case == "two":
        lines = [line(t, 12 + 90 * k, 40, 80) for k, t in enumerate(items[:2])] + body
    else:  # tabs wrapped over two lines (a dialog's): stacked rows of one width
        lines = [line(t, 12 + 100 * k, 40, 90) for k, t in enumerate(items)] + \
                [line(t, 12 + 130 * k, 62, 110) for k, t in enumerate(["Font", "Font Effects", "Position"])] + \
                [line("Tabs", 312, 62, 90)] + body
    assert _menu(lines) == ()


# -- real screenshots, real OCR -------------------------------------------------------------------


def _read(ocr, path) -> layout.Layout:  # type: ignore[no-untyped-def]
    from perception.screens import load_image

    image, why = load_image(need(path), 1920)
    assert image is not None, why
    return layout.read([OcrLine(0.0, b.text, b.score, b.box) for b in ocr.read(image)], image)


def test_real_menu_bars(ocr) -> None:  # type: ignore[no-untyped-def]
    okular = dict(_read(ocr, SHOTS / "okular_handbook.png").lists)  # the OCR read "ToolsSettings"
    assert okular[MENU] == ("File", "Edit", "View", "Go", "Bookmarks", "Tools", "Settings", "Help")
    keepass = dict(_read(ocr, SHOTS / "keepassxc_password_generator.png").lists)  # "Tools   View"
    assert keepass[MENU] == ("Database", "Entries", "Groups", "Tools", "View", "Help")
    word = dict(_read(ocr, OTHER / "word.png").lists)  # "ViewHelp"; "Comments", "Editing", "Share" far right
    assert word[MENU] == ("File", "Home", "Insert", "Draw", "Design", "Layout", "References", "Mailings", "Review",
                          "View", "Help")


def test_real_rows_without_a_menu_bar(ocr) -> None:  # type: ignore[no-untyped-def]
    dialog = _read(ocr, SHOTS / "libreoffice_font_tab.png")  # tabs over two lines
    assert MENU not in dict(dialog.lists)
    assert "Rows of Text: 15 items" in dialog.lines()
    google = _read(ocr, OTHER / "google_page.png")  # links: "GmailImages" split, "HowSearchworks" kept
    assert MENU not in dict(google.lists)
    items = {b.text for r in google.rows for b in r}
    assert {"Gmail", "Images"} <= items and "HowSearchworks" in items


def test_real_table_row_merged_across_cells(ocr) -> None:  # type: ignore[no-untyped-def]
    """KeePassXC's last entry row: the title and the username cell read as one box; split, the
    title column counts its eight rows."""
    read = _read(ocr, SHOTS / "keepassxc_database_view.png")
    assert "Title: 8 items" in read.lines()
    titles = dict(read.lists)["Title"]
    assert titles[-1] == "Netflix - Clone"
