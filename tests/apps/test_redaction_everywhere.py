"""Secrets are redacted for every source, not only the screen recorder's captures: a folder of
screenshots and a video whose frames show a card number and keys are indexed with the real OCR;
no file of the store holds the secrets, and asking for them gets the marker, never the value.
A password said in prose ("the admin password is now swordfish") is redacted where it is said
(real espeak-ng speech through the real ASR) and where a slide shows it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from apps.cli import main

CARD = "4111 1111 1111 1111"
AWS = "AKIAIOSFODNN7EXAMPLE"
LINES = ["Invoice 4471 from Globex", f"Card: {CARD}", f"aws_access_key_id = {AWS}", "Amount due 12,800"]


def screen() -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1000, 360), "white")
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(LINES):
        draw.text((40, 40 + 75 * k), line, fill="black", font=ImageFont.load_default(size=34))
    return np.asarray(image)


# a password and a PIN said in prose, and the password shown on a slide: no label, no colon
PROSE_SLIDE = "The admin password is now swordfish"
PROSE_SAID = "Also, the admin password is now swordfish, and my PIN is 7295."
PROSE_SECRETS = ("swordfish", "sword fish", "7295", "72 95")


def prose_video(out: Path) -> Path:
    from mmagent.samples import Scene, make_demo_video

    make_demo_video(out, (
        Scene("IT update", ("Server move on Friday",), "Quick update from IT. The server moves on Friday."),
        Scene("Access", (PROSE_SLIDE,), PROSE_SAID),
    ))
    return out


def leaks(store: Path, needles: tuple[str, ...] = (CARD, CARD.replace(" ", ""), AWS)) -> list[str]:
    """Files of the store (Qdrant pages and WAL, perception cache, catalog) holding a secret (any case)."""
    wanted = [n.lower().encode() for n in needles]
    return [str(f) for f in store.rglob("*") if f.is_file() and any(n in f.read_bytes().lower() for n in wanted)]


def ask(capsys, store: Path, question: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    capsys.readouterr()
    assert main(["ask", question, "--store", str(store), "--json", "--llm", "none"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_screenshot_folder_is_redacted_before_it_is_stored(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    shots = tmp_path / "shots"
    shots.mkdir()
    Image.fromarray(screen()).save(shots / "billing.png")
    (shots / "billing.json").write_text(json.dumps({"time": "2026-11-20T09:00:00Z", "app": "Mail",
                                                    "window": f"Invoice 4471 - key {AWS}"}))
    store = tmp_path / "store"
    assert main(["index", str(shots), "--store", str(store), "--json"]) == 0
    assert leaks(store) == []
    doc = ask(capsys, store, "What is my card number?")
    text = json.dumps(doc)
    assert "4111" not in text and AWS not in text
    assert "[REDACTED:card]" in " ".join(e["text"] for e in doc["evidence"])  # the capture is found, its secret is not
    assert "4471" in json.dumps(ask(capsys, store, "Which invoice is from Globex?"))  # the rest is kept


def test_a_video_showing_a_secret_is_redacted_before_it_is_stored(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    av = pytest.importorskip("av")
    video = tmp_path / "billing.mp4"
    frame = screen()
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=5)
        stream.width, stream.height, stream.pix_fmt = frame.shape[1], frame.shape[0], "yuv420p"
        for _ in range(15):  # 3 s of the same screen
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    store = tmp_path / "store"
    assert main(["index", str(video), "--store", str(store), "--json"]) == 0
    assert leaks(store) == []
    doc = ask(capsys, store, "what card number was on screen?")
    assert "4111" not in json.dumps(doc) and doc["evidence"]
    assert "[REDACTED:card]" in doc["evidence"][0]["text"]


def test_a_password_said_and_shown_in_prose_is_redacted_before_it_is_stored(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    store = tmp_path / "store"
    assert main(["index", str(prose_video(tmp_path / "it.mp4")), "--store", str(store), "--json"]) == 0
    assert leaks(store, PROSE_SECRETS) == []
    for question in ("What is the admin password?", "What did they say about the password?", "What is my PIN?"):
        doc = ask(capsys, store, question)
        assert not any(n in json.dumps(doc).lower() for n in PROSE_SECRETS), doc
    doc = ask(capsys, store, "What did they say about the password?")
    said = " ".join(e["text"] for e in doc["evidence"])
    assert "password is" in said and "[REDACTED:password]" in said  # what was said stays, the value does not
    assert "Friday" in json.dumps(ask(capsys, store, "When does the server move?"))  # the rest is kept
