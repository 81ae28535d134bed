"""Issue 18: a capture (picture + sidecar) is written atomically. A recorder SIGKILLed in the middle
of saving one (a real subprocess, at each step of the write, and at random moments) never leaves
half a picture or half a sidecar that the indexer reads: the leftovers are named in one warning
each, the whole captures index as before, and the recorder's next start completes a capture whose
sidecar was placed and removes the rest. The sidecar itself is one typed record
(``perception.capture.CaptureSidecar``) read the same way by the indexer and the app."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perception.capture import CaptureSidecar, Patch, Skipped, finish_writes, read_sidecar, unfinished, write_capture
from perception.screens import list_captures, open_capture

ROOT = Path(__file__).resolve().parents[2]

# a recorder with scripted screens, windows and OCR (what the real OCR would read: the real
# recorder path with the real OCR runs in tests/apps/test_screen_recorder.py)
RECORDER = r"""
import os, sys, time
from pathlib import Path
import numpy as np
from apps.screen_recorder import Recorder
from apps.screen_sources import Window
from apps.screen_state import RecorderSettings
from models.base import TextBox

folder, crash_on, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
crash_at = os.environ.pop("RECORDER_CRASH_AT", "")
LINES = ["Invoice 4471 from Globex is due Friday", "Standup moved to 16:30", "Dana approved the budget review",
         "Deploy window opens at 22:00", "Lunch with Priya on Thursday"]
state = {"k": 0}

def grab():
    k = state["k"]
    image = np.full((400, 640, 3), 255, dtype=np.uint8)
    image[40 + 30 * (k % 8): 80 + 30 * (k % 8), 40:600] = (k * 37) % 200  # a different screen each time
    return [image]

class Text:
    def read(self, image):
        return [TextBox(f"{LINES[state['k'] % len(LINES)]} #{state['k']}", 0.99,
                        ((40.0, 60.0), (600.0, 60.0), (600.0, 100.0), (40.0, 100.0)))]

recorder = Recorder(folder, RecorderSettings(interval=0.0, focus_poll=0.0, retention_days=0),
                    grab=grab, window=lambda: Window("Mail", f"Message {state['k']}"), ocr=Text())
recorder.folder.mkdir(parents=True, exist_ok=True)
recorder.finish_writes()
print(recorder.status.recovered or "", flush=True)
base = 1_795_165_200.0
for k in range(count):
    state["k"] = k
    if k == crash_on and crash_at:
        os.environ["MMAGENT_CRASH_AT"] = crash_at
    recorder.tick(now=base + 45 * k)
"""


def record(folder: Path, count: int, crash_on: int = -1, crash: str = "") -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    env = dict(os.environ, PYTHONPATH=str(ROOT), RECORDER_CRASH_AT=crash)
    env.pop("MMAGENT_CRASH_AT", None)
    return subprocess.run([sys.executable, "-c", RECORDER, str(folder), str(crash_on), str(count)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def day_of(folder: Path) -> Path:
    days = [p for p in folder.iterdir() if p.is_dir()]
    assert len(days) == 1, days
    return days[0]


def whole(day: Path) -> list[str]:
    """The text of each capture the indexer reads; each picture it lists must decode."""
    captures, _ = list_captures(day)
    for c in captures:
        if c.image_kept:
            assert open_capture(c.path).size == (640, 400)
    return [line[0] for c in captures for line in c.ocr or ()]


STEPS = {  # crash point: (what is left before the next start, the capture after it)
    "capture:mid-file": ({".webp.tmp"}, False),  # half of the picture's temporary file
    "capture:picture-written": ({".webp.tmp"}, False),
    "capture:both-written": ({".webp.tmp", ".json.tmp"}, False),
    "capture:sidecar-placed": ({".webp.tmp"}, True),  # the sidecar is in place, its picture not yet
}


@pytest.mark.parametrize("point", sorted(STEPS))
def test_recorder_killed_mid_write_leaves_nothing_half_read(tmp_path: Path, point: str, capsys) -> None:  # type: ignore[no-untyped-def]
    killed = record(tmp_path / "rec", 3, crash_on=2, crash=point)
    assert killed.returncode == -9, killed.stderr
    day = day_of(tmp_path / "rec")
    left, completed = STEPS[point]
    leftovers = [p for ps in unfinished(day).values() for p in ps]
    assert {"." + ".".join(p.name.split(".")[-2:]) for p in leftovers} == left

    # the indexer: the two whole captures, one warning per leftover, nothing of the third read
    captures, skipped = list_captures(day)
    assert len(captures) == 2 and all(c.image_kept for c in captures)
    texts = whole(day)
    assert len(texts) == 2 and not any("#2" in t for t in texts)
    warned = {s.path.name: s.reason for s in skipped}
    for p in leftovers:
        assert "did not finish" in warned[p.name] and "recorder was stopped mid-write" in warned[p.name]
    if completed:
        assert "not in place yet" in warned[f"{leftovers[0].name[1:-len('.webp.tmp')]}.json"]
    assert not [s for s in skipped if "unreadable" in s.reason]

    # through the CLI: exit 0, a warning line per leftover, the whole captures answer
    from apps.cli import main

    store = tmp_path / "store"
    code = main(["index", str(day), "--store", str(store), "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("mmagent: warning:") and "did not finish" in ln]
    assert len(lines) == len(leftovers)
    assert json.loads(out)["sources"][0]["memories_added"] >= 1

    # the next start finishes what can be finished and removes the rest
    again = record(tmp_path / "rec", 0)
    assert again.returncode == 0, again.stderr
    assert "the last run stopped while saving a capture" in again.stdout
    assert unfinished(day) == {}
    texts = whole(day)
    assert len(texts) == (3 if completed else 2) and any("#2" in t for t in texts) == completed
    assert main(["index", str(day), "--store", str(store)]) == 0  # the day is brought up to date, no warning left
    assert "did not finish" not in capsys.readouterr().err


def test_recorder_killed_at_random_moments_never_leaves_a_corrupt_capture(tmp_path: Path) -> None:
    """Real SIGKILLs at moments nobody chose: whatever is listed reads whole."""
    folder = tmp_path / "rec"
    rng = random.Random(18)
    for round_ in range(3):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("MMAGENT_CRASH_AT", None)
        script = RECORDER.replace("base = 1_795_165_200.0", f"base = 1_795_165_200.0 + {round_} * 100_000")
        with subprocess.Popen([sys.executable, "-c", script, str(folder), "-1", "100000"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT) as proc:
            assert proc.stdout is not None
            proc.stdout.readline()  # started (imports done, leftovers of the last round handled)
            time.sleep(rng.uniform(0.3, 1.5))
            proc.kill()
            proc.wait(timeout=30)
        for day in (p for p in folder.iterdir() if p.is_dir()):
            captures, skipped = list_captures(day)
            assert not [s for s in skipped if "unreadable" in s.reason or "not an object" in s.reason], skipped
            whole(day)
            for c in captures:
                sidecar = read_sidecar(c.path.with_suffix(".json"))
                assert sidecar is not None and sidecar.recorded and sidecar.schema_version == 1


def test_the_sidecar_record_reads_what_the_recorder_writes_and_drops_what_it_cannot_use(tmp_path: Path) -> None:
    record = CaptureSidecar(1_795_165_200.5, "Mail", "Inbox", (("Invoice 4471", 0.99, ((1.0, 2.0), (3.0, 4.0))),),
                            monitor=0, redacted=("card",), blacked_out=1, read="band", patch=Patch("a.webp", 10, 64, 48))
    write_capture(tmp_path, "c0", b"picture", ".webp", record)
    assert (tmp_path / "c0.webp").read_bytes() == b"picture" and unfinished(tmp_path) == {}
    assert read_sidecar(tmp_path / "c0.json") == record
    # times without a zone are UTC for every reader (the app read them as local time)
    (tmp_path / "c1.json").write_text(json.dumps({"time": "2026-11-20T09:00:00", "app": "Mail"}))
    from datetime import datetime, timezone

    utc = datetime(2026, 11, 20, 9, tzinfo=timezone.utc).timestamp()
    assert read_sidecar(tmp_path / "c1.json").time == utc  # type: ignore[union-attr]
    from apps.desktop.captures import read_capture

    assert read_capture(tmp_path / "c1.webp").time == utc and read_capture(tmp_path / "c1.webp").app == "Mail"
    # wrong types are dropped one by one, the warning names the file; recorder fields too
    notes: list[Skipped] = []
    (tmp_path / "c2.json").write_text(json.dumps({"time": 1e308, "app": 5, "window": {"x": 1}, "monitor": "left",
                                                  "patch": {"base": "../../etc/passwd", "top": 0, "width": 9, "height": 9},
                                                  "ocr": [{"text": 7}], "redacted": "card"}))
    bad = read_sidecar(tmp_path / "c2.json", notes)
    assert bad is not None and (bad.time, bad.app, bad.window, bad.monitor, bad.patch, bad.ocr, bad.redacted) == \
        (None, None, None, None, None, None, ())
    assert set(bad.dropped) == {"time", "app", "window", "patch", "ocr"} and not bad.recorded
    assert len(notes) == 1 and notes[0].path.name == "c2.json" and "'app' is int" in notes[0].reason
    # not an object, not JSON, nested too deep: None, with a warning
    for name, text, why in (("c3.json", "[1, 2]", "not an object"), ("c4.json", '{"time": 17', "unreadable"),
                            ("c5.json", "[" * 100_000 + "]" * 100_000, "nested too deeply")):
        (tmp_path / name).write_text(text)
        notes = []
        assert read_sidecar(tmp_path / name, notes) is None and why in notes[0].reason
    assert read_sidecar(tmp_path / "missing.json") is None
    # an older recorder's sidecar (no version): read as version 0
    (tmp_path / "c6.json").write_text(json.dumps({"time": 1_795_165_200, "ocr": [{"text": "hi", "score": 1, "box": []}]}))
    old = read_sidecar(tmp_path / "c6.json")
    assert old is not None and old.recorded and old.schema_version == 0


def test_finish_writes_completes_a_placed_capture_and_removes_the_rest(tmp_path: Path) -> None:
    record = CaptureSidecar(1_795_165_200.0, "Mail", "Inbox", (("x", 1.0, ()),))
    (tmp_path / "a.json").write_text(json.dumps(record.to_json()))  # placed: its picture waits beside it
    (tmp_path / ".a.webp.tmp").write_bytes(b"whole picture")
    (tmp_path / ".b.webp.tmp").write_bytes(b"half")  # no sidecar placed: never finished
    (tmp_path / ".b.json.tmp").write_bytes(b'{"ti')
    assert set(unfinished(tmp_path)) == {"a", "b"}
    assert finish_writes(tmp_path) == (1, 2)
    assert (tmp_path / "a.webp").read_bytes() == b"whole picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.webp"]
