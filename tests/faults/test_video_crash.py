"""Issue 18: a video's index SIGKILLed inside its work — between clips (some perceived and cached,
the rest not) and between the store writes of its reduce stage — then run again, holds exactly
what an uninterrupted index holds: the same memories (kind, level, time, text, entities), the
same entities, the same catalog entry; clips cached before the kill are reused, not recomputed.
Real media (three GRID clips), the real models, real subprocesses."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from mmagent import MMAgent, Settings
from tests import faults
from tests.conftest import GRID, need

# short clips: a 9 s video has five, perceived in two groups (the ASR groups four clips)
ENV = {"MMAGENT_WORKERS": "1", "MMAGENT_CLIP_SECONDS": "2"}
cli = partial(faults.cli, env=ENV, timeout=900)


def snapshot(store: Path) -> tuple[list, list]:  # type: ignore[type-arg]
    with MMAgent(Settings.load(env={}, store=store, llm="none")) as a:
        points = sorted((r.id, r.kind, r.level, round(r.t_start, 3), r.text, r.entity_ids, r.sources)
                        for r in a.store.scroll())
        listed = sorted((e.source_id, e.clips, e.memories, e.perception) for e in a.store.sources())
    return points, listed


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mmagent.samples import concat_videos

    out = tmp_path_factory.mktemp("video") / "three.mp4"
    concat_videos([need(GRID / "bbaf2n.mpg"), GRID / "lbax4n.mpg", GRID / "pwij3p.mpg"], out)
    return out


def test_video_index_killed_between_clips_and_store_writes_resumes_to_the_same_memory(tmp_path: Path, video: Path) -> None:
    whole = tmp_path / "whole"
    first = cli("index", str(video), "--store", str(whole), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["sources"][0]["clips"] == 5
    want = snapshot(whole)
    assert any(p[1] == "entity" for p in want[0])  # voices / faces: entity points are part of what is compared

    # killed after the first group of clips was perceived and cached: the rest is computed on the rerun
    store = tmp_path / "between-clips"
    killed = cli("index", str(video), "--store", str(store), crash="index:clip:4")
    assert killed.returncode == -9, killed.stderr
    assert not list((store / "sources").glob("*.json"))  # not listed: the index did not finish
    again = cli("index", str(video), "--store", str(store), "--json")
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    perception = json.loads(again.stdout)["sources"][0]["perception"]
    assert perception["clips_reused"] == 4 and perception["clips_computed"] == 1, perception
    assert snapshot(store) == want

    # killed inside the reduce stage: its points handed to the engine but not flushed; flushed but
    # the source not yet in the catalog (a video's reduce is one write of all its points)
    for point in ("store-update:1", "store-write:1"):
        store = tmp_path / point.replace(":", "-")
        killed = cli("index", str(video), "--store", str(store), crash=point)
        assert killed.returncode == -9, (point, killed.stderr)
        assert list((store / "journal").glob("*.json"))  # the intent outlived the process
        again = cli("index", str(video), "--store", str(store), "--json")
        assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
        assert json.loads(again.stdout)["sources"][0]["perception"]["clips_computed"] == 0  # all clips were cached
        assert snapshot(store) == want, point
        assert not list((store / "journal").glob("*.json"))
