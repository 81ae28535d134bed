"""Issue 18, half-done operations: a command killed (SIGKILL, in a real subprocess) between its
writes leaves a journal record; the next command finishes a forget or rolls back an index, so
the store never answers from a source it does not list, nor lists one whose memories are gone.
A perception cache with pictures missing is recomputed, never reused."""

from __future__ import annotations

import json
from functools import partial
import shutil
from pathlib import Path

import pytest

from mmagent import MMAgent, Settings
from tests import faults
from tests.conftest import GRID, need


cli = partial(faults.cli, env={"MMAGENT_WORKERS": "1"})


def snapshot(store: Path) -> tuple[list, list]:  # type: ignore[type-arg]
    with MMAgent(Settings.load(env={}, store=store, llm="none")) as a:
        points = sorted((r.kind, r.level, r.text, r.entity_ids, r.sources) for r in a.store.scroll())
        listed = sorted((e.source_id, e.clips, e.memories) for e in a.store.sources())
    return points, listed


@pytest.fixture()
def shots(tmp_path: Path) -> Path:
    """A recorder's day folder: captures whose text was read when saved (no OCR model runs)."""
    folder = tmp_path / "day"
    folder.mkdir()
    lines = ["Invoice 4471 from Globex is due on Friday", "Standup notes: ship the beta on Monday",
             "Dana promised the budget review by March"]
    for k, text in enumerate(lines):
        (folder / f"c{k}.json").write_text(json.dumps({"time": 1795165200 + 45 * k, "app": "Mail", "window": f"Inbox {k}",
                                                       "ocr": [{"text": text, "score": 0.99, "box": []}]}))
    return folder


def test_index_killed_before_its_catalog_entry_is_rolled_back_then_redone_whole(tmp_path: Path, shots: Path) -> None:
    store = tmp_path / "store"
    killed = cli("index", str(shots), "--store", str(store), crash="index:before-catalog")
    assert killed.returncode == -9
    assert list((store / "journal").glob("*.json"))  # the intent outlived the process

    listing = cli("sources", "--store", str(store), "--json")
    assert listing.returncode == 0 and json.loads(listing.stdout) == {"sources": []}
    assert "rolled back an interrupted index" in listing.stderr
    answer = cli("ask", "when is invoice 4471 due?", "--store", str(store), "--json")
    assert answer.returncode == 0 and json.loads(answer.stdout)["evidence"] == []  # nothing from an unlisted source
    assert not list((store / "journal").glob("*.json"))

    again = cli("index", str(shots), "--store", str(store), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["sources"][0]["memories_added"] > 0
    whole = tmp_path / "whole"
    assert cli("index", str(shots), "--store", str(whole)).returncode == 0
    assert snapshot(store) == snapshot(whole)


def test_index_killed_then_indexed_again_finishes_it(tmp_path: Path, shots: Path) -> None:
    store = tmp_path / "store"
    assert cli("index", str(shots), "--store", str(store), crash="index:before-catalog").returncode == -9
    again = cli("index", str(shots), "--store", str(store), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["sources"][0]["memories_added"] > 0 and "rolled back" not in again.stderr
    assert not list((store / "journal").glob("*.json"))
    whole = tmp_path / "whole"
    assert cli("index", str(shots), "--store", str(whole)).returncode == 0
    assert snapshot(store) == snapshot(whole)


@pytest.mark.parametrize("point", ["forget:before-catalog", "forget:cache-moved"])
def test_forget_killed_half_way_is_finished_by_the_next_command(tmp_path: Path, shots: Path, point: str) -> None:
    store = tmp_path / "store"
    first = cli("index", str(shots), "--store", str(store), "--json")
    assert first.returncode == 0, first.stderr
    source_id = json.loads(first.stdout)["sources"][0]["source_id"]
    (store / "perception" / source_id).mkdir(parents=True, exist_ok=True)  # a cache to delete
    (store / "perception" / source_id / "clip_00000.json").write_text("{}")
    assert cli("forget", source_id, "--store", str(store), crash=point).returncode == -9

    listing = cli("sources", "--store", str(store), "--json")
    assert json.loads(listing.stdout) == {"sources": []} and "finished forgetting" in listing.stderr
    assert not (store / "perception" / source_id).exists()
    assert not list((store / "perception").glob(".trash-*"))
    again = cli("index", str(shots), "--store", str(store), "--json")
    assert json.loads(again.stdout)["sources"][0]["memories_added"] == json.loads(first.stdout)["sources"][0]["memories_added"]
    assert "already indexed" not in again.stderr
    whole = tmp_path / "whole"
    assert cli("index", str(shots), "--store", str(whole)).returncode == 0
    assert snapshot(store) == snapshot(whole)


def test_a_cache_with_pictures_missing_is_recomputed(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mpg"
    shutil.copy(need(GRID / "bbaf2n.mpg"), clip)
    store = tmp_path / "store"
    first = cli("index", str(clip), "--store", str(store), "--json")
    assert first.returncode == 0, first.stderr
    source_id = json.loads(first.stdout)["sources"][0]["source_id"]
    frames = sorted((store / "perception" / source_id).rglob("frames/*.jpg"))
    assert frames
    for f in frames[: max(1, len(frames) // 2)]:  # a delete of the cache killed half way
        f.unlink()
    (store / "sources" / f"{source_id}.json").unlink()  # so the source is indexed again from the cache

    again = cli("index", str(clip), "--store", str(store), "--json")
    assert again.returncode == 0, again.stderr
    assert "is gone" in again.stderr  # the clip was recomputed, not reused
    for cached in (store / "perception" / source_id).rglob("clip_*.json"):
        observation = json.loads(cached.read_text())["observation"]
        for k in observation.get("keyframes", ()):
            if k.get("image"):
                assert (cached.parent / k["image"]).is_file(), k["image"]


def test_index_killed_after_its_points_are_written_leaves_what_a_whole_run_leaves(tmp_path: Path, shots: Path) -> None:
    """(A screen folder's reduce writes its points in one durable write: killed right after it.)"""
    store = tmp_path / "store"
    killed = cli("index", str(shots), "--store", str(store), crash="store-write:1")
    assert killed.returncode == -9, killed.stderr[-1500:]
    again = cli("index", str(shots), "--store", str(store), "--json")
    assert again.returncode == 0, again.stderr
    whole = tmp_path / "whole"
    assert cli("index", str(shots), "--store", str(whole)).returncode == 0
    assert snapshot(store) == snapshot(whole)
