"""With a diarizer, a clip's speaker turns are read from its own voice segments: no GE2E model
runs in the map stage. On the real GRID video (a new face and voice every 3 s) the memory the
reduce stage builds is the same as with the GE2E turns — who said which words, the voices, the
faces linked to them — since it reads the source's speakers from the segments; the turns still
name the clip-local voices a captioner speaks of."""

from __future__ import annotations

from dataclasses import replace

import pytest

from perception.decode import clip_audio, probe
from perception.clip_signals import caption_request
from perception.map import Perceiver
from perception.map_settings import PerceptionOptions


@pytest.fixture(scope="module")
def perceived(asr, grid_video, tmp_path_factory):  # type: ignore[no-untyped-def]
    import models
    from models.segmentation_pyannote import Segmentation

    path, _ = grid_video
    voice = models.create("voice_encoder", "resemblyzer")
    face = models.create("face_encoder", "dlib")
    perceiver = Perceiver(PerceptionOptions(clip_seconds=10, ocr=False), asr, None, voice, face,
                          diarizer=models.create("voice_encoder", "campplus"), segmenter=Segmentation())
    cache = tmp_path_factory.mktemp("turns")
    clips = list(perceiver.observe(path, probe(path), "grid", cache))
    assert voice._net is None  # the GE2E network was never loaded, let alone run
    return perceiver, clips, voice, path, cache


def test_turns_come_from_the_voice_segments_without_a_voice_model(perceived) -> None:  # type: ignore[no-untyped-def]
    perceiver, clips, _, _, cache = perceived
    assert "turns" in perceiver.signals and "turns" not in perceiver.audio_signals
    assert all(c.producer["voice"] is None for c in clips)  # GE2E produced nothing
    for clip in clips:
        words = [w.text.strip() for s in clip.segments for w in s.words]
        assert " ".join(t.text for t in clip.turns) == " ".join(words)
        assert all(t.embedding == () for t in clip.turns)
    assert len({t.voice for t in clips[0].turns}) >= 2  # four GRID speakers in its 10 s
    import models

    speech = caption_request(clips[0], cache, models.create("captioner", "composed"), 0).speech
    assert {label for label, _ in speech} == {f"voice_{t.voice[1:]}" for t in clips[0].turns}


def test_the_memory_is_the_one_ge2e_turns_gave(perceived, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from memory.reduce import Reducer
    from memory.store import Scope
    from perception.voices import speaker_turns
    from tests.fakes import HashEmbedder
    from tests.memory.test_store import make

    _, clips, voice, path, _ = perceived
    audio, t0, _ = clip_audio(path, (0.0, clips[-1].end), 0.0)
    ge2e = [replace(c, turns=speaker_turns(c.segments, audio, t0, voice), producer={**c.producer, "voice": voice.model_id})
            for c in clips]
    assert any(t.embedding for c in ge2e for t in c.turns)
    memories = []
    for name, observed in (("segments", clips), ("ge2e", ge2e)):
        with make("edge", tmp_path / name) as store:
            Reducer(store, HashEmbedder()).reduce(observed, str(path), 1)
            memories.append(sorted((r.kind, r.level, r.key, r.text, r.entity_ids, r.sources) for r in store.scroll()))
            persons = list(store.scroll(Scope(kind="entity", level="person", current=True)))
    assert memories[0] == memories[1]
    speech = [r for r in memories[0] if r[1] == "clip" and " said: " in r[3]]
    assert speech  # who said what: the words carry voice ids
    linked = [p for p in persons if p.attrs.get("faces") and p.attrs.get("voices")]
    assert len(linked) >= 2, [p.attrs for p in persons]  # faces linked to the voices heard with them
