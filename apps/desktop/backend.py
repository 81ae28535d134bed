"""The app's backend, without widgets: the store (the recorder's service when one serves it, else
opened here), the day's captures, the recorder's controls and the settings."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from apps import screen_control as control
from apps.desktop.captures import CaptureInfo, read_capture
from apps.desktop.config import RULES_FILE, AppConfig, write_json
from mmagent.errors import SettingsError

log = logging.getLogger(__name__)


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
        return write_json(self.folder / RULES_FILE, self.config.rules().to_json())

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
