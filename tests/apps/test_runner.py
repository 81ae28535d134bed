"""The map stage's runners on real media: in-process, a process pool and Ray Data give the same
observations; a real kill resumes without redoing finished clips; a changed setting recomputes
only the signals it affects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmagent.samples import concat_videos
from tests.conftest import GRID, need

EXE = str(Path(sys.executable).with_name("mmagent"))


@pytest.fixture(scope="module")
def grid_minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 11 GRID clips twice over: 66 s of speech with faces."""
    names = sorted(need(GRID).glob("*.mpg"))
    out = tmp_path_factory.mktemp("grid2") / "grid2.mp4"
    concat_videos(names + names, out)
    return out


def observations(store: Path) -> list[dict]:  # type: ignore[type-arg]
    files = sorted(store.glob("perception/*/*/clip_*.json"))
    return [json.loads(f.read_text())["observation"] for f in files]


def index(video: Path, store: Path, *flags: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [EXE, "index", str(video), "--store", str(store), "--json", *flags],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["sources"][0]


def test_pool_ray_and_in_process_give_the_same_observations(grid_minute, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, MMAGENT_CLIP_SECONDS="10", RAY_AUTH_MODE="disabled")
    # one process with the one thread each pool worker gets (thread counts move float sums)
    one = index(grid_minute, tmp_path / "one", "--workers", "1", env=dict(env, MMAGENT_THREADS="1"))
    pool = index(grid_minute, tmp_path / "pool", "--workers", "2", env=env)
    ray = index(grid_minute, tmp_path / "ray", "--ray", "local", "--workers", "2", env=env)
    assert one["perception"]["runner"] == "in-process"
    assert pool["perception"]["runner"] == "pool" and pool["perception"]["workers"] == 2
    assert ray["perception"]["runner"] == "ray"
    assert one["clips"] == pool["clips"] == ray["clips"] == 7
    a, b, c = observations(tmp_path / "one"), observations(tmp_path / "pool"), observations(tmp_path / "ray")
    assert len(a) == 7 and a == b == c
    # the signals are really there: speech, one GRID speaker's face and voice in every clip
    assert all(o["segments"] and o["faces"] and o["turns"] and o["voice_segments"] and o["captions"] for o in a)


def test_a_killed_run_resumes_with_the_missing_clips_only(grid_minute, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, MMAGENT_CLIP_SECONDS="6")
    store = tmp_path / "killed"
    proc = subprocess.Popen(
        [EXE, "index", str(grid_minute), "--store", str(store), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while len(list(store.glob("perception/*/*/clip_*.json"))) < 3:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # no clean-up of any kind
    proc.wait()
    before = len(list(store.glob("perception/*/*/clip_*.json")))
    assert 3 <= before < 11

    resumed = index(grid_minute, store, "--workers", "1", env=env)
    assert resumed["perception"]["clips_reused"] == before
    assert resumed["perception"]["clips_computed"] == 11 - before
    whole = index(grid_minute, tmp_path / "whole", "--workers", "1", env=env)
    assert observations(store) == observations(tmp_path / "whole")
    assert resumed["memories_added"] == whole["memories_added"]


def test_a_changed_setting_recomputes_only_what_it_affects(asr, grid_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import models
    from perception.decode import probe
    from perception.map import Perceiver
    from perception.map_settings import PerceptionOptions

    path, _ = grid_video
    info = probe(path)
    opts = PerceptionOptions(clip_seconds=10, ocr=False)
    cache = tmp_path / "cache"
    first = list(Perceiver(opts, asr, None).observe(path, info, "grid", cache))
    assert all(c.faces == () for c in first)

    counting = _CountingASR(asr)
    face = models.create("face_encoder", "dlib")
    with_faces = Perceiver(opts, counting, None, None, face, None, models.create("captioner", "composed"))
    assert with_faces.pending(info, cache) == [0, 1, 2, 3]
    second = list(with_faces.observe(path, info, "grid", cache))
    assert counting.calls == 0  # speech was reused, not recomputed
    assert [c.segments for c in second] == [c.segments for c in first]
    assert all(c.faces for c in second[:3]) and all(c.captions for c in second)
    assert with_faces.pending(info, cache) == []
    # and back: turning faces off again needs no model run either
    assert list(Perceiver(opts, counting, None).observe(path, info, "grid", cache))[0].faces == ()
    assert counting.calls == 0


class _CountingASR:
    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.calls = inner, 0
        self.model_id, self.sample_rate = inner.model_id, inner.sample_rate

    def transcribe_batch(self, audios):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.inner.transcribe_batch(audios)


def test_an_unreachable_ray_cluster_is_one_line_and_exit_1(grid_minute, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, MMAGENT_CLIP_SECONDS="10", RAY_AUTH_MODE="disabled")
    done = subprocess.run(
        [EXE, "index", str(grid_minute), "--store", str(tmp_path / "s"), "--ray", "127.0.0.1:9"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("mmagent: error: cannot start or reach the Ray cluster '127.0.0.1:9'"), done.stderr
