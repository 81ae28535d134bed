"""Run the map stage over the clips of a source: in this process, a local process pool, or Ray Data.

Every clip is computed on its own and written atomically to the perception cache, so the three
ways give the same observations, and a run killed at any moment resumes with the clips still
missing. Models load once per worker, on its first clip.

- in-process: short sources (a few clips: starting workers would cost more than it saves);
- a process pool (the default): ``workers`` processes sharing the cores;
- Ray Data (``--ray local`` or ``--ray ADDRESS``): decoding runs as CPU tasks upstream, the model
  stages in an actor pool (``map_batches``). On a cluster the source and the store must be on a
  path every node reads (a shared filesystem).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from perception.decode import MediaInfo, Span, take_damaged
from perception.errors import MediaError
from perception.map import Perceiver
from perception.map_clip import decode_clip
from perception.records import ClipObservation

from mmagent.components import Components, perception_options
from mmagent.crash import crash_point
from mmagent.errors import RunnerError
from mmagent.settings import Settings

log = logging.getLogger(__name__)

ClipProgress = Callable[[int, int], None]
MIN_CLIPS_FOR_WORKERS = 4  # fewer pending clips run in-process


@dataclass
class MapReport:
    """How the map stage ran: the runner, clips computed / reused, seconds per stage."""

    runner: str = "in-process"
    workers: int = 1
    computed: int = 0
    reused: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (file, stretch skipped): damaged data


@dataclass(frozen=True)
class _Job:
    path: str
    info: MediaInfo
    source_id: str
    cache_dir: str


def run_map(
    settings: Settings, perceiver: Perceiver, path: Path, info: MediaInfo, source_id: str, cache_dir: Path,
    on_clip: ClipProgress | None = None,
) -> tuple[list[ClipObservation], MapReport]:
    """All clips of the source, in order; computes the ones missing from the cache."""
    spans = perceiver.spans(info)
    pending = perceiver.pending(info, cache_dir)
    report = MapReport(reused=len(spans) - len(pending), computed=len(pending))
    job = _Job(str(path), info, source_id, str(cache_dir))
    done = report.reused
    if on_clip and done:
        on_clip(done, len(spans))

    def tick() -> None:  # a clip is perceived and in the cache
        nonlocal done
        done += 1
        crash_point(f"index:clip:{done - report.reused}")
        if on_clip:
            on_clip(done, len(spans))

    workers = min(settings.resolved_workers(), len(pending))
    if not pending:
        pass  # everything is cached: no workers, no cluster
    elif settings.ray:
        report.runner, report.workers = "ray", max(1, workers)
        _run_ray(settings, job, [[(i, spans[i]) for i in g] for g in perceiver.groups(pending)], report, tick)
    elif workers > 1 and len(pending) >= MIN_CLIPS_FOR_WORKERS:
        report.runner, report.workers = "pool", workers
        _run_pool(settings, job, [[(i, spans[i]) for i in g] for g in perceiver.groups(pending)], workers, report, tick)
    else:
        import torch

        take_damaged()  # what earlier sources of this process left
        before, threads = dict(perceiver.timings), torch.get_num_threads()
        torch.set_num_threads(settings.threads_per_worker())  # as a pool worker would
        try:
            for group in perceiver.groups(pending):
                perceiver.observe_clips(path, info, source_id, [(i, spans[i]) for i in group], cache_dir)
                for _ in group:
                    tick()
        finally:
            torch.set_num_threads(threads)
            report.damaged += take_damaged()
        _add(report.stages, {k: v - before.get(k, 0.0) for k, v in perceiver.timings.items()})
    return [perceiver.load(cache_dir, i) for i in range(len(spans))], report


def _add(into: dict[str, float], more: dict[str, float]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0.0) + v


# -- a local process pool -----------------------------------------------------------------------

_WORKER: Perceiver | None = None


def _init_worker(settings: Settings, threads: int, parent: int | None = None, deathsig: bool = False) -> None:
    global _WORKER
    if parent is not None:
        _watch_parent(parent, deathsig)
    import torch

    torch.set_num_threads(threads)
    _WORKER = Components(settings, threads).perceiver()


def _work(job: _Job, group: list[tuple[int, Span]]) -> tuple[int, dict[str, float], list[tuple[str, str]]]:
    """One group of clips (``Perceiver.groups``) in a worker; returns how many clips, the
    seconds its stages took and the damaged stretches it skipped. A media error is raised in the
    parent as it was raised here."""
    assert _WORKER is not None
    before = dict(_WORKER.timings)
    take_damaged()
    _WORKER.observe_clips(Path(job.path), job.info, job.source_id, group, Path(job.cache_dir))
    return len(group), {k: v - before.get(k, 0.0) for k, v in _WORKER.timings.items()}, take_damaged()


def _watch_parent(parent: int, deathsig: bool, every: float = 0.5) -> None:
    """A worker exits when the process that started it is gone (``kill -9`` of the main
    process, an OOM kill): a thread polls the parent's PID, and on Linux the kernel also sends
    SIGKILL when the parent dies (``PR_SET_PDEATHSIG``; only for a pool started by the main
    thread: the signal follows the thread that started the worker, and a pool outlives the
    other threads that use it). Left alone, workers and the resource tracker they keep open
    would hold memory and cores for hours."""
    import sys
    import threading

    if deathsig and sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl here: the thread alone watches
            pass
    if os.getppid() != parent:  # it died before the watch began
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


_POOL: tuple[Any, ProcessPoolExecutor] | None = None  # kept across sources: models load once per job


def _pool(settings: Settings, workers: int, threads: int) -> ProcessPoolExecutor:
    global _POOL
    # workers are started by the thread that submits: the kernel's parent-death signal is asked
    # for only when that is the main thread (a pool used from other threads relies on the poll)
    main = threading.current_thread() is threading.main_thread()
    key = (settings, workers, threads, main)
    if _POOL is not None and _POOL[0] == key:
        return _POOL[1]
    close_pool()
    pool = ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_init_worker,
        initargs=(settings, threads, os.getpid(), main),
    )
    _POOL = (key, pool)
    return pool


def close_pool() -> None:
    """Stop the worker processes (the agent does it when it closes; also at exit)."""
    global _POOL
    if _POOL is not None:
        pool, _POOL = _POOL[1], None
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(close_pool)


def _run_pool(
    settings: Settings, job: _Job, groups: list[list[tuple[int, Span]]], workers: int, report: MapReport,
    tick: Callable[[], None],
) -> None:
    pool = _pool(settings, workers, settings.threads_per_worker())
    futures: set[Any] = set()
    try:
        futures = {pool.submit(_work, job, group) for group in groups}
        while futures:
            finished, futures = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished:
                count, stages, damaged = future.result()  # a worker's error is raised here
                _add(report.stages, stages)
                report.damaged += damaged
                for _ in range(count):
                    tick()
    except BrokenProcessPool:
        close_pool()
        raise RunnerError(
            "a perception worker died (out of memory, or killed); finished clips are kept: run the same command again"
        ) from None
    except BaseException:
        for future in futures:  # this source failed: drop its queued clips, let running ones end
            future.cancel()
        wait(futures)
        raise


# -- Ray Data -------------------------------------------------------------------------------------


class _RayClipWorker:
    """An actor of the pool: builds the models once, then computes clips decoded upstream."""

    def __init__(self, settings: Settings, threads: int) -> None:
        _init_worker(settings, threads)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        assert _WORKER is not None
        out: dict[str, list[Any]] = {"clips": [], "seconds": [], "damaged": []}
        for k in range(len(batch["job"])):
            job: _Job = batch["job"][k]
            group, media = pickle.loads(batch["media"][k])
            began = time.perf_counter()
            take_damaged()  # what this actor's earlier work left: reported with it
            _WORKER.observe_clips(Path(job.path), job.info, job.source_id, group, Path(job.cache_dir), media)
            out["clips"].append(len(group))
            out["seconds"].append(time.perf_counter() - began)
            # the damaged stretches its decoding task skipped, and any this actor's own reads did
            out["damaged"].append(json.dumps(json.loads(batch["damaged"][k]) + take_damaged()))
        return {k: np.array(v) for k, v in out.items()}


def _decode_row(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Upstream CPU task: decode what the missing signals of a group's clips need. The group's
    clips and their media travel as one pickled blob (arrays of many shapes)."""
    job: _Job = row["job"]
    options = perception_options(settings)
    group, media = [], []
    take_damaged()  # what earlier tasks of this worker process left: reported with them
    for index, start, end, audio, frames in pickle.loads(row["group"]):
        group.append((index, (start, end)))
        media.append(decode_clip(Path(job.path), (start, end), options, audio, frames))
    # damaged stretches decoding skipped travel with the row to the driver (as in the pool's results)
    return {"job": job, "media": pickle.dumps((group, media), protocol=pickle.HIGHEST_PROTOCOL),
            "damaged": json.dumps(take_damaged())}


def _run_ray(
    settings: Settings, job: _Job, groups: list[list[tuple[int, Span]]], report: MapReport, tick: Callable[[], None]
) -> None:
    try:
        import ray
    except ImportError:
        from models.errors import ModelNotInstalled

        raise ModelNotInstalled("ray[data]", "distributed perception") from None
    import ray.data

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster of our own
    if not ray.is_initialized():
        if settings.ray != "local":
            _check_reachable(settings.ray)
        try:
            if settings.ray == "local":
                ray.init(num_cpus=settings.resolved_threads(), include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            else:
                ray.init(address=settings.ray, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RunnerError(f"cannot start or reach the Ray cluster '{settings.ray}': {str(exc).splitlines()[0]}") from None
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_progress = False
    workers = report.workers
    threads = settings.threads_per_worker()
    probe = Components(settings, 1).perceiver()  # no weights load: only which streams each clip needs
    cache = Path(job.cache_dir)
    rows = []
    for group in groups:
        spec = [(i, start, end, *probe.needs(cache, i)) for i, (start, end) in group]
        rows.append({"job": job, "group": pickle.dumps(spec)})
    ds = ray.data.from_items(rows, override_num_blocks=max(1, len(rows)))
    # logical CPUs: the actors must leave room for the decoding tasks, or nothing feeds them
    ds = ds.map(_decode_row, fn_kwargs={"settings": settings}, num_cpus=0.25)
    ds = ds.map_batches(
        _RayClipWorker, fn_constructor_kwargs={"settings": settings, "threads": threads},
        batch_size=1, concurrency=workers, num_cpus=max(0.5, threads - 0.25),
        # Ray sets OMP_NUM_THREADS to an actor's CPUs; CTranslate2's results change with it, so
        # the actors get this process's value: the same observations as the pool and in-process
        runtime_env={"env_vars": {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count() or 1))}},
    )
    try:
        for row in ds.iter_rows():
            _add(report.stages, {"clip_seconds_in_actors": float(row["seconds"])})
            report.damaged += [(str(f), str(r)) for f, r in json.loads(str(row["damaged"]))]
            for _ in range(int(row["clips"])):
                tick()
    except Exception as exc:  # Ray wraps a worker's error: give back the media error it was
        cause = _media_error(exc)
        if cause is not None:
            raise cause from None
        raise


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Ray waits minutes on an address nobody answers at: fail in seconds, in one line."""
    import socket

    if address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise RunnerError(f"a Ray address is 'local', 'auto' or HOST:PORT (or ray://HOST:PORT), not '{address}'")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise RunnerError(f"cannot start or reach the Ray cluster '{address}': {exc.strerror or exc}") from None


def _media_error(exc: BaseException) -> MediaError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MediaError):
            return current
        cause = getattr(current, "cause", None)
        if isinstance(cause, MediaError):
            return cause
        current = current.__cause__ or current.__context__
    return None
