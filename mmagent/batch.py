"""Batch jobs: a library of videos (and screenshot folders) into one memory, resumable.

A job is named by what it indexes (the folder or manifest path) and keeps its state under the
store (``STORE/jobs/<job>.json``, written atomically after every source): re-running the same
command after a crash, a kill or a reboot skips what is done and retries what failed for a
reason that looks transient (a worker died, the store server or a model server was out of
reach). One bad source never stops the job; a problem of the job itself (the store is in use or
holds another model's vectors, a model is missing) stops it at once. Sources run one after
another, each with its clips perceived in parallel (process pool or Ray) and reduced in time
order; the store has one writer, the process running the job.

Sources: a folder (recursively: video / audio files, and folders holding screenshots) or a
manifest — JSON lines or CSV with ``path`` and optional ``name``, ``start`` (wall-clock start:
ISO 8601 or epoch seconds) and ``tags`` (a list, or ``;``-separated in CSV). Relative paths are
relative to the manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mmagent.errors import RunnerError, SettingsError

MEDIA_EXT = {
    ".mp4", ".mkv", ".mov", ".avi", ".webm", ".mpg", ".mpeg", ".m4v", ".ts", ".flv", ".wmv", ".3gp",
    ".wav", ".mp3", ".flac", ".m4a", ".ogg", ".opus", ".aac",
}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class BatchSource:
    path: str
    name: str | None = None
    start: float | None = None  # wall-clock time of the source's start (epoch seconds)
    tags: tuple[str, ...] | None = None  # None: none given (a source keeps the tags it had)
    error: str = ""  # what is wrong with its manifest entry: the source fails with it, the others run


@dataclass
class SourceState:
    status: str = "pending"  # pending | done | failed
    attempts: int = 0
    error: str = ""
    transient: bool = False
    source_id: str = ""
    duration: float = 0.0
    clips: int = 0
    memories: int = 0
    seconds: float = 0.0
    reused: bool = False


@dataclass
class JobState:
    job: str
    spec: str
    started: float
    updated: float = 0.0
    finished: float | None = None
    sources: dict[str, SourceState] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {"total": len(self.sources), "done": 0, "failed": 0, "pending": 0}
        for s in self.sources.values():
            out[s.status] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "spec": self.spec, "started": self.started, "updated": self.updated,
                "finished": self.finished, "counts": self.counts(),
                "hours_done": round(sum(s.duration for s in self.sources.values() if s.status == "done") / 3600, 4),
                "sources": {p: asdict(s) for p, s in self.sources.items()}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> JobState:
        return cls(d["job"], d["spec"], d["started"], d.get("updated", 0.0), d.get("finished"),
                   {p: SourceState(**s) for p, s in d.get("sources", {}).items()})


def discover(spec: Path) -> list[BatchSource]:
    """The sources a folder or a manifest names, in a stable order."""
    try:
        spec = spec.expanduser()
    except RuntimeError:  # "~someone/..." of no such user
        raise SettingsError(f"{spec}: no such folder or manifest (no home folder for {spec.parts[0]})") from None
    if not spec.exists():
        raise SettingsError(f"{spec}: no such folder or manifest")
    if spec.is_dir():
        out: list[BatchSource] = []
        for folder, dirs, files in os.walk(spec):
            dirs.sort()
            here = Path(folder)
            images = [f for f in files if Path(f).suffix.lower() in IMAGE_EXT]
            if images and here != spec:
                out.append(BatchSource(str(here.resolve())))  # a folder of screenshots
            out.extend(BatchSource(str((here / f).resolve())) for f in sorted(files) if Path(f).suffix.lower() in MEDIA_EXT)
        return sorted(out, key=lambda s: s.path)
    rows = _manifest_rows(spec)
    out = []
    for k, row in rows:
        if not isinstance(row, dict):
            raise SettingsError(f"{spec}: line {k}: an entry is a JSON object with a path, not {type(row).__name__}")
        raw = row.get("path")
        if not isinstance(raw, str) or not raw.strip():
            raise SettingsError(f"{spec}: line {k}: the entry has no path" + (f" (path is {type(raw).__name__})" if raw else ""))
        errors = []
        if "\0" in raw:  # no file name holds one (the system refuses it)
            errors.append(f"path {_show(raw)} holds a NUL character")
            raw = raw.replace("\0", "\ufffd")
        path = Path(raw.strip())
        try:
            path = path.expanduser()
        except RuntimeError:  # "~0": the home of a user that does not exist
            errors.append(f"path {_show(raw)} names the home folder of no user")
        path = path if path.is_absolute() else spec.parent / path
        tags = row.get("tags") or ()
        if isinstance(tags, str):
            tags = [t for t in (x.strip() for x in tags.replace("|", ";").split(";")) if t]
        if not isinstance(tags, (list, tuple)) or not all(isinstance(t, (str, int, float)) for t in tags):
            errors.append(f"tags {_show(tags)} are not a list of words")
            tags = ()
        name = row.get("name") or None
        if name is not None and not isinstance(name, str):
            errors.append(f"name {_show(name)} is not text")
            name = None
        try:
            start = _when(row.get("start"))
        except ValueError as exc:
            errors.append(str(exc))
            start = None
        error = f"{MANIFEST_ERROR} {spec.name} line {k}: {'; '.join(errors)}" if errors else ""
        out.append(BatchSource(str(path.resolve()), name, start, tuple(str(t) for t in tags), error))
    return out


MANIFEST_ERROR = "manifest"  # how a manifest entry's error begins (fixed in the manifest: tried again)
# wall-clock starts a source can have: 1900 to 2200 (1e300, NaN, inf are no time)
_EARLIEST, _LATEST = -2208988800.0, 7258118400.0


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _manifest_rows(spec: Path) -> list[tuple[int, Any]]:
    """The manifest's entries with the line each begins on. A CSV quote left open would swallow
    the lines after it into one field: an error naming the line it opens on."""
    try:
        text = spec.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{spec}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if spec.suffix.lower() == ".csv":
        lines = text.splitlines()
        reader = csv.DictReader(lines)
        rows, after = [], 1
        try:
            for row in reader:
                begins = after + 1
                while begins < reader.line_num and not lines[begins - 1].strip():  # blank lines are skipped
                    begins += 1
                if reader.line_num > begins:
                    raise SettingsError(
                        f"{spec}: line {begins}: a quote is not closed (the field runs over lines "
                        f"{begins}-{reader.line_num}); close it or remove it"
                    )
                rows.append((begins, row))
                after = reader.line_num
        except csv.Error as exc:
            raise SettingsError(f"{spec}: line {reader.line_num}: not CSV ({exc})") from None
        return rows
    rows = []
    for k, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append((k, json.loads(line)))
            except (ValueError, RecursionError) as exc:
                raise SettingsError(f"{spec}: line {k} is not JSON ({str(exc)[:80]})") from None
    return rows


def _when(raw: Any) -> float | None:
    """A wall-clock start (epoch seconds or ISO 8601) as epoch seconds; ValueError naming it."""
    if raw in (None, ""):
        return None
    problem = ValueError(f"start {_show(raw)} is not a time (ISO 8601 or epoch seconds, 1900 to 2200)")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise problem
    try:
        t = float(raw)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
            t = when.timestamp()
        except (ValueError, OverflowError, OSError):
            raise problem from None
    if not math.isfinite(t) or not _EARLIEST <= t <= _LATEST:
        raise problem
    return t


def job_id(spec: Path) -> str:
    return hashlib.blake2b(str(spec.expanduser().resolve()).encode(), digest_size=8).hexdigest()


def load_state(store: Path, job: str) -> JobState | None:
    path = store / "jobs" / f"{job}.json"
    return JobState.from_json(json.loads(path.read_text())) if path.is_file() else None


def save_state(store: Path, state: JobState) -> None:
    folder = store / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    state.updated = time.time()
    tmp = folder / f".{state.job}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state.to_json(), indent=1))
    os.replace(tmp, folder / f"{state.job}.json")


def latest_state(store: Path) -> JobState | None:
    jobs = sorted((store / "jobs").glob("*.json"), key=lambda p: p.stat().st_mtime) if (store / "jobs").is_dir() else []
    return JobState.from_json(json.loads(jobs[-1].read_text())) if jobs else None


Progress = Callable[[JobState, str, str], None]  # (state, path, event: "start" | "done" | "failed" | "retry")


def run_batch(agent: Any, spec: Path, retries: int = 2, progress: Progress | None = None) -> JobState:
    """Index every source of ``spec`` into the agent's store; returns the job's final state."""
    from memory.errors import StoreUnavailable
    from models.errors import ModelServerError
    from perception.errors import MediaError

    sources = discover(spec)
    agent.store  # noqa: B018 — open (and lock) the store first: a store problem stops the job, once
    store = agent.settings.store
    job = job_id(spec)
    state = load_state(store, job) or JobState(job, str(spec.expanduser().resolve()), time.time())
    state.finished = None
    for src in sources:  # new entries join; finished ones keep their state
        state.sources.setdefault(src.path, SourceState())
    save_state(store, state)
    for src in sources:
        entry = state.sources[src.path]
        if src.error:  # its manifest entry is wrong: it fails, the others run; fixed, it is tried again
            entry.status, entry.error, entry.transient = "failed", src.error, False
            entry.attempts = max(entry.attempts, 1)
            save_state(store, state)
            if progress:
                progress(state, src.path, "failed")
            continue
        if entry.status == "failed" and entry.error.startswith(MANIFEST_ERROR + " "):
            entry.status, entry.error, entry.attempts = "pending", "", 0  # the entry was fixed
        if entry.status == "done" and not _changed(agent, src, entry):
            continue
        if entry.status == "failed" and not entry.transient and entry.attempts > 0 and not _changed(agent, src, entry):
            continue  # a bad file stays bad until it changes
        while True:
            entry.attempts += 1
            if progress:
                progress(state, src.path, "start")
            try:
                result = agent.index(src.path, wall_start=src.start, tags=src.tags, name=src.name)
            except MediaError as exc:
                entry.status, entry.error, entry.transient = "failed", exc.reason, False
                entry.source_id = _content_id(src.path)  # retried only once the file changes
            except (RunnerError, StoreUnavailable, ModelServerError, OSError) as exc:  # may pass: retried
                entry.status, entry.error, entry.transient = "failed", str(exc), True
                if entry.attempts <= retries:
                    save_state(store, state)
                    if progress:
                        progress(state, src.path, "retry")
                    continue
            else:
                old = entry.source_id
                entry.status, entry.error, entry.transient = "done", "", False
                entry.source_id, entry.duration, entry.clips = result.source_id, result.duration, result.clips
                entry.memories, entry.seconds, entry.reused = result.memories_added, result.seconds, result.reused
                if old and old != result.source_id and agent.store.get_source(old) is not None:
                    agent.forget(old)  # the file changed: its old version leaves memory
            break
        save_state(store, state)
        if progress:
            progress(state, src.path, entry.status)
    state.finished = time.time()
    save_state(store, state)
    return state


def _content_id(path: str) -> str:
    from perception.decode import source_id_for

    try:
        return source_id_for(Path(path)) if Path(path).is_file() else ""
    except OSError:
        return ""


def _changed(agent: Any, src: BatchSource, entry: SourceState) -> bool:
    """Whether a finished source's file no longer holds what was indexed (cheap checks first)."""
    from perception.decode import source_id_for

    path = Path(src.path)
    if not path.exists():
        return False
    if path.is_dir():
        return True  # a screenshot folder may have grown: indexing it again is cheap when it did not
    try:
        now = source_id_for(path)
    except OSError:
        return False
    if entry.status == "failed":
        return now != entry.source_id
    return now != entry.source_id or agent.store.get_source(entry.source_id) is None
