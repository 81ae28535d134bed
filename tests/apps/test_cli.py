"""The command line end to end, on real media with the real models (the CLI code runs in-process
through ``apps.cli.main``; one test runs the installed ``mmagent`` executable)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apps.cli import main


def run(capsys, *argv: str) -> tuple[int, dict, str]:  # type: ignore[no-untyped-def, type-arg]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in argv and out.strip() else {}), err


@pytest.fixture(scope="module")
def grid_store(tmp_path_factory, grid_video):  # type: ignore[no-untyped-def]
    store = tmp_path_factory.mktemp("store")
    assert main(["index", str(grid_video[0]), "--store", str(store), "--json"]) == 0
    return store


def overlaps(e: dict, start: float, end: float) -> bool:  # type: ignore[type-arg]
    return e["start"] < end and e["end"] > start


def test_every_grid_sentence_is_found_at_its_time(capsys, grid_store, grid_video) -> None:  # type: ignore[no-untyped-def]
    path, truth = grid_video
    capsys.readouterr()
    for phrase, start, end in truth:
        code, doc, _ = run(capsys, "ask", phrase, "--store", str(grid_store), "--json", "--llm", "none")
        assert code == 0
        assert doc["evidence"], phrase
        top = doc["evidence"][0]
        assert overlaps(top, start, end), (phrase, start, end, top)
        assert top["end"] - top["start"] < 5  # sentence-level, not the 30 s clip
        assert top["path"] == str(path.resolve()) and top["kind"] == "episodic"
        assert set(top) >= {"source_id", "path", "start", "end", "kind", "memory_id", "text", "score"}
        assert doc["rounds"] == 1


def test_reindex_is_a_noop_and_a_reopened_store_answers_the_same(capsys, grid_store, grid_video) -> None:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    q = "lay red with p nine again"
    _, first, _ = run(capsys, "ask", q, "--store", str(grid_store), "--json", "--llm", "none")
    code, doc, _ = run(capsys, "index", str(grid_video[0]), "--store", str(grid_store), "--json")
    assert code == 0
    assert doc["sources"][0]["memories_added"] == 0 and doc["sources"][0]["clips"] == 2
    _, second, _ = run(capsys, "ask", q, "--store", str(grid_store), "--json", "--llm", "none")
    assert first == second


def test_bad_file_fails_cleanly_and_the_store_still_answers(capsys, tmp_path, grid_video) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "store"
    path, truth = grid_video
    good = tmp_path / "good.mp4"
    shutil.copy(path, good)
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, doc, _ = run(capsys, "index", str(good), "--store", str(store), "--json")
    assert code == 0 and doc["sources"][0]["memories_added"] == 3  # 2 clips and their scene
    snapshot = sorted(p.relative_to(store).as_posix() for p in (store / "sources").iterdir())
    for bad, reason in ((notes, "not a video"), (cut, "truncated or damaged"), (tmp_path / "gone.mp4", "no such file")):
        code, doc, err = run(capsys, "index", str(bad), "--store", str(store), "--json")
        assert code == 1
        lines = [line for line in err.splitlines() if line.startswith("mmagent: error:")]
        assert len(lines) == 1 and str(bad) in lines[0] and reason in lines[0]
        assert doc == {"sources": [], "errors": [{"path": str(bad), "error": doc["errors"][0]["error"]}]}
    assert sorted(p.relative_to(store).as_posix() for p in (store / "sources").iterdir()) == snapshot
    code, doc, _ = run(capsys, "ask", truth[3][0], "--store", str(store), "--json", "--llm", "none")
    assert code == 0 and overlaps(doc["evidence"][0], truth[3][1], truth[3][2])
    code, doc, _ = run(capsys, "sources", "--store", str(store), "--json")
    assert len(doc["sources"]) == 1


def test_good_and_bad_paths_in_one_call(capsys, tmp_path, grid_video) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"\x00" * 1000)
    code, doc, _ = run(capsys, "index", str(bad), str(grid_video[0]), "--store", str(tmp_path / "s"), "--json")
    assert code == 1  # partial failure is still a failure
    assert len(doc["sources"]) == 1 and doc["errors"][0]["path"] == str(bad)


def test_before_and_source_filters(capsys, grid_store, grid_video) -> None:  # type: ignore[no-untyped-def]
    _, truth = grid_video
    phrase, start, _end = truth[8]  # about 24 s in
    capsys.readouterr()
    _, doc, _ = run(capsys, "ask", phrase, "--store", str(grid_store), "--json", "--llm", "none", "--before", str(start))
    assert all(e["start"] < start and e["end"] <= start for e in doc["evidence"])
    _, listing, _ = run(capsys, "sources", "--store", str(grid_store), "--json")
    sid = listing["sources"][0]["source_id"]
    _, doc, _ = run(capsys, "ask", phrase, "--store", str(grid_store), "--json", "--llm", "none", "--source", sid[:8])
    assert doc["evidence"] and all(e["source_id"] == sid for e in doc["evidence"])
    code, _, err = run(capsys, "ask", phrase, "--store", str(grid_store), "--source", "ffff0000")
    assert code == 1 and "no indexed source matches" in err


def test_empty_store_and_unrelated_questions_are_not_found(capsys, tmp_path, grid_store) -> None:  # type: ignore[no-untyped-def]
    code, doc, _ = run(capsys, "ask", "what is the invoice number?", "--store", str(tmp_path / "empty"), "--json")
    assert code == 0 and doc["answer"] == "Not found in memory." and doc["evidence"] == []
    code, doc, _ = run(capsys, "ask", "What is the capital of France?", "--store", str(grid_store), "--json")
    assert code == 0 and doc["answer"] == "Not found in memory." and doc["evidence"] == []
    code, doc, _ = run(capsys, "entities", "--store", str(tmp_path / "empty"), "--json")
    assert code == 0 and doc == {"entities": []}


def test_a_person_by_their_order_of_appearance(capsys, grid_store) -> None:  # type: ignore[no-untyped-def]
    """People counted in the order they first appear: the same man in clips 2 (6-9 s) and 7
    (21-24 s) is one person, so the eighth person on camera is the one of clip 8 (24-27 s)."""
    cases = [
        ("What did the first person on camera say?", [(0, 3)]),
        ("what did the third person on screen say", [(6, 9), (21, 24)]),
        ("Tell me what the eighth person on camera said.", [(24, 27)]),
        ("What did the last person on camera say?", [(30, 33)]),
    ]
    for question, spans in cases:
        code, doc, _ = run(capsys, "ask", question, "--store", str(grid_store), "--json", "--llm", "none")
        assert code == 0 and doc["evidence"], (question, doc)
        assert all(any(overlaps(e, a - 0.5, b + 0.5) for a, b in spans) for e in doc["evidence"]), (question, doc["evidence"])
    code, doc, _ = run(capsys, "ask", "What did the fortieth person on camera say?", "--store", str(grid_store), "--json")
    assert code == 0 and doc["answer"] == "Not found in memory." and "fortieth person on camera" in doc["note"]


def test_entities_list_show_rename_and_forget(capsys, tmp_path, grid_store, grid_video) -> None:  # type: ignore[no-untyped-def]
    """The 11 GRID clips: 10 people on screen (two clips are the same man), through the CLI."""
    store = tmp_path / "copy"
    shutil.copytree(grid_store, store)
    code, doc, _ = run(capsys, "entities", "--store", str(store), "--json")
    people = doc["entities"]
    faces = [f for p in people for f in p["faces"]]
    assert code == 0 and len(faces) == 10 and len(set(faces)) == 10
    assert all(len(p["faces"]) <= 1 for p in people)
    def seen(p: dict, start: float, end: float) -> bool:  # type: ignore[type-arg]
        return any(a["start"] < end and a["end"] > start for a in p["appearances"])

    # clips are in name order: id2_vcd_swwp2s at 6-9 s and pwij3p at 21-24 s are the same man
    twice = [p for p in people if p["faces"] and seen(p, 6.5, 8.5) and seen(p, 21.5, 23.5)]
    assert len(twice) == 1, people
    man = twice[0]
    code, shown, _ = run(capsys, "entities", "show", man["faces"][0], "--store", str(store), "--json")
    assert code == 0 and shown["entity"]["id"] == man["id"] and shown["episodes"]
    code, renamed, _ = run(capsys, "entities", "rename", man["id"], "Grid Speaker", "--store", str(store), "--json")
    assert code == 0 and renamed["entity"]["name"] == "Grid Speaker"
    code, shown, _ = run(capsys, "entities", "show", "grid speaker", "--store", str(store), "--json")
    assert code == 0 and shown["entity"]["id"] == man["id"]
    code, _, err = run(capsys, "entities", "show", "nobody", "--store", str(store))
    assert code == 1 and "no person, face, voice or name matches it" in err

    sid = grid_video[0]
    code, gone, _ = run(capsys, "forget", str(sid), "--store", str(store), "--json")
    assert code == 0 and gone["deleted"] > 0
    code, doc, _ = run(capsys, "entities", "--store", str(store), "--json")
    assert doc["entities"] == [], doc  # everything of the only source is gone, the user's rename with it
    code, doc, _ = run(capsys, "sources", "--store", str(store), "--json")
    assert doc == {"sources": []}
    code, _, err = run(capsys, "forget", str(sid), "--store", str(store))
    assert code == 1 and "no indexed source matches" in err


def test_demo_meeting_with_the_bundled_llm(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The quick start's path: sample video → index → ask with SmolLM2, through the real executable."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    exe = str(Path(sys.executable).with_name("mmagent"))
    assert Path(exe).is_file(), "the mmagent command is installed by scripts/setup.sh"
    video, store = tmp_path / "meeting.mp4", tmp_path / "store"
    done = subprocess.run([exe, "sample", str(video), "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    script = json.loads(done.stdout)["script"]
    done = subprocess.run([exe, "index", str(video), "--store", str(store), "--json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([exe, "ask", "What is the invoice number for Globex?", "--store", str(store), "--json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert "4471" in doc["answer"]
    invoice_scene = script[1]
    assert any("4471" in e["text"] and overlaps(e, invoice_scene["start"], invoice_scene["end"]) for e in doc["evidence"])
    assert doc["mode"] in ("llm", "extractive")
    # a second process while the store is in use is refused with the owner's PID
    from memory.store_folder import StoreLock

    lock = StoreLock(store)
    lock.acquire()
    try:
        busy = subprocess.run([exe, "ask", "invoice?", "--store", str(store)], capture_output=True, text=True, timeout=300)
    finally:
        lock.release()
    assert busy.returncode == 1 and "in use by PID" in busy.stderr


def _silent_video(path, text: str) -> None:  # type: ignore[no-untyped-def]
    """A 5 s video with no audio track showing one line of text."""
    from fractions import Fraction

    import av
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (320, 240), "white")
    ImageDraw.Draw(image).text((10, 100), text, fill="black", font=ImageFont.load_default(size=24))
    pixels = np.asarray(image)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_video_without_audio_and_audio_without_video(capsys, tmp_path, data_dir) -> None:  # type: ignore[no-untyped-def]
    silent = tmp_path / "silent.mp4"
    _silent_video(silent, "Order 5521 shipped")
    jfk = data_dir / "speech" / "jfk.flac"
    store = str(tmp_path / "store")
    code, doc, _ = run(capsys, "index", str(silent), str(jfk), "--store", store, "--json")
    assert code == 0 and [s["memories_added"] for s in doc["sources"]] == [1, 1]
    _, doc, _ = run(capsys, "ask", "which order shipped?", "--store", store, "--json", "--llm", "none")
    assert "5521" in doc["answer"] and doc["evidence"][0]["modality"] == "screen"
    _, doc, _ = run(capsys, "ask", "what should Americans ask?", "--store", store, "--json", "--llm", "none")
    top = doc["evidence"][0]
    assert top["modality"] == "speech" and "country" in top["text"] and top["end"] <= 11.1


def test_folder_of_screenshots_answers_with_the_capture_and_its_time(capsys, tmp_path, data_dir) -> None:  # type: ignore[no-untyped-def]
    shots = tmp_path / "shots"
    shots.mkdir()
    src = data_dir / "screens" / "omniparser"
    for name, stamp, app in (("windows.png", "2026-11-20T09:00:00Z", "Desktop"), ("onenote.png", "2026-11-20T09:01:30Z", "OneNote")):
        shutil.copy(src / name, shots / name)
        (shots / name).with_suffix(".json").write_text(json.dumps({"time": stamp, "app": app, "window": f"{app} window"}))
    (shots / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n-truncated")
    store = str(tmp_path / "store")
    code, doc, err = run(capsys, "index", str(shots), "--store", store, "--json")
    assert code == 0, err
    source = doc["sources"][0]
    assert source["memories_added"] == 3 and source["duration"] == pytest.approx(91.0)  # 2 windows, 1 scene
    assert [s["path"] for s in source["skipped"]] == [str(shots / "corrupt.png")]
    assert "corrupt.png" in err and "skipped" in err
    code, doc, _ = run(capsys, "ask", "When was the Windows license valid for 89 days?", "--store", store, "--json", "--llm", "none")
    top = doc["evidence"][0]
    assert top["image"] == str(shots / "windows.png") and top["modality"] == "screen"
    assert top["wall_time"] == pytest.approx(1795165200.0) and "89 days" in top["text"]
    _, again, _ = run(capsys, "index", str(shots), "--store", store, "--json")
    assert again["sources"][0]["memories_added"] == 0

    # a capture added later updates the same source: no second copy of the old ones
    shutil.copy(src / "teams.png", shots / "teams.png")
    (shots / "teams.json").write_text(json.dumps({"time": "2026-11-20T09:03:00Z", "app": "Teams", "window": "Teams"}))
    code, grown, _ = run(capsys, "index", str(shots), "--store", store, "--json")
    assert code == 0 and grown["sources"][0]["source_id"] == source["source_id"]
    assert grown["sources"][0]["duration"] == pytest.approx(181.0)
    _, listing, _ = run(capsys, "sources", "--store", store, "--json")
    assert len(listing["sources"]) == 1 and listing["sources"][0]["clips"] == 3
    assert listing["sources"][0]["memories"] == grown["sources"][0]["memories_added"] == 4  # 3 windows, 1 scene
    _, doc, _ = run(capsys, "ask", "When was the Windows license valid for 89 days?", "--store", store, "--json", "--llm", "none")
    assert doc["evidence"][0]["image"] == str(shots / "windows.png")


def test_unreachable_qdrant_server_is_one_line_and_exit_1(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, "ask", "anything?", "--store", str(tmp_path), "--qdrant-url", "http://127.0.0.1:9")
    lines = [line for line in err.splitlines() if line.startswith("mmagent: error:")]
    assert code == 1 and len(lines) == 1 and "127.0.0.1:9" in lines[0]
