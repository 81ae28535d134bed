"""The screen recorder: private, local, cheap when nothing changes.

Every ``interval`` seconds each monitor is grabbed (mss). A capture is dropped before anything is
written when its window is excluded (an excluded app, a private / incognito browser window:
``apps/screen_privacy.py``) or when capture is paused; it costs a downscaled grey diff when the
screen did not change. A changed capture is read by OCR here, in the recorder, and every secret
the OCR finds (card numbers, API keys, password fields, IBANs, SSNs) is blacked out in the image
by its box and replaced in the text — so neither the saved file nor anything downstream (models,
the store) ever sees it. Captures are saved as WebP with a sidecar JSON (time, app, window
title, monitor, the redacted OCR lines), the layout ``mmagent index FOLDER`` reads.
The screens and the active window are read by ``apps/screen_sources.py``, changes and secrets found by
``apps/screen_frames.py``; the settings and ``status.json`` are ``apps/screen_state.py``; the
folder's retention and the captures a killed run left half-written, ``apps/screen_folder.py``.

Below a free-disk floor, capture pauses and says why. ``status.json`` in the folder says what
happened: captured, unchanged, excluded, stored, redacted, paused reason, last capture.

Capture runs in a thread of its own, watched: when no round of capture has finished for
``stall_after`` seconds while recording (a grab or a window read that blocks: a display server
that stopped answering), the status says so (``stalled``) and a new capture loop is started with
new screen and window readers; the stuck one is abandoned, and what it returns is discarded.

    python -m apps.screen_recorder --folder DIR [--interval 2] [--seconds N]
    mmagent screen start|stop|status|pause|resume   (apps/cli/)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from apps.screen_folder import drop_pictures, finish_folder_writes
from apps.screen_frames import ImageArray, black_out, centre_y, changed, changed_band, ocr_digits, thumbnail
from apps.screen_privacy import excluded, redact_lines
from apps.screen_state import RecorderSettings, Status, parse_args, process_private_mb, process_rss_mb
from apps.screen_sources import Window, screen_grabber, window_reader
from perception.capture import CaptureSidecar, Patch, write_capture

log = logging.getLogger(__name__)
_LOOP = "mmagent-capture"  # the capture loop's thread name


class Recorder:
    def __init__(self, folder: Path, settings: RecorderSettings = RecorderSettings(),
                 grab: Callable[[], list[ImageArray]] | None = None, window: Callable[[], Window] | None = None,
                 ocr: Any = None) -> None:
        """``grab``: the monitors' pixels (default: mss); ``ocr``: an OCR model (default: the
        bundled RapidOCR)."""
        self.folder = Path(folder)
        self.settings = settings
        self._grab = grab
        self._window = window
        self._ocr = ocr
        self._last: dict[int, npt.NDArray[np.float32]] = {}
        self._window_of: dict[int, Window] = {}
        self._stored_at: dict[int, float] = {}  # per monitor: when its last capture was stored
        # per monitor: the last whole picture saved (day folder, file name, thumbnail, window): later
        # captures of the same window that differ from it in a band are saved as that band alone
        self._base: dict[int, tuple[Path, str, npt.NDArray[np.float32], Window]] = {}
        # per monitor: the last stored capture's lines, its secret boxes and its size
        self._lines: dict[int, tuple[list[dict[str, Any]], list[Any], tuple[int, ...]]] = {}
        self.status = Status(pid=os.getpid(), started=time.time(), stall_after=settings.stall_after)
        self._own = (grab is None, window is None)  # readers made here are made again after a stall
        self._loop: threading.Thread | None = None  # the capture loop in charge; a stalled one is abandoned
        self._loop_began = 0.0
        self._stalls = 0  # restarts since the last finished round: each waits twice as long as the one before
        self._status_lock = threading.Lock()
        self.stop_event = threading.Event()
        self.pending: list[float] = []  # times of stored captures the indexer has not taken yet
        self.pending_lock = threading.Lock()
        self._seen: Window | None = None  # the focused window at the last capture
        self._next_retention = 0.0

    # components, made on first use
    def _grabber(self) -> Callable[[], list[ImageArray]]:
        if self._grab is None:
            self._grab = screen_grabber()
        return self._grab

    def _reader(self) -> Any:
        if self._ocr is None:
            import models

            self._ocr = models.create("ocr", "rapidocr")
        return self._ocr

    def _active(self) -> Window:
        if self._window is None:
            self._window = window_reader()
        return self._window()

    @property
    def paused_file(self) -> Path:
        return self.folder / "PAUSED"

    def _pause_reason(self) -> str | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.paused_file.exists():
            return "paused by the user"
        free = shutil.disk_usage(self.folder).free // (1024 * 1024)
        if free < self.settings.min_free_mb:
            return f"only {free} MB free on disk (the floor is {self.settings.min_free_mb} MB)"
        return None

    def write_status(self) -> None:
        with self._status_lock:  # the capture loop and its watchdog both write it
            tmp = self.folder / ".status.json.tmp"
            tmp.write_text(json.dumps(asdict(self.status)))
            os.replace(tmp, self.folder / "status.json")

    def _abandoned(self) -> bool:
        """Whether this thread is a capture loop no longer in charge: replaced by the watchdog, or
        the recorder stopped (what it got is dropped). A direct caller of :meth:`tick` never is."""
        me = threading.current_thread()
        return me.name == _LOOP and me is not self._loop

    def tick(self, now: float | None = None) -> int:
        """One round of captures; returns how many were stored."""
        now = time.time() if now is None else now
        self.status.paused = self._pause_reason()
        if self.status.paused:
            return 0
        shots = self._grabber()()
        win = self._active()
        if self._abandoned():  # it blocked long enough to be replaced: a newer loop captures now
            return 0
        self._seen = win
        self.status.warning = None if win != Window(None, None) else (
            "the focused window cannot be read here (no X11 display, or Wayland): "
            "excluded apps and private windows cannot be recognised")
        stored = 0
        for monitor, image in enumerate(shots):
            self.status.captured += 1
            why = excluded(self.settings.rules, win.app, win.title)
            if why:  # never written, never read
                self.status.excluded += 1
                continue
            thumb = thumbnail(image)
            previous = self._last.get(monitor)
            if not changed(previous, thumb, self.settings.tile_threshold):
                self.status.unchanged += 1
                continue
            # a few lines changed in the same window: read only them (OCR is the cost of a capture)
            same = self._window_of.get(monitor) == win
            if same and now - self._stored_at.get(monitor, -1e18) < self.settings.same_window_gap:
                self.status.deferred += 1  # typing, scrolling: the state is stored when the gap has passed
                continue
            band = changed_band(previous, thumb, self.settings.tile_threshold) if same else None
            self._last[monitor], self._window_of[monitor], self._stored_at[monitor] = thumb, win, now
            patch = None
            base = self._base.get(monitor)
            if base is not None and base[3] == win and base[2].shape == thumb.shape:
                patch = changed_band(base[2], thumb, self.settings.tile_threshold, most=self.settings.patch_most)
            stored += self._store(image, monitor, win, now, band, patch)
        return stored

    def _read_text(self, image: ImageArray, monitor: int, band: tuple[float, float] | None) -> tuple[list[Any], list[dict[str, Any]], list[Any]]:
        """New OCR boxes (image coordinates), the previous capture's lines and secret boxes kept
        (those outside the band that changed)."""
        from models.base import TextBox

        previous = self._lines.get(monitor)
        if band is None or previous is None or previous[2] != image.shape[:2]:
            return self._reader().read(image), [], []
        y0, y1 = int(band[0] * image.shape[0]), int(np.ceil(band[1] * image.shape[0]))
        for line in previous[0]:  # never cut a line in two: the band takes in the lines on its edges
            top, bottom = min(p[1] for p in line["box"]), max(p[1] for p in line["box"])
            if top < y0 < bottom:
                y0 = max(0, int(top) - 4)
            if top < y1 < bottom:
                y1 = min(image.shape[0], int(np.ceil(bottom)) + 4)
        boxes = [TextBox(b.text, b.score, tuple((float(x), float(y) + y0) for x, y in b.box))
                 for b in self._reader().read(image[y0:y1])]
        kept = [line for line in previous[0] if not y0 <= centre_y(line["box"]) < y1]
        secrets = [box for box in previous[1] if not y0 <= centre_y(box) < y1]
        return boxes, kept, secrets

    def _store(self, image: ImageArray, monitor: int, win: Window, now: float,
               band: tuple[float, float] | None = None, patch: tuple[float, float] | None = None) -> int:
        """Read, redact and save one capture. ``band``: the rows that changed since the last
        capture (only they are read again); ``patch``: the rows that differ from the last whole
        picture of this window (only they are saved, with a pointer to it)."""
        scale = self.settings.ocr_max_side / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        else:
            image = image.copy()
        boxes, kept, secrets = self._read_text(image, monitor, band)
        for box in secrets:  # a secret read before, still on screen outside what changed
            black_out(image, box)
        texts, kinds = redact_lines([b.text for b in boxes]) if self.settings.rules.redact else ([b.text for b in boxes], [])
        if self.settings.rules.redact:  # OCR reads "1111" as "111l": look again with digits restored
            again, more = redact_lines([ocr_digits(t) for t in texts])
            texts = [b if b != ocr_digits(a) else a for a, b in zip(texts, again)]
            kinds += more
        lines = list(kept)
        for box, text in zip(boxes, texts):
            if text != box.text:  # a secret in this line: black it out in the picture too
                black_out(image, box.box)
                secrets.append([list(map(float, p)) for p in box.box])
            lines.append({"text": text, "score": round(float(box.score), 3), "box": [[round(float(x)), round(float(y))] for x, y in box.box]})  # whole pixels: a smaller sidecar
        lines.sort(key=lambda line: (round(centre_y(line["box"]) / 8), min(p[0] for p in line["box"]) if line["box"] else 0))
        self._lines[monitor] = (lines, secrets, image.shape[:2])
        if secrets:  # found now, or found earlier and still on screen: blacked out either way
            self.status.redacted += 1
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now)) + f"_{int(now * 1000) % 1000:03d}_m{monitor}"
        day = self.folder / time.strftime("%Y-%m-%d", time.localtime(now))  # a folder (a source) per day
        day.mkdir(parents=True, exist_ok=True)
        base = self._base.get(monitor)
        if patch is not None and (base is None or base[0] != day):
            patch = None  # a new day starts with a whole picture
        # the saved picture is smaller than the one read (secrets already blacked out); boxes follow it
        shrink = min(1.0, self.settings.max_side / max(image.shape[:2]))
        if shrink < 1:
            image = cv2.resize(image, (int(image.shape[1] * shrink), int(image.shape[0] * shrink)), interpolation=cv2.INTER_AREA)
            lines = [{**line, "box": [[round(x * shrink), round(y * shrink)] for x, y in line["box"]]} for line in lines]
        picture, saved_against = image, None
        if patch is not None and base is not None:  # only the rows that differ from the window's last whole picture
            top, bottom = int(patch[0] * image.shape[0]), int(np.ceil(patch[1] * image.shape[0]))
            picture = image[top:bottom]
            saved_against = Patch(f"{base[1]}.webp", top, image.shape[1], image.shape[0])
        record = CaptureSidecar(now, win.app, win.title, tuple((ln["text"], ln["score"], tuple(map(tuple, ln["box"])))
                                                               for ln in lines),
                                monitor=monitor, redacted=tuple(sorted(set(kinds))), blacked_out=len(secrets),
                                read="band" if band else "full", patch=saved_against)
        ok, data = cv2.imencode(".webp", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_WEBP_QUALITY, self.settings.quality])
        if not ok:
            raise OSError("cannot encode the capture as WebP")
        if saved_against is None:  # the picture later captures of this window are saved against
            self._base[monitor] = (day, stamp, self._last[monitor], win)
        # atomic: a reader sees the whole capture (sidecar, then picture) or none of it
        write_capture(day, stamp, data.tobytes(), ".webp", record)
        self.status.stored += 1
        self.status.last_capture = now
        with self.pending_lock:
            self.pending.append(now)
        return 1

    def finish_writes(self) -> tuple[int, int]:
        """Captures a killed recorder left half-written: one whose sidecar was placed is
        completed, the rest removed (:func:`apps.screen_folder.finish_folder_writes`); said in the status."""
        finished, removed = finish_folder_writes(self.folder)
        if finished or removed:
            self.status.recovered = (f"the last run stopped while saving a capture: {finished} completed, "
                                     f"{removed} unfinished file(s) removed")
        return finished, removed

    def drop_old(self, now: float | None = None) -> int:
        """Retention: delete the pictures of days older than ``retention_days``; their sidecars
        (time, window, the redacted text) stay, and so do their memories."""
        dropped = drop_pictures(self.folder, self.settings.retention_days, time.time() if now is None else now)
        self.status.dropped += dropped
        return dropped

    def _wait(self, began: float) -> None:
        """Until the next capture is due, or at once when the focused window changes."""
        deadline = began + self.settings.interval
        while not self.stop_event.is_set() and not self._abandoned():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            poll = self.settings.focus_poll
            self.stop_event.wait(min(left, poll) if poll > 0 else left)
            if poll > 0 and self._seen is not None and not self.status.paused and self._active() != self._seen:
                self.status.focus_changes += 1
                return

    def _capture_loop(self) -> None:
        """Rounds of capture until stopped, or until the watchdog replaces this loop."""
        while not self.stop_event.is_set() and not self._abandoned():
            began = time.monotonic()
            try:
                if time.time() >= self._next_retention:
                    self.drop_old()
                    self._next_retention = time.time() + 3600
                self.tick()
                error = None
            except Exception as exc:  # noqa: BLE001 — a failed grab is reported and retried, never fatal
                error = f"{type(exc).__name__}: {exc}"
            if self._abandoned():
                return
            self.status.error = error
            self.status.last_round = time.time()
            self._stalls = 0
            if self.status.stalled:
                log.warning("capture resumed after the restart of its loop")
                self.status.stalled = None
            self.status.rss_mb, self.status.private_mb = process_rss_mb(), process_private_mb()
            with self.pending_lock:
                self.status.queue = len(self.pending)
                self.status.lag = round(time.time() - self.pending[0], 1) if self.pending else 0.0
            self.write_status()
            self._wait(began)

    def _start_loop(self) -> None:
        if self._own[0]:
            self._grab = None  # a new screen reader (mss holds a display connection per thread)
        if self._own[1]:
            self._window = None
        self._loop_began = time.time()
        self._loop = threading.Thread(target=self._capture_loop, name=_LOOP, daemon=True)
        self._loop.start()

    def watch(self, now: float | None = None) -> bool:
        """The watchdog: when no capture round has finished for ``stall_after`` seconds while
        recording, say so in the status and start a new capture loop; returns whether it did."""
        now = time.time() if now is None else now
        beat = max(self.status.last_round or 0.0, self._loop_began)
        # a display server that stays stuck blocks each new loop too: wait twice as long each time
        if self.stop_event.is_set() or now - beat <= self.settings.stall_after * 2 ** min(self._stalls, 6):
            return False
        self._stalls += 1
        self.status.restarts += 1
        self.status.stalled = (f"no screen grab for {now - beat:.0f} s while recording; the capture loop was "
                               f"restarted ({self.status.restarts} time(s) since the start)")
        log.warning("capture stalled: %s", self.status.stalled)
        self._start_loop()
        self.write_status()
        return True

    def run(self, seconds: float | None = None) -> Status:
        """Capture until stopped (SIGTERM, ``stop_event``) or for ``seconds``, in a capture loop of
        its own that this thread watches (:meth:`watch`)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.finish_writes()
        end = None if seconds is None else time.monotonic() + seconds
        self._start_loop()
        every = max(0.05, min(5.0, self.settings.stall_after / 4))
        while not self.stop_event.is_set():
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                break
            self.stop_event.wait(every if left is None else min(every, left))
            self.watch()
        loop, self._loop = self._loop, None  # no loop is in charge now: each stops at its next check
        if loop is not None:
            loop.join(timeout=self.settings.interval + 5.0)  # a stuck one is left behind (a daemon thread)
        self.write_status()
        return self.status


def main(argv: list[str] | None = None) -> int:
    args, settings = parse_args(argv)
    recorder = Recorder(args.folder, settings)
    signal.signal(signal.SIGTERM, lambda *_: recorder.stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: recorder.stop_event.set())
    # captures (screen text, pictures) are this user's alone: folders 0700, files 0600
    from memory.store_folder import private_folder

    os.umask(os.umask(0o077) | 0o077)
    private_folder(args.folder)
    agent = server = None
    lock = threading.RLock()
    if args.store:
        from apps.screen_indexer import Indexer
        from apps.server import StoreServer
        from mmagent import MMAgent, Settings

        # a background process: one thread for the models, so capture never waits for a core
        agent = MMAgent(Settings.load(store=args.store, workers=1), resident=True)
        agent.store  # noqa: B018 — lock the store now: a second writer fails here, not later
        # every request mmagent serve answers (entities, transcript, forget ...), one at a time with the indexer
        server = StoreServer(agent, lock, lambda: {**asdict(recorder.status), "folder": str(recorder.folder)},
                             exclusive=True)
        server.start()
        Indexer(agent, recorder, lock, args.index_every).start()
        recorder.status.indexing = False
    (args.folder / "recorder.pid").write_text(str(os.getpid()))
    try:
        recorder.run(args.seconds)
    finally:
        (args.folder / "recorder.pid").unlink(missing_ok=True)
        if server is not None:
            server.close()
        if agent is not None:
            with lock:  # after the indexing pass in progress: the store closes whole
                agent.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
