"""The screen recorder's background indexer: its captures made searchable while it records, in the
process that holds the store (``python -m apps.screen_recorder --store DIR``), which serves it
meanwhile (:mod:`apps.service`, :mod:`apps.server`)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Indexer:
    """Makes the recorder's captures searchable: every ``every`` seconds, the day folders with
    new captures are indexed (the same perception → reduce path as ``mmagent index``; the text
    the recorder read is reused, so nothing is decoded or read again)."""

    def __init__(self, agent: Any, recorder: Any, lock: threading.RLock, every: float = 15.0) -> None:
        self.agent = agent
        self.recorder = recorder
        self.lock = lock
        self.every = every
        self._seen: dict[Path, tuple[int, float]] = {}  # day folder → (files, newest mtime) last indexed
        self.thread: threading.Thread | None = None

    def _changed_days(self) -> list[tuple[Path, tuple[int, float]]]:
        """Day folders whose files changed since they were last indexed, with their mark (files,
        newest mtime) as read now, before indexing: what arrives during the pass is seen next time."""
        from perception.screens import capture_folders

        folder = self.recorder.folder
        if not folder.is_dir():
            return []
        out = []
        for day in (d for d in capture_folders(folder) if d != folder):
            files = [p for p in day.iterdir() if p.suffix in (".json", ".webp")]
            mark = (len(files), max((p.stat().st_mtime for p in files), default=0.0))
            if self._seen.get(day) != mark:
                out.append((day, mark))
        return out

    def run_once(self) -> int:
        """One pass; returns how many captures it made searchable."""
        status = self.recorder.status
        status.last_index_pass = time.time()
        with self.recorder.pending_lock:
            taken = len(self.recorder.pending)
        days = self._changed_days()
        if not days and not taken:
            return 0
        status.indexing = True
        began = time.perf_counter()
        try:
            for day, mark in days:
                with self.lock:
                    self.agent.index(day, name=f"screen {day.name}")
                self._seen[day] = mark
        except Exception as exc:  # noqa: BLE001 — reported in status, tried again next pass
            status.index_error = f"{type(exc).__name__}: {exc}"
            log.exception("indexing the captures failed")
            return 0
        finally:
            status.indexing = False
        with self.recorder.pending_lock:
            del self.recorder.pending[:taken]
        status.indexed += taken
        status.index_error = None
        status.last_indexed = time.time()
        status.index_seconds = round(time.perf_counter() - began, 2)
        return taken

    def run(self) -> None:
        stop = self.recorder.stop_event
        while not stop.is_set():
            self.run_once()
            stop.wait(self.every)

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="mmagent-indexer", daemon=True)
        self.thread.start()
