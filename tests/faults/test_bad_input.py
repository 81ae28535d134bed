"""Issue 18, bad input: sidecars of the wrong type, pictures that are no screenshots, manifests
with impossible times or an open quote. Each gives a warning or a per-entry error naming the file
(or line), never a traceback; the rest is indexed."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from apps.cli import main
from mmagent.batch import discover
from mmagent.errors import SettingsError
from perception.screens import list_captures, screen_clips
from tests.conftest import DATA, GRID, need

SHOT = DATA / "screens" / "omniparser" / "windows.png"


def _png_header(path: Path, width: int, height: int) -> None:
    """A PNG that declares width x height pixels in a few bytes (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


@pytest.fixture()
def bad_folder(tmp_path: Path) -> Path:
    shots = tmp_path / "shots"
    shots.mkdir()
    sidecars = {
        "app_int": '{"time": "2026-11-20T09:00:00Z", "app": 5, "window": {"title": "x"}}',
        "huge_time": '{"time": 1e308, "app": "Excel"}',
        "nan_time": '{"time": NaN, "window": ["a", "b"]}',
        "inf_time": '{"time": -Infinity}',
        "not_json": "this is not JSON at all",
        "deep": "[" * 100_000 + "]" * 100_000,
        "list": "[1, 2, 3]",
        "good": '{"time": "2026-11-20T09:05:00Z", "app": "Desktop", "window": "Windows licence"}',
    }
    for stem, text in sidecars.items():
        shutil.copy(need(SHOT), shots / f"{stem}.png")
        (shots / f"{stem}.json").write_text(text)
    _png_header(shots / "bomb.png", 20000, 20000)
    os.symlink("loop.png", shots / "loop.png")
    return shots


def test_wrong_sidecar_fields_are_ignored_with_a_warning_naming_the_file(bad_folder: Path) -> None:
    captures, skipped = list_captures(bad_folder)
    why = {p.name: reason for p, reason in ((s.path, s.reason) for s in skipped)}
    assert {c.path.stem for c in captures} == {"app_int", "huge_time", "nan_time", "inf_time", "not_json", "deep", "list", "good"}
    assert "'app' is int" in why["app_int.json"] and "'window' is dict" in why["app_int.json"]
    assert "'time' 1e+308 is not a time" in why["huge_time.json"]
    assert "'time' nan" in why["nan_time.json"] and "'window' is list" in why["nan_time.json"]
    assert "'time' -inf" in why["inf_time.json"]
    assert "unreadable sidecar JSON" in why["not_json.json"] and "nested too deeply" in why["deep.json"]
    assert "not an object" in why["list.json"]
    assert "decompression bomb" in why["bomb.png"] or "pixels" in why["bomb.png"]
    assert "leads nowhere" in why["loop.png"]
    assert all("\n" not in r for r in why.values())
    by = {c.path.stem: c for c in captures}
    assert by["app_int"].app is None and by["app_int"].window is None and by["app_int"].time_from == "sidecar"
    assert by["huge_time"].app == "Excel" and by["huge_time"].time_from != "sidecar"
    assert by["good"].window == "Windows licence"
    # the clips are built (the window titles are redacted text: a dict there was a TypeError)
    clips = list(screen_clips(captures, "s", 30.0, None, 64, skipped))
    assert sum(len(c.keyframes) for c in clips) == len(captures)


def test_index_of_a_folder_with_bad_sidecars_warns_and_indexes_the_rest(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shots = tmp_path / "shots"
    shots.mkdir()
    shutil.copy(need(SHOT), shots / "a.png")
    (shots / "a.json").write_text('{"time": "2026-11-20T09:00:00Z", "app": 5, "window": {"x": 1}}')
    _png_header(shots / "bomb.png", 20000, 20000)
    os.symlink("loop.png", shots / "loop.png")
    code = main(["index", str(shots), "--store", str(tmp_path / "store"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    assert json.loads(out)["sources"][0]["memories_added"] >= 1
    assert f"{shots / 'a.json'}: sidecar field 'app' is int, not text; 'window' is dict, not text: ignored" in err
    assert f"{shots / 'bomb.png'}: unreadable image" in err and f"{shots / 'loop.png'}: a link" in err


def test_manifest_entries_with_impossible_starts_fail_alone(tmp_path: Path) -> None:
    manifest = tmp_path / "lib.jsonl"
    rows = [{"path": "a.mp4", "start": 1e300}, {"path": "b.mp4", "start": "NaN"}, {"path": "c.mp4", "start": "Infinity"},
            {"path": "d.mp4", "start": "2024-05-01T10:00:00Z", "tags": 5}, {"path": "e.mp4", "start": 1714557600}]
    manifest.write_text("\n".join(json.dumps(r) for r in rows))
    sources = discover(manifest)
    assert [Path(s.path).name for s in sources] == ["a.mp4", "b.mp4", "c.mp4", "d.mp4", "e.mp4"]
    assert "line 1: start 1e+300 is not a time" in sources[0].error
    assert "line 2: start 'NaN' is not a time" in sources[1].error
    assert "start 'Infinity'" in sources[2].error
    assert "tags 5 are not a list" in sources[3].error
    assert sources[4].error == "" and sources[4].start == 1714557600.0


def test_csv_manifest_with_an_open_quote_names_the_line(tmp_path: Path) -> None:
    manifest = tmp_path / "lib.csv"
    manifest.write_text('path,name,start\na.mp4,A,\n\nb.mp4,"B oops,\nc.mp4,C,\nd.mp4,D,\ne.mp4,E,\nf.mp4,F,\n')
    with pytest.raises(SettingsError, match=r"lib.csv: line 4: a quote is not closed \(the field runs over lines 4-8\)"):
        discover(manifest)
    manifest.write_text('path,name,start\na.mp4,A,\n\nb.mp4,"B, quoted",2024-01-01\n')
    assert [s.name for s in discover(manifest)] == ["A", "B, quoted"]


def test_a_batch_with_a_bad_start_runs_the_other_rows_and_reruns_cleanly(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clip = need(GRID / "bbaf2n.mpg")
    for name in ("good.mpg", "huge.mpg", "nan.mpg"):
        shutil.copy(clip, tmp_path / name)
    manifest = tmp_path / "lib.csv"
    manifest.write_text("path,start\nhuge.mpg,1e300\nnan.mpg,NaN\ngood.mpg,2024-05-01T10:00:00Z\n")
    store = str(tmp_path / "store")
    for attempt in range(2):  # a rerun does not crash on the bad rows either
        code = main(["batch", str(manifest), "--store", store, "--json"])
        out, err = capsys.readouterr()
        assert code == 1 and "Traceback" not in err
        doc = json.loads(out)
        by = {Path(p).name: s for p, s in doc["sources"].items()}
        assert by["good.mpg"]["status"] == "done"
        assert by["huge.mpg"]["status"] == "failed" and "lib.csv line 2: start '1e300' is not a time" in by["huge.mpg"]["error"]
        assert by["nan.mpg"]["status"] == "failed" and "line 3: start 'NaN'" in by["nan.mpg"]["error"]
    # fixed in the manifest, the row runs
    manifest.write_text("path,start\nhuge.mpg,2024-05-01T11:00:00Z\nnan.mpg,NaN\ngood.mpg,2024-05-01T10:00:00Z\n")
    main(["batch", str(manifest), "--store", store, "--json"])
    doc = json.loads(capsys.readouterr()[0])
    assert {Path(p).name: s["status"] for p, s in doc["sources"].items()} == {"huge.mpg": "done", "nan.mpg": "failed", "good.mpg": "done"}
