import json
import os
import shutil
from datetime import datetime, timezone

import pytest

from perception.errors import EmptyMedia, NotMedia
from perception.screens import list_captures, screen_clips, screens_source_id
from tests.conftest import DATA, need

SHOTS = DATA / "screens" / "omniparser"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def test_capture_times_in_order_of_trust(tmp_path) -> None:  # type: ignore[no-untyped-def]
    need(SHOTS)
    shutil.copy(SHOTS / "excel.png", tmp_path / "a.png")
    (tmp_path / "a.json").write_text(json.dumps({"time": "2026-11-20T09:00:00Z", "app": "Excel", "window": "Book1"}))
    shutil.copy(SHOTS / "word.png", tmp_path / "2026-11-20_09-00-40.png")
    shutil.copy(SHOTS / "windows.png", tmp_path / "capture-1795165300.png")
    shutil.copy(SHOTS / "onenote.png", tmp_path / "z.png")
    os.utime(tmp_path / "z.png", (ts("2026-11-20T09:03:00"), ts("2026-11-20T09:03:00")))
    (tmp_path / "broken.png").write_text("not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    captures, skipped = list_captures(tmp_path)
    assert [(c.path.name, c.time_from) for c in captures] == [
        ("a.png", "sidecar"),
        ("2026-11-20_09-00-40.png", "filename"),
        ("capture-1795165300.png", "filename"),
        ("z.png", "mtime"),
    ]
    assert captures[0].wall_time == ts("2026-11-20T09:00:00") and captures[0].window == "Book1"
    assert captures[1].wall_time == ts("2026-11-20T09:00:40")
    assert [(s.path.name, s.reason.split(" (")[0]) for s in skipped] == [("broken.png", "unreadable image")]
    assert screens_source_id(captures) == screens_source_id(list_captures(tmp_path)[0])


def test_folders_without_usable_screenshots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotMedia, match="has no screenshots"):
        list_captures(tmp_path)
    (tmp_path / "x.png").write_text("nope")
    with pytest.raises(EmptyMedia, match="none of its screenshots"):
        list_captures(tmp_path)


def test_clips_by_wall_clock_window_with_ocr(ocr, tmp_path) -> None:  # type: ignore[no-untyped-def]
    need(SHOTS)
    for k, name in enumerate(("windows.png", "excel.png")):
        shutil.copy(SHOTS / name, tmp_path / f"{name}")
        stamp = f"2026-11-20T09:0{k * 2}:05Z"
        (tmp_path / name).with_suffix(".json").write_text(json.dumps({"time": stamp, "app": name.split(".")[0]}))
    captures, _ = list_captures(tmp_path)
    clips = list(screen_clips(captures, "s", 30.0, ocr, 1920, []))
    assert [(c.clip_index, c.start) for c in clips] == [(0, 0.0), (4, 120.0)]
    assert clips[0].wall_start == ts("2026-11-20T09:00:05")
    assert clips[1].keyframes[0].app == "excel" and clips[1].keyframes[0].image == str(tmp_path / "excel.png")
    assert any("Windows 11" in line.text for line in clips[0].ocr_lines())
