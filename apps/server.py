"""``mmagent serve``: the owning process of any store (video or screen), serving it to the others.

One process holds the store lock and the models (loaded once, warmed at start) and answers:
- the CLI and the desktop app over the local Unix socket of :mod:`apps.service` (the same
  machinery as the screen recorder's process, with more requests: entities, transcript,
  timeline, forget, rename, frame);
- HTTP clients on loopback (:mod:`apps.http_api`, FastAPI; a token unless turned off);
- MCP clients over streamable HTTP at ``/mcp`` (:mod:`apps.mcp_server`).
What it answers beyond the recorder's requests is built by :mod:`apps.store_docs`.

Reads run side by side; a write (index, forget, rename) waits for them and has the store to itself:
one writer, and readers never see a half-written index.
``STORE/server.json`` tells other processes where the HTTP side listens (pid, url); the token is
``STORE/server-token`` (mode 0600), readable by this user only.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from apps.service import Server, index_doc
from apps.store_docs import entities_doc, entity_doc, forget_doc, rename_doc, timeline_doc, transcript_doc
from mmagent.errors import SettingsError

log = logging.getLogger(__name__)

TOKEN_FILE = "server-token"
INFO_FILE = "server.json"


# -- the socket server with every request ---------------------------------------------------


class ReadWriteLock:
    """Many readers at once, or one writer; a waiting writer holds off new readers (no starving)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _search(agent: Any, **args: Any) -> dict[str, Any]:
    from apps.service import search_doc

    return search_doc(agent, **args)


def _ask(agent: Any, **args: Any) -> dict[str, Any]:
    from apps.service import ask_doc

    return ask_doc(agent, **args)


def _sources(agent: Any) -> dict[str, Any]:
    from apps.service import sources_doc

    return sources_doc(agent)


class StoreServer(Server):
    """:class:`apps.service.Server` with every request a store's owning process answers. Reads
    (ask, search, sources, entities, transcript, timeline, images) run side by side; a write
    (index, forget, rename) waits for them and has the store to itself."""

    READS: dict[str, Callable[..., dict[str, Any]]] = {
        "ask": _ask, "search": _search, "sources": _sources, "entities": entities_doc, "entity": entity_doc,
        "transcript": transcript_doc, "timeline": timeline_doc,
    }
    WRITES: dict[str, Callable[..., dict[str, Any]]] = {
        "index": lambda agent, paths: index_doc(agent, paths), "rename": rename_doc, "forget": forget_doc,
    }

    def __init__(self, agent: Any, lock: threading.RLock, status: Callable[[], dict[str, Any]] | None = None,
                 exclusive: bool = False) -> None:
        """``exclusive``: something else writes to the store holding ``lock`` alone (the screen
        recorder's indexer): reads then hold it too, one at a time."""
        super().__init__(agent, lock, status)
        self.rw = ReadWriteLock()
        self.exclusive = exclusive

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self.rw.read(), (self.lock if self.exclusive else nullcontext()):
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self.rw.write(), self.lock:
            yield

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op not in self.READS and op not in self.WRITES:
            return super().handle(request)  # ping, status, or an unknown request (its error lists them)
        args = {k: v for k, v in request.items() if k not in ("op", "protocol")}
        write = op in self.WRITES
        with self.writing() if write else self.reading():
            try:
                return (self.WRITES if write else self.READS)[op](self.agent, **args)  # type: ignore[index]
            except TypeError as exc:
                raise SettingsError(f"bad {op} request: {exc}") from None

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        """In-process: the same as a client's ``call``, with the real exceptions."""
        return self.handle({"op": op, **args})


# -- the token and where the HTTP side listens ----------------------------------------------


def load_token(store: Path) -> str:
    """The store's HTTP token, made on first use (0600, this user only)."""
    path = Path(store) / TOKEN_FILE
    if path.is_file():
        token = path.read_text().strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    os.chmod(path, 0o600)
    return token


def server_info(store: Path) -> dict[str, Any] | None:
    """What a running ``mmagent serve`` wrote (pid, url, token_required); None when none runs."""
    path = Path(store) / INFO_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info  # type: ignore[no-any-return]


def _listen(host: str, port: int) -> Any:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise SettingsError(f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
                            f"another server may hold the port: try --port 0 (any free port)") from None
    return listener


def serve(settings: Any, host: str = "127.0.0.1", port: int = 8765, token: bool = True,
          ready: Callable[[dict[str, Any]], None] | None = None, mcp: bool = True) -> int:
    """Own the store until SIGINT / SIGTERM: the Unix socket for the CLI, HTTP (and MCP at /mcp)
    on ``host:port`` (port 0: any free port)."""
    import signal

    import uvicorn

    from apps.http_api import make_app
    from mmagent import MMAgent

    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        raise SettingsError(f"--host {host} listens beyond this machine: it needs the token (drop --no-token)")
    listener = _listen(host, port)  # before the models load: a taken port fails at once
    agent = MMAgent(settings, resident=True)
    lock = threading.RLock()
    began = time.perf_counter()
    bound = listener.getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
    try:
        agent.store  # noqa: B018 — lock the store now: a second owner fails here, not later
        sock_server = StoreServer(agent, lock, lambda: {"kind": "serve", "pid": os.getpid(),
                                                        "store": str(agent.settings.store), "url": url})
        sock_server.start()
    except BaseException:
        listener.close()
        agent.close()
        raise
    info_path = Path(settings.store) / INFO_FILE
    try:
        with sock_server.writing():
            _warm(agent)
        secret = load_token(settings.store) if token else None
        app = make_app(sock_server, secret, mcp=mcp)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5))
        info = {"pid": os.getpid(), "url": url, "host": host, "port": bound, "token_required": secret is not None,
                "socket": str(sock_server.path), "store": str(settings.store), "started": time.time(),
                "warm_seconds": round(time.perf_counter() - began, 2)}
        tmp = info_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, info_path)
        if ready:
            ready(info)
        for sig in (signal.SIGINT, signal.SIGTERM):  # uvicorn installs its own while it runs; these cover the rest
            signal.signal(sig, lambda *_: setattr(server, "should_exit", True))
        server.run(sockets=[listener])
        return 0
    finally:
        info_path.unlink(missing_ok=True)
        listener.close()
        sock_server.close()
        with sock_server.writing():
            agent.close()


def _warm(agent: Any) -> None:
    """Load the models a question needs now, so the first answer is as quick as the next."""
    agent.embedder.embed("warm up")
    if agent.sources():
        try:
            agent.ask("what was said?", planner="auto", rounds=1)
        except SettingsError as exc:
            log.warning("warm-up question failed: %s", exc)
