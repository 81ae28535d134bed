"""The reduce stage on real media, through the agent the CLI uses: stable people across videos,
an enrolled photo naming a performer, a fact that changes, forget and incremental builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memory.store import Scope
from mmagent import MMAgent, Settings
from tests.conftest import DATA, GRID, need

# id2_vcd_swwp2s and pwij3p are two recordings of the same man; every other clip is someone else
VIDEO_A = ["id2_vcd_swwp2s.mpg", "bbaf2n.mpg", "brbk7n.mpg"]
VIDEO_B = ["pwij3p.mpg", "lbbc2a.mpg", "swiz3n.mpg"]


@pytest.fixture(scope="module")
def two_videos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from mmagent.samples import concat_videos

    folder = tmp_path_factory.mktemp("two")
    a, b = folder / "video_a.mp4", folder / "video_b.mp4"
    concat_videos([need(GRID / n) for n in VIDEO_A], a)
    concat_videos([GRID / n for n in VIDEO_B], b)
    return a, b


def agent(store: Path, **overrides: object) -> MMAgent:
    return MMAgent(Settings.load(env={}, store=store, llm="none", workers=1, **overrides))


def snapshot(store: Path) -> list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]]:
    """What a store remembers, without times of indexing."""
    with agent(store) as a:
        return sorted((r.kind, r.level, r.text, r.entity_ids, r.sources) for r in a.store.scroll())


def test_one_speaker_in_two_videos_is_one_person_and_the_others_are_distinct(two_videos, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = two_videos
    store = tmp_path / "inc"
    with agent(store) as ag:
        first = ag.index(a)
    with agent(store) as ag:  # later, another process: incremental
        second = ag.index(b)
        persons = ag.persons()
        described = [(p.id, p.faces, p.voices, p.appearances) for p in persons]
        shared = [p for p in persons if {s for s, _, _ in p.appearances} == {first.source_id, second.source_id}]
        assert len(shared) == 1, described  # the man who is in both videos, and only him
        man = shared[0]
        assert len(man.faces) == 1 and man.voices, described  # his face in both, linked to his voice
        # five people on screen: five face entities, each its own person (none merged with another)
        faces = [f for p in persons for f in p.faces]
        assert len(faces) == 5 and all(len(p.faces) <= 1 for p in persons), described
        # a voice is linked to at most one face, and the man's voice to no one else's face
        assert all(len(p.faces) == 1 for p in persons if p.voices and p.faces), described
        linked = [p for p in persons if p.faces and p.voices]
        assert len(linked) >= 3, described  # GRID's 3 s turns: most speakers get their voice linked
        # the man's first utterance in video B is cited with his stable id
        clip = next(ag.store.scroll(Scope(source_ids=(second.source_id,), kind="episodic", level="clip")))
        assert man.id in clip.entity_ids and f"{man.id} ({man.faces[0]})" in clip.text
        assert second.reduce is not None and second.reduce.points["visual/face"] == 3

    # from scratch, both in one run: the same memory
    scratch = tmp_path / "scratch"
    with agent(scratch) as ag:
        ag.index(a)
        ag.index(b)
    assert snapshot(scratch) == snapshot(store)

    # forget B: nothing of it is left, A is as it was before B; re-adding B restores the memory
    only_a = tmp_path / "only-a"
    with agent(only_a) as ag:
        ag.index(a)
    full = snapshot(store)
    with agent(store) as ag:
        ag.forget(second.source_id)
        assert ag.store.count(Scope(sources_any=(second.source_id,))) == 0
        assert ag.store.get_source(second.source_id) is None
        assert not (store / "perception" / second.source_id).exists()
    assert snapshot(store) == snapshot(only_a)
    with agent(store) as ag:
        ag.index(b)
    assert snapshot(store) == full


def test_an_enrolled_photo_names_the_performer_in_the_hamilton_clip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = need(DATA / "faces" / "face_recognition" / "short_hamilton_clip.mp4")
    photo = need(DATA / "faces" / "face_recognition" / "lin-manuel-miranda.png")
    with agent(tmp_path / "s", min_face=40) as ag:
        face_id = ag.enroll("Lin-Manuel Miranda", photo)
        result = ag.index(clip)
        named = [p for p in ag.persons() if p.name == "Lin-Manuel Miranda"]
        assert len(named) == 1 and face_id in named[0].faces
        spans = [(s, a, b) for s, a, b in named[0].appearances if s == result.source_id]
        assert spans and sum(b - a for _, a, b in spans) >= 3.0, named[0].appearances


def test_a_changed_fact_supersedes_the_old_one_which_stays_as_history(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from mmagent.samples import Scene, make_demo_video

    video = tmp_path / "review.mp4"
    make_demo_video(video, (
        Scene("Planning", ("Design review",), "Good morning. The design review is on Monday."),
        Scene("Budget", ("Budget",), "The budget is fine and nothing else changed this week."),
        Scene("Update", ("Schedule change",), "One more thing. The design review moved to Thursday."),
    ))
    with agent(tmp_path / "s") as ag:
        ag.index(video)
        facts = [r for r in ag.store.scroll(Scope(kind="semantic")) if "review" in r.attrs["subject"]]
        current = [f for f in facts if not f.attrs["superseded_by"]]
        history = [f for f in facts if f.attrs["superseded_by"]]
        assert [f.attrs["value"].lower() for f in current] == ["thursday"], [f.attrs for f in facts]
        assert [f.attrs["value"].lower() for f in history] == ["monday"]
        assert history[0].attrs["superseded_by"] == current[0].key
        assert ag.store.count(Scope(kind="semantic", current=True, keys=(current[0].key,))) == 1
        assert ag.store.count(Scope(kind="semantic", current=True, keys=(history[0].key,))) == 0
        answer = ag.ask("When is the design review?")
        assert "thursday" in answer.evidence[0].text.lower(), answer.to_json()
        assert answer.evidence[0].modality == "speech" and answer.evidence[0].start > 10  # said last, cited where
