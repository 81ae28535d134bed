"""Issue 18, no silent capture loss: capture that stops while "recording" is seen and said, and
capture starts again by itself.

- In process: a screen grab that blocks (a real blocking call, released later) makes the watchdog
  say ``stalled`` and start a new capture loop, which captures; the stuck loop's late result is
  dropped, and it ends.
- A real recorder (``mmagent screen start``) on a real X server that stops answering (Xvfb
  SIGSTOPped): ``screen status`` warns within ``--stall-after`` seconds, the recorder restarts its
  capture loop, and once the server answers again capture goes on and the warning goes away. A
  recorder that is itself frozen (SIGSTOP) is seen from outside: it wrote no status for too long.
- ``kill -9`` leaves the PID file behind: ``screen start`` starts anyway, also when the dead
  recorder's PID now belongs to another process."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from apps import screen_control as control
from apps.screen_recorder import Recorder
from apps.screen_sources import Window
from apps.screen_state import RecorderSettings
from tests.faults import cli


class NoText:
    """An OCR that reads nothing (the pictures here are blank)."""

    def read(self, image: Any) -> list[Any]:
        return []


def until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if got := check():
            return got
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def written(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def test_a_grab_that_blocks_is_said_and_a_new_capture_loop_takes_over(tmp_path: Path) -> None:
    shade = itertools.count()  # every grab a change
    release = threading.Event()  # the first loop's stuck grab returns
    resume = threading.Event()  # a new loop's first grab returns (once the warning was read)
    loops: list[threading.Thread] = []
    calls: Counter[threading.Thread] = Counter()

    def grab() -> list[Any]:
        me = threading.current_thread()
        if me not in loops:
            loops.append(me)
        calls[me] += 1
        if me is loops[0] and calls[me] == 3:
            release.wait()  # the first loop's third grab does not return until released
        elif me is not loops[0] and calls[me] == 1:
            resume.wait()
        return [np.full((120, 200, 3), next(shade) % 250, np.uint8)]

    recorder = Recorder(tmp_path, RecorderSettings(interval=0.05, focus_poll=0, same_window_gap=0, stall_after=0.6),
                        grab=grab, window=lambda: Window("Editor", "Notes"), ocr=NoText())
    runner = threading.Thread(target=recorder.run, kwargs={"seconds": 120})
    runner.start()
    try:
        said = until(lambda: written(tmp_path).get("stalled"), 30, "the stall said in status.json")
        assert "no screen grab for" in said and "restarted" in said
        assert written(tmp_path)["restarts"] >= 1 and len(loops) >= 2
        before = written(tmp_path)["stored"]
        resume.set()
        after = until(lambda: (d := written(tmp_path)).get("stored", 0) > before and d, 30, "captures after the restart")
        assert after["stalled"] is None and after["restarts"] >= 1
        release.set()  # the stuck grab returns: its frame is dropped, its loop ends
        for old in loops[:-1]:
            old.join(timeout=10)
            assert not old.is_alive()
        assert [t for t in threading.enumerate() if t.name == "mmagent-capture"] == [loops[-1]]
    finally:
        release.set()
        resume.set()
        recorder.stop_event.set()
        runner.join(timeout=10)
    assert not runner.is_alive() and not loops[-1].is_alive()


def test_a_slow_round_is_no_stall(tmp_path: Path) -> None:
    """Near-miss: rounds slower than the interval but inside ``stall_after``, and a paused
    recorder, are not stalls."""
    def slow() -> list[Any]:
        time.sleep(0.3)
        return [np.zeros((120, 200, 3), np.uint8)]

    recorder = Recorder(tmp_path, RecorderSettings(interval=0.05, focus_poll=0, stall_after=15.0), grab=slow,
                        window=lambda: Window("Editor", "Notes"), ocr=NoText())
    status = recorder.run(seconds=2.5)
    assert status.restarts == 0 and status.stalled is None and status.captured >= 2
    recorder = Recorder(tmp_path, RecorderSettings(interval=0.05, focus_poll=0, stall_after=0.3), grab=slow, ocr=NoText())
    recorder.paused_file.write_text("")
    status = recorder.run(seconds=1.5)
    assert status.restarts == 0 and status.paused == "paused by the user" and status.captured == 0


# -- a real recorder on a real X server --------------------------------------------------------


def screen(*argv: str, display: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return cli("screen", *argv, env={"DISPLAY": display}, timeout=120)


def test_a_display_that_stops_answering_is_warned_and_capture_comes_back(tmp_path: Path, xserver) -> None:  # type: ignore[no-untyped-def]
    display, xvfb = xserver
    folder = tmp_path / "rec"

    def status() -> dict[str, Any]:
        done = screen("status", "--folder", str(folder), "--json", display=display)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    started = screen("start", "--folder", str(folder), "--interval", "0.3", "--stall-after", "2", "--no-index",
                     "--json", display=display)
    assert started.returncode == 0, started.stderr
    pid = json.loads(started.stdout)["pid"]
    try:
        first = until(lambda: (s := status()).get("captured", 0) >= 2 and s, 60, "capture")
        assert first["recording"] and first["stalled"] is None and first["last_round_age"] < 2
        xvfb.send_signal(signal.SIGSTOP)  # the display server stops answering: a grab blocks
        until(lambda: status()["stalled"], 30, "the stall warned")  # seen from outside, or said by the recorder
        stalled = until(lambda: (s := status()).get("restarts", 0) >= 1 and s, 30, "the capture loop restarted")
        assert stalled["recording"] and "restarted" in stalled["stalled"], stalled
        text = screen("status", "--folder", str(folder), display=display).stdout
        assert "WARNING: capture stalled" in text and "last screen grab" in text, text
        xvfb.send_signal(signal.SIGCONT)
        grabs = stalled["captured"]
        back = until(lambda: (s := status())["stalled"] is None and s.get("captured", 0) > grabs and s, 60,
                     "capture again, the warning gone")
        assert back["recording"] and back["last_round_age"] < 2

        os.kill(pid, signal.SIGSTOP)  # the recorder itself frozen: it writes no status, seen from outside
        frozen = until(lambda: (s := status())["stalled"] and s, 30, "a frozen recorder seen")
        assert "no word from the recorder" in frozen["stalled"]
        os.kill(pid, signal.SIGCONT)
        until(lambda: status()["stalled"] is None, 30, "the recorder writes again")
    finally:
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGKILL)  # no clean-up of any kind: the PID file stays
        until(lambda: not control.recorder_pid(folder), 10, "the recorder gone")
    assert (folder / "recorder.pid").is_file()
    assert status()["recording"] is False
    again = screen("start", "--folder", str(folder), "--interval", "0.3", "--no-index", "--json", display=display)
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)["pid"]
    assert until(lambda: status()["recording"], 30, "recording again")
    assert screen("stop", "--folder", str(folder), display=display).returncode == 0

    # the dead recorder's PID now names another process (here: the X server): no recorder runs
    (folder / "recorder.pid").write_text(str(xvfb.pid))
    assert status()["recording"] is False
    third = screen("start", "--folder", str(folder), "--interval", "0.3", "--no-index", "--json", display=display)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["pid"] not in (second, xvfb.pid)
    assert screen("stop", "--folder", str(folder), display=display).returncode == 0
    assert xvfb.poll() is None  # the other process was never signalled
