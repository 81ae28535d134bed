"""`mmagent batch` on real media: bad sources are reported and skipped, good ones answer, a killed
job resumes to the same memory, manifests carry tags and wall-clock starts, Ray = process pool."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.cli import main
from mmagent import MMAgent, Settings
from tests.conftest import DATA, GRID, need

CLIPS = ["bbaf2n.mpg", "lbax4n.mpg", "swiz3n.mpg"]


def run(capsys, *argv: str) -> tuple[int, dict, str]:  # type: ignore[no-untyped-def,type-arg]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else {}), err


def snapshot(store: Path) -> list[tuple]:  # type: ignore[type-arg]
    with MMAgent(Settings.load(env={}, store=store, llm="none")) as a:
        return sorted((r.kind, r.level, r.text, r.entity_ids, r.sources) for r in a.store.scroll())


@pytest.fixture()
def library(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    shutil.copy(need(GRID / CLIPS[0]), lib / CLIPS[0])
    shutil.copy(GRID / CLIPS[1], lib / "sub" / CLIPS[1])
    return lib


def test_bad_sources_are_reported_and_the_good_ones_answer(capsys, library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (library / "notes.mp4").write_text("these are my notes, not a video")
    from mmagent.samples import concat_videos

    whole = tmp_path / "whole.mp4"
    concat_videos([GRID / CLIPS[2], GRID / CLIPS[2]], whole)
    (library / "cut.mp4").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # truncated
    shots = library / "screens"
    shots.mkdir()
    shutil.copy(need(DATA / "screens" / "omniparser" / "windows.png"), shots / "windows.png")
    (shots / "windows.json").write_text(json.dumps({"time": "2026-11-20T09:00:00Z", "app": "Desktop"}))
    store = str(tmp_path / "store")

    code, report, err = run(capsys, "batch", str(library), "--store", store, "--json")
    assert code == 1, err  # partial failure
    sources = report["sources"]
    assert report["counts"] == {"total": 5, "done": 3, "failed": 2, "pending": 0}
    failed = {Path(p).name: s["error"] for p, s in sources.items() if s["status"] == "failed"}
    assert set(failed) == {"notes.mp4", "cut.mp4"}, failed
    assert all(reason for reason in failed.values()) and "FAILED" in err
    done = {Path(p).name for p, s in sources.items() if s["status"] == "done"}
    assert done == {CLIPS[0], CLIPS[1], "screens"}
    code, answer, _ = run(capsys, "ask", "lay blue at x four now", "--store", store, "--json", "--llm", "none")
    assert answer["evidence"] and Path(answer["evidence"][0]["path"]).name == CLIPS[1]

    # again: nothing is indexed twice, a bad file is not retried until it changes
    code, again, _ = run(capsys, "batch", str(library), "--store", store, "--json")
    assert code == 1 and again["counts"] == report["counts"]
    assert all(again["sources"][p]["attempts"] == 1 for p in sources if sources[p]["status"] == "failed")
    assert all(again["sources"][p]["memories"] in (0, sources[p]["memories"]) for p in sources)
    code, status, _ = run(capsys, "batch", "status", "--store", store, "--json")
    assert status["job"]["counts"] == report["counts"] and status["job"]["finished"]


def test_a_manifest_carries_names_tags_and_start_times(capsys, library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "library.jsonl"
    manifest.write_text("\n".join(json.dumps(row) for row in (
        {"path": str(library / CLIPS[0]), "name": "lecture 1", "tags": ["lectures"], "start": "2026-11-20T09:00:00Z"},
        {"path": f"lib/sub/{CLIPS[1]}", "tags": ["meetings"]},  # relative to the manifest
    )))
    store = str(tmp_path / "store")
    code, report, err = run(capsys, "batch", str(manifest), "--store", store, "--json")
    assert code == 0 and report["counts"]["done"] == 2, err
    _, listing, _ = run(capsys, "sources", "--store", store, "--json")
    by_tag = {tuple(s["tags"]): s for s in listing["sources"]}
    assert by_tag[("lectures",)]["name"] == "lecture 1"
    _, answer, _ = run(capsys, "ask", "bin blue at f two now", "--store", store, "--json", "--llm", "none", "--tag", "lectures")
    top = answer["evidence"][0]
    assert Path(top["path"]).name == CLIPS[0] and top["wall_time"] == pytest.approx(1795165200.0 + top["start"], abs=0.01)
    _, answer, _ = run(capsys, "ask", "bin blue at f two now", "--store", store, "--json", "--llm", "none", "--tag", "meetings")
    assert all(Path(e["path"]).name == CLIPS[1] for e in answer["evidence"])


def test_a_killed_job_resumes_to_the_memory_of_an_uninterrupted_one(library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(GRID / CLIPS[2], library / CLIPS[2])
    exe = str(Path(sys.executable).with_name("mmagent"))
    env = dict(os.environ, MMAGENT_LLM="none", MMAGENT_WORKERS="1")
    store = tmp_path / "killed"
    job = subprocess.Popen([exe, "batch", str(library), "--store", str(store)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        states = list((store / "jobs").glob("*.json")) if (store / "jobs").is_dir() else []
        if states and json.loads(states[0].read_text())["counts"]["done"] >= 1:
            break
        time.sleep(0.1)
    os.killpg(job.pid, signal.SIGKILL)  # the whole job, workers included
    job.wait()
    state = json.loads(next((store / "jobs").glob("*.json")).read_text())
    assert 1 <= state["counts"]["done"] < 3, state["counts"]
    done_before = {p for p, s in state["sources"].items() if s["status"] == "done"}

    again = subprocess.run([exe, "batch", str(library), "--store", str(store), "--json"], env=env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["counts"] == {"total": 3, "done": 3, "failed": 0, "pending": 0}
    assert all(report["sources"][p]["attempts"] == 1 for p in done_before)  # not indexed twice

    whole = tmp_path / "whole"
    subprocess.run([exe, "batch", str(library), "--store", str(whole)], env=env, check=True, capture_output=True, timeout=600)
    assert snapshot(store) == snapshot(whole)


def test_ray_and_the_process_pool_build_the_same_memory(library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    exe = str(Path(sys.executable).with_name("mmagent"))
    env = dict(os.environ, MMAGENT_LLM="none", MMAGENT_THREADS="1")
    pool, ray = tmp_path / "pool", tmp_path / "ray"
    subprocess.run([exe, "batch", str(library), "--store", str(pool), "--workers", "2"], env=env, check=True,
                   capture_output=True, timeout=600)
    done = subprocess.run([exe, "batch", str(library), "--store", str(ray), "--ray", "local"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert snapshot(pool) == snapshot(ray)
