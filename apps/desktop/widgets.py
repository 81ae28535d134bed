"""The Qt pieces the pages share: workers whose results come back on the GUI thread, capture
pictures (patches drawn onto their base), thumbnails' placeholders, the icon, the capture viewer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from apps.desktop.backend import describe
from apps.desktop.captures import DROPPED, CaptureInfo
from apps.desktop.qt import (
    THUMB, QColor, QDialog, QHBoxLayout, QIcon, QImage, QImageReader, QLabel, QObject, QPainter, QPixmap,
    QPlainTextEdit, QPushButton, QRunnable, QSize, QSizePolicy, QSplitter, Qt, QVBoxLayout, QWidget, Signal,
)


class Relay(QObject):
    """Carries a worker's result to the GUI thread (it lives there: the signals are queued)."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, on_done: Callable[[Any], None], on_fail: Callable[[str], None],
                 finished: Callable[[Relay], None]) -> None:
        super().__init__()
        self._on_done, self._on_fail, self._finished = on_done, on_fail, finished
        self.done.connect(self._done)
        self.failed.connect(self._failed)

    def _done(self, result: Any) -> None:
        try:
            self._on_done(result)
        finally:
            self._finished(self)

    def _failed(self, message: str) -> None:
        try:
            self._on_fail(message)
        finally:
            self._finished(self)


class Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 — shown in the window, never a crash
            self.relay.failed.emit(describe(exc))
            return
        self.relay.done.emit(result)


class ThumbRelay(QObject):
    loaded = Signal(int, str, QImage)


class ThumbJob(QRunnable):
    """Decodes thumbnails straight at their size (QImageReader scales inside the WebP decoder)."""

    def __init__(self, captures: Sequence[CaptureInfo], generation: int, relay: ThumbRelay,
                 cancelled: threading.Event) -> None:
        super().__init__()
        self.captures, self.generation, self.relay, self.cancelled = list(captures), generation, relay, cancelled

    def run(self) -> None:
        for c in self.captures:
            if self.cancelled.is_set():
                return
            self.relay.loaded.emit(self.generation, str(c.path), capture_image(c.path, c.patch, THUMB)[0])


def load_image(path: str | Path, size: QSize | None = None, scale: float | None = None) -> QImage:
    """The picture as a QImage, scaled to fit ``size`` or by ``scale`` (decoded at that size:
    the WebP decoder scales); a null one when unreadable."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and size is not None:
        reader.setScaledSize(full.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    elif full.isValid() and scale is not None and scale < 1.0:
        reader.setScaledSize(QSize(max(1, round(full.width() * scale)), max(1, round(full.height() * scale))))
    return reader.read()


def capture_image(path: Path, patch: Mapping[str, Any] | None, size: QSize | None = None) -> tuple[QImage, str]:
    """A capture's whole picture (fit into ``size`` when given) and a note. A recorder saves a
    change inside a window as the changed rows alone (a patch): they are drawn onto the picture
    they were saved against (perception.screens.open_capture does the same for the indexer)."""
    if not patch:
        return load_image(path, size), ""
    try:
        base_path = Path(path).with_name(str(patch["base"]))
        top, width, height = int(patch["top"]), int(patch["width"]), int(patch["height"])
    except (KeyError, TypeError, ValueError):
        return load_image(path, size), "an unreadable patch record: the changed rows alone"
    scale = 1.0 if size is None else min(1.0, size.width() / width, size.height() / height)
    rows = load_image(path, scale=scale)
    base = load_image(base_path, scale=scale)
    whole = QImage(max(1, round(width * scale)), max(1, round(height * scale)), QImage.Format.Format_RGB32)
    note = ""
    if base.isNull() or abs(base.width() - whole.width()) > 1 or abs(base.height() - whole.height()) > 1:
        whole.fill(QColor("#9e9e9e"))
        note = f"only the changed rows: the picture they were saved against ({base_path.name}) cannot be read"
    else:
        whole = base.convertToFormat(QImage.Format.Format_RGB32)
    if rows.isNull():
        return QImage(), f"cannot read the picture {Path(path).name}"
    painter = QPainter(whole)
    painter.drawImage(0, round(top * scale), rows)
    painter.end()
    return whole, note


def placeholder(size: QSize, text: str, colour: str = "#d9d9d9") -> QPixmap:
    pix = QPixmap(size)
    pix.fill(QColor(colour))
    painter = QPainter(pix)
    painter.setPen(QColor("#555555"))
    font = painter.font()
    font.setPointSize(8)
    painter.setFont(font)
    painter.drawText(pix.rect().adjusted(4, 4, -4, -4), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
    painter.end()
    return pix


def app_icon(recording: bool = False, paused: bool = False) -> QIcon:
    pix = QPixmap(64, 64)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#2d6cdf"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(4, 10, 56, 40, 6, 6)  # a screen
    painter.drawRect(26, 50, 12, 6)
    painter.setBrush(QColor("#e53935" if recording and not paused else "#ffb300" if paused else "#eeeeee"))
    painter.drawEllipse(22, 20, 20, 20)
    painter.end()
    return QIcon(pix)


class ScaledPicture(QLabel):
    """A picture scaled to fit the label as it resizes; or a placeholder text."""

    def __init__(self) -> None:
        super().__init__()
        self.source = QPixmap()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background: #202124; color: #e8eaed; font-size: 16px;")

    def set_picture(self, pixmap: QPixmap) -> None:
        self.source = pixmap
        self.setText("")
        self._fit()

    def set_message(self, text: str) -> None:
        self.source = QPixmap()
        self.clear()
        self.setText(text)

    def _fit(self) -> None:
        if not self.source.isNull():
            self.setPixmap(self.source.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 — Qt's name
        super().resizeEvent(event)
        self._fit()


class CaptureViewer(QDialog):
    """One capture full size: the picture scaled to fit, its time, app, window and text.
    From the timeline, Previous / Next step through the day."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Capture")
        self.resize(1100, 800)
        self.capture: CaptureInfo | None = None
        self.siblings: list[CaptureInfo] = []
        self.note = ""
        self.info = QLabel()
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setWordWrap(True)
        self.picture = ScaledPicture()
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setPlaceholderText("no text was read on this capture")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.picture)
        split.addWidget(self.text)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        self.prev_button, self.next_button = QPushButton("◀ Previous"), QPushButton("Next ▶")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.prev_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)

    def show_capture(self, capture: CaptureInfo, siblings: Sequence[CaptureInfo] = ()) -> None:
        self.capture, self.siblings = capture, list(siblings)
        when = datetime.fromtimestamp(capture.time).strftime("%A %Y-%m-%d %H:%M:%S")
        redacted = f"<br><i>redacted: {', '.join(capture.redacted)}</i>" if capture.redacted else ""
        self.info.setText(f"<b>{to_html(when)}</b><br>App: {to_html(capture.app or 'unknown')}<br>"
                          f"Window: {to_html(capture.window or 'unknown')}<br><small>{to_html(str(capture.path))}</small>{redacted}")
        self.setWindowTitle(f"{capture.title} — {when}")
        self.note = ""
        if not capture.image_kept:
            self.picture.set_message(DROPPED)
        else:
            image, self.note = capture_image(capture.path, capture.patch)
            if image.isNull():
                self.picture.set_message(self.note or f"cannot read the picture {capture.path.name}")
            else:
                self.picture.set_picture(QPixmap.fromImage(image))
        if self.note:
            self.info.setText(self.info.text() + f"<br><span style='color:#c62828'>{to_html(self.note)}</span>")
        self.text.setPlainText(capture.text)
        at = self._index()
        self.prev_button.setVisible(bool(self.siblings))
        self.next_button.setVisible(bool(self.siblings))
        self.prev_button.setEnabled(at > 0)
        self.next_button.setEnabled(0 <= at < len(self.siblings) - 1)
        self.show()
        self.raise_()

    def _index(self) -> int:
        paths = [c.path for c in self.siblings]
        return paths.index(self.capture.path) if self.capture is not None and self.capture.path in paths else -1

    def step(self, by: int) -> None:
        at = self._index()
        if at >= 0 and 0 <= at + by < len(self.siblings):
            self.show_capture(self.siblings[at + by], self.siblings)


def to_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
