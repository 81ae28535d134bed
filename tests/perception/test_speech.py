"""ASR windows that follow the speech: cuts at pauses near group edges, words owned by one clip."""

from __future__ import annotations

import numpy as np

from models.base import Segment, Word
from perception.speech import RATE, cut_near, edge_cut, owned, speech_regions
from tests.conftest import DATA, need


def test_a_cut_inside_speech_moves_to_the_nearest_pause() -> None:
    path = need(DATA / "speech" / "jfk.flac")
    from perception.decode import clip_audio

    audio, t0, _ = clip_audio(path, (0.0, 11.0), 0.0)
    regions = speech_regions(audio)
    assert len(regions) >= 2  # JFK pauses between phrases
    inside = (regions[0][0] + regions[0][1]) / 2  # an edge in the middle of the first phrase
    cut = edge_cut(path, inside, 11.0)
    assert not any(a + 0.02 < cut < b - 0.02 for a, b in regions), (cut, regions)  # never inside speech
    assert abs(cut - inside) <= 5.0
    assert edge_cut(path, inside, 11.0) == cut  # the same audio around the edge, the same cut


def test_an_edge_in_silence_is_its_own_cut_and_silence_everywhere_too() -> None:
    rng = np.random.default_rng(0)
    silence = (rng.standard_normal(RATE * 6) * 1e-4).astype(np.float32)
    assert cut_near(silence, 10.0, 13.0) == 13.0


def test_words_go_to_the_clip_of_their_midpoint_and_group_cuts_stand_for_outer_edges() -> None:
    words = (Word(0.5, 0.9, "before", 1.0), Word(1.2, 1.6, "edge", 1.0), Word(2.4, 2.8, "after", 1.0))
    found = [Segment(0.5, 2.8, "before edge after", words)]
    # audio starts at 28 s: words at 28.7, 29.4 and 30.6 s; the clips are [0, 30) and [30, 60)
    first = owned(found, 28.0, (0.0, 30.0), (0.0, 60.0), first=True, last=False)
    second = owned(found, 28.0, (30.0, 60.0), (0.0, 60.0), first=False, last=True)
    assert [w.text for s in first for w in s.words] == ["before", "edge"]
    assert [w.text for s in second for w in s.words] == ["after"]
    # a group's first clip owns words back to the group's left cut (27.5 s), not to its edge
    late = owned(found, 28.0, (30.0, 60.0), (28.5, 60.0), first=True, last=True)
    assert [w.text for s in late for w in s.words] == ["before", "edge", "after"]
    assert late[0].words[0].start == 28.5
