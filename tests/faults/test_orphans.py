"""Issue 18: ``kill -9`` of ``mmagent index --workers 2`` leaves no perception worker (nor the
resource tracker they hold open) running: workers watch their parent and exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import GRID, need

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_exit_when_the_main_process_is_killed(tmp_path: Path) -> None:
    from mmagent.samples import concat_videos

    video = tmp_path / "long.mp4"
    concat_videos([need(GRID / n) for n in ("bbaf2n.mpg", "lbax4n.mpg", "swiz3n.mpg")] * 8, video)  # 72 s: 3 clips
    env = dict(os.environ, MMAGENT_LLM="none", PYTHONPATH=str(ROOT), MMAGENT_CLIP_SECONDS="10")
    main = subprocess.Popen([sys.executable, "-m", "apps.cli", "index", str(video), "--store", str(tmp_path / "store"),
                             "--workers", "2"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        kids: set[int] = set()
        while time.monotonic() < deadline and main.poll() is None:
            kids = _children(main.pid)
            if len(kids) >= 3:  # the resource tracker and two workers
                break
            time.sleep(0.2)
        assert len(kids) >= 3, f"workers did not start: {kids}"
        time.sleep(2.0)  # the workers are loading models / working
        kids = _children(main.pid) | kids
        main.send_signal(signal.SIGKILL)
        main.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.2)
        left = [k for k in kids if _alive(k)]
        assert not left, f"still running after the main process was killed: {left}"
    finally:
        try:
            os.killpg(main.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
