"""Facts from transcript sentences and screen text: claims, value matching, reconciliation."""

from __future__ import annotations

import itertools
import random

import pytest

from memory.facts import (
    SINGLE_VALUED,
    Claim,
    Fact,
    Mention,
    canonical_value,
    current_facts,
    extract_claims,
    mentions_from,
    reconcile,
    same_value,
    split_sentences,
)


def triples(text: str, speaker: str | None = None) -> list[tuple[str, str, str]]:
    return [(c.subject, c.relation, c.value) for c in extract_claims(text, speaker)]


# --- extraction: positives ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The review is on Monday.", ("review", "when", "Monday")),
        ("the review moved to Thursday", ("review", "when", "Thursday")),
        ("The review has been moved to Thursday at 3 pm.", ("review", "when", "Thursday at 3 pm")),
        ("The review was rescheduled to next week", ("review", "when", "next week")),
        ("the review is now on friday", ("review", "when", "friday")),
        ("The review is postponed until March 14", ("review", "when", "March 14")),
        ("the meeting was moved from Monday to Thursday", ("meeting", "when", "Thursday")),
        ("The review's on Monday", ("review", "when", "Monday")),
        ("the review has been pushed back to thursday at three thirty pm", ("review", "when", "thursday at 3:30 pm")),
        ("the review is at noon tomorrow", ("review", "when", "noon tomorrow")),
        ("the deadline is the 3rd", ("deadline", "when", "3rd")),
        ("the deadline is 14 March", ("deadline", "when", "14 March")),
        ("the review is at 15:30", ("review", "when", "15:30")),
        ("the meeting is in two weeks", ("meeting", "when", "in 2 weeks")),
        ("the invoice is due on March 14th", ("invoice", "when", "March 14th")),
        ("the launch is scheduled for next Tuesday", ("launch", "when", "next Tuesday")),
        ("the kickoff starts at 10 am", ("kickoff start", "when", "10 am")),
        ("The deadline was moved to the end of the month", ("deadline", "when", "the end of the month")),
        ("The review was moved to Thursday at 3 p.m.", ("review", "when", "Thursday at 3 pm")),
        ("the review is at 3 pm in room 4", ("review", "when", "3 pm")),
        ("the review is on monday thanks everyone", ("review", "when", "monday")),
        ("Invoice 4471 total is 1250 dollars", ("invoice 4471 total", "amount", "1250 dollars")),
        ("Invoice #4471 total is $1,250", ("invoice 4471 total", "amount", "$1,250")),
        ("Invoice forty four seventy one total is twelve hundred fifty dollars", ("invoice 4471 total", "amount", "1250 dollars")),
        ("The budget for the second quarter is 120000 dollars", ("budget for the second quarter", "amount", "120000 dollars")),
        ("the budget is four thousand four hundred seventy one dollars", ("budget", "amount", "4471 dollars")),
        ("the total is twenty dollars", ("total", "amount", "20 dollars")),
        ("the price went up to 12 dollars", ("price", "amount", "12 dollars")),
        ("the price is up to 12 dollars", ("price", "amount", "12 dollars")),
        ("the review is moved up to monday", ("review", "when", "monday")),
        ("the quarterly budget went from 100000 dollars to 120000 dollars", ("quarterly budget", "amount", "120000 dollars")),
        ("the license costs $1,200 per year", ("license", "amount", "$1,200")),
        ("the conversion rate is 3.5%", ("conversion rate", "amount", "3.5%")),
        ("the budget is 1.5 million dollars", ("budget", "amount", "1.5 million dollars")),
        ("Our office is in Rotterdam", ("office", "where", "Rotterdam")),
        ("our office is in rotterdam", ("office", "where", "rotterdam")),
        ("the office moved to Rotterdam", ("office", "where", "Rotterdam")),
        ("The meeting is on the third floor", ("meeting", "where", "3rd floor")),
        ("the review is in room 4", ("review", "where", "room 4")),
        ("the review moved to the big conference room", ("review", "where", "big conference room")),
        ("Dana is at home", ("dana", "where", "home")),
        ("Dana leads the warehouse move", ("dana", "leads", "warehouse move")),
        ("Dana manages the Rotterdam office", ("dana", "manages", "Rotterdam office")),
        ("Dana works at Acme Corp", ("dana", "works at", "Acme Corp")),
        ("Dana lives in Berlin", ("dana", "lives in", "Berlin")),
        ("Lena reports to Dana", ("lena", "reports to", "Dana")),
        ("Dana is the project lead", ("dana", "is", "project lead")),
        ("Dana is on leave", ("dana", "is on", "leave")),
        ("The report is in progress", ("report", "is in", "progress")),
        ("So, the review is on Monday.", ("review", "when", "Monday")),
        ("Sorry, the review is on monday after all.", ("review", "when", "monday")),
        ("As discussed, our office is in Rotterdam", ("office", "where", "Rotterdam")),
        ("I think the review is on Monday", ("review", "when", "Monday")),
        ("Reminder: the standup is at 9 am", ("standup", "when", "9 am")),
        ("[Outlook - Calendar] The review is on Monday", ("review", "when", "Monday")),
        ("OUR OFFICE IS IN ROTTERDAM", ("office", "where", "ROTTERDAM")),
        ("the budget is, um, 120000 dollars", ("budget", "amount", "120000 dollars")),
        ("the test runs are on monday", ("test runs", "when", "monday")),
        ("The kickoff is the day after tomorrow", ("kickoff", "when", "the day after tomorrow")),
        ("The Q2 budget is $120,000.", ("q2 budget", "amount", "$120,000")),
    ],
)
def test_claims_from_real_looking_sentences(text: str, expected: tuple[str, str, str]) -> None:
    assert triples(text) == [expected]
    assert extract_claims(text)[0].text == split_sentences(text)[0]


def test_a_batch_parse_gives_the_same_claims_as_one_text_at_a_time() -> None:
    """The reduce stage parses all of a source's texts in one batch first (claims.parse_ahead):
    the claims read from those parses are the ones a parse per text gives."""
    from memory import nlp
    from memory.claims import parse_ahead

    texts = ["The review was moved to Thursday at 3 p.m. The budget is 120000 dollars! Is it on Monday?",
             "[Outlook - Inbox] Reminder: the standup is at 9 am | Last modified: 5/29/2020",
             "My name is Ana Lima and the access code for the lab is four two seven one.",
             "Hi, I'm Tom.\nThe store opens at 9:00.", "thanks a lot, that was great", "Is the review on Monday?"]
    one = [extract_claims(t, "S1") for t in texts]
    nlp.clear_parses()
    parse_ahead(texts)
    assert "The store opens at 9:00." in nlp._parsed  # an OCR line, parsed ahead into parse's cache
    assert [extract_claims(t, "S1") for t in texts] == one
    assert sum(map(len, one)) >= 5


def test_each_sentence_and_clause_gives_its_own_claim() -> None:
    text = "The review was moved to Thursday at 3 p.m. The budget is 120000 dollars! Is it on Monday?"
    assert triples(text) == [("review", "when", "Thursday at 3 pm"), ("budget", "amount", "120000 dollars")]
    assert [c.text for c in extract_claims(text)] == ["The review was moved to Thursday at 3 p.m.", "The budget is 120000 dollars!"]
    assert triples("The review is on Monday and the budget is 120000 dollars") == [
        ("review", "when", "Monday"),
        ("budget", "amount", "120000 dollars"),
    ]
    # an "and" inside the subject does not split the clause
    assert triples("Dana and Bob are in Rotterdam") == [("dana and bob", "where", "Rotterdam")]
    # OCR lines joined by " | " are separate sentences
    assert triples("Receivables | Our office is in Rotterdam | Invoice #4471") == [("office", "where", "Rotterdam")]
    assert triples("The review is on Monday. The review is on Monday.") == [("review", "when", "Monday")]


def test_moved_and_is_on_give_the_same_subject_and_relation() -> None:
    a = extract_claims("The review is on Monday.")[0]
    b = extract_claims("the review has been moved to Thursday")[0]
    c = extract_claims("The review was postponed until next Friday")[0]
    assert (a.subject, a.relation) == (b.subject, b.relation) == (c.subject, c.relation) == ("review", "when")


def test_an_event_verb_names_the_event() -> None:
    """"the product launches on Wednesday" and "the product launch moved to Thursday" are one fact."""
    a = extract_claims("The product launches on Wednesday.")[0]
    b = extract_claims("Update: the product launch has moved to Thursday.")[0]
    c = extract_claims("The product launch is on Friday.")[0]
    assert (a.subject, a.relation, a.value) == ("product launch", "when", "Wednesday")
    assert (a.subject, a.relation) == (b.subject, b.relation) == (c.subject, c.relation)
    assert extract_claims("The store opens at 9:00.")[0].subject == "store open"  # the parser reads "the open" as a noun


def test_name_claims_need_a_speaker() -> None:
    assert triples("My name is Alice", speaker="spk_1") == [("spk_1", "name", "Alice")]
    assert triples("Hi, I'm alice from accounting", speaker="SPEAKER_01") == [("SPEAKER_01", "name", "Alice")]
    assert triples("I am Alice Smith.", speaker="S2") == [("S2", "name", "Alice Smith")]
    assert triples("you can call me Al", speaker="S2") == [("S2", "name", "Al")]
    assert triples("This is Carol speaking", speaker="S3") == [("S3", "name", "Carol")]
    assert triples("I'm Alice and the review is on Monday", speaker="S1") == [("S1", "name", "Alice"), ("review", "when", "Monday")]
    for text in ("My name is Alice", "I'm Alice", "call me Al"):
        assert triples(text) == []  # no speaker: no name claim, and "name is Alice" is not a claim either
    assert triples("I'm fine", speaker="S1") == [] and triples("I'm not sure", speaker="S1") == []


# --- extraction: negatives ---------------------------------------------------------------------

GRID = [  # ../shared/data/video/grid/transcripts_from_filenames.tsv: GRID corpus commands
    "bin blue at f two now", "bin red by k seven now", "set white with p two soon", "lay blue at x four now",
    "lay blue by c two again", "lay red with p nine again", "lay white by s zero again",
    "place white in j three please", "set blue in a one again", "set blue with e five now", "set white in z three now",
]
REAL_SPEECH = [  # ../shared/data/speech ground truth
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
    "He began a confused complaint against the wizard, who had vanished behind the curtain on the left.",
    "The horizon seems extremely distant.",
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files",
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED',
]


@pytest.mark.parametrize(
    "text",
    [
        "it is on monday", "is it on monday?", "this is great", "is the review on monday", "The review is on Monday?",
        "when is the review", "what is the budget", "where is the review", "he is on monday", "we are in Rotterdam",
        "they moved it to thursday", "the review is not on monday",
        "the review isn't on monday anymore", "the review is no longer on monday", "the review might be moved to thursday",
        "the review hasn't been moved to thursday", "if the review is on monday we can go", "the thing is we don't know",
        "the problem is that it breaks", "the point is to win", "everyone is here", "Receivables | Invoice #4471 | Due: March 14",
        "Total: $1,250", "the review moved", "the review was postponed", "the review is on",
        "the budget for the second quarter is the",
        *GRID, *REAL_SPEECH,
    ],
)
def test_no_claim(text: str) -> None:
    assert extract_claims(text) == []
    assert extract_claims(text, speaker="S1") == []


# --- values ------------------------------------------------------------------------------------


def test_spoken_numbers_in_values_compare_as_digits() -> None:
    assert canonical_value("four thousand four hundred seventy one dollars") == "4471 usd"
    assert canonical_value("one hundred and twenty three dollars") == "123 usd"
    assert canonical_value("twenty one people") == "21 people"
    assert canonical_value("three pm on Thursday") == "thursday 15:00"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("3 pm", "3pm"), ("3 pm", "15:00"), ("3 p.m.", "three pm"), ("Thursday", "thursday."),
        ("Thursday at 3 pm", "thursday 3pm"), ("Thursday at 3 pm", "3 PM on Thursday"), ("noon", "12 pm"),
        ("March 14", "14th of March"), ("the 14th of March", "march 14"), ("$120,000", "120000 dollars"),
        ("120k dollars", "120,000 USD"), ("1.5 million dollars", "$1,500,000"), ("5%", "5 percent"),
        ("4471", "four thousand four hundred seventy one"), ("twenty", "20"), ("Rotterdam", "rotterdam!"),
        ("the warehouse move", "Warehouse move"), ("Alice", "alice"),
    ],
)
def test_same_value(a: str, b: str) -> None:
    assert same_value(a, b) and same_value(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [("3 pm", "4 pm"), ("Monday", "Thursday"), ("1250 dollars", "1250 euros"), ("Thursday", "next Thursday"),
     ("March 14", "March 15"), ("Thursday at 3 pm", "Thursday"), ("Rotterdam", "Amsterdam"), ("120000", "12000")],
)
def test_different_values(a: str, b: str) -> None:
    assert not same_value(a, b)


def test_calendar_words_are_the_date_parsers() -> None:
    """Weekday and month names come from the calendar data memory.nlp.when reads, abbreviations
    included; two-letter ones ("th", "mo") and other words are none."""
    from memory import nlp

    assert nlp.calendar_word("Tues") == ("weekday", "tuesday")
    assert nlp.calendar_word("thursdays") == ("weekday", "thursday")
    assert nlp.calendar_word("sept") == ("month", "september")
    assert nlp.calendar_word("th") is None and nlp.calendar_word("mo") is None and nlp.calendar_word("review") is None
    assert same_value("Tues at 3 pm", "Tuesday 15:00")
    assert same_value("Sept 14th", "the 14th of September")
    assert not same_value("Wed", "Thu")


def test_canonical_values() -> None:
    assert canonical_value("Thursday at 3 pm") == "thursday 15:00"
    assert canonical_value("Monday, March 3rd, 2025") == "monday march 3 2025"
    assert canonical_value("$1,250.00") == "1250 usd"
    assert canonical_value("The Big Conference Room.") == "big conference room"


def test_a_digit_sign_that_is_no_decimal_digit_is_a_word_of_the_value() -> None:
    """Circled and superscript digits ("①", "²": OCR of lists and units) are digits to str.isdigit
    but no number: they stay words of the value (they raised ValueError), and a decimal digit of
    another script still reads as one."""
    assert canonical_value("①") == "①"
    assert canonical_value("① Open the file") == "① open the file"
    assert canonical_value("Thursday at ²") == "thursday at ²"
    assert canonical_value("\u0663 pm") == canonical_value("3 pm") == "15:00"


# --- reconciliation ----------------------------------------------------------------------------


def say(text: str, source: str, seq: int, t: float, speaker: str | None = None) -> list[Mention]:
    found = mentions_from(text, source, t, seq, speaker)
    assert found, text
    return found


def one(facts: list[Fact], key: str) -> Fact:
    [fact] = [f for f in facts if f.key == key]
    return fact


MON, THU = "review|when|monday", "review|when|thursday"


def test_a_later_contradiction_supersedes_and_the_old_value_stays_as_history() -> None:
    ms = say("The review is on Monday.", "a", 0, 5.0) + say("the review moved to Thursday", "b", 1, 2.0)
    facts = reconcile(ms)
    assert [f.key for f in facts] == [MON, THU]
    mon, thu = one(facts, MON), one(facts, THU)
    assert (mon.value, mon.superseded_by, mon.support, mon.sources) == ("Monday", THU, 1, ("a",))
    assert (thu.value, thu.superseded_by, thu.support, thu.sources) == ("Thursday", None, 1, ("b",))
    assert thu.text == "review \u2014 when: Thursday" and thu.confidence == 0.5
    assert current_facts(facts) == [thu]


def test_reasserting_an_old_value_makes_it_current_again() -> None:
    ms = (say("The review is on Monday.", "a", 0, 5.0) + say("the review moved to Thursday", "b", 1, 2.0)
          + say("Sorry, the review is on monday after all.", "c", 2, 40.0))
    facts = reconcile(ms)
    mon, thu = one(facts, MON), one(facts, THU)
    assert mon.superseded_by is None and thu.superseded_by == MON
    assert mon.support == 2 and mon.confidence == 0.75 and mon.sources == ("a", "c")
    assert mon.value == "monday"  # the latest wording
    assert (mon.first_seen.source_id, mon.last_seen.source_id) == ("a", "c")
    assert [m.order for m in mon.mentions] == [(0, 5.0), (2, 40.0)]


def test_order_is_by_source_sequence_then_time() -> None:
    ms = say("The review is on Monday.", "a", 3, 1.0) + say("the review moved to Thursday", "a", 3, 30.0)
    assert one(reconcile(ms), MON).superseded_by == THU
    # an earlier source (lower sequence number) never supersedes a later one, whatever its time
    ms = say("The review is on Monday.", "a", 4, 1.0) + say("the review moved to Thursday", "b", 3, 999.0)
    assert one(reconcile(ms), THU).superseded_by == MON


def test_near_duplicate_values_are_one_fact_with_support() -> None:
    ms = (say("The review has been moved to Thursday at 3 pm.", "a", 0, 1.0)
          + say("the review is on thursday at 3pm", "b", 1, 1.0)
          + say("Review moved to Thursday, 15:00", "c", 2, 1.0))
    [fact] = reconcile(ms)
    assert fact.key == "review|when|thursday 15:00"
    assert (fact.support, fact.sources, fact.superseded_by) == (3, ("a", "b", "c"), None)
    assert fact.value == "Thursday 15:00"
    screen_and_speech = say("Budget | The Q2 budget is $120,000", "screen", 0, 3.0) + say("the Q2 budget is 120000 dollars", "talk", 1, 8.0)
    [budget] = reconcile(screen_and_speech)
    assert (budget.key, budget.support, budget.sources) == ("q2 budget|amount|120000 usd", 2, ("screen", "talk"))


def test_multi_valued_relations_are_never_superseded() -> None:
    assert {"when", "amount", "where", "name", "lives in"} == SINGLE_VALUED
    ms = say("Dana leads the warehouse move", "a", 0, 1.0) + say("Dana leads the audit", "b", 1, 1.0)
    facts = reconcile(ms)
    assert [(f.key, f.superseded_by) for f in facts] == [("dana|leads|audit", None), ("dana|leads|warehouse move", None)]
    ms = say("Dana lives in Berlin", "a", 0, 1.0) + say("Dana lives in Rotterdam", "b", 1, 1.0)
    assert one(reconcile(ms), "dana|lives in|berlin").superseded_by == "dana|lives in|rotterdam"


def test_a_speaker_renaming_themselves_supersedes_the_old_name() -> None:
    ms = say("My name is Alice.", "a", 0, 1.0, speaker="spk_1") + say("Actually, call me Al", "a", 0, 9.0, speaker="spk_1")
    facts = reconcile(ms)
    assert [(f.key, f.value, f.superseded_by) for f in facts] == [
        ("spk_1|name|al", "Al", None),
        ("spk_1|name|alice", "Alice", "spk_1|name|al"),
    ]


def corpus() -> list[Mention]:
    return [
        *say("The review is on Monday.", "a", 0, 5.0),
        *say("Our office is in Rotterdam", "a", 0, 9.0),
        *say("the review moved to Thursday", "b", 1, 2.0),
        *say("Invoice 4471 total is 1250 dollars", "b", 1, 7.0),
        *say("Dana leads the warehouse move", "b", 1, 8.0),
        *say("The review has been moved to Thursday at 3 pm.", "c", 2, 1.0),
        *say("the review is on monday", "c", 2, 50.0),
        *say("Invoice #4471 total is $1,300", "d", 3, 0.5),
        *say("Our office has been moved to Amsterdam", "d", 3, 4.0),
        *say("Dana leads the audit", "d", 3, 6.0),
        *say("The review is on Monday.", "e", 4, 0.0),
    ]


def test_reconcile_does_not_depend_on_input_order_or_duplicates() -> None:
    ms = corpus()
    expected = reconcile(ms)
    rng = random.Random(7)
    for _ in range(25):
        shuffled = ms[:]
        rng.shuffle(shuffled)
        assert reconcile(shuffled) == expected
        assert reconcile(iter(shuffled + shuffled[:4])) == expected  # a set: repeated mentions count once
    assert [f.key for f in expected] == sorted(f.key for f in expected)
    assert [f.key for f in current_facts(expected)] == [
        "dana|leads|audit", "dana|leads|warehouse move", "invoice 4471 total|amount|1300 usd", "office|where|amsterdam", MON,
    ]


def test_ties_at_the_same_order_are_broken_deterministically() -> None:
    ms = say("Due soon | The invoice is due on March 14 | The invoice is due on March 15", "s", 0, 2.0)
    results = {tuple((f.key, f.superseded_by) for f in reconcile(p)) for p in itertools.permutations(ms)}
    assert len(results) == 1


def test_forget_equals_reconcile_of_the_remaining_mentions() -> None:
    ms = corpus()
    full = reconcile(ms)
    assert one(full, THU).superseded_by == MON
    for source in "abcde":
        remaining = [m for m in ms if m.source_id != source]
        # dropping a source from the facts' mentions gives the same as reconciling what is left
        from_facts = [m for f in full for m in f.mentions if m.source_id != source]
        assert reconcile(from_facts) == reconcile(remaining)
    # forget the sources that said Monday last: Thursday (said in b and c) is current again
    without = reconcile([m for m in ms if m.source_id not in ("c", "e")])
    assert one(without, THU).superseded_by is None and one(without, MON).superseded_by == THU
    assert (one(without, THU).support, one(without, THU).sources) == (1, ("b",))
    # forget everything that mentioned Amsterdam: Rotterdam is current, not superseded
    no_d = reconcile([m for m in ms if m.source_id != "d"])
    assert one(no_d, "office|where|rotterdam").superseded_by is None
    assert not any(f.key == "office|where|amsterdam" for f in no_d)
    assert reconcile([]) == []


def test_mentions_carry_their_source_time_and_wall_time() -> None:
    [m] = mentions_from("The review is on Monday.", "clip-7", 12.5, 3, wall_time=1_700_000_000.0)
    assert m == Mention(Claim("review", "when", "Monday", "The review is on Monday."), "clip-7", 12.5, (3, 12.5), 1_700_000_000.0)


def test_a_misheard_or_dropped_to_before_a_day_still_moves_it() -> None:
    """tiny.en wrote "moved the Thursday" for espeak's "moved to Thursday"."""
    from memory.facts import extract_claims

    for text in ("One more thing, the design review moved the Thursday.", "the design review moved Thursday"):
        (claim,) = extract_claims(text)
        assert (claim.subject, claim.relation, claim.value) == ("design review", "when", "Thursday")


# --- the parse, not a verb list: paraphrases no suite uses, and their near-misses --------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the offsite got pushed to the 14th", ("offsite", "when", "14th")),
        ("The quarterly sync was bumped to next Wednesday.", ("quarterly sync", "when", "next Wednesday")),
        ("our budget now stands at 90k", ("budget", "amount", "90k")),
        ("The headcount target grew to forty people", ("headcount target", "amount", "40 people")),
        ("Lena heads the design team", ("lena", "heads", "design team")),
        ("Marco coaches the junior analysts", ("marco", "coaches", "junior analysts")),
        ("The workshop was relocated to Utrecht", ("workshop", "where", "Utrecht")),
        ("Priya sits on the pricing committee", ("priya", "sits on", "pricing committee")),
        ("The team moved the review to Thursday", ("review", "when", "Thursday")),
        ("We moved the standup to 9:30", ("standup", "when", "9:30")),
        ("the standup is now at nine thirty", ("standup", "when", "9:30")),
        ("The all-hands got moved up to 10 am tomorrow", ("all-hands", "when", "10 am tomorrow")),
        ("The rent went up to $2,400", ("rent", "amount", "$2,400")),
        ("The rent rose to 2400 euros", ("rent", "amount", "2400 euros")),
        ("Keiko will handle the backups", ("keiko", "handles", "backups")),
    ],
)
def test_paraphrases_read_from_the_parse(text: str, expected: tuple[str, str, str]) -> None:
    assert triples(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "is the review on Monday?", "is the review on Monday", "the review might move to Friday",
        "the review could be pushed to the 14th", "the review is not on Monday", "the offsite never got pushed to the 14th",
        "if the budget stands at 90k we are fine", "Does Lena head the design team?", "Lena doesn't head the design team",
        "who heads the design team",
        "Ticket 5512 was assigned to Omar", "The team might move the review to Thursday", "they moved it to Friday",
        "Let's move the review to Friday", "Please move the review to Friday", "We should move the review to Friday",
        # screen text: the layout reader's lists, labels and UI prose state nothing
        "Row of This Month lists This Month; COPYING.DOC; DolphinVcsConfig", "Size lists 1 item; 199 B; 130 B",
        "96 B Last modified: 5/29/2020 2:25 PM", "Export automatically inserted blank pages",
        "Higher values offer more protection, but opening the database will take longer.", "1 Testing New Title Updated 2",
    ],
)
def test_near_misses_state_nothing(text: str) -> None:
    assert extract_claims(text) == []


def test_a_later_paraphrase_supersedes_the_earlier_date() -> None:
    ms = say("The offsite is on the 9th.", "a", 0, 1.0) + say("the offsite got pushed to the 14th", "b", 1, 1.0)
    facts = reconcile(ms)
    [current] = current_facts(facts)
    assert (current.subject, current.relation, canonical_value(current.value)) == ("offsite", "when", "14")


def test_a_self_introduced_name_is_no_part_of_the_next_subject() -> None:
    """An unpunctuated "I'm Bob and the design review moved ..." parses as the subject "Bob and the review"."""
    assert triples("Hi I'm Bob and the design review moved to Thursday", speaker="bob") == [
        ("bob", "name", "Bob"), ("design review", "when", "Thursday")]
    assert triples("Dana and Bob are in Rotterdam", speaker="S1") == [("dana and bob", "where", "Rotterdam")]


def test_digits_read_one_by_one_are_one_number() -> None:
    """"four two seven one" is the code 4271 (its category is the NER's guess: a year-like number reads as a date)."""
    [claim] = extract_claims("The access code for the lab is four two seven one.")
    assert (claim.subject, claim.value) == ("access code for the lab", "4271")


def test_a_scale_word_after_written_digits_stays_a_word() -> None:
    """text2num reads "1.5 million" as "1.5 1000000"; memory.nlp.digits keeps the scale word."""
    from memory import nlp

    assert nlp.digits("the budget is 1.5 million dollars") == "the budget is 1.5 million dollars"
    assert nlp.digits("120 thousand users and two million more") == "120 thousand users and 2000000 more"
    assert same_value("1.5 million dollars", "$1,500,000") and same_value("two point five million", "2500000")


def test_a_verse_fragment_states_nothing_about_its_object() -> None:
    """The sonnet as the dev video's ASR cut it: a gerund without a subject moves nothing anywhere."""
    assert extract_claims("making a famine where abundance lies, thyself thy foe, to thy sweet self to") == []
