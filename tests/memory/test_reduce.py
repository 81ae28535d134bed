"""The reduce stage on both store backends, with scripted observations (real Qdrant, fake models):
incremental equals from scratch, forget is exact, levels link, facts supersede, vectors land."""

from __future__ import annotations

import numpy as np
import pytest

from memory.reduce import Reducer
from memory.store import Scope
from models.base import Segment, Word
from perception.records import ClipObservation, FaceTrack, Keyframe, OcrLine, SpeakerTurn, VisualVector
from tests.fakes import HashEmbedder
from tests.memory.test_store import BACKENDS, make

EMB = HashEmbedder()
RNG = np.random.default_rng(3)
FACES = {k: RNG.normal(size=128) * 0.09 for k in ("ann", "bob")}
VOICES = {k: (lambda v: v / np.linalg.norm(v))(RNG.normal(size=256)) for k in ("ann", "bob")}
PRODUCER = {"face": "dlib-test", "voice": "ge2e-test", "image": "clip-test", "captioner": "composed"}


def said(start: float, text: str, who: str) -> tuple[Segment, SpeakerTurn]:
    words = tuple(Word(start + 0.4 * k, start + 0.4 * k + 0.35, w) for k, w in enumerate(text.split()))
    seg = Segment(start, words[-1].end, text, words)
    return seg, SpeakerTurn(start, words[-1].end, text, "v0", tuple(VOICES[who].round(5)))


def clip(source: str, index: int, text: str, who: str, screen: str = "") -> ClipObservation:
    t0 = index * 30.0
    seg, turn = said(t0 + 2, text, who)
    face = FaceTrack("f0", t0 + 1, t0 + 9, (10, 10, 90, 90), 0.9, 5, tuple(FACES[who].round(5)), "faces/x.jpg")
    kf = Keyframe(t0 + 1, True, (OcrLine(t0 + 1, screen, 0.9),) if screen else (), "frames/k.jpg")
    visual = (VisualVector(t0 + 1, "frames/k.jpg", tuple(np.eye(12)[index % 12])),)
    return ClipObservation(source, index, t0, t0 + 30, (seg,), (kf,), PRODUCER, turns=(turn,), faces=(face,),
                           visual=visual)


A = [clip("a", k, f"The design review is on Monday and item {k} is ready", "ann", "Agenda") for k in range(12)]
B = [clip("b", 0, "Hi I'm Bob and the design review moved to Thursday", "bob"),
     clip("b", 1, "Ann said the budget is fine", "ann")]


def snapshot(store) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    return sorted((r.kind, r.level, r.key, r.text, r.entity_ids, r.sources, r.parent or "", r.children)
                  for r in store.scroll())


@pytest.mark.parametrize("backend", BACKENDS)
def test_incremental_forget_and_levels(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with make(backend, tmp_path / "one") as store:
        reducer = Reducer(store, EMB)
        report = reducer.reduce(A, "/v/a.mp4", 1)
        only_a = snapshot(store)
        assert report.points["episodic/clip"] == 12 and report.points["episodic/scene"] == 2
        assert report.points["visual/face"] == 12 and report.points["visual/keyframe"] == 12
        reducer.reduce(B, "/v/b.mp4", 2)
        both = snapshot(store)

        # levels: clips link to their scene, scenes to the hour, and back
        scenes = list(store.scroll(Scope(source_ids=("a",), level="scene")))
        assert [len(s.children) for s in sorted(scenes, key=lambda s: s.t_start)] == [10, 2]
        (hour,) = store.scroll(Scope(source_ids=("a",), level="hour"))
        assert set(hour.children) == {s.id for s in scenes}
        kids = {r.id: r for r in store.scroll(Scope(source_ids=("a",), level="clip"))}
        assert all(kids[c].parent == scenes[0].id for c in scenes[0].children)

        # people: Ann in both sources is one person with one face and one voice; Bob named himself
        (ann,) = [r for r in store.scroll(Scope(kind="entity", level="person", current=True)) if set(r.sources) == {"a", "b"}]
        assert len(ann.attrs["faces"]) == 1 and len(ann.attrs["voices"]) == 1
        (bob,) = [r for r in store.scroll(Scope(kind="entity", level="person", current=True)) if r.attrs.get("name") == "Bob"]
        assert bob.sources == ("b",)
        clip_b0 = next(r for r in store.scroll(Scope(source_ids=("b",), level="clip")) if r.t_start == 0)
        assert clip_b0.text.startswith(f"Seen: {bob.key} (") and bob.key in clip_b0.entity_ids

        # facts: Thursday (b, later) supersedes Monday (a, twelve times)
        facts = {r.attrs["value"]: r for r in store.scroll(Scope(kind="semantic"))
                 if r.attrs["subject"] == "design review"}
        assert facts["Thursday"].attrs["superseded_by"] is None and facts["Monday"].attrs["support"] == 12
        assert facts["Monday"].attrs["superseded_by"] == facts["Thursday"].key

        # named vectors: faces searchable by face, keyframes by image vector
        hits = store.search_vector("face", FACES["ann"], Scope(kind="visual", level="face"), 3)
        assert all(h.record.source_id in ("a", "b") and ann.key in h.record.entity_ids for h in hits)
        (top,) = store.search_vector("visual", np.eye(12)[3], Scope(kind="visual", level="keyframe", source_ids=("a",)), 1)
        assert top.record.t_start == 3 * 30 + 1

        # forget b: exactly the store that only ever had a; re-adding b restores both
        reducer.forget("b")
        assert snapshot(store) == only_a
        reducer.reduce(B, "/v/b.mp4", 2)
        assert snapshot(store) == both
        # re-reducing a source changes nothing
        reducer.reduce(A, "/v/a.mp4", 1)
        assert snapshot(store) == both

    with make(backend, tmp_path / "two") as store:  # from scratch, in one go: the same memory
        reducer = Reducer(store, EMB)
        reducer.reduce(A, "/v/a.mp4", 1)
        reducer.reduce(B, "/v/b.mp4", 2)
        assert snapshot(store) == both


def test_visual_memories_link_their_episode_and_summaries_can_come_from_an_llm(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from memory.episodic import llm_summarizer
    from tests.fakes import ScriptedLLM

    llm = ScriptedLLM(["person_1 reviews the agenda and the Monday review.", "The agenda again.", "An hour of agenda review."])
    with make("edge", tmp_path) as store:
        Reducer(store, EMB, summarize=llm_summarizer(llm)).reduce(A, "/v/a.mp4", 1)
        clips = {r.id: r for r in store.scroll(Scope(level="clip"))}
        faces = list(store.scroll(Scope(kind="visual", level="face")))
        assert len(faces) == 12 and all(clips[f.parent].t_start <= f.t_start < clips[f.parent].t_end for f in faces)
        scenes = sorted(store.scroll(Scope(level="scene")), key=lambda r: r.t_start)
        assert scenes[0].text.endswith("person_1 reviews the agenda and the Monday review.")
        assert scenes[0].provenance["summary"] == "llm" and scenes[0].snippets  # still citable
        assert "Agenda" in llm.seen[0][-1].content  # the model read the children's texts


def test_a_question_naming_a_person_finds_what_that_person_said(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from memory.entities import EntityRegistry
    from retrieval.answer import Retriever

    with make("edge", tmp_path) as store:
        reducer = Reducer(store, EMB)
        reducer.reduce(A, "/v/a.mp4", 1)
        reducer.reduce(B, "/v/b.mp4", 2)
        bob = [p for p in EntityRegistry.load(store).persons() if p.name == "Bob"][0]
        reducer.update_entities(lambda reg: reg.rename(bob.id, "Robert"))  # a name no memory text holds
        people = {}
        for p in EntityRegistry.load(store).persons():
            for key in (p.id, *p.faces, *p.voices, *(n for n in (p.name, *p.aliases) if n)):
                people[key] = (p.id, *p.births, *p.faces, *p.voices)
        answer = Retriever(store, EMB, None, people=people).ask("What did Robert say?", Scope(kind="episodic"))
        assert answer.evidence[0].text.startswith("Hi I'm Bob") and answer.evidence[0].start == 2.0
        without = Retriever(store, EMB, None).ask("What did Robert say?", Scope(kind="episodic"))
        assert not without.evidence or not without.evidence[0].text.startswith("Hi I'm Bob")


DIARIZED = {**PRODUCER, "diarizer": "campplus-zh-en-common-advanced"}
SPEAKERS = {k: (lambda v: v / np.linalg.norm(v))(RNG.normal(size=192)) for k in ("tom", "ann")}


def diarized_clip(source: str, lines: list[tuple[float, str, str]]) -> ClipObservation:
    """One clip whose clip-local turn pools everyone (as GE2E did on real calls), with the
    diarizer's segments: 2 s pieces of each line, each with its speaker's vector (and noise)."""
    from perception.records import VoiceSegment

    segments, pieces = [], []
    for start, text, who in lines:
        seg, _ = said(start, text, who="ann")
        segments.append(seg)
        for a in np.arange(seg.start, seg.end, 2.0):
            v = SPEAKERS[who] + RNG.normal(size=192) * 0.02
            pieces.append(VoiceSegment(float(a), float(min(a + 2.0, seg.end)), tuple((v / np.linalg.norm(v)).round(5))))
    pooled = SpeakerTurn(segments[0].start, segments[-1].end, " ".join(s.text for s in segments), "v0",
                         tuple(VOICES["ann"].round(5)))
    return ClipObservation(source, 0, 0.0, 30.0, tuple(segments), (), DIARIZED, turns=(pooled,),
                           voice_segments=tuple(pieces))


@pytest.mark.parametrize("backend", BACKENDS)
def test_diarized_speakers_are_voices_across_clips_and_sources(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    call = diarized_clip("call", [(1.0, "Hi I'm Tom and I run the lab upstairs", "tom"),
                                  (6.0, "The budget is fine for this year", "ann"),
                                  (10.0, "Good then we order the new microscope", "tom")])
    later = diarized_clip("later", [(2.0, "The microscope arrived this morning at last", "tom")])
    with make(backend, tmp_path / "d") as store:
        reducer = Reducer(store, EMB)
        reducer.reduce([call], "/v/call.wav", 1)
        voices = {r.key: r for r in store.scroll(Scope(kind="entity", level="voice"))}
        assert len(voices) == 2  # one clip-local turn, two speakers
        (episode,) = store.scroll(Scope(source_ids=("call",), level="clip"))
        speakers = [s.speaker for s in episode.snippets if s.modality == "speech"]
        assert speakers[0] == speakers[2] != speakers[1] and set(speakers) == set(voices)
        (tom,) = [r for r in store.scroll(Scope(kind="entity", level="person", current=True)) if r.attrs.get("name") == "Tom"]
        assert tom.attrs["voices"] == [speakers[0]]
        reducer.reduce([later], "/v/later.wav", 2)
        (episode,) = store.scroll(Scope(source_ids=("later",), level="clip"))
        assert {s.speaker for s in episode.snippets if s.modality == "speech"} == {speakers[0]}  # Tom, from the call
        assert len(list(store.scroll(Scope(kind="entity", level="voice")))) == 2


@pytest.mark.parametrize("backend", BACKENDS[:1])
def test_a_name_said_to_a_speaker_names_that_speaker(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """"Thanks, Ann." names the voice that spoke just before; "Tom, can you ...?" the one that
    answers next; the evidence is kept with the sentence. A speaker's own name given by
    themselves outweighs what others call them."""
    call = diarized_clip("call", [(1.0, "Tom, can you check the order for the lab?", "ann"),
                                  (6.0, "Yes, the microscope ships on Friday", "tom"),
                                  (11.0, "Thanks, Tom. That helps a lot", "ann"),
                                  (16.0, "No problem, Ann, talk soon", "tom")])
    with make(backend, tmp_path / "d") as store:
        Reducer(store, EMB).reduce([call], "/v/call.wav", 1)
        people = {r.attrs.get("name"): r for r in store.scroll(Scope(kind="entity", level="person", current=True))}
        assert {"Tom", "Ann"} <= set(people), list(people)
        assert people["Tom"].attrs["voices"] != people["Ann"].attrs["voices"]
        (episode,) = store.scroll(Scope(source_ids=("call",), level="clip"))
        speakers = [s.speaker for s in episode.snippets if s.modality == "speech"]
        assert people["Tom"].attrs["voices"] == [speakers[1]] and people["Ann"].attrs["voices"] == [speakers[0]]
        how = {e["how"] for e in people["Tom"].attrs["evidence"] if e.get("name") == "Tom"}
        assert how == {"address"}
