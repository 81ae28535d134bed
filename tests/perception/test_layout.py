"""Layout-aware screen reading: geometry on crafted boxes (paraphrases and near-misses), and the
real OCR on real screenshots from ../shared/data/qa/screens-dev asserting what a person reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from perception import layout
from perception.records import OcrLine
from tests.conftest import DATA, need

SHOTS = DATA / "qa" / "screens-dev" / "shots"


def line(text: str, x: float, y: float, w: float, h: float = 20.0) -> OcrLine:
    return OcrLine(0.0, text, 0.99, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


# -- label → value ------------------------------------------------------------------------------


@pytest.mark.parametrize("lines, pair", [
    ([line("Entropy: 80.35 bit", 800, 100, 150)], ("Entropy", "80.35 bit")),  # one box
    ([line("Length:", 100, 200, 60), line("16", 700, 202, 30)], ("Length", "16")),  # far right, nothing between
    ([line("Submit format:", 100, 200, 110), line("FDF", 240, 200, 40)], ("Submit format", "FDF")),
    ([line("Username:", 100, 200, 90), line("john.doe@example.com", 100, 226, 200)], ("Username", "john.doe@example.com")),  # under
    ([line("Family", 100, 100, 60), line("Liberation Sans", 110, 126, 140),  # stacked above its field
      line("The same font will be used on both", 100, 170, 300)], ("Family", "Liberation Sans")),
])
def test_label_value_pairs(lines: list[OcrLine], pair: tuple[str, str]) -> None:
    assert pair in layout.read(lines).pairs


@pytest.mark.parametrize("lines", [
    [line("https://discordapp.com/", 100, 100, 200)],  # a URL is no field
    [line("3/13/2022 9:07 AM", 100, 100, 150)],  # a clock time is no field
    [line("Length:", 100, 200, 60), line("Advanced", 100, 300, 80)],  # five lines below: not its value
    [line("Name:", 100, 100, 50), line("Size:", 100, 126, 50)],  # a label under a label is no value
    [line("This is a sentence that goes on and on: and on", 100, 100, 400)],  # the "label" is too long
    [line("Database", 10, 10, 70), line("Entries", 100, 10, 60), line("Groups", 180, 10, 60)],  # a menu bar
    [line("Okular Advanced Features", 100, 100, 200), line("11", 600, 100, 20)],  # two boxes, no colon: a TOC line
    [line("Introduction", 100, 100, 100), line("Okular Basics", 100, 126, 100), line("Okular Menus", 100, 152, 100)],
])
def test_no_pair_where_none_is_shown(lines: list[OcrLine]) -> None:
    got = layout.read(lines).pairs
    assert not [p for p in got if p[0] in ("Length", "Name") and p[1] in ("Advanced", "Size:")]
    assert not [p for p in got if p[0].lower().startswith(("https", "3/13", "this is"))]
    assert not [p for p in got if p[0] in ("Database", "Okular Advanced Features", "Introduction", "Okular Basics")]


def test_stacked_fields_stay_apart() -> None:
    """A slide's fields one under another: each is its own pair, no run-on label swallows the
    next field's value."""
    lines = [line("Invoice number: 4471-B", 100, 100, 220), line("Due date: March 14", 100, 130, 180),
             line("Amount: $1,200", 100, 160, 140)]
    read = layout.read(lines)
    assert read.pairs == (("Invoice number", "4471-B"), ("Due date", "March 14"), ("Amount", "$1,200"))
    assert read.paragraphs == ()  # fields are not joined into a sentence
    assert "Invoice number: 4471-B" in read.lines()


# -- lists, rows, titles, captions ----------------------------------------------------------


def test_a_list_under_its_heading_is_counted() -> None:
    items = ["Introduction", "Okular Basics", "Okular Menus", "Configuring Okular", "Credits"]
    lines = [line("Contents", 100, 50, 90, 24)] + [line(t, 110, 90 + 28 * k, 150) for k, t in enumerate(items)]
    read = layout.read(lines)
    assert ("Contents", tuple(items)) in read.lists
    assert "Contents: 5 items" in read.lines()


def test_no_list_from_two_lines_or_scattered_boxes() -> None:
    lines = [line("Contents", 100, 50, 90), line("Introduction", 110, 80, 150), line("Credits", 110, 108, 150),
             line("Elsewhere", 600, 400, 90)]
    assert layout.read(lines).lists == ()


def test_a_row_of_menus_is_counted() -> None:
    names = ["File", "Edit", "View", "Go", "Tools", "Settings", "Help"]
    read = layout.read([line(n, 10 + 70 * k, 30, 50) for k, n in enumerate(names)])
    # a row of short items along the top edge is the menu bar (perception/layout_bar.py), counted
    assert ("Menu bar", tuple(names)) in read.lists


def test_a_caption_over_two_lines_is_one_sentence() -> None:
    lines = [line("we will ship the new release", 300, 600, 400, 30), line("before the end of March", 330, 634, 340, 30)]
    assert layout.read(lines).paragraphs == ("we will ship the new release before the end of March",)


def test_lines_far_apart_are_not_one_sentence() -> None:
    lines = [line("Chapter one", 300, 100, 200, 30), line("Price list", 300, 400, 200, 30)]
    assert layout.read(lines).paragraphs == ()


def test_the_title_is_the_tall_line_at_the_top() -> None:
    lines = [line("Application Settings", 20, 20, 240, 34)] + [line(f"Option {k}", 20, 80 + 30 * k, 100) for k in range(6)]
    assert layout.read(lines).title == "Application Settings"
    flat = [line(f"Option {k}", 20, 80 + 30 * k, 100) for k in range(6)]
    assert layout.read(flat).title == ""


# -- selected / checked from the pixels ---------------------------------------------------------


def test_the_highlighted_item_of_a_list_is_selected() -> None:
    image = np.full((400, 300, 3), 245, dtype=np.uint8)
    names = ["General", "Security", "Browser", "SSH Agent"]
    lines = [line(n, 40, 40 + 60 * k, 100) for k, n in enumerate(names)]
    image[95:165, 20:200] = (160, 190, 140)  # "Security" on a green band
    read = layout.read(lines, image)
    assert ("Security", "selected") in read.states
    assert [t for t, s in read.states if s == "selected"] == ["Security"]
    assert layout.read(lines, np.full((400, 300, 3), 245, dtype=np.uint8)).states == ()  # nothing stands out


def test_a_check_box_left_of_its_label() -> None:
    image = np.full((200, 400, 3), 250, dtype=np.uint8)
    lines = [line("Show scrollbars", 60, 40, 150), line("Obey DRM limitations", 60, 100, 180)]
    for y, checked in ((40, True), (100, False)):  # an outlined box 20 px high, 10 px left of the text
        image[y:y + 20, 30:50] = 90
        image[y + 2:y + 18, 32:48] = (60, 150, 220) if checked else 250
    read = layout.read(lines, image)
    assert ("Show scrollbars", "on") in read.states
    assert ("Obey DRM limitations", "off") in read.states


def test_a_letter_or_an_icon_is_no_check_box() -> None:
    image = np.full((100, 400, 3), 250, dtype=np.uint8)
    image[40:60, 30:50] = 40  # a filled icon: no outline with a centre, and no gap... still filled square
    image[40:60, 36:44] = 40
    image[44:56, 10:24] = 40  # a small blob far left, not a line high
    read = layout.read([line("Documents", 80, 40, 100)], image)
    assert ("Documents", "off") not in read.states


# -- real screenshots, real OCR -------------------------------------------------------------------


def _read(ocr, name: str) -> layout.Layout:  # type: ignore[no-untyped-def]
    from perception.screens import load_image

    image, why = load_image(need(SHOTS / name), 1920)
    assert image is not None, why
    boxes = ocr.read(image)
    return layout.read([OcrLine(0.0, b.text, b.score, b.box) for b in boxes], image)


def test_real_password_generator(ocr) -> None:  # type: ignore[no-untyped-def]
    read = _read(ocr, "keepassxc_password_generator.png")
    assert ("Length", "16") in read.pairs
    assert ("Entropy", "80.35 bit") in read.pairs
    states = dict(read.states)
    assert states.get("A-Z") == "on" and states.get("0-9") == "on"
    assert states.get("Extended ASCII") == "off"


def test_real_settings_dialog_check_boxes(ocr) -> None:  # type: ignore[no-untyped-def]
    read = _read(ocr, "okular_configure.png")
    assert ("Page Up/Down overlap", "20%") in read.pairs
    assert ("Default zoom", "Fit Width") in read.pairs
    states = dict(read.states)
    assert states.get("Obey DRM limitations") == "off"
    assert states.get("Open new files in tabs") == "on"


def test_real_dialog_unchecked_option(ocr) -> None:  # type: ignore[no-untyped-def]
    read = _read(ocr, "libreoffice_header_footer.png")
    states = dict(read.states)
    assert states.get("Slide number") == "off"
    assert states.get("Footer") == "on"
    assert ("Format", "12/19/19") in read.pairs


def test_real_form_rows(ocr) -> None:  # type: ignore[no-untyped-def]
    read = _read(ocr, "keepassxc_autotype_settings.png")
    assert ("Global Auto-Type shortcut", "Alt+Shift+R") in read.pairs
    assert ("Auto-Type typing delay", "25 ms") in read.pairs
    assert ("Menu bar", ("Database", "Entries", "Groups", "Tools", "View", "Help")) in read.lists
    assert not [h for h, _ in read.lists if h == "Row of Database"]  # the same row is not listed twice


def test_layout_lines_are_stored_with_the_capture(ocr, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Through the screen-folder path: the structured lines ride on the keyframe and become the
    capture's first blocks, citing the same image."""
    import shutil

    from memory.episodic import screen_snippets
    from perception.screens import list_captures, screen_clips

    shutil.copy(need(SHOTS / "okular_configure.png"), tmp_path / "okular_configure.png")
    shutil.copy(SHOTS / "okular_configure.json", tmp_path / "okular_configure.json")
    captures, skipped = list_captures(tmp_path)
    clip = next(screen_clips(captures, "s", 30.0, ocr, 1920, skipped))
    assert "Page Up/Down overlap: 20%" in clip.keyframes[0].layout
    snippets = screen_snippets(clip)
    assert "Page Up/Down overlap: 20%" in snippets[0].text
    assert {s.image for s in snippets} == {str(tmp_path / "okular_configure.png")}


# -- tables ---------------------------------------------------------------------------------------


def test_a_table_row_names_its_values() -> None:
    heads = [line("Title", 100, 10, 50), line("Username", 260, 10, 80), line("Modified", 520, 10, 80)]
    rows = [("Apple", "john.doe@icloud.com", "3/13/2022 9:07 AM"), ("Dropbox", "john.doe@example.com", "7/3/2020 10:47 AM"),
            ("Netflix", "john.doe@example.com", "3/13/2022 1:03 PM")]
    lines = heads + [line(t, x, 40 + 30 * k, 150) for k, row in enumerate(rows) for t, x in zip(row, (100, 260, 520))]
    pairs = layout.read(lines).pairs
    assert ("Apple Modified", "3/13/2022 9:07 AM") in pairs
    assert ("Netflix Modified", "3/13/2022 1:03 PM") in pairs
    assert not [p for p in pairs if p[0].endswith("Username")]  # only numbers, dates and times are rendered


def test_a_cell_read_across_two_columns_is_cut_at_the_header() -> None:
    heads = [line("Title", 100, 10, 50), line("URL", 300, 10, 40), line("Modified", 520, 10, 80)]
    cells = [line("Apple", 100, 40, 60), line("https://www.icloud.com 3/13/2022 9:07 AM", 300, 40, 360),
             line("Dropbox", 100, 70, 70), line("http://www.dropbox.com 7/3/2020 10:47 AM", 300, 70, 360)]
    assert ("Apple Modified", "3/13/2022 9:07 AM") in layout.read(heads + cells).pairs


def test_no_table_without_rows_under_the_header() -> None:
    heads = [line("File", 10, 10, 40), line("Edit", 80, 10, 40), line("View", 150, 10, 40)]
    assert layout.read(heads + [line("Welcome to the app 2024", 10, 200, 300)]).pairs == ()


def test_a_label_without_a_readable_value() -> None:
    """A masked password (the OCR reads no dots) or an empty field: the label is shown, no value."""
    lines = [line("Username:", 100, 100, 90), line("john.doe@example.com", 220, 100, 200),
             line("Password:", 100, 140, 90), line("URL:", 100, 180, 40), line("https://netflix.com", 220, 180, 180)]
    pairs = layout.read(lines).pairs
    assert ("Password", layout.NO_VALUE) in pairs
    assert ("Username", "john.doe@example.com") in pairs and ("URL", "https://netflix.com") in pairs
    assert ("Password", "URL:") not in pairs  # the next label is no value


# -- a column's header, an empty input field --------------------------------------------------------


@pytest.mark.parametrize("header, cells", [
    ("Created", ["Aug 9, 2023", "Mar 25, 2023", "Oct 2, 2022", "Sep 11, 2022", "Jun 30, 2018"]),  # dates
    ("Last modified", ["3/13/2022 9:01 AM", "7/3/2020 12:10 PM", "5/29/2020 2:25 PM"]),  # date and time
    ("Size", ["190 B", "224 B", "179 B", "96 B"]),  # sizes
    ("Due", ["14:00", "15:30", "09:15"]),  # clock times
])
def test_a_column_header_names_the_list_and_is_no_item(header: str, cells: list[str]) -> None:
    """A table's column under its heading ("Inbox" over "Created" over five dates): the header is
    part of the list's name, never counted among its items."""
    lines = [line("Inbox", 100, 16, 60, 34), line(header, 100, 60, 90)] + [line(c, 100, 90 + 28 * k, 120) for k, c in enumerate(cells)]
    read = layout.read(lines)
    assert (f"Inbox {header}", tuple(cells)) in read.lists
    assert f"Inbox {header}: {len(cells)} items" in read.lines()
    alone = layout.read(lines[1:])  # no heading over the header: the header alone names it
    assert (header, tuple(cells)) in alone.lists


@pytest.mark.parametrize("items", [
    ["Introduction", "Okular Basics", "Okular Menus", "Credits"],  # words under words: all items
    ["Version 2", "Version 3", "Version 4", "Version 5"],  # every item holds a digit, the first too
    ["Today", "3/13/2022", "Yesterday", "7/3/2020"],  # words and dates mixed: no header
])
def test_no_header_taken_from_a_plain_list(items: list[str]) -> None:
    lines = [line("Contents", 100, 20, 90, 24)] + [line(t, 110, 60 + 28 * k, 150) for k, t in enumerate(items)]
    assert ("Contents", tuple(items)) in layout.read(lines).lists


def _form(h: int = 30) -> np.ndarray:
    """A white form: "Name" over an empty input box, "Color" over a box holding text."""
    image = np.full((400, 800, 3), 255, dtype=np.uint8)
    for top in (60, 200):  # the boxes' edges: grey lines, 1 px, with sides
        image[top, 40:760] = 205
        image[top + 2 * h, 40:760] = 205
        image[top:top + 2 * h, 40] = 205
        image[top:top + 2 * h, 759] = 205
    image[215:235, 60:150] = 40  # ink of the Color field's text
    return image


def test_an_empty_input_field_under_its_label() -> None:
    image = _form()
    lines = [line("Name", 40, 20, 70, 30), line("Color", 40, 160, 70, 30), line("#e79fb0", 60, 212, 110, 26)]
    pairs = layout.read(lines, image).pairs
    assert ("Name", layout.NO_VALUE) in pairs
    assert ("Color", layout.NO_VALUE) not in pairs  # its box holds text (an OCR box inside)


def test_no_empty_field_without_a_box_under_the_label() -> None:
    image = np.full((400, 800, 3), 255, dtype=np.uint8)
    image[60, 40:760] = 205  # one divider line: no field
    lines = [line("Name", 40, 20, 70, 30), line("Details", 40, 160, 90, 30)]
    assert ("Name", layout.NO_VALUE) not in layout.read(lines, image).pairs
    image = _form()
    image[75:100, 60:200] = 40  # something drawn in the box (a picture, text the OCR missed)
    assert ("Name", layout.NO_VALUE) not in layout.read([line("Name", 40, 20, 70, 30)], image).pairs
    text = [line("Paperless will only process mails that match", 40, 20, 600, 30)]  # a sentence is no label
    assert not [p for p in layout.read(text, _form()).pairs if p[1] == layout.NO_VALUE]


def test_real_empty_tag_name_and_history_versions(ocr) -> None:  # type: ignore[no-untyped-def]
    tag = _read(ocr, "paperless_new_tag.png")
    assert ("Name", layout.NO_VALUE) in tag.pairs
    assert ("Color", layout.NO_VALUE) not in tag.pairs
    history = _read(ocr, "keepassxc_entry_history.png")
    versions = [items for head, items in history.lists if head.endswith("Last modified")]
    assert versions and len(versions[0]) == 6  # the six saved versions, not the column's header
    rule = _read(ocr, "paperless_mail_rule.png")
    assert ("Name", "Gmail Rule") in rule.pairs and ("Name", layout.NO_VALUE) not in rule.pairs


def test_tabs_wrapped_over_two_rows_are_one_row_of_items() -> None:
    top = ["Text", "Text Animation", "Dimensioning", "Connector", "Alignment", "Tabs"]
    low = ["Organizer", "Line", "Area", "Shadowing", "Font", "Font Effects", "Indents & Spacing"]
    lines = [line(t, 30 + 130 * k, 14, 90, 26) for k, t in enumerate(top[:-1])] + [line("Tabs", 770, 14, 70, 26)]
    lines += [line(t, 26 + 115 * k, 50, 80, 26) for k, t in enumerate(low[:-1])] + [line(low[-1], 720, 50, 120, 26)]
    read = layout.read(lines)
    assert ("Rows of Text", tuple(top + low)) in read.lists
    assert ("Row of Text", tuple(top)) in read.lists  # each row still counts on its own


def test_a_table_or_a_menu_over_a_toolbar_is_no_wrapped_row() -> None:
    cells = [line(t, 100 + 200 * k, 40 + 30 * r, 120) for r in range(3) for k, t in enumerate(("Apple", "Web", "9:07"))]
    assert not [h for h, _ in layout.read(cells).lists if h.startswith("Rows of")]  # cells in columns
    menu = [line(t, 10 + 60 * k, 10, 45) for k, t in enumerate(("File", "Edit", "View", "Go", "Help"))]
    tools = [line(t, 15 + 110 * k, 36, 90) for k, t in enumerate(("Zoom In", "Zoom Out", "Fit Width", "Browse", "Select", "Rotate"))]
    assert not [h for h, _ in layout.read(menu + tools).lists if h.startswith("Rows of")]  # another width


# -- stacked couples: a note under the field, a value after a swatch ------------------------------


@pytest.mark.parametrize("label, value, note", [
    ("Action", "Delete", "Action is only performed when documents are consumed"),  # the mail rule
    ("Folder", "INBOX", "Subfolders must be separated by a delimiter"),
    ("Scope", "Only process attachments", "See the docs for .eml processing"),
])
def test_a_note_under_the_field_closes_the_couple(label: str, value: str, note: str) -> None:
    """Label, its value inset in a field, then a note in small print back at the label's left
    edge, a little farther below than the value is from the label: the value is the label's."""
    lines = [line(label, 100, 100, 80, 27), line(value, 120, 146, 90, 31), line(note, 103, 202, 500, 25)]
    assert (label, value) in layout.read(lines).pairs


@pytest.mark.parametrize("lines", [
    # the next box nearer to the value than the value is to the label: a menu's items, not a field
    [line("Perform Auto-Type", 100, 100, 180, 31), line("Edit Entry...", 121, 160, 120, 34),
     line("Clone Entry...", 100, 202, 160, 32)],
    # the "value" is an icon the OCR read as a glyph
    [line("Performance", 100, 100, 110, 21), line("日", 129, 131, 20, 20), line("Presentation", 101, 162, 110, 17)],
    # the next box is not back at the label's edge: an indented list under a heading
    [line("Security", 100, 100, 80, 27), line("Lock after", 120, 146, 90, 27), line("Clear clipboard", 120, 192, 120, 27)],
])
def test_no_couple_from_a_menu_a_glyph_or_a_list(lines: list[OcrLine]) -> None:
    pairs = layout.read(lines).pairs
    assert not [p for p in pairs if p[0] in ("Perform Auto-Type", "Performance", "Security")]


@pytest.mark.parametrize("inset", [2.0, 2.7])
def test_a_value_after_a_swatch_is_the_label_s(inset: float) -> None:
    """"Color" over a swatch and its code: the value starts a few heights right of the label."""
    h = 37
    lines = [line("Color", 48, 339, 76, h), line("#e79fb0", 48 + inset * h, 401, 115, 31),
             line("Inbox tag", 89, 492, 124, 34)]
    assert ("Color", "#e79fb0") in layout.read(lines).pairs


def test_no_couple_with_a_box_far_to_the_right() -> None:
    h = 37
    lines = [line("Color", 48, 339, 76, h), line("#e79fb0", 48 + 4 * h, 401, 115, 31)]
    assert ("Color", "#e79fb0") not in layout.read(lines).pairs


# -- selected: a highlight band no taller than the box ----------------------------------------------


def _panel(rows: list[str], band: int | None, band_right: int = 160) -> tuple[list[OcrLine], np.ndarray]:
    """A side panel of items 26 px high at a 23 px pitch; the item ``band`` on a blue band that
    fills exactly its box and runs on to ``band_right``."""
    image = np.full((300, 400, 3), 240, dtype=np.uint8)
    lines = [line(t, 13, 99 + 23 * k, 60, 23) for k, t in enumerate(rows)]
    if band is not None:
        y = 99 + 23 * band
        image[y:y + 23, 11:band_right] = (61, 174, 233)
    for ln in lines:  # some ink: the text
        (x0, y0), (x1, y1) = ln.box[0], ln.box[2]
        image[int(y0) + 8:int(y1) - 8, int(x0) + 4:int(x1) - 4:6] = 30
    return lines, image


@pytest.mark.parametrize("rows, band", [
    (["Home", "Network", "Root", "Trash"], 0),
    (["Today", "Yesterday", "This Month", "Last Month"], 2),
    (["Documents", "Images", "Audio Files", "Videos", "Downloads"], 4),
])
def test_a_band_as_tall_as_the_box_marks_the_item_selected(rows: list[str], band: int) -> None:
    lines, image = _panel(rows, band)
    assert [t for t, s in layout.read(lines, image).states if s == "selected"] == [rows[band]]


def test_a_chip_or_a_glyph_is_not_selected() -> None:
    rows = ["Inbox", "Tag 2", "Test Tag", "Another Tag"]
    lines, image = _panel(rows, 1, band_right=13 + 60)  # the colour ends with the text: a tag's chip
    assert not [t for t, s in layout.read(lines, image).states if s == "selected"]
    lines, image = _panel(rows, None)
    icon = line("品", 40, 30, 20, 20)
    image[30:50, 40:60] = (188, 190, 202)  # an icon on its own grey square, read as a glyph
    row = [icon, line("Find", 80, 30, 40, 20), line("Preview", 140, 30, 60, 20), line("Split", 220, 30, 40, 20)]
    assert not [t for t, s in layout.read(row + lines, image).states if s == "selected"]


def test_a_smaller_heading_over_a_taller_first_item_heads_the_whole_list() -> None:
    """"Places" (small print) over "Home" (its box taller: the highlight) and three items: one
    list of four under its heading; no item skipped into the heading's column."""
    lines = [line("Places", 7, 76, 44, 18), line("Home", 13, 99, 59, 26), line("Network", 10, 122, 78, 23),
             line("Root", 10, 145, 55, 23), line("Trash", 11, 168, 57, 24)]
    assert ("Places", ("Home", "Network", "Root", "Trash")) in layout.read(lines).lists


def test_real_highlighted_place_mail_rule_action_and_tag_colour(ocr) -> None:  # type: ignore[no-untyped-def]
    places = _read(ocr, "dolphin_icons_view.png")
    assert [t for t, s in places.states if s == "selected"] == ["Home"]
    assert ("Places", ("Home", "Network", "Root", "Trash")) in places.lists
    settings = _read(ocr, "keepassxc_autotype_settings.png")
    assert "京" not in [t for t, s in settings.states if s == "selected"]
    rule = _read(ocr, "paperless_mail_rule.png")
    assert ("Action", "Delete") in rule.pairs and ("Folder", "INBOX") in rule.pairs
    tag = _read(ocr, "paperless_new_tag.png")
    assert ("Color", "#e79fb0") in tag.pairs


# -- a box the OCR read across two options, cut at the control between them -----------------------


@pytest.mark.parametrize("text, parts", [
    ("PDF/A-2b○ PDF/A-1b", ["PDF/A-2b", "PDF/A-1b"]),
    ("Portrait ● Landscape", ["Portrait", "Landscape"]),
    ("Yes ☐ No", ["Yes", "No"]),
])
def test_a_box_is_cut_at_a_control_inside_it(text: str, parts: list[str]) -> None:
    (box,) = layout.boxes_of([line(text, 100, 40, 10 * len(text))])
    cut = layout.split_at_controls([box])
    assert [b.text for b in cut] == parts
    assert cut[0].x0 == box.x0 and cut[1].x0 > cut[0].x1  # the second starts after the control


@pytest.mark.parametrize("text", ["○ Lossless compression", "Rating: ★★★☆☆", "Search...", "A ○", "Q&A ■"])
def test_no_cut_at_a_leading_or_trailing_mark_or_without_one(text: str) -> None:
    (box,) = layout.boxes_of([line(text, 100, 40, 10 * len(text))])
    assert [b.text for b in layout.split_at_controls([box])] == [box.text]


def test_radio_buttons_side_by_side_on_a_row() -> None:
    """Two radio buttons on one row, the first filled: the filled one is on, the other off — a
    row of marks that holds an empty one is a row of controls."""
    image = np.full((100, 600, 3), 245, dtype=np.uint8)
    for x, filled in ((60, True), (300, False)):  # round-ish outlined marks, a line high
        image[40:60, x:x + 20] = 90
        image[42:58, x + 2:x + 18] = (60, 150, 220) if filled else 245
    lines = [line("PDF/A-2b", 90, 40, 96, 20), line("PDF/A-1b", 330, 40, 96, 20)]
    states = dict(layout.read(lines, image).states)
    assert states.get("PDF/A-2b") == "on" and states.get("PDF/A-1b") == "off"
    image[42:58, 302:318] = (60, 150, 220)  # both filled: a row of icons, no state
    assert layout.read(lines, image).states == ()


def test_real_pdf_a_version_read_across_one_box(ocr) -> None:  # type: ignore[no-untyped-def]
    states = dict(_read(ocr, "libreoffice_pdf_options.png").states)
    assert states.get("PDF/A-2b") == "on" and states.get("PDF/A-1b") == "off"
    assert states.get("Lossless compression") == "on"
