"""The screen recorder on a real X server (Xvfb) with real windows (Tk) and the real OCR: a
window's text is captured with its title; a card number on screen is blacked out in the saved
image and replaced in the text; a private browser window is never written; a static screen
costs a diff, not a capture; the captures index and answer like any screenshot folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


from apps.screen_frames import changed, thumbnail
from apps.screen_recorder import Recorder
from apps.screen_sources import Window
from apps.screen_state import RecorderSettings


def show(display: str, title: str, lines: list[str]) -> subprocess.Popen:  # type: ignore[type-arg]
    """A real top-level window with big black text on white, focused."""
    script = f"""
import tkinter as tk
root = tk.Tk()
root.title({title!r})
root.geometry("1280x800+0+0")
root.configure(bg="white")
for line in {lines!r}:
    tk.Label(root, text=line, font=("DejaVu Sans", 30), bg="white", fg="black").pack(anchor="w", padx=40, pady=18)
root.after(300, root.focus_force)
root.mainloop()
"""
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "DISPLAY": display})
    time.sleep(2.0)
    return proc


def test_capture_redact_exclude_and_ask(tmp_path, display, monkeypatch, ocr) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISPLAY", display)
    window = show(display, "Invoice 4471 - Mail", ["Invoice 4471 from Globex", "Card: 4111 1111 1111 1111",
                                                    "Meeting at 16:30"])
    try:
        folder = tmp_path / "screens"
        recorder = Recorder(folder, RecorderSettings(interval=0.4), ocr=ocr)
        recorder.run(seconds=2.5)
        recorder.tick()  # the same still screen once more: a diff, no capture
        recorder.write_status()
        status = recorder.status
    finally:
        window.terminate()
        window.wait(timeout=10)
    assert status.stored >= 1 and status.unchanged >= 1 and status.excluded == 0, status
    assert status.redacted >= 1
    sidecars = sorted(folder.glob("*/*.json"))  # a folder per day
    meta = json.loads(sidecars[0].read_text())
    assert meta["window"] == "Invoice 4471 - Mail" and "card" in meta["redacted"]
    text = " ".join(line["text"] for line in meta["ocr"])
    assert "4471" in text and "[REDACTED:card]" in text and "4111" not in text
    # the saved image itself no longer shows the number
    import cv2

    saved = cv2.cvtColor(cv2.imread(str(sidecars[0].with_suffix(".webp"))), cv2.COLOR_BGR2RGB)
    again = " ".join(b.text for b in ocr.read(saved))
    assert "4471" in again and "4111" not in again
    assert json.loads((folder / "status.json").read_text())["stored"] == status.stored

    # a private browser window: nothing is written at all
    private = show(display, "Bank - Mozilla Firefox Private Browsing", ["Balance 98765"])
    try:
        hidden = tmp_path / "private"
        quiet = Recorder(hidden, RecorderSettings(interval=0.4), ocr=ocr).run(seconds=1.5)
    finally:
        private.terminate()
        private.wait(timeout=10)
    assert quiet.stored == 0 and quiet.excluded >= 1
    assert sorted(p.name for p in hidden.iterdir()) == ["status.json"]

    # the captures are a screenshot folder: index it, ask, and the store never saw the card
    from memory.store import Scope
    from mmagent import MMAgent, Settings

    from perception.screens import capture_folders

    (day,) = capture_folders(folder)
    assert day.parent == folder
    with MMAgent(Settings.load(env={}, store=tmp_path / "store", llm="none", workers=1)) as agent:
        agent.index(day)
        answer = agent.ask("Where did I see invoice 4471?")
        assert answer.evidence and Path(answer.evidence[0].image or "").parent == day, answer.to_json()
        every = json.dumps([r.payload() for r in agent.store.scroll(Scope())])
        assert "4471" in every and "4111" not in every
    # the recorder's lines are the capture's text: indexing does not read it again (OCR off here)
    with MMAgent(Settings.load(env={}, store=tmp_path / "store2", llm="none", workers=1, ocr=False)) as agent:
        agent.index(day)
        answer = agent.ask("Where did I see invoice 4471?")
        assert answer.evidence and "4471" in answer.evidence[0].text, answer.to_json()


def test_ocr_digits() -> None:
    from apps.screen_frames import ocr_digits

    assert ocr_digits("Card:4111 111l 1111 1111") == "Card:4111111111111111"
    assert ocr_digits("Invoice 4471 from Globex, level 2") == "Invoice 4471 from Globex, level 2"
    assert ocr_digits("Hello World lol") == "Hello World lol"
    assert ocr_digits("Card:41111111 1111 1111") == "Card:4111111111111111"
    assert ocr_digits("Room 12 floor 3") == "Room 12 floor 3"


def test_change_detection_sees_a_few_characters_not_noise() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    base = np.full((800, 1280, 3), 255, np.uint8)
    noisy = np.clip(base.astype(int) + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)
    typed = base.copy()
    typed[400:420, 600:660] = 0  # a short word appears
    assert not changed(thumbnail(base), thumbnail(noisy), RecorderSettings.tile_threshold)
    assert changed(thumbnail(base), thumbnail(typed), RecorderSettings.tile_threshold)
    assert changed(None, thumbnail(base), RecorderSettings.tile_threshold)


def test_capture_pauses_on_request_and_below_the_disk_floor(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    frame = np.full((200, 300, 3), 255, np.uint8)
    recorder = Recorder(tmp_path, RecorderSettings(interval=0.1), grab=lambda: [frame], window=lambda: Window(None, None), ocr=object())
    recorder.paused_file.write_text("")
    assert recorder.tick() == 0 and recorder.status.paused == "paused by the user" and recorder.status.captured == 0
    recorder.paused_file.unlink()
    floor = Recorder(tmp_path, RecorderSettings(min_free_mb=10**9), grab=lambda: [frame], ocr=object())
    assert floor.tick() == 0 and "free on disk" in (floor.status.paused or "")


def test_the_cli_starts_pauses_and_stops_a_background_recorder(tmp_path, display, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from apps.cli import main

    monkeypatch.setenv("DISPLAY", display)
    folder = tmp_path / "rec"

    def status() -> dict:  # type: ignore[type-arg]
        assert main(["screen", "status", "--folder", str(folder), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    window = show(display, "Notes - Editor", ["Quarterly plan draft"])
    try:
        assert main(["screen", "start", "--folder", str(folder), "--interval", "0.5", "--no-index", "--json"]) == 0
        started = json.loads(capsys.readouterr().out)
        assert started["recording"] and started["pid"] > 0
        assert main(["screen", "start", "--folder", str(folder)]) == 1  # one recorder per folder
        assert "already running" in capsys.readouterr().err
        for _ in range(120):
            if status().get("stored", 0) >= 1:
                break
            time.sleep(0.25)
        now = status()
        assert now["recording"] and now["stored"] >= 1 and now["captures_on_disk"] >= 1, now
        assert main(["screen", "pause", "--folder", str(folder)]) == 0
        capsys.readouterr()
        for _ in range(40):
            if status().get("paused"):
                break
            time.sleep(0.25)
        assert status()["paused"] == "paused by the user"
        assert main(["screen", "stop", "--folder", str(folder), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["recording"] is False
        assert status()["recording"] is False
        assert main(["screen", "stop", "--folder", str(folder)]) == 1
        assert "no screen recorder is running" in capsys.readouterr().err
    finally:
        window.terminate()
        window.wait(timeout=10)
        pid = folder / "recorder.pid"
        if pid.is_file():
            os.kill(int(pid.read_text()), 15)


def test_a_small_change_is_read_alone_and_a_secret_stays_hidden(tmp_path, ocr) -> None:  # type: ignore[no-untyped-def]
    """Typing on one line: only that band is read again (the real OCR, watched), the other
    lines are carried over, and a card number read before is blacked out again in the new
    picture although that part of the screen was not read again."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    def screen(total: str) -> np.ndarray:
        image = Image.new("RGB", (1280, 800), "white")
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=30)
        for k, line in enumerate(["Invoice 4471 from Globex", "Card: 4111 1111 1111 1111", "Notes for the call", total]):
            draw.text((40, 60 + k * 120), line, fill="black", font=font)
        return np.asarray(image)

    frames = [screen("Total: 12,800"), screen("Total: 19,350")]
    heights: list[int] = []

    class Watched:
        def read(self, image):  # type: ignore[no-untyped-def]
            heights.append(image.shape[0])
            return ocr.read(image)

    recorder = Recorder(tmp_path, RecorderSettings(), grab=lambda: [frames[0]], window=lambda: Window("Mail", "Inbox"),
                        ocr=Watched())
    assert recorder.tick(now=1_000.0) == 1
    recorder._grab = lambda: [frames[1]]
    assert recorder.tick(now=1_002.0) == 0 and recorder.status.deferred == 1  # typing: held back ...
    assert recorder.tick(now=1_022.0) == 1  # ... and stored once the gap (20 s) has passed
    assert heights[0] == 800 and heights[1] < 400, heights
    sidecars = sorted(tmp_path.glob("*/*.json"))
    second = json.loads(sidecars[1].read_text())
    text = " | ".join(line["text"] for line in second["ocr"])
    assert second["read"] == "band" and "19,350" in text.replace(" ", "") or "19350" in text.replace(",", "")
    assert "4471" in text and "4111" not in text and second["blacked_out"] == 1
    # only the changed rows are saved, as a patch on the first picture; put together, they show the new total
    import numpy as np

    from perception.screens import open_capture

    assert second["patch"]["base"] == sidecars[0].with_suffix(".webp").name
    part = open_capture(sidecars[1].with_suffix(".webp"))
    assert part.size == (1280, 800) and sidecars[1].with_suffix(".webp").stat().st_size < sidecars[0].with_suffix(".webp").stat().st_size
    seen = " ".join(b.text for b in ocr.read(np.asarray(part)))
    assert "4111" not in seen and "4471" in seen and "19" in seen, seen


def test_focus_change_captures_at_once_and_retention_keeps_the_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A new focused window is captured without waiting for the interval; pictures of days past
    the retention are deleted while their sidecars (time, window, the read text) stay, and the
    day still indexes and answers from them."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    def screen(line: str) -> np.ndarray:
        image = Image.new("RGB", (1280, 800), "white")
        ImageDraw.Draw(image).text((40, 60), line, fill="black", font=ImageFont.load_default(size=34))
        return np.asarray(image)

    focused = [Window("Mail", "Inbox")]
    frames = [screen("Invoice 4471 from Globex")]
    texts = iter(["Invoice 4471 from Globex", "Standup moved to 16:30"])

    class Text:  # what each frame shows, as the OCR reads it (the real OCR runs in the tests above)
        def read(self, image):  # type: ignore[no-untyped-def]
            from models.base import TextBox

            return [TextBox(next(texts), 0.99, ((40.0, 60.0), (600.0, 60.0), (600.0, 100.0), (40.0, 100.0)))]

    recorder = Recorder(tmp_path / "rec", RecorderSettings(interval=30.0, focus_poll=0.05, retention_days=2),
                        grab=lambda: [frames[0]], window=lambda: focused[0], ocr=Text())
    recorder.folder.mkdir()
    began = time.monotonic()
    assert recorder.tick(now=time.time() - 5 * 86400) == 1  # a capture five days ago
    focused[0] = Window("Calendar", "Week 48")
    frames[0] = screen("Standup moved to 16:30")
    recorder._wait(began)  # returns at the focus change, not after 30 s
    assert time.monotonic() - began < 5 and recorder.status.focus_changes == 1
    assert recorder.tick() == 1
    assert recorder.drop_old() == 1 and recorder.status.dropped == 1
    old_day, today = sorted(p for p in recorder.folder.iterdir() if p.is_dir())
    assert not list(old_day.glob("*.webp")) and len(list(old_day.glob("*.json"))) == 1
    assert len(list(today.glob("*.webp"))) == 1  # today's picture is kept

    from mmagent import MMAgent, Settings
    from perception.screens import capture_folders

    assert capture_folders(recorder.folder) == [old_day, today]
    with MMAgent(Settings.load(env={}, store=tmp_path / "store", llm="none", workers=1, ocr=False)) as agent:
        res = agent.index(old_day)
        assert res.clips == 1 and not res.skipped
        answer = agent.ask("Where did I see invoice 4471?")
        assert answer.evidence and "4471" in answer.evidence[0].text and answer.evidence[0].image is None, answer.to_json()
        assert agent.index(old_day).reused  # the same captures: nothing to do
        # a picture that goes (retention; or not yet in place when a pass read the folder) changes
        # what the memories cite: the day is brought up to date
        assert not agent.index(today).reused
        assert agent.search("standup moved")[0].image is not None
        for picture in today.glob("*.webp"):
            picture.unlink()
        assert not agent.index(today).reused
        assert agent.search("standup moved")[0].image is None


def test_the_recorder_indexes_in_the_background_and_serves_ask(tmp_path, display, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """``mmagent screen start`` with a store: the recorder's process indexes what it captures and
    the CLI's ask / sources / index go through it (the store stays locked by it); after stop,
    the CLI opens the store itself and finds the same memories."""
    from apps.cli import main
    from apps.service import Client

    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setenv("MMAGENT_LLM", "none")
    store, folder = tmp_path / "store", tmp_path / "store" / "screens"

    def status() -> dict:  # type: ignore[type-arg]
        assert main(["screen", "status", "--store", str(store), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    window = show(display, "Invoice 5523 - Mail", ["Invoice 5523 from Initech", "Payment due on Friday"])
    try:
        assert main(["screen", "start", "--store", str(store), "--interval", "1", "--json"]) == 0
        started = json.loads(capsys.readouterr().out)
        assert started["store"] == str(store.resolve())
        for _ in range(240):
            now = status()
            if now.get("indexed", 0) >= 1:
                break
            assert not now.get("index_error"), now
            time.sleep(0.5)
        assert now["indexed"] >= 1 and now["last_indexed"] and now["queue"] >= 0, now
        assert now["last_index_pass_age"] is not None and now["last_capture_age"] is not None and not now["stalled"], now
        assert now["rss_mb"] > 100 and now["warning"] is None, now  # the models are loaded; the window is known
        assert Client.find(store) is not None
        assert main(["ask", "which invoice is from Initech?", "--store", str(store), "--json"]) == 0
        out = capsys.readouterr()
        doc = json.loads(out.out)
        assert "by the running memory service" not in out.err  # --json: the document only on stdout
        assert doc["evidence"] and "5523" in doc["evidence"][0]["text"], doc
        assert Path(doc["evidence"][0]["image"]).parent.parent == folder.resolve()
        assert main(["ask", "which invoice is from Initech?", "--store", str(store)]) == 0
        assert "by the running memory service" in capsys.readouterr().err
        assert main(["sources", "--store", str(store), "--json"]) == 0
        (entry,) = json.loads(capsys.readouterr().out)["sources"]
        assert entry["name"].startswith("screen ") and entry["source_id"].startswith("screens-")
        # a screenshot folder indexed into the same store, by the service that holds it
        shots = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "screens" / "omniparser"
        if shots.is_dir():
            assert main(["index", str(shots), "--store", str(store), "--json"]) == 0
            assert json.loads(capsys.readouterr().out)["sources"][0]["clips"] >= 1
        # what mmagent serve answers, the recorder's process answers too (entities, forget ...)
        assert main(["entities", "--store", str(store), "--json"]) == 0
        assert "entities" in json.loads(capsys.readouterr().out)
        assert main(["forget", "x", "--store", str(store)]) == 1  # through the recorder: x is no source
        assert "no indexed source" in capsys.readouterr().err
        assert main(["batch", str(tmp_path), "--store", str(store)]) == 1  # the store is held: a clear error
        assert "needs the store to itself" in capsys.readouterr().err
        assert main(["screen", "stop", "--store", str(store)]) == 0
        capsys.readouterr()
    finally:
        window.terminate()
        window.wait(timeout=10)
        pid = folder / "recorder.pid"
        if pid.is_file():
            os.kill(int(pid.read_text()), 15)
    assert Client.find(store) is None
    assert main(["ask", "which invoice is from Initech?", "--store", str(store), "--json"]) == 0
    assert "5523" in json.loads(capsys.readouterr().out)["evidence"][0]["text"]


def test_typing_is_stored_at_most_every_gap_and_the_last_state_is_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    frames = []
    for k in range(12):  # one line changes every 2 s (typing), then the screen rests
        frame = np.full((800, 1280, 3), 255, np.uint8)
        frame[100:130, 40:400] = 0  # a heading that stays
        frame[400:420, 40:60 + 20 * min(k, 8)] = 0  # the line being typed grows until k = 8
        frames.append(frame)
    shown = [frames[0]]

    class Lines:
        def read(self, image):  # type: ignore[no-untyped-def]
            return []

    recorder = Recorder(tmp_path, RecorderSettings(same_window_gap=10.0), grab=lambda: [shown[0]],
                        window=lambda: Window("Editor", "notes.txt"), ocr=Lines())
    stored_at = []
    for k, frame in enumerate(frames):
        shown[0] = frame
        if recorder.tick(now=1_000.0 + 2 * k):
            stored_at.append(2 * k)
    # stored at once, then at most every 10 s; the final text (typed by 16 s) is stored at 20 s
    assert stored_at == [0, 10, 20], stored_at
    assert recorder.status.deferred >= 5
    # a new window is stored at once, however soon
    recorder._window = lambda: Window("Mail", "Inbox")
    shown[0] = np.full((800, 1280, 3), 200, np.uint8)
    assert recorder.tick(now=1_023.0) == 1


def test_screen_show_puts_a_patch_capture_together(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image

    from apps.cli import main

    whole = np.full((400, 640, 3), 255, np.uint8)
    whole[20:60, 20:300] = 0  # a heading
    changed = whole.copy()
    changed[300:330, 20:200] = 0  # a line typed at the bottom
    shown = [whole]

    class NoText:
        def read(self, image):  # type: ignore[no-untyped-def]
            return []

    recorder = Recorder(tmp_path / "rec", RecorderSettings(), grab=lambda: [shown[0]],
                        window=lambda: Window("Editor", "notes.txt"), ocr=NoText())
    assert recorder.tick(now=1_000.0) == 1
    shown[0] = changed
    assert recorder.tick(now=1_030.0) == 1
    first, second = sorted((tmp_path / "rec").glob("*/*.webp"))
    assert "patch" in json.loads(second.with_suffix(".json").read_text())
    with Image.open(second) as part:
        assert part.height < 200  # only the changed rows were saved
    out = tmp_path / "whole.png"
    assert main(["screen", "show", str(second), "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["png"] == str(out)
    with Image.open(out) as image:
        pixels = np.asarray(image.convert("L"))
    assert pixels.shape == (400, 640)
    assert pixels[40, 100] < 80 and pixels[315, 100] < 80 and pixels[200, 400] > 200  # heading, new line, background
    assert main(["screen", "show", str(tmp_path / "missing.webp")]) == 1
    assert "cannot show it" in capsys.readouterr().err
