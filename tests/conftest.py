"""Shared fixtures: real media from ../shared/data, real models loaded once per session."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TQDM_DISABLE", "1")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GRID = DATA / "video" / "grid"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real media not found: {path} (the tests read ../shared/data beside the checkout)")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return need(DATA)


@pytest.fixture(scope="session")
def grid_transcripts() -> dict[str, str]:
    tsv = need(GRID / "transcripts_from_filenames.tsv")
    rows = [line.split("\t") for line in tsv.read_text().splitlines() if line.strip()]
    return {name: text for name, text in rows}


@pytest.fixture(scope="session")
def grid_video(tmp_path_factory: pytest.TempPathFactory, grid_transcripts: dict[str, str]) -> tuple[Path, list[tuple[str, float, float]]]:
    """The 11 GRID clips joined into one 33 s video; returns it with (transcript, start, end) each."""
    from mmagent.samples import concat_videos

    names = sorted(grid_transcripts)
    out = tmp_path_factory.mktemp("grid") / "grid.mp4"
    spans = concat_videos([GRID / n for n in names], out)
    return out, [(grid_transcripts[n], a, b) for n, (a, b) in zip(names, spans)]


@pytest.fixture(scope="module")
def one_torch_thread():  # type: ignore[no-untyped-def]
    """Tiny random-weight models run much faster on one thread than on two busy shared cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def asr():  # type: ignore[no-untyped-def]
    import models

    return models.create("asr", "faster-whisper", threads=2)


@pytest.fixture(scope="session")
def ocr():  # type: ignore[no-untyped-def]
    import models

    return models.create("ocr", "rapidocr")


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    import models

    return models.create("text_embedder", "sentence-transformers")


# -- a private X server (Xvfb): the screen recorder's and the desktop app's tests ------------------


@contextlib.contextmanager
def xvfb(size: str) -> Iterator[tuple[str, subprocess.Popen]]:  # type: ignore[type-arg]
    """An Xvfb of ``size`` ("WxH") on a display number no other server holds: (":N", its process).
    Skips the test when Xvfb is not installed or does not start."""
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.skip("Xvfb is not installed (scripts/setup.sh installs it)")
    first = 600 + os.getpid() % 300
    number = next(n for n in range(first, first + 300)
                  if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists())
    proc = subprocess.Popen([exe, f":{number}", "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        else:
            pytest.skip("Xvfb did not start")
        yield f":{number}", proc
    finally:
        proc.send_signal(signal.SIGCONT)  # a test may have stopped it
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def xserver() -> Iterator[tuple[str, subprocess.Popen]]:  # type: ignore[type-arg]
    """A small X server for one test: its display and its process (a test may SIGSTOP it)."""
    with xvfb("640x400") as server:
        yield server


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A 1280x800 X server with Tk, for a module's real windows (tests/apps/test_screen_recorder.py's ``show``)."""
    pytest.importorskip("tkinter", reason="Tk is not installed (scripts/setup.sh installs python3-tk)")
    with xvfb("1280x800") as (name, _):
        yield name
