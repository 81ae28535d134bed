"""``mmagent serve``: the owning process of any store (video or screen), serving it to the others.

One process holds the store lock and the models (loaded once, warmed at start) and answers:
- the CLI and the desktop app over the local Unix socket of :mod:`apps.service` (the same
  machinery as the screen recorder's process, with more requests: entities, transcript,
  timeline, forget, rename, frame);
- HTTP clients on loopback (:mod:`apps.http_api`, FastAPI; a token unless turned off);
- MCP clients over streamable HTTP at ``/mcp`` (:mod:`apps.mcp_server`).

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

from apps.service import Server, index_doc, resolve_sources
from mmagent.errors import SettingsError

log = logging.getLogger(__name__)

TOKEN_FILE = "server-token"
INFO_FILE = "server.json"


# -- what the server answers (also used by the CLI when no server runs) --------------------


def person_json(p: Any) -> dict[str, Any]:
    return {
        "id": p.id, "kind": "person", "name": p.name, "names": [n for n in (p.name, *p.aliases) if n],
        "faces": list(p.faces), "voices": list(p.voices),
        "appearances": [{"source_id": s, "start": a, "end": b} for s, a, b in p.appearances],
        "merged": [b for b in p.births if b != p.id],
        "evidence": list(p.evidence),
    }


def find_person(agent: Any, wanted: str) -> Any:
    persons = agent.persons()
    key = " ".join(wanted.lower().split())
    for p in persons:
        if wanted in (p.id, *p.faces, *p.voices, *p.births):
            return p
    named = [p for p in persons if key in {n.lower() for n in (p.name, *p.aliases) if n}]
    if len(named) == 1:
        return named[0]
    reason = "several people have that name" if named else "no person, face, voice or name matches it"
    raise SettingsError(f"entity {wanted}: {reason} (see: mmagent entities)")


def face_crops(agent: Any) -> dict[str, str]:
    """Each face id → the crop file of its sighting with the most sightings (files that exist)."""
    from memory.store import Scope

    best: dict[str, tuple[int, str]] = {}
    for r in agent.store.scroll(Scope(kind="visual", level="face")):
        image = r.attrs.get("image")
        if not image or not Path(image).is_file():
            continue
        sightings = r.attrs.get("sightings") or 0
        seen = sightings if isinstance(sightings, int) else len(sightings)
        for face in (e for e in r.entity_ids if e.startswith("face_")):
            if face not in best or seen > best[face][0]:
                best[face] = (seen, image)
    return {face: image for face, (_, image) in best.items()}


def entities_doc(agent: Any) -> dict[str, Any]:
    crops = face_crops(agent)
    out = []
    for p in agent.persons():
        doc = person_json(p)
        doc["face_images"] = {f: f"/api/faces/{f}.jpg" for f in p.faces if f in crops}
        out.append(doc)
    return {"entities": out}


def entity_doc(agent: Any, entity: str) -> dict[str, Any]:
    person = find_person(agent, entity)
    return {"entity": person_json(person), **agent.entity_detail(person)}


def rename_doc(agent: Any, entity: str, name: str) -> dict[str, Any]:
    target = agent.rename(entity, name)
    return {"entity": person_json(find_person(agent, target))}


def forget_doc(agent: Any, source: str) -> dict[str, Any]:
    from memory.errors import StoreCorrupt

    agent.verify = False  # forget is how a damaged store is repaired: it opens one
    try:
        (source_id,) = resolve_sources(agent, [source])
    except StoreCorrupt:  # a damaged catalog entry: match the id alone
        match = [s for s in agent.store.source_ids() if s.startswith(source)]
        if len(match) != 1:
            raise SettingsError(f"{source}: {'no' if not match else 'several'} indexed source(s) match it "
                                "(give the id of the damaged entry)") from None
        source_id = match[0]
    report = agent.forget(source_id)
    return {"forgotten": source_id, **report.to_json()}


def _screen_source(entry: Any) -> bool:
    return entry.source_id.startswith("screens-") or Path(entry.path).is_dir()


def transcript_doc(agent: Any, source: str, format: str = "json", words: bool = False) -> dict[str, Any]:
    """``format`` json: the timed lines (DESIGN's transcript JSON) and the speaker turns; text /
    srt / vtt / rttm: ``{"source_id", "format", "text", "turns_from"}``."""
    from memory.transcript import Speakers, source_transcript, to_json, to_rttm, to_srt, to_text, to_vtt

    if format not in ("json", "text", "srt", "vtt", "rttm"):
        raise SettingsError(f"format {format!r}: use json, text, srt, vtt or rttm")
    (source_id,) = resolve_sources(agent, [source])
    entry = agent.store.get_source(source_id)
    if _screen_source(entry):
        raise SettingsError(f"{entry.path}: a screen source has no speech to transcribe "
                            f"(ask about what it showed: mmagent ask QUESTION --source {source_id[:16]})")
    transcript = source_transcript(agent.store, entry, Speakers(agent.registry()), agent.settings.store / "perception")
    if format == "json":
        return to_json(transcript, words=words)
    return {"source_id": source_id, "format": format, "turns_from": transcript.turns_from,
            "text": {"text": to_text, "srt": to_srt, "vtt": to_vtt, "rttm": to_rttm}[format](transcript)}


def timeline_doc(agent: Any, source: str) -> dict[str, Any]:
    """One source laid out in time: clips and scenes (their memories), who speaks when, what was
    on screen (OCR lines, captures), who was seen (face tracks) and the keyframes."""
    from memory.store import Scope

    (source_id,) = resolve_sources(agent, [source])
    entry = agent.store.get_source(source_id)
    levels: dict[str, list[dict[str, Any]]] = {"clip": [], "scene": []}
    speech: list[dict[str, Any]] = []
    screen: list[dict[str, Any]] = []
    for r in agent.store.scroll(Scope(source_ids=(source_id,), kind="episodic")):
        if r.level in levels:
            levels[r.level].append({"memory_id": r.id, "start": r.t_start, "end": r.t_end, "text": r.text,
                                    "entity_ids": list(r.entity_ids), "wall_time": r.wall_time})
        if r.level != "clip":
            continue
        for s in r.snippets:
            if s.modality == "speech":
                speech.append({"start": s.start, "end": s.end, "speaker": s.speaker, "text": s.text})
            else:
                screen.append({"start": s.start, "end": s.end, "text": s.text,
                               **({"image": s.image, "image_url": _capture_url(s.image)} if s.image else {})})
    names = _speaker_names(agent)
    for s in speech:
        s["name"] = names.get(s["speaker"] or "")
    faces: list[dict[str, Any]] = []
    keyframes: list[dict[str, Any]] = []
    for r in agent.store.scroll(Scope(source_ids=(source_id,), kind="visual")):
        if r.level == "face":
            faces.append({"start": r.t_start, "end": r.t_end, "entity_ids": list(r.entity_ids), "text": r.text,
                          **({"face_image": f"/api/faces/{e}.jpg" for e in r.entity_ids if e.startswith("face_")})})
        else:
            keyframes.append({"t": r.t_start, "text": r.text, "image_url": _frame_url(source_id, r.t_start)})
    video = not _screen_source(entry)
    for item in levels["clip"] + levels["scene"] + speech + screen + faces:
        item.setdefault("start", 0.0)
    by_time = lambda d: (d.get("start", d.get("t", 0.0)), d.get("end", 0.0))  # noqa: E731
    return {
        "source_id": source_id, "path": entry.path, "duration": entry.duration, "kind": "video" if video else "screen",
        "media_url": f"/api/sources/{source_id}/media" if video else None,
        "clips": sorted(levels["clip"], key=by_time), "scenes": sorted(levels["scene"], key=by_time),
        "speakers": sorted(speech, key=by_time), "screen_text": sorted(screen, key=by_time),
        "faces": sorted(faces, key=by_time), "keyframes": sorted(keyframes, key=by_time),
    }


def _speaker_names(agent: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in agent.persons():
        if p.name:
            for v in p.voices:
                out[v] = p.name
    return out


def _capture_url(image: str) -> str:
    from urllib.parse import quote

    return f"/api/capture?path={quote(image)}"


def _frame_url(source_id: str, t: float) -> str:
    return f"/api/sources/{source_id}/frame?t={t:.3f}"


def source_media(agent: Any, source: str) -> tuple[str, Path]:
    """(source id, file) of an indexed video or audio file; an error for screen sources or a
    file that is gone."""
    (source_id,) = resolve_sources(agent, [source])
    entry = agent.store.get_source(source_id)
    if _screen_source(entry):
        raise SettingsError(f"{entry.path}: a screen source is a folder of captures (see its timeline's images)")
    path = Path(entry.path)
    if not path.is_file():
        raise SettingsError(f"{entry.path}: the indexed file is no longer there")
    return source_id, path


def frame_jpeg(agent: Any, source: str, t: float, max_side: int = 960) -> bytes:
    """The video frame at ``t`` seconds (the first at or after it) as JPEG."""
    import io

    from PIL import Image

    from perception.decode import clip_frames_pyav

    _, path = source_media(agent, source)
    entry = agent.store.get_source(resolve_sources(agent, [source])[0])
    if not 0 <= t <= max(entry.duration, 0.0):
        raise SettingsError(f"t={t}: outside the source (0 to {entry.duration:.1f} s)")
    frames, _, _ = clip_frames_pyav(path, (t, min(t + 1.0, entry.duration + 1.0)), 1.0, max_side)
    if not frames:
        raise SettingsError(f"{entry.path}: no video frame at {t:.1f} s (audio only?)")
    buf = io.BytesIO()
    Image.fromarray(frames[0][1]).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def capture_png(agent: Any, image: str) -> bytes:
    """A screen capture cited by the store (inside one of its screen sources' folders), whole."""
    import io

    from perception.screens import open_capture

    path = Path(image).resolve()
    folders = [Path(s.path).resolve() for s in agent.sources() if _screen_source(s)]
    if not any(path.is_relative_to(f) for f in folders):
        raise SettingsError(f"{image}: not a capture of a screen source in this store")
    buf = io.BytesIO()
    open_capture(path).save(buf, format="PNG")
    return buf.getvalue()


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
