"""The desktop app (``mmagent app``): a day's screen captures on a timeline, search, ask with the
cited captures, the recorder's status and controls (in the window and the tray), and the
settings the recorder starts with.

``Backend`` is everything but the widgets (no Qt; tested on its own): it asks the recorder's
memory service when one serves the store (that process holds the store lock), else opens the
store itself — and lets it go before it starts the recorder. ``MainWindow`` is the Qt side:
whatever can take long (search, ask, start / stop, a day's listing, thumbnails, the status)
runs on worker threads; the window shows results, a busy bar and errors, and never blocks.

    mmagent app [--store DIR]        (apps/cli.py)
    python -m apps.desktop [--store DIR]
"""

from __future__ import annotations

import logging

import argparse
import json
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from apps import screen_control as control
from apps.screen_privacy import DEFAULT_EXCLUDED_APPS, DEFAULT_EXCLUDED_TITLES, PrivacyRules
from mmagent.errors import SettingsError

APP_FILE = "app.json"  # the app's settings, in the store folder
RULES_FILE = "rules.json"  # the privacy rules the recorder starts with, in the capture folder
LLM_CHOICES = ("none", "smollm2")
DROPPED = "picture dropped by retention"
log = logging.getLogger(__name__)


# -- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppConfig:
    """What the settings page edits; saved as STORE/app.json, used when the app starts the recorder."""

    interval: float = 2.0  # seconds between captures
    retention_days: float = 30.0  # pictures older than this are dropped (their text stays); 0 keeps all
    excluded_apps: tuple[str, ...] = DEFAULT_EXCLUDED_APPS
    excluded_titles: tuple[str, ...] = DEFAULT_EXCLUDED_TITLES  # regexes searched in window titles
    redact: bool = True
    llm: str = "smollm2"  # "none", "smollm2" (the bundled default) or a local model path
    index_background: bool = True  # the recorder indexes its captures into the store and serves it

    def __post_init__(self) -> None:
        try:
            interval, retention = float(self.interval), float(self.retention_days)
        except (TypeError, ValueError):
            raise SettingsError("the capture interval and the retention must be numbers") from None
        if not interval > 0:
            raise SettingsError("the capture interval must be more than 0 seconds")
        if not retention >= 0:
            raise SettingsError("the retention must be 0 (keep all) or more days")
        if not isinstance(self.redact, bool) or not isinstance(self.index_background, bool):
            raise SettingsError("redact and index_background must be true or false")
        llm = str(self.llm).strip()
        if llm not in LLM_CHOICES and not Path(llm).expanduser().exists():
            raise SettingsError(f"the language model must be none, smollm2 or a local model path; {llm!r} does not exist")
        object.__setattr__(self, "interval", interval)
        object.__setattr__(self, "retention_days", retention)
        object.__setattr__(self, "llm", llm)
        self.rules()  # a bad app or title pattern fails here, before anything is saved

    def rules(self) -> PrivacyRules:
        try:
            return PrivacyRules(tuple(self.excluded_apps), tuple(self.excluded_titles), self.redact)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    def llm_env(self) -> dict[str, str]:
        """The recorder's (and the local store's) language model, as MMAGENT_* variables (an
        empty value is unset: mmagent.settings ignores it)."""
        if self.llm == "none":
            return {"MMAGENT_LLM": "none", "MMAGENT_LLM_MODEL": ""}
        if self.llm == "smollm2":
            return {"MMAGENT_LLM": "transformers", "MMAGENT_LLM_MODEL": ""}
        return {"MMAGENT_LLM": "transformers", "MMAGENT_LLM_MODEL": str(Path(self.llm).expanduser().resolve())}

    def to_json(self) -> dict[str, Any]:
        return {"interval": self.interval, "retention_days": self.retention_days,
                "excluded_apps": list(self.excluded_apps), "excluded_titles": list(self.excluded_titles),
                "redact": self.redact, "llm": self.llm, "index_background": self.index_background}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppConfig:
        if not isinstance(data, Mapping):
            raise SettingsError(f"{APP_FILE} must hold a JSON object")
        known = {k: data[k] for k in cls().to_json() if k in data}
        for name in ("excluded_apps", "excluded_titles"):
            if name in known:
                value = known[name]
                if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise SettingsError(f"{APP_FILE}: {name} must be a list of strings")
                known[name] = tuple(value)
        return cls(**known)

    @classmethod
    def load(cls, store: Path) -> AppConfig:
        path = Path(store) / APP_FILE
        if not path.is_file():
            return cls()
        try:
            return cls.from_json(json.loads(path.read_text()))
        except ValueError as exc:  # SettingsError is a ValueError too
            raise SettingsError(f"{path}: {exc}") from None

    def save(self, store: Path) -> Path:
        return _write_json(Path(store) / APP_FILE, self.to_json())


def _write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
    return path


# -- captures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureInfo:
    """One capture as the app shows it."""

    path: Path  # the picture (NAME.webp); may be gone (retention)
    time: float  # epoch seconds
    app: str | None = None
    window: str | None = None
    text: str = ""  # what the recorder read (redacted)
    image_kept: bool = True
    redacted: tuple[str, ...] = ()
    patch: Mapping[str, Any] | None = None  # the picture holds only changed rows: {"base", "top", "width", "height"}

    @property
    def title(self) -> str:
        return " — ".join(x for x in (self.app, self.window) if x) or "unknown window"


def read_capture(path: Path) -> CaptureInfo:
    """A capture from its picture path (NAME.webp) and its sidecar NAME.json, either may be gone
    (the sidecar is read by perception.capture, as the indexer reads it: the same times)."""
    from dataclasses import asdict

    from perception.capture import read_sidecar

    path = Path(path)
    sidecar = path.with_suffix(".json")
    record = read_sidecar(sidecar)
    kept = path.is_file()
    when = record.time if record is not None else None
    if when is None:
        when = path.stat().st_mtime if kept else (sidecar.stat().st_mtime if sidecar.is_file() else 0.0)
    text = "\n".join(line[0] for line in record.ocr) if record is not None and record.ocr else ""
    if record is None:
        return CaptureInfo(path, when, image_kept=kept)
    patch = asdict(record.patch) if record.patch is not None else None
    return CaptureInfo(path, when, record.app, record.window, text, kept, record.redacted, patch)


def snippet(text: str, query: str, width: int = 180) -> str:
    """The part of ``text`` around the first word of ``query`` it holds, on one line."""
    flat = " ".join(text.split())
    low = flat.lower()
    hits = [low.find(w) for w in re.findall(r"\w+", query.lower()) if len(w) > 2 or w.isdigit()]
    pos = min((h for h in hits if h >= 0), default=0)
    start = max(0, pos - width // 3)
    if start:  # begin at a word
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < pos else start
    out = flat[start:start + width]
    return ("…" if start else "") + out + ("…" if start + width < len(flat) else "")


def fmt_span(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def evidence_line(e: Mapping[str, Any]) -> str:
    """Where and when a piece of evidence is, for a list: a capture's time, app and window; a
    video's file and time span."""
    if e.get("wall_time") is not None:
        when = datetime.fromtimestamp(float(e["wall_time"])).strftime("%Y-%m-%d %H:%M:%S")
        where = " — ".join(x for x in (e.get("app"), e.get("window")) if x)
        if not where:
            where = Path(e["image"]).name if e.get("image") else Path(str(e.get("path", ""))).name
        return f"{when} · {where}" + (f" ({DROPPED})" if e.get("dropped") or not e.get("image") else "")
    return f"{e.get('path', '')} · {fmt_span(float(e.get('start', 0.0)))}–{fmt_span(float(e.get('end', 0.0)))}"


# -- the backend -----------------------------------------------------------------------------


class Backend:
    """The store, the recorder and the settings, without widgets. One call at a time (a lock):
    the local store is single-process and its models are not shared between threads."""

    def __init__(self, store: Path | None = None, env: Mapping[str, str] | None = None) -> None:
        from mmagent import Settings

        self.env = dict(os.environ if env is None else env)
        self.store = Settings.load(env=self.env, store=store).store.expanduser().resolve()
        self.folder = self.store / "screens"
        self.config_error: str | None = None
        try:
            self.config = AppConfig.load(self.store)
        except SettingsError as exc:
            self.config, self.config_error = AppConfig(), str(exc)
        self._agent: Any = None
        self._agent_llm: str | None = None
        self._server: Any = None
        self._lock = threading.RLock()

    # -- the store: the service when one serves it, else opened here ----------------------
    def service(self) -> Any:
        """The recorder's service when it holds the store; None when the store is opened here
        (this app then serves it itself, and must not call itself)."""
        from apps.service import Client

        if self._agent is not None:
            return None
        return Client.find(self.store)

    def _local(self) -> Any:
        """The store opened in this process (kept open; closed before the recorder starts)."""
        if self._agent is not None and self._agent_llm != self.config.llm:
            self._close_agent()  # the language model changed in the settings
        if self._agent is None:
            from mmagent import MMAgent, Settings

            self._agent = MMAgent(Settings.load(env={**self.env, **self.config.llm_env()}, store=self.store))
            self._agent_llm = self.config.llm
            self._serve()
        return self._agent

    def _serve(self) -> None:
        """While the app holds the store, it serves it (ask, search, index, sources) to the CLI
        over the local socket, as the recorder's process does."""
        from apps.service import Server

        try:
            server = Server(self._agent, self._lock, self.status)
            server.start()
        except (SettingsError, OSError) as exc:  # another process serves it: nothing to add
            log.info("not serving the store: %s", exc)
            return
        self._server = server

    def warm(self) -> None:
        """Open the store and load the search model now (no service: the first search is then
        quick); nothing when the recorder's service serves the store."""
        with self._lock:
            if self.service() is None:
                agent = self._local()
                agent.store  # noqa: B018 — opens (and locks) the store, loads the embedder

    def _close_agent(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
        if self._agent is not None:
            agent, self._agent = self._agent, None
            agent.close()

    @property
    def local_open(self) -> bool:
        return self._agent is not None

    def _enrich(self, evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each capture's app and window (from its sidecar), for the lists; ``dropped``: the
        picture is gone (retention)."""
        out: list[dict[str, Any]] = []
        listed: dict[Path, list[Any]] = {}
        for e in evidence:
            e = dict(e)
            info = None
            if e.get("image"):
                info = read_capture(Path(e["image"]))
            elif e.get("wall_time") is not None:
                info = self.capture_for(e, listed)
            if info is not None:
                e.setdefault("app", info.app)
                e.setdefault("window", info.window)
                e["dropped"] = not info.image_kept
            out.append(e)
        return out

    def search(self, query: str, limit: int = 30, day: date | None = None) -> dict[str, Any]:
        """Hybrid (keywords + meaning) search; ``day``: only captures of that local day."""
        from apps.service import search_doc

        if not query.strip():
            raise SettingsError("type something to search for")
        bounds: dict[str, Any] = {}
        if day is not None:
            from datetime import timedelta

            after = datetime(day.year, day.month, day.day)
            bounds = {"wall_after": after.timestamp(), "wall_before": (after + timedelta(days=1)).timestamp()}
        with self._lock:
            client = self.service()
            if client is not None:
                doc = client.call("search", query=query, limit=limit, **bounds)
            else:
                doc = search_doc(self._local(), query, limit=limit, **bounds)
        return {**doc, "results": self._enrich(doc["results"])}

    def ask(self, question: str) -> dict[str, Any]:
        from apps.service import ask_doc

        if not question.strip():
            raise SettingsError("type a question first")
        with self._lock:
            client = self.service()
            doc = client.call("ask", question=question, trace=False) if client is not None else ask_doc(self._local(), question)
        return {**doc, "evidence": self._enrich(doc["evidence"])}

    def sources(self) -> dict[str, Any]:
        from apps.service import sources_doc

        with self._lock:
            client = self.service()
            return client.call("sources") if client is not None else sources_doc(self._local())

    # -- captures -------------------------------------------------------------------------
    def days(self) -> list[date]:
        """The days with captures, oldest first."""
        if not self.folder.is_dir():
            return []
        out = []
        for d in self.folder.iterdir():
            try:
                day = date.fromisoformat(d.name)
            except ValueError:
                continue
            if d.is_dir():
                out.append(day)
        return sorted(out)

    def day_captures(self, day: date) -> list[CaptureInfo]:
        """The day's captures in time order (those whose picture retention dropped included)."""
        from perception.errors import MediaError
        from perception.screens import list_captures

        folder = self.folder / day.isoformat()
        if not folder.is_dir():
            return []
        try:
            captures, _ = list_captures(folder)
        except MediaError:
            return []
        out = []
        for c in captures:
            kept = c.image_kept and c.path.is_file()
            if c.ocr is not None:  # a recorder's capture: its sidecar says more (redactions, a patch)
                out.append(replace(read_capture(c.path), time=c.wall_time, image_kept=kept))
            else:
                out.append(CaptureInfo(c.path, c.wall_time, c.app, c.window, "", kept))
        return out

    def capture(self, path: Path) -> CaptureInfo:
        return read_capture(Path(path))

    def capture_for(self, evidence: Mapping[str, Any], listed: dict[Path, list[Any]] | None = None) -> CaptureInfo | None:
        """The capture a piece of evidence cites: its picture, else (retention dropped it before
        indexing) the capture of its folder closest to its time; None for a video. ``listed``:
        folder listings already read (one call's cache)."""
        if evidence.get("image"):
            return read_capture(Path(evidence["image"]))
        folder, when = Path(str(evidence.get("path", ""))), evidence.get("wall_time")
        if when is None or not folder.is_dir():
            return None
        from perception.errors import MediaError
        from perception.screens import list_captures

        if listed is not None and folder in listed:
            captures = listed[folder]
        else:
            try:
                captures, _ = list_captures(folder)
            except MediaError:
                captures = []
            if listed is not None:
                listed[folder] = captures
        span = float(evidence.get("end", 0.0)) - float(evidence.get("start", 0.0))
        near = [c for c in captures if float(when) - 1.0 <= c.wall_time <= float(when) + span + 1.0]
        if not near:
            return None
        best = min(near, key=lambda c: abs(c.wall_time - float(when)))
        return read_capture(best.path)

    # -- the recorder ---------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return control.status(self.folder)

    def write_rules(self) -> Path:
        return _write_json(self.folder / RULES_FILE, self.config.rules().to_json())

    def save_config(self, config: AppConfig) -> None:
        """Saved to STORE/app.json, the privacy rules to STORE/screens/rules.json."""
        config.save(self.store)
        self.config, self.config_error = config, None
        self.write_rules()

    def start_recording(self) -> dict[str, Any]:
        """The recorder, with the saved settings; it indexes into the store (and then serves
        it) when "index in the background" is on, so the store is let go here first."""
        with self._lock:
            cfg = self.config
            rules = self.write_rules()
            if cfg.index_background:
                self._close_agent()
            store = self.store if cfg.index_background else None
            return control.start(self.folder, store, cfg.interval, rules, cfg.retention_days, cfg.llm_env())

    def stop_recording(self) -> dict[str, Any]:
        with self._lock:
            return control.stop(self.folder)

    def pause(self, paused: bool = True) -> dict[str, Any]:
        return control.pause(self.folder, paused)

    def close(self) -> None:
        with self._lock:
            self._close_agent()


def describe(exc: BaseException) -> str:
    """An error for a person: the message, with the type only when the message is not ours."""
    from memory.errors import MemoryError_
    from mmagent.errors import MMAgentError
    from models.errors import ModelError
    from perception.errors import PerceptionError

    if isinstance(exc, (MMAgentError, MemoryError_, ModelError, PerceptionError, OSError)) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# -- the window (Qt) -------------------------------------------------------------------------

try:
    from PySide6.QtCore import QDate, QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
    from PySide6.QtGui import QAction, QColor, QFont, QIcon, QImage, QImageReader, QPainter, QPixmap
    from PySide6.QtWidgets import (
        QApplication, QCheckBox, QComboBox, QDateEdit, QDialog, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame,
        QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMainWindow, QMenu, QPlainTextEdit,
        QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSplitter, QSystemTrayIcon, QTabWidget, QVBoxLayout,
        QWidget,
    )
except ImportError as exc:  # the package, or a system library it needs (scripts/setup.sh installs both)
    raise SettingsError(f"the desktop app needs PySide6 and the Qt runtime libraries ({exc})") from None

THUMB = QSize(144, 90)
THUMB_CACHE = 1500  # thumbnails kept (about 50 KB each)
STATUS_EVERY_MS = 2000
ROLE = Qt.ItemDataRole.UserRole


class _Relay(QObject):
    """Carries a worker's result to the GUI thread (it lives there: the signals are queued)."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, on_done: Callable[[Any], None], on_fail: Callable[[str], None],
                 finished: Callable[[_Relay], None]) -> None:
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


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 — shown in the window, never a crash
            self.relay.failed.emit(describe(exc))
            return
        self.relay.done.emit(result)


class _ThumbRelay(QObject):
    loaded = Signal(int, str, QImage)


class _ThumbJob(QRunnable):
    """Decodes thumbnails straight at their size (QImageReader scales inside the WebP decoder)."""

    def __init__(self, captures: Sequence[CaptureInfo], generation: int, relay: _ThumbRelay,
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


def _placeholder(size: QSize, text: str, colour: str = "#d9d9d9") -> QPixmap:
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
        self.info.setText(f"<b>{_html(when)}</b><br>App: {_html(capture.app or 'unknown')}<br>"
                          f"Window: {_html(capture.window or 'unknown')}<br><small>{_html(str(capture.path))}</small>{redacted}")
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
            self.info.setText(self.info.text() + f"<br><span style='color:#c62828'>{_html(self.note)}</span>")
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


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TimelinePage(QWidget):
    """A day's captures by hour: a row of thumbnails per hour (loaded in the background, cached)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.captures: list[CaptureInfo] = []
        self.sections: dict[int, QListWidget] = {}
        self.items: dict[str, list[QListWidgetItem]] = {}
        self.loaded_day: date | None = None
        self._pending_day: date | None = None
        self.stale = False  # new captures of the day shown since it was listed
        self.listed_at = 0.0
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd yyyy-MM-dd")
        self.date_edit.dateChanged.connect(lambda _d: self.reload())
        self.prev_button, self.next_button = QPushButton("◀"), QPushButton("▶")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(36)
        self.prev_button.setToolTip("the previous day with captures")
        self.next_button.setToolTip("the next day with captures")
        self.prev_button.clicked.connect(lambda: self.jump(-1))
        self.next_button.clicked.connect(lambda: self.jump(1))
        today, refresh = QPushButton("Today"), QPushButton("Refresh")
        today.clicked.connect(lambda: self.date_edit.setDate(QDate.currentDate()))
        refresh.clicked.connect(self.reload)
        self.summary = QLabel()
        top = QHBoxLayout()
        for w in (self.prev_button, self.date_edit, self.next_button, today, refresh):
            top.addWidget(w)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.scroll, 1)

    @property
    def day(self) -> date:
        return self.date_edit.date().toPython()  # type: ignore[no-any-return]

    def jump(self, by: int) -> None:
        days = self.window_.backend.days()
        here = self.day
        near = [d for d in days if d < here] if by < 0 else [d for d in days if d > here]
        if near:
            target = near[-1] if by < 0 else near[0]
            self.date_edit.setDate(QDate(target.year, target.month, target.day))
        else:
            self.window_.message("no earlier day with captures" if by < 0 else "no later day with captures")

    def reload(self) -> None:
        day = self._pending_day = self.day
        self.stale, self.listed_at = False, time.monotonic()
        self.summary.setText("loading…")
        self.window_.submit(self.window_.io, lambda: self.window_.backend.day_captures(day),
                            lambda caps: self._show(day, caps), self._failed, busy=False)

    def _failed(self, message: str) -> None:
        self.summary.setText(f"cannot list the captures: {message}")
        self.window_.message(message)

    def _show(self, day: date, captures: list[CaptureInfo]) -> None:
        if day != self._pending_day:
            return  # a later date was chosen meanwhile
        keep = self.scroll.verticalScrollBar().value() if day == self.loaded_day else 0
        self.loaded_day, self.captures = day, captures
        while self.body_layout.count():
            child = self.body_layout.takeAt(0).widget()  # the stretch has no widget
            if child is not None:
                child.deleteLater()
        self.sections, self.items = {}, {}
        hours: dict[int, list[CaptureInfo]] = {}
        for c in captures:
            hours.setdefault(datetime.fromtimestamp(c.time).hour, []).append(c)
        dropped = sum(1 for c in captures if not c.image_kept)
        self.summary.setText(f"{len(captures)} capture{'s' if len(captures) != 1 else ''} in {len(hours)} hour"
                             f"{'s' if len(hours) != 1 else ''}" + (f" ({dropped} {DROPPED})" if dropped else ""))
        if not captures:
            empty = QLabel("No captures on this day.")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            empty.setStyleSheet("color: #777; font-size: 15px; padding: 40px;")
            self.body_layout.addWidget(empty)
        wanted = []
        for hour in sorted(hours):
            group = hours[hour]
            head = QLabel(f"<b>{hour:02d}:00 – {hour:02d}:59</b> · {len(group)} capture{'s' if len(group) != 1 else ''}")
            strip = QListWidget()
            strip.setViewMode(QListWidget.ViewMode.IconMode)
            strip.setFlow(QListWidget.Flow.LeftToRight)
            strip.setWrapping(False)
            strip.setMovement(QListWidget.Movement.Static)
            strip.setIconSize(THUMB)
            strip.setSpacing(4)
            strip.setHorizontalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
            strip.setFixedHeight(THUMB.height() + 58)
            strip.itemClicked.connect(self._open)
            strip.itemActivated.connect(self._open)
            for c in group:
                item = QListWidgetItem(datetime.fromtimestamp(c.time).strftime("%H:%M:%S"))
                item.setData(ROLE, c)
                item.setToolTip(f"{datetime.fromtimestamp(c.time).strftime('%H:%M:%S')} — {c.title}"
                                + ("" if c.image_kept else f"\n({DROPPED})"))
                if not c.image_kept:
                    item.setIcon(QIcon(self.window_.dropped_icon))
                elif (cached := self.window_.thumbnail(str(c.path))) is not None:
                    item.setIcon(QIcon(cached))
                else:
                    item.setIcon(QIcon(self.window_.loading_icon))
                    wanted.append(c)
                strip.addItem(item)
                self.items.setdefault(str(c.path), []).append(item)
            self.sections[hour] = strip
            self.body_layout.addWidget(head)
            self.body_layout.addWidget(strip)
        self.body_layout.addStretch(1)
        self.window_.load_thumbnails(wanted)
        QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(keep))

    def set_thumbnail(self, path: str, pixmap: QPixmap) -> None:
        for item in self.items.get(path, ()):
            item.setIcon(QIcon(pixmap))

    def _open(self, item: QListWidgetItem) -> None:
        capture = item.data(ROLE)
        if isinstance(capture, CaptureInfo):
            self.window_.show_capture(capture, self.captures)


class SearchPage(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.box = QLineEdit()
        self.box.setPlaceholderText("Search what was on screen or said — keywords and meaning (e.g. invoice 4471)")
        self.box.setClearButtonEnabled(True)
        self.box.returnPressed.connect(self.run)
        self.button = QPushButton("Search")
        self.button.clicked.connect(self.run)
        self.only_day = QCheckBox("only the timeline's day")
        self.state = QLabel()
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        self.results.itemClicked.connect(self._open)
        self.results.itemActivated.connect(self._open)
        self.last: dict[str, Any] | None = None
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.button)
        row.addWidget(self.only_day)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.state)
        layout.addWidget(self.results, 1)

    def run(self) -> None:
        query = self.box.text().strip()
        if not query:
            self.state.setText("type something to search for")
            return
        day = self.window_.timeline.day if self.only_day.isChecked() else None
        self.button.setEnabled(False)
        self.state.setText(f"searching for “{query}”…")
        self.window_.submit(self.window_.calls, lambda: self.window_.backend.search(query, day=day),
                            self._show, self._failed)

    def _failed(self, message: str) -> None:
        self.button.setEnabled(True)
        self.state.setText(f"<span style='color:#c62828'>search failed: {_html(message)}</span>")
        self.window_.message(f"search failed: {message}")

    def _show(self, doc: dict[str, Any]) -> None:
        self.button.setEnabled(True)
        self.last = doc
        self.results.clear()
        results = doc.get("results", [])
        self.state.setText(f"{len(results)} result{'s' if len(results) != 1 else ''} for “{_html(doc.get('query', ''))}”"
                           if results else f"nothing found for “{_html(doc.get('query', ''))}”")
        for e in results:
            item = QListWidgetItem(f"{evidence_line(e)}   (score {float(e.get('score', 0.0)):.2f})\n"
                                   f"    {snippet(str(e.get('text', '')), doc.get('query', ''))}")
            item.setData(ROLE, e)
            item.setToolTip(str(e.get("image") or e.get("path") or ""))
            self.results.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        e = item.data(ROLE)
        if isinstance(e, dict):
            self.window_.open_evidence(e)


class AskPage(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.box = QLineEdit()
        self.box.setPlaceholderText("Ask your memory — e.g. where did I see invoice 4471?")
        self.box.setClearButtonEnabled(True)
        self.box.returnPressed.connect(self.run)
        self.button = QPushButton("Ask")
        self.button.clicked.connect(self.run)
        self.answer = QLabel()
        self.answer.setWordWrap(True)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.answer.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.answer.setFont(font)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666;")
        self.evidence = QListWidget()
        self.evidence.setWordWrap(True)
        self.evidence.itemClicked.connect(self._open)
        self.evidence.itemActivated.connect(self._open)
        self.last: dict[str, Any] | None = None
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.answer)
        layout.addWidget(self.note)
        layout.addWidget(QLabel("<b>Evidence</b> (click to open)"))
        layout.addWidget(self.evidence, 1)

    def run(self) -> None:
        question = self.box.text().strip()
        if not question:
            self.note.setText("type a question first")
            return
        self.button.setEnabled(False)
        self.answer.setText("thinking…")
        self.note.setText("")
        self.evidence.clear()
        self.window_.submit(self.window_.calls, lambda: self.window_.backend.ask(question), self._show, self._failed)

    def _failed(self, message: str) -> None:
        self.button.setEnabled(True)
        self.answer.setText("")
        self.note.setText(f"<span style='color:#c62828'>the question failed: {_html(message)}</span>")
        self.window_.message(f"ask failed: {message}")

    def _show(self, doc: dict[str, Any]) -> None:
        self.button.setEnabled(True)
        self.last = doc
        self.answer.setText(str(doc.get("answer", "")))
        self.answer.setTextFormat(Qt.TextFormat.PlainText)
        note = str(doc.get("note") or "")
        mode = str(doc.get("mode") or "")
        self.note.setText(" · ".join(x for x in (note, f"mode: {mode}" if mode else "", f"rounds: {doc.get('rounds')}"
                                                 if doc.get("rounds") is not None else "") if x))
        for k, e in enumerate(doc.get("evidence", []), 1):
            kind = " (a video: no picture)" if e.get("wall_time") is None else ""
            item = QListWidgetItem(f"[{k}] {evidence_line(e)} · {e.get('modality', '')}{kind}   (score "
                                   f"{float(e.get('score', 0.0)):.2f})\n    {snippet(str(e.get('text', '')), '', 240)}")
            item.setData(ROLE, e)
            self.evidence.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        e = item.data(ROLE)
        if isinstance(e, dict):
            self.window_.open_evidence(e)


class SettingsPage(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.interval = QDoubleSpinBox()
        self.interval.setRange(0.2, 3600.0)
        self.interval.setSingleStep(0.5)
        self.interval.setSuffix(" s")
        self.retention = QDoubleSpinBox()
        self.retention.setRange(0.0, 36500.0)
        self.retention.setDecimals(1)
        self.retention.setSuffix(" days")
        self.retention.setSpecialValueText("keep all pictures")
        self.apps = QPlainTextEdit()
        self.apps.setPlaceholderText("one app per line (matched as whole words, any case)")
        self.titles = QPlainTextEdit()
        self.titles.setPlaceholderText("one regular expression per line, searched in window titles (any case)")
        self.redact = QCheckBox("Black out and replace secrets (card numbers, API keys, passwords, IBANs, SSNs)")
        self.llm = QComboBox()
        self.llm.setEditable(True)
        self.llm.addItems(list(LLM_CHOICES))
        self.llm.setToolTip("none: answers quote the evidence; smollm2: the bundled small model; or a local model path")
        browse = QPushButton("Model folder…")
        browse.clicked.connect(self._browse)
        llm_row = QHBoxLayout()
        llm_row.addWidget(self.llm, 1)
        llm_row.addWidget(browse)
        self.index_background = QCheckBox("Index captures in the background (they become searchable as you work)")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.hide()
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        revert = QPushButton("Revert")
        revert.clicked.connect(self.load)
        form = QFormLayout()
        form.addRow("Capture every", self.interval)
        form.addRow("Keep pictures for", self.retention)
        form.addRow("Never capture these apps", self.apps)
        form.addRow("Never capture windows whose title matches", self.titles)
        form.addRow("Redaction", self.redact)
        form.addRow("Language model", llm_row)
        form.addRow("Indexing", self.index_background)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(revert)
        buttons.addStretch(1)
        hint = QLabel(f"Saved in {window.backend.store / APP_FILE}; the recorder uses them the next time it starts.")
        hint.setStyleSheet("color: #666;")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        layout.addWidget(hint)
        self.load()
        if window.backend.config_error:
            self._say(f"the saved settings could not be read ({window.backend.config_error}); showing the defaults", False)

    def load(self) -> None:
        cfg = self.window_.backend.config
        self.interval.setValue(cfg.interval)
        self.retention.setValue(cfg.retention_days)
        self.apps.setPlainText("\n".join(cfg.excluded_apps))
        self.titles.setPlainText("\n".join(cfg.excluded_titles))
        self.redact.setChecked(cfg.redact)
        self.llm.setCurrentText(cfg.llm)
        self.index_background.setChecked(cfg.index_background)
        self.error.hide()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A local language model folder")
        if folder:
            self.llm.setCurrentText(folder)

    def _say(self, text: str, ok: bool) -> None:
        self.error.setText(text)
        self.error.setStyleSheet("color: #2e7d32;" if ok else "color: #c62828; font-weight: bold;")
        self.error.show()

    def form_config(self) -> AppConfig:
        def lines(edit: QPlainTextEdit) -> tuple[str, ...]:
            return tuple(s.strip() for s in edit.toPlainText().splitlines() if s.strip())

        return AppConfig(self.interval.value(), self.retention.value(), lines(self.apps), lines(self.titles),
                         self.redact.isChecked(), self.llm.currentText().strip(), self.index_background.isChecked())

    def save(self) -> bool:
        try:
            cfg = self.form_config()
            self.window_.backend.save_config(cfg)
        except (SettingsError, OSError) as exc:
            self._say(f"Not saved: {exc}", False)
            self.window_.message(f"settings not saved: {exc}")
            return False
        self._say("Saved. The recorder uses these settings the next time it starts.", True)
        self.window_.message("settings saved")
        return True


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
        self._thumb_relay = _ThumbRelay()
        self._thumb_relay.loaded.connect(self._thumb_loaded)
        self.loading_icon = _placeholder(THUMB, "loading…")
        self.dropped_icon = _placeholder(THUMB, DROPPED, "#f1e4c8")
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

        def finished(relay: _Relay) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            if busy:
                self._set_busy(-1)

        relay = _Relay(on_done, on_fail or self.message, finished)
        self._relays.add(relay)
        pool.start(_Job(fn, relay))

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
            self.io.start(_ThumbJob(captures, self._thumb_generation, self._thumb_relay, self._thumb_cancel))

    def _thumb_loaded(self, generation: int, path: str, image: QImage) -> None:
        if image.isNull():
            pix = _placeholder(THUMB, "unreadable picture")
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


if __name__ == "__main__":
    from apps.cli import _quiet_third_parties

    _quiet_third_parties()  # offline models, quiet libraries: as ``mmagent app``
    parser = argparse.ArgumentParser(description="the mmagent desktop app")
    parser.add_argument("--store", type=Path)
    raise SystemExit(main(parser.parse_args().store))
