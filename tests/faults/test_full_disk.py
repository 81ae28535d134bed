"""Issue 18, a full disk: every command says in one line which store and how much space is free
(exit 1) instead of dying of SIGBUS (exit 135, Qdrant Edge's memory-mapped files) or a
traceback; writes are refused below a floor (``MMAGENT_MIN_FREE_MB``, 256 MB by default), before
the engine touches a page it cannot back. On a real tmpfs filled up when we may mount one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.faults import cli


def _day(folder: Path, offset: int) -> Path:
    folder.mkdir()
    for k in range(12):
        (folder / f"c{k}.json").write_text(json.dumps({
            "time": 1795165200 + offset + 40 * k, "app": "Mail", "window": f"Inbox {k}",
            "ocr": [{"text": f"Invoice {4400 + k + offset} from Globex is due on day {k}", "score": 0.99, "box": []}]}))
    return folder


def _one_line(proc: subprocess.CompletedProcess, *words: str) -> None:  # type: ignore[type-arg]
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("mmagent: error:")]
    assert len(lines) == 1 and all(w in lines[0] for w in words), proc.stderr


def test_below_the_floor_the_store_is_not_opened(tmp_path: Path) -> None:
    store = tmp_path / "store"
    proc = cli("sources", "--store", str(store), env={"MMAGENT_MIN_FREE_MB": str(10**12)})
    _one_line(proc, f"store {store}: only", "MB free on its disk", f"{10**12} MB needed")


@pytest.fixture()
def tmpfs(tmp_path: Path):  # type: ignore[no-untyped-def]
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.getuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(mount)],
                                          capture_output=True).returncode != 0:
        pytest.skip("a small tmpfs cannot be mounted here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_mb: int) -> Path:
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free // (1024 * 1024)
    with open(filler, "wb") as fh:
        for _ in range(max(0, free - leave_mb)):
            fh.write(b"\0" * (1024 * 1024))
    if leave_mb == 0:  # to the last byte
        try:
            with open(filler, "ab") as fh:
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_is_one_line_naming_the_store_never_sigbus(tmp_path: Path, tmpfs: Path) -> None:
    store = tmpfs / "store"
    first = cli("index", str(_day(tmp_path / "day0", 0)), "--store", str(store))
    assert first.returncode == 0, first.stderr
    day1 = _day(tmp_path / "day1", 3600)

    filler = _fill(tmpfs, 0)
    for argv in (("sources",), ("ask", "which invoice is due on day 3?"), ("index", str(day1))):
        _one_line(cli(*argv, "--store", str(store)), f"store {store}", "MB free")

    # room to open the store, not to write safely with the engine: refused before any write
    filler.unlink()
    _fill(tmpfs, 100)
    _one_line(cli("index", str(day1), "--store", str(store)), f"store {store}", "MB free")

    # with space again, the store is whole and takes the new source
    filler.unlink()
    again = cli("index", str(day1), "--store", str(store), "--json")
    assert again.returncode == 0, again.stderr
    listing = cli("sources", "--store", str(store), "--json")
    assert sorted(s["memories"] for s in json.loads(listing.stdout)["sources"]) == [15, 15]


def test_enospc_in_a_store_write_is_store_full(tmp_path: Path, tmpfs: Path) -> None:
    """With the floor turned off (MMAGENT_MIN_FREE_MB=0), a catalog or journal write that meets a
    full disk is still one line naming the store."""
    store = tmpfs / "store"
    assert cli("index", str(_day(tmp_path / "day0", 0)), "--store", str(store)).returncode == 0
    assert cli("sources", "--store", str(store)).returncode == 0  # the engine's one-time layout on reopen
    _fill(tmpfs, 0)
    proc = cli("forget", "screens-", "--store", str(store), env={"MMAGENT_MIN_FREE_MB": "0"})
    assert proc.returncode in (1,), (proc.returncode, proc.stderr[-1500:])  # never 135, never a traceback
    assert "Traceback" not in proc.stderr and f"store {store}" in proc.stderr
