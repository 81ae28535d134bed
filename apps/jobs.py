"""Index jobs of ``mmagent serve`` that run in the background, with their progress.

``POST /api/index`` with ``"wait": false`` answers at once with a job; ``GET /api/jobs/{id}``
then says where it is: ``queued`` (waiting for the store: another write runs), ``running`` (the
path being indexed and its clips done / total), ``done`` (the same document a waiting request
gets) or ``failed`` (the error in one line). Jobs run one at a time in the order they came, each
holding the store for writing as a waiting request does; the last ``KEEP`` finished jobs are kept.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)

KEEP = 50  # finished jobs remembered


@dataclass
class Job:
    id: str
    paths: list[str]
    state: str = "queued"  # queued | running | done | failed
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    path: str | None = None  # the one being indexed
    paths_done: int = 0
    clips_done: int = 0
    clips_total: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["progress"] = self.progress()
        return doc

    def progress(self) -> float:
        """0 to 1: whole paths done plus the share of clips of the one being indexed."""
        if self.state == "done":
            return 1.0
        part = self.clips_done / self.clips_total if self.clips_total else 0.0
        return round(min(1.0, (self.paths_done + part) / max(1, len(self.paths))), 4)


class IndexJobs:
    """Runs ``index(paths, on_clip, on_each)`` (``apps.service.index_doc``'s signature, bound to
    the store and its write lock by the caller) on one worker thread, a job at a time.
    ``status_of(exc)``: the HTTP status an error maps to (500 and over: our failure, logged)."""

    def __init__(self, index: Callable[..., dict[str, Any]], status_of: Callable[[Exception], int]) -> None:
        self._index = index
        self._status_of = status_of
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, paths: Sequence[str]) -> Job:
        job = Job(uuid.uuid4().hex[:12], list(paths))
        with self._wake:
            if self._closed:
                raise RuntimeError("the server is stopping")
            self._jobs[job.id] = job
            self._forget_old()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mmagent-index-jobs", daemon=True)
                self._thread.start()
            self._wake.notify()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def _next(self) -> Job | None:
        with self._wake:
            while not self._closed:
                job = next((j for j in self._jobs.values() if j.state == "queued"), None)
                if job is not None:
                    return job
                self._wake.wait()
            return None

    def _run(self) -> None:
        while (job := self._next()) is not None:
            self._work(job)

    def _work(self, job: Job) -> None:
        def on_clip(path: str) -> Callable[[int, int], None]:
            job.path, job.clips_done, job.clips_total = path, 0, 0

            def clips(done: int, total: int) -> None:
                job.clips_done, job.clips_total = done, total
            return clips

        def on_each(path: str, result: Any, error: Exception | None) -> None:
            job.paths_done += 1

        job.state, job.started = "running", time.time()
        try:
            job.result = self._index(job.paths, on_clip=on_clip, on_each=on_each)
            job.state = "done"
        except Exception as exc:  # a job's failure is its state, never the server's end
            ours = self._status_of(exc) >= 500
            if ours:
                log.exception("index job %s failed", job.id)
            job.error = f"{type(exc).__name__}: {exc}" if ours else str(exc)
            job.state = "failed"
        finally:
            job.path, job.finished = None, time.time()

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.state in ("done", "failed")]
        for job_id in finished[: max(0, len(finished) - KEEP)]:
            del self._jobs[job_id]
