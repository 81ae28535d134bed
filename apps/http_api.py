"""The local HTTP JSON API of ``mmagent serve`` (FastAPI; its schema at ``/openapi.json``).

Every route under ``/api`` needs the store's token (``STORE/server-token``) unless the server
was started with ``--no-token``: ``Authorization: Bearer TOKEN``, or ``?token=TOKEN`` where a
header cannot be set (an ``<img>`` or ``<video>`` source). Errors are JSON,
``{"error": {"status": N, "message": "..."}}``: 400 a bad value, 401 no or a wrong token,
404 nothing by that name, 409 the store is held elsewhere, 422 a malformed request or a file that
cannot be indexed, 500 our own failure (logged; the message names its type), never a traceback.

Reads (``GET``, ``POST /api/ask``) run side by side; a write (``POST /api/index``,
``DELETE /api/sources/{id}``) waits for them and has the store to itself.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from apps.server import StoreServer
from apps.store_docs import capture_png, frame_jpeg, source_media
from mmagent.errors import MMAgentError, SettingsError, SourceNotIndexed

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class AskRequest(BaseModel):
    question: str = Field(min_length=1, description="the question, in plain words")
    source: list[str] = Field(default_factory=list, description="only these sources (id, id prefix or path)")
    tag: list[str] = Field(default_factory=list, description="only sources with these tags")
    before: float | None = Field(None, ge=0, description="answer as of this time (seconds): nothing later is visible")
    planner: Literal["auto", "rules", "model", "single"] = "auto"
    rounds: int = Field(5, ge=1, le=20)
    trace: bool = False
    llm: Literal["transformers", "openai", "none"] | None = Field(
        None, description="the language model for this question (none: quote the evidence); default: the server's")


class IndexRequest(BaseModel):
    paths: list[str] = Field(min_length=1, description="video / audio files or folders of screenshots on this machine")
    wait: bool = Field(True, description="answer when done; false: answer at once with a job to poll at /api/jobs/{id}")


def _status_of(exc: Exception) -> int:
    from memory.errors import MemoryError_, StoreInUse
    from perception.errors import MediaError

    if isinstance(exc, SourceNotIndexed) or (isinstance(exc, SettingsError) and "no indexed source" in str(exc)):
        return 404
    if isinstance(exc, SettingsError) and ("no person" in str(exc) or "no entity" in str(exc)):
        return 404
    if isinstance(exc, StoreInUse):
        return 409
    if isinstance(exc, MediaError):
        return 422
    if isinstance(exc, FileNotFoundError):
        return 404
    if isinstance(exc, MMAgentError):
        return 400
    if isinstance(exc, OSError) and not isinstance(exc, MemoryError_):
        return 400  # a file we were asked for cannot be read (its message says which and why)
    return 500


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def make_app(server: StoreServer, token: str | None, mcp: bool = True) -> FastAPI:
    """The app over ``server`` (its agent and lock). ``token``: required on /api unless None."""
    from contextlib import asynccontextmanager

    from apps.jobs import IndexJobs
    from apps.service import index_doc

    def run_index(paths: list[str], **progress: Any) -> dict[str, Any]:
        with server.writing():  # as a waiting index request: the store to itself
            return index_doc(server.agent, paths, **progress)

    jobs = IndexJobs(run_index, _status_of)
    mcp_app = None
    if mcp:
        from apps.mcp_server import build_mcp

        mcp_server = build_mcp(server.call)
        mcp_app = mcp_server.streamable_http_app(streamable_http_path="/", stateless_http=True, json_response=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        try:
            if mcp_app is None:
                yield
                return
            async with mcp_app.router.lifespan_context(mcp_app):
                yield
        finally:
            jobs.close()

    app = FastAPI(title="mmagent", version="1", lifespan=lifespan,
                  description="A multimodal memory of video and screen activity: ask it, search it, read its sources.")

    def token_ok(request: Request) -> bool:
        if token is None:
            return True
        given = request.query_params.get("token") or ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        given = request.headers.get("x-mmagent-token", given)
        return hmac.compare_digest(given.encode(), token.encode())

    need = "a token is needed: Authorization: Bearer TOKEN (the token is in STORE/server-token)"

    def need_token(request: Request) -> None:
        if not token_ok(request):
            raise ApiError(401, need)

    @app.middleware("http")
    async def loopback_only(request: Request, call_next: Any) -> Response:
        # a page on another site that rebinds its name to 127.0.0.1 must not reach the store
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        bound = request.scope.get("server")
        if bound and bound[0] in LOOPBACK and host not in LOOPBACK:
            return _error(403, f"host {host!r} is not this machine: use http://127.0.0.1")
        if request.url.path.startswith("/mcp") and not token_ok(request):  # the mounted MCP app has no route deps
            return _error(401, need)
        return await call_next(request)  # type: ignore[no-any-return]

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}" for e in exc.errors()]
        return _error(422, "; ".join(parts) or "malformed request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    from memory.errors import MemoryError_
    from models.errors import ModelError
    from perception.errors import PerceptionError

    async def expected(request: Request, exc: Exception) -> JSONResponse:
        """The layers' own errors: their message names the fix; logged only when they are ours."""
        status = _status_of(exc)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return _error(status, str(exc))

    for kind in (MMAgentError, MemoryError_, ModelError, PerceptionError, OSError):
        app.add_exception_handler(kind, expected)

    @app.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> JSONResponse:
        """A bug: the client gets its type and message as JSON; the server's log, the traceback."""
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, f"{type(exc).__name__}: {exc}")

    api = [Depends(need_token)]

    def call(op: str, **args: Any) -> dict[str, Any]:
        return server.call(op, **args)

    @app.get("/api/health", tags=["server"])
    def health() -> dict[str, Any]:
        """Whether the server answers (no token needed; says nothing about the store)."""
        return {"ok": True}

    @app.get("/api/status", tags=["server"], dependencies=api)
    def status() -> dict[str, Any]:
        return {**server.status(), "sources": len(server.agent.sources())}

    @app.post("/api/ask", tags=["memory"], dependencies=api)
    def ask(body: AskRequest) -> dict[str, Any]:
        """Answer a question with cited moments: the JSON of ``mmagent ask --json``."""
        return call("ask", **body.model_dump())

    @app.get("/api/search", tags=["memory"], dependencies=api)
    def search(q: str = Query(min_length=1, description="words or a phrase"),
               source: list[str] = Query(default_factory=list), limit: int = Query(20, ge=1, le=200)) -> dict[str, Any]:
        """Episodes matching the words and their meaning, best first (no agent, no answer)."""
        return call("search", query=q, source=source, limit=limit)

    @app.get("/api/sources", tags=["sources"], dependencies=api)
    def sources() -> dict[str, Any]:
        return call("sources")

    @app.get("/api/sources/{source}/timeline", tags=["sources"], dependencies=api)
    def timeline(source: str) -> dict[str, Any]:
        """Clips, scenes, speakers, on-screen text, faces and keyframes of one source, by time."""
        return call("timeline", source=source)

    @app.get("/api/sources/{source}/transcript", tags=["sources"], dependencies=api)
    def transcript(source: str, format: Literal["json", "text", "srt", "vtt", "rttm"] = "json", words: bool = False) -> Any:
        doc = call("transcript", source=source, format=format, words=words)
        if format == "json":
            return doc
        media = {"text": "text/plain", "srt": "application/x-subrip", "vtt": "text/vtt", "rttm": "text/plain"}[format]
        return Response(doc["text"], media_type=f"{media}; charset=utf-8")

    @app.get("/api/sources/{source}/frame", tags=["sources"], dependencies=api,
             responses={200: {"content": {"image/jpeg": {}}}})
    def frame(source: str, t: float = Query(ge=0, description="seconds from the start")) -> Response:
        """The video frame at ``t`` (a keyframe's image: its ``t``), JPEG."""
        with server.reading():
            data = frame_jpeg(server.agent, source, t)
        return Response(data, media_type="image/jpeg")

    @app.get("/api/sources/{source}/media", tags=["sources"], dependencies=api)
    def media(source: str) -> FileResponse:
        """The indexed file itself (byte ranges: a ``<video>`` can seek)."""
        with server.reading():
            _, path = source_media(server.agent, source)
        return FileResponse(path, filename=path.name, content_disposition_type="inline")

    @app.delete("/api/sources/{source}", tags=["sources"], dependencies=api)
    def forget(source: str) -> dict[str, Any]:
        """Remove everything derived from the source (its memories, its share of people and facts)."""
        return call("forget", source=source)

    @app.post("/api/index", tags=["sources"], dependencies=api)
    def index(body: IndexRequest) -> JSONResponse:
        """Index files or folders on this machine (waits until done). A path that cannot be
        indexed is listed in ``errors`` (status 422 when none could be)."""
        missing = [p for p in body.paths if not Path(p).exists()]
        if missing:
            raise ApiError(404, f"{missing[0]}: no such file or folder")
        from perception.screens import capture_folders

        # a recorder's folder holds one folder of captures per day: each day is a source (as mmagent index does)
        paths = [str(p.resolve()) for raw in body.paths
                 for p in (capture_folders(Path(raw)) if Path(raw).is_dir() else [Path(raw)])]
        if not body.wait:
            job = jobs.submit(paths)
            return JSONResponse({"job": job.to_json(), "url": f"/api/jobs/{job.id}"}, status_code=202)
        doc = call("index", paths=paths)
        return JSONResponse(doc, status_code=422 if doc.get("errors") and not doc["sources"] else 200)

    @app.get("/api/jobs", tags=["sources"], dependencies=api)
    def list_jobs() -> dict[str, Any]:
        """Index jobs started with ``"wait": false``, oldest first (the last 50 finished are kept)."""
        return {"jobs": [j.to_json() for j in jobs.all()]}

    @app.get("/api/jobs/{job_id}", tags=["sources"], dependencies=api)
    def get_job(job_id: str) -> dict[str, Any]:
        """One index job: ``state`` queued / running / done / failed, ``progress`` 0-1, the path
        being indexed with its clips done / total, then ``result`` (the JSON of a waiting
        ``POST /api/index``) or ``error``."""
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no index job {job_id!r}")
        return job.to_json()

    @app.get("/api/entities", tags=["people"], dependencies=api)
    def entities() -> dict[str, Any]:
        """People with their names, faces (``face_images``: crop URLs), voices and appearances."""
        return call("entities")

    @app.get("/api/entities/{entity}", tags=["people"], dependencies=api)
    def entity(entity: str) -> dict[str, Any]:
        """One person (id, face / voice id or name): facts and first episodes."""
        return call("entity", entity=entity)

    @app.get("/api/faces/{face_id}.jpg", tags=["people"], dependencies=api,
             responses={200: {"content": {"image/jpeg": {}}}})
    def face(face_id: str) -> FileResponse:
        from apps.store_docs import face_crops

        with server.reading():
            crop = face_crops(server.agent).get(face_id)
        if crop is None:
            raise ApiError(404, f"no face crop for {face_id} (see /api/entities)")
        return FileResponse(crop, media_type="image/jpeg")

    @app.get("/api/capture", tags=["sources"], dependencies=api, responses={200: {"content": {"image/png": {}}}})
    def capture(path: str = Query(min_length=1, description="a capture's file, as cited by ask (evidence.image)")) -> Response:
        """A screen capture whole, PNG (a capture saved as changed rows is put together)."""
        with server.reading():
            data = capture_png(server.agent, path)
        return Response(data, media_type="image/png")

    if mcp_app is not None:
        app.mount("/mcp", mcp_app)

    web = Path(__file__).with_name("web")
    if (web / "index.html").is_file():
        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(web / "index.html", media_type="text/html")

    return app
