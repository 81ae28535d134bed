"""The main window (the pages, the recorder's controls in the toolbar, menu and tray, the status
bar) and ``main``, the app."""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from apps.desktop.backend import Backend
from apps.desktop.captures import DROPPED, CaptureInfo, evidence_line, fmt_span
from apps.desktop.pages import AskPage, SearchPage, TimelinePage
from apps.desktop.qt import (
    STATUS_EVERY_MS, THUMB, THUMB_CACHE, QAction, QApplication, QColor, QFrame, QImage, QLabel, QMainWindow,
    QMenu, QObject, QPainter, QPixmap, QProgressBar, QSystemTrayIcon, QTabWidget, QThreadPool, QTimer,
)
from apps.desktop.settings_page import SettingsPage
from apps.desktop.widgets import CaptureViewer, Job, Relay, ThumbJob, ThumbRelay, app_icon, placeholder


class MainWindow(QMainWindow):
    def __init__(self, backend: Backend, tray: bool = True, warm: bool = True) -> None:
        super().__init__()
        self.backend = backend
        self.setWindowTitle(f"mmagent — {backend.store}")
        self.setWindowIcon(app_icon())
        self.resize(1180, 780)
        self.calls = QThreadPool(self)  # the store: one call at a time, in order
        self.calls.setMaxThreadCount(1)
        self.io = QThreadPool(self)  # day listings, the status, thumbnails
        self.io.setMaxThreadCount(2)
        self._relays: set[QObject] = set()
        self._busy = 0
        self._closed = False
        self._quitting = False
        self._thumbs: OrderedDict[str, QPixmap] = OrderedDict()
        self._thumb_generation = 0
        self._thumb_cancel = threading.Event()
        self._thumb_relay = ThumbRelay()
        self._thumb_relay.loaded.connect(self._thumb_loaded)
        self.loading_icon = placeholder(THUMB, "loading…")
        self.dropped_icon = placeholder(THUMB, DROPPED, "#f1e4c8")
        self.status: dict[str, Any] = {}
        self._status_pending = False
        self.viewer: CaptureViewer | None = None

        # actions: the toolbar, the Recorder menu and the tray share them
        self.act_start = QAction("Start recording", self)
        self.act_stop = QAction("Stop recording", self)
        self.act_pause = QAction("Pause", self)
        self.act_resume = QAction("Resume", self)
        self.act_show = QAction("Show window", self)
        self.act_quit = QAction("Quit", self)
        self.act_start.triggered.connect(self.start_recording)
        self.act_stop.triggered.connect(self.stop_recording)
        self.act_pause.triggered.connect(lambda: self.set_paused(True))
        self.act_resume.triggered.connect(lambda: self.set_paused(False))
        self.act_show.triggered.connect(self.show_window)
        self.act_quit.triggered.connect(self.quit)
        self.act_stop.setEnabled(False)
        self.act_resume.setEnabled(False)
        bar = self.addToolBar("Recorder")
        bar.setObjectName("recorder")
        bar.setMovable(False)
        for act in (self.act_start, self.act_stop, self.act_pause, self.act_resume):
            bar.addAction(act)
        menu = self.menuBar().addMenu("&Recorder")
        for act in (self.act_start, self.act_stop, self.act_pause, self.act_resume):
            menu.addAction(act)
        menu.addSeparator()
        menu.addAction(self.act_quit)

        self.tabs = QTabWidget()
        self.timeline = TimelinePage(self)
        self.search = SearchPage(self)
        self.ask = AskPage(self)
        self.settings = SettingsPage(self)
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.search, "Search")
        self.tabs.addTab(self.ask, "Ask")
        self.tabs.addTab(self.settings, "Settings")
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(lambda _i: self._refresh_timeline())

        self.state_label = QLabel("recorder: …")
        self.state_label.setStyleSheet("font-weight: bold; padding: 0 6px;")
        self.counts_label = QLabel()
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setMaximumWidth(520)  # the whole of it in the tooltip
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(110)
        self.busy_bar.hide()
        sep = QFrame()
        sep.setFrameShape(QFrame.Shape.VLine)
        self.statusBar().addPermanentWidget(self.state_label)
        self.statusBar().addPermanentWidget(sep)
        self.statusBar().addPermanentWidget(self.counts_label, 1)
        self.statusBar().addPermanentWidget(self.error_label)
        self.statusBar().addPermanentWidget(self.busy_bar)

        self.tray: QSystemTrayIcon | None = None
        if tray and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            tray_menu = QMenu(self)
            for act in (self.act_start, self.act_stop, self.act_pause, self.act_resume):
                tray_menu.addAction(act)
            tray_menu.addSeparator()
            tray_menu.addAction(self.act_show)
            tray_menu.addAction(self.act_quit)
            self.tray.setContextMenu(tray_menu)
            self.tray.setToolTip("mmagent")
            self.tray.activated.connect(self._tray_clicked)
            self.tray.show()

        self.timer = QTimer(self)
        self.timer.setInterval(STATUS_EVERY_MS)
        self.timer.timeout.connect(self.refresh_status)
        self.timer.start()
        self.refresh_status()
        self.timeline.reload()
        if warm:  # the models load while the user looks at the timeline
            self.submit(self.calls, backend.warm, lambda _r: None,
                        lambda m: self.message(f"cannot open the store: {m}", 30000), busy=False)

    # -- workers --------------------------------------------------------------------------
    def submit(self, pool: QThreadPool, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_fail: Callable[[str], None] | None = None, busy: bool = True) -> None:
        """Run ``fn`` on a worker of ``pool``; its result (or error) comes back on the GUI thread."""
        if self._closed:
            return
        if busy:
            self._set_busy(1)

        def finished(relay: Relay) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            if busy:
                self._set_busy(-1)

        relay = Relay(on_done, on_fail or self.message, finished)
        self._relays.add(relay)
        pool.start(Job(fn, relay))

    def _set_busy(self, by: int) -> None:
        self._busy = max(0, self._busy + by)
        self.busy_bar.setVisible(self._busy > 0)
        if self._busy:
            self.statusBar().showMessage("working…")
        elif self.statusBar().currentMessage() == "working…":
            self.statusBar().clearMessage()

    @property
    def busy(self) -> bool:
        return self._busy > 0 or bool(self._relays)

    def message(self, text: str, ms: int = 10000) -> None:
        self.statusBar().showMessage(text, ms)

    # -- thumbnails -----------------------------------------------------------------------
    def thumbnail(self, path: str) -> QPixmap | None:
        pix = self._thumbs.get(path)
        if pix is not None:
            self._thumbs.move_to_end(path)
        return pix

    def load_thumbnails(self, captures: Sequence[CaptureInfo]) -> None:
        self._thumb_cancel.set()  # the previous day's loading stops
        self._thumb_cancel = threading.Event()
        self._thumb_generation += 1
        if captures and not self._closed:
            self.io.start(ThumbJob(captures, self._thumb_generation, self._thumb_relay, self._thumb_cancel))

    def _thumb_loaded(self, generation: int, path: str, image: QImage) -> None:
        if image.isNull():
            pix = placeholder(THUMB, "unreadable picture")
        else:
            pix = QPixmap.fromImage(image)
            painter = QPainter(pix)  # a frame: a white window on a white list still shows
            painter.setPen(QColor("#9e9e9e"))
            painter.drawRect(0, 0, pix.width() - 1, pix.height() - 1)
            painter.end()
        self._thumbs[path] = pix
        self._thumbs.move_to_end(path)
        while len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)
        self.timeline.set_thumbnail(path, pix)

    # -- captures -------------------------------------------------------------------------
    def show_capture(self, capture: CaptureInfo, siblings: Sequence[CaptureInfo] = ()) -> None:
        if self.viewer is None:
            self.viewer = CaptureViewer(self)
        self.viewer.show_capture(capture, siblings)

    def open_evidence(self, e: Mapping[str, Any]) -> None:
        if e.get("image"):
            self.show_capture(self.backend.capture(Path(e["image"])))
            return
        if e.get("wall_time") is None:  # from a video: no picture to show
            self.message(f"from the video {e.get('path')} at {fmt_span(float(e.get('start', 0)))}–"
                         f"{fmt_span(float(e.get('end', 0)))} (no picture)", 20000)
            return

        def found(capture: CaptureInfo | None) -> None:
            if capture is None:
                self.message(f"the capture of {evidence_line(e)} is no longer on disk")
            else:
                self.show_capture(capture)

        self.submit(self.io, lambda: self.backend.capture_for(e), found, busy=False)

    # -- the recorder ---------------------------------------------------------------------
    def refresh_status(self) -> None:
        if self._status_pending or self._closed:
            return
        self._status_pending = True

        def done(status: dict[str, Any]) -> None:
            self._status_pending = False
            self.show_status(status)

        def failed(message: str) -> None:
            self._status_pending = False
            self.state_label.setText("recorder: status unknown")
            self.error_label.setText(message)

        self.submit(self.io, self.backend.status, done, failed, busy=False)

    def show_status(self, s: dict[str, Any]) -> None:
        before = self.status
        self.status = s
        recording, paused = bool(s.get("recording")), s.get("paused")
        if recording and paused:
            state, colour = f"paused ({paused})", "#ef6c00"
        elif recording and s.get("stalled"):
            state, colour = "recording, capture stalled", "#ef6c00"
        elif recording:
            state, colour = "recording", "#c62828"
        else:
            state, colour = "not recording" + (" (capture paused)" if paused else ""), "#555555"
        self.state_label.setText(f"● {state}")
        self.state_label.setStyleSheet(f"font-weight: bold; padding: 0 6px; color: {colour};")
        counts = [f"{k} {int(s.get(k) or 0)}" for k in ("captured", "unchanged", "excluded", "stored", "redacted",
                                                         "indexed", "queue")]
        counts.append(f"lag {float(s.get('lag') or 0.0):.0f} s")
        counts.append(f"on disk {s.get('captures_on_disk', 0)} ({s.get('pictures_on_disk', 0)} pictures)")
        self.counts_label.setText(" · ".join(counts))
        errors = [f"last {what}: {s[k]}" for k, what in (("error", "capture error"), ("index_error", "indexing error"))
                  if s.get(k)]
        if s.get("stalled") and recording:
            errors.insert(0, f"capture stalled: {s['stalled']}")
        if s.get("warning") and recording:
            errors.append(f"warning: {s['warning']}")
        self.error_label.setText("; ".join(errors))
        self.error_label.setToolTip("\n".join(errors))
        self.act_start.setEnabled(not recording)
        self.act_stop.setEnabled(recording)
        self.act_pause.setEnabled(not paused)
        self.act_resume.setEnabled(bool(paused))
        icon = app_icon(recording, bool(paused))
        self.setWindowIcon(icon)
        if self.tray is not None:
            self.tray.setIcon(icon)
            self.tray.setToolTip(f"mmagent: {state}")
        # new captures of the day on screen: list it again, at most every 20 s (thumbnails come
        # from the cache), or when the timeline is shown again
        if before and s.get("captures_on_disk") != before.get("captures_on_disk") and self.timeline.day == date.today():
            self.timeline.stale = True
        self._refresh_timeline(20.0 if self.timeline.captures else 0.0)

    def _refresh_timeline(self, every: float = 0.0) -> None:
        page = self.timeline
        if page.stale and self.tabs.currentWidget() is page and time.monotonic() - page.listed_at >= every:
            page.reload()

    def start_recording(self) -> None:
        self.act_start.setEnabled(False)
        self.message("starting the recorder (it loads its models first)…", 60000)
        cfg = self.backend.config

        def done(doc: dict[str, Any]) -> None:
            self.message(f"recording every {cfg.interval:g} s into {doc.get('folder')}"
                         + ("; indexing in the background" if doc.get("store") else ""))
            self.refresh_status()

        def failed(message: str) -> None:
            self.act_start.setEnabled(True)
            self.message(f"the recorder did not start: {message}", 30000)
            self.refresh_status()

        self.submit(self.calls, self.backend.start_recording, done, failed)

    def stop_recording(self) -> None:
        self.act_stop.setEnabled(False)
        self.message("stopping the recorder (an indexing pass in progress finishes first)…", 60000)

        def done(_doc: dict[str, Any]) -> None:
            self.message("the recorder stopped")
            self.refresh_status()

        def failed(message: str) -> None:
            self.message(f"cannot stop the recorder: {message}", 30000)
            self.refresh_status()

        self.submit(self.calls, self.backend.stop_recording, done, failed)

    def set_paused(self, paused: bool) -> None:
        try:
            self.backend.pause(paused)
        except OSError as exc:
            self.message(f"cannot {'pause' if paused else 'resume'}: {exc}")
            return
        self.message("capture paused" if paused else "capture resumed")
        self.act_pause.setEnabled(not paused)
        self.act_resume.setEnabled(paused)
        self.refresh_status()

    # -- the window and the tray ----------------------------------------------------------
    def show_window(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def _tray_clicked(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            if self.isVisible():
                self.hide()
            else:
                self.show_window()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 — Qt's name
        if self.tray is not None and self.tray.isVisible() and not self._quitting:
            self.hide()  # the tray keeps the app (and its menu) alive
            self.tray.showMessage("mmagent", "Still running in the tray; Quit from its menu.",
                                  QSystemTrayIcon.MessageIcon.Information, 3000)
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def quit(self) -> None:
        self._quitting = True
        self.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> None:
        """Stop the timer and the workers, close the store (the recorder keeps running)."""
        if self._closed:
            return
        self._closed = True
        self.timer.stop()
        self._thumb_cancel.set()
        self.calls.waitForDone()
        self.io.waitForDone()
        QApplication.processEvents()  # deliver what the workers sent before they stopped
        if self.viewer is not None:
            self.viewer.close()
        if self.tray is not None:
            self.tray.hide()
        self.backend.close()


def main(store: Path | None = None) -> int:
    """``mmagent app``: the window (and the tray icon where there is a tray); returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("mmagent")
    app.setApplicationDisplayName("mmagent")
    backend = Backend(store)
    window = MainWindow(backend)
    if window.tray is not None:
        app.setQuitOnLastWindowClosed(False)  # closing the window hides it; Quit in the tray ends the app
    app.aboutToQuit.connect(window.shutdown)
    # Ctrl+C in the terminal quits (Python runs signal handlers only between Qt's events: a tick)
    import signal

    previous = signal.signal(signal.SIGINT, lambda *_: window.quit())
    tick = QTimer(window)
    tick.timeout.connect(lambda: None)
    tick.start(300)
    window.show()
    try:
        return int(app.exec())
    finally:
        signal.signal(signal.SIGINT, previous)
        window.shutdown()
