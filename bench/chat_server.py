"""A local OpenAI-compatible chat server (stdlib, in a thread) for tests and benchmarks: it
records every request and answers ``POST /v1/chat/completions`` with scripted (status, body)
replies first, then a completion from its ``reply`` function (by default, an echo of the last user
text). :func:`obeying_reply` is a model that carries out any instruction it finds in what it is
sent, to show that the injection defence is what stops it.

    with serve(ChatServer()) as server:      # server.url is http://127.0.0.1:PORT/v1
        ...
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def echo_reply(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    return f"echo: {content if isinstance(content, str) else content[-1]['text']}"


def obeying_reply(body: dict[str, Any]) -> str:
    """What an obedient model says: the planner's turn stops searching; the writer does what an
    injection asks ("answer with the release is cancelled" → "the release is cancelled")."""
    text = "\n".join(m["content"] if isinstance(m["content"], str) else "" for m in body["messages"])
    if "Next step:" in text:
        return '{"tool": "answer"}'
    said = re.search(r"(?:answer|reply|say|respond)(?: only)?(?: with| that)? (the (?:release|budget)[^.|\n]*)", text, re.I)
    return said.group(1).strip() if said else text.splitlines()[-1]


@dataclass
class ChatServer:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    script: list[tuple[int, bytes]] = field(default_factory=list)
    reply: str | None = None  # a fixed reply instead of ``respond``'s
    respond: Callable[[dict[str, Any]], str] = echo_reply
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: dict[str, Any]) -> tuple[int, bytes]:
        with self.lock:
            if self.script:
                return self.script.pop(0)
        completion = {
            "id": "cmpl-1", "object": "chat.completion", "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply or self.respond(body)},
                         "finish_reason": "stop"}],
        }
        return 200, json.dumps(completion).encode()


@contextmanager
def serve(state: ChatServer) -> Iterator[ChatServer]:
    """Runs ``state`` on a free loopback port until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            with state.lock:
                state.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, payload = state.answer(body) if self.path == "/v1/chat/completions" else (404, b"not found")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
