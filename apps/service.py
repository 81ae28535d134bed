"""The resident memory service: the process that owns a store serves it to the others.

The embedded store (Qdrant Edge) is single-process, and loading the models costs seconds, so the
screen recorder's process keeps them: it indexes new captures in the background (:mod:`apps.screen_indexer`) and
answers ``ask`` / ``search`` / ``index`` / ``sources`` / ``status`` from the CLI and the desktop
app over a local Unix socket (``Server``; one JSON object per line each way, the socket file
in a folder only this user can enter, its owner and the listening process's user checked before
a byte is sent). ``Client.find(store)`` is how a command finds it; without one (or with a socket
that is not this user's), commands open the store themselves.

Nothing here listens on a network: the socket is a file in the user's runtime folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import socketserver
import stat
import struct
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mmagent.errors import MMAgentError, SettingsError

log = logging.getLogger(__name__)

PROTOCOL = 1


class ServiceError(MMAgentError):
    """The memory service answered with an error, or stopped answering."""


class ForeignService(ServiceError):
    """The socket is served by another user: nothing is sent to it."""


def _private(folder: Path) -> str | None:
    """Why ``folder`` is no private place for our socket (another user owns it, or others may
    write or list it), or None when it is ours alone."""
    try:
        st = os.lstat(folder)
    except OSError as exc:
        return f"{folder}: {exc.strerror}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{folder} is not a folder"
    if st.st_uid != os.getuid():
        return f"{folder} belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o077:
        return f"{folder} is open to other users (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def socket_dirs(store: Path) -> list[Path]:
    """The private folders a store's service socket may be in, first choice first:
    ``$XDG_RUNTIME_DIR`` when it is set and ours alone (0700), then ``STORE/run`` (0700), or
    ``/tmp/mmagent-UID`` (0700, ours) for a store path so long that a socket in it would pass the
    107-byte limit of a Unix socket's path. A client looks in each: a service started where
    ``XDG_RUNTIME_DIR`` was not set (cron, a service manager) is found from a desktop shell."""
    out = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_absolute() and _private(Path(runtime)) is None:
        out.append(Path(runtime))
    run = Path(store).resolve() / "run"
    out.append(run if len(str(run)) + 31 <= 107 else Path(tempfile.gettempdir()) / f"mmagent-{os.getuid()}")
    return out


def socket_dir(store: Path) -> Path:
    """Where the service of ``store`` puts its socket (see :func:`socket_dirs`)."""
    return socket_dirs(store)[0]


def socket_name(store: Path) -> str:
    return f"mmagent-{hashlib.blake2b(str(Path(store).resolve()).encode(), digest_size=8).hexdigest()}.sock"


def socket_path(store: Path) -> Path:
    """Where the service of ``store`` listens: in a folder only this user can enter (see
    :func:`socket_dir`), named by a hash of the store's path."""
    return socket_dir(store) / socket_name(store)


def make_socket_dir(folder: Path) -> None:
    """Create the socket's folder 0700, or check that the one there is ours alone."""
    try:
        folder.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    if (why := _private(folder)) is not None:
        raise SettingsError(f"cannot serve the store safely: {why}")


def check_socket(path: Path) -> str | None:
    """Why the socket file at ``path`` must not be talked to (not ours, not in a private folder,
    not a socket), or None."""
    if (why := _private(path.parent)) is not None:
        return why
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if not stat.S_ISSOCK(st.st_mode):
        return f"{path} is not a socket"
    if st.st_uid != os.getuid():
        return f"{path} belongs to another user (uid {st.st_uid})"
    return None


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (Linux SO_PEERCRED), or None
    where the platform cannot tell."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


# -- what the service (and the CLI without one) does -----------------------------------------


def resolve_sources(agent: Any, wanted: Sequence[str] = (), tags: Sequence[str] = ()) -> tuple[str, ...]:
    """``--source`` (an id prefix or a path) and ``--tag`` to source ids; () is every source."""
    known = agent.sources()
    out: list[str] = []
    for w in wanted:
        path = str(Path(w).resolve()) if Path(w).exists() else None
        match = [s.source_id for s in known if s.source_id.startswith(w) or (path and s.path == path)]
        if len(match) != 1:
            reason = "no indexed source matches it" if not match else "it matches several sources"
            raise SettingsError(f"--source {w}: {reason} (see: mmagent sources)")
        out.append(match[0])
    if tags:
        tagged = tuple(e.source_id for e in known if set(tags) & set(e.tags))
        if not tagged:
            raise SettingsError(f"--tag {', '.join(tags)}: no indexed source has it (see: mmagent sources --json)")
        out = [s for s in out if s in tagged] if out else list(tagged)
        if not out:
            raise SettingsError("no source matches both --source and --tag")
    return tuple(out)


def ask_doc(agent: Any, question: str, source: Sequence[str] = (), tag: Sequence[str] = (),
            before: float | None = None, planner: str = "auto", rounds: int = 5, trace: bool = False,
            now: float | None = None, llm: str | None = None) -> dict[str, Any]:
    """``llm``: the language model for this question only (default: the store's process's own)."""
    if not question.strip():
        raise SettingsError("the question is empty")
    sources = resolve_sources(agent, source, tag)
    answer = agent.ask(question, sources=sources, before=before, planner=planner, rounds=rounds, now=now, llm=llm)
    return answer.to_json(trace=trace)


def search_doc(agent: Any, query: str, source: Sequence[str] = (), limit: int = 20,
               wall_after: float | None = None, wall_before: float | None = None) -> dict[str, Any]:
    if not query.strip():
        raise SettingsError("the search is empty")
    hits = agent.search(query, resolve_sources(agent, source), limit, wall_after, wall_before)
    return {"query": query, "results": [asdict(e) for e in hits]}


def index_doc(agent: Any, paths: Sequence[str], on_clip: Callable[[str], Any] | None = None,
              on_each: Callable[[str, Any, Exception | None], None] | None = None) -> dict[str, Any]:
    """Index each path; a bad one is reported and the rest go on. ``on_clip(path)``: a progress
    callback for that path's clips; ``on_each(path, result, error)``: after each path."""
    from perception.errors import MediaError

    done, errors = [], []
    for path in paths:
        try:
            res = agent.index(path, on_clip=on_clip(path) if on_clip else None)
        except MediaError as exc:
            errors.append({"path": exc.path, "error": exc.reason})
            if on_each:
                on_each(path, None, exc)
            continue
        entry = {**res.to_json(), "reused": res.reused}
        if res.skipped:
            entry["skipped"] = [{"path": f, "reason": why} for f, why in res.skipped]
        done.append(entry)
        if on_each:
            on_each(path, res, None)
    return {"sources": done, **({"errors": errors} if errors else {})}


def sources_doc(agent: Any) -> dict[str, Any]:
    return {"sources": [asdict(s) for s in agent.sources()]}


# -- the server ------------------------------------------------------------------------------


class Server:
    """Serves one agent over a Unix socket; every request holds ``lock`` (the indexer's too)."""

    def __init__(self, agent: Any, lock: threading.RLock, status: Callable[[], dict[str, Any]] | None = None) -> None:
        self.agent = agent
        self.lock = lock
        self.status = status or (lambda: {})
        self.path = socket_path(agent.settings.store)
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        args = {k: v for k, v in request.items() if k not in ("op", "protocol")}
        if op == "ping":
            return {"pid": os.getpid(), "store": str(self.agent.settings.store), "protocol": PROTOCOL}
        if op == "status":
            return self.status()
        handlers: dict[str, Callable[..., dict[str, Any]]] = {
            "ask": ask_doc, "search": search_doc, "sources": sources_doc, "index": self._index,
        }
        if op not in handlers:
            raise SettingsError(f"unknown request {op!r} (ask, search, index, sources, status, ping)")
        with self.lock:
            try:
                return handlers[op](self.agent, **args)
            except TypeError as exc:
                raise SettingsError(f"bad {op} request: {exc}") from None

    @staticmethod
    def _index(agent: Any, paths: Sequence[str]) -> dict[str, Any]:
        return index_doc(agent, paths)

    def start(self) -> None:
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                uid = peer_uid(self.request)
                if uid is not None and uid != os.getuid():  # the folder keeps others out; this too
                    log.warning("refused a request from another user (uid %s)", uid)
                    return
                line = self.rfile.readline()
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("a request is a JSON object")
                    reply = {"ok": True, "result": server.handle(request)}
                except (MMAgentError, ValueError, OSError) as exc:
                    reply = {"ok": False, "error": str(exc)}
                except Exception as exc:  # noqa: BLE001 — reported to the caller, and logged here
                    log.exception("request failed")
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                self.wfile.write((json.dumps(reply, default=str) + "\n").encode())

        make_socket_dir(self.path.parent)
        if self.path.exists() or self.path.is_symlink():  # left by a service that died, or not ours
            if check_socket(self.path) is None and Client(self.path).alive():
                raise SettingsError(f"a memory service already serves {self.agent.settings.store} ({self.path})")
            self.path.unlink()
        old = os.umask(0o077)
        try:
            self._server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        finally:
            os.umask(old)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="mmagent-service", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.path.unlink(missing_ok=True)


class Client:
    def __init__(self, path: Path, timeout: float = 600.0) -> None:
        self.path = Path(path)
        self.timeout = timeout

    @classmethod
    def find(cls, store: Path) -> Client | None:
        """The service of ``store`` when one answers, else None (the caller opens the store
        itself). A socket that is not this user's (its file, its folder, or the process that
        listens on it) is never talked to: a warning says why."""
        for folder in socket_dirs(store):
            client = cls(folder / socket_name(store))
            if not (client.path.exists() or client.path.is_symlink()):
                continue
            if (why := check_socket(client.path)) is not None:
                log.warning("ignoring the memory service socket: %s", why)
                continue
            try:
                client.call("ping", timeout=2.0)
            except ForeignService as exc:
                log.warning("ignoring the memory service socket: %s", exc)
                continue
            except ServiceError:
                continue  # a stale socket: nobody answers on it
            return client
        return None

    def alive(self) -> bool:
        try:
            self.call("ping", timeout=2.0)
        except ServiceError:
            return False
        return True

    def call(self, op: str, timeout: float | None = None, **args: Any) -> dict[str, Any]:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout or self.timeout)
                sock.connect(str(self.path))
                uid = peer_uid(sock)
                if uid is not None and uid != os.getuid():  # checked before a question leaves
                    raise ForeignService(f"{self.path} is served by another user (uid {uid})")
                sock.sendall((json.dumps({"op": op, "protocol": PROTOCOL, **args}) + "\n").encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        break
                    data += chunk
        except OSError as exc:
            raise ServiceError(f"the memory service at {self.path} did not answer ({exc})") from None
        try:
            reply = json.loads(data)
        except (ValueError, RecursionError):
            raise ServiceError(f"the memory service at {self.path} stopped mid-answer") from None
        if not isinstance(reply, dict):
            raise ServiceError(f"the memory service at {self.path} gave no answer object")
        if not reply.get("ok"):
            raise ServiceError(str(reply.get("error") or "the memory service failed"))
        if not isinstance(reply.get("result"), dict):
            raise ServiceError(f"the memory service at {self.path} gave no result")
        return reply["result"]
