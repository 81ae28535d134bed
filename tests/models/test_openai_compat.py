"""OpenAI-compatible backends against a real local HTTP server (stdlib, in a thread)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench.chat_server import ChatServer, serve
from models.base import CaptionRequest, ChatMessage
from models.caption_prompt import CAPTION_SYSTEM, caption_prompt
from models.errors import ModelServerError
from tests.conftest import DATA, need


@pytest.fixture
def server() -> Iterator[ChatServer]:
    """Echoes the last user text unless a test scripts replies (bench/chat_server.py)."""
    with serve(ChatServer()) as state:
        yield state


def llm(server: ChatServer, **options: Any) -> Any:
    import models

    return models.create("llm", "openai", model="tiny-llm", base_url=server.url, backoff=0.0, **options)


def test_llm_sends_greedy_chat_requests_and_returns_replies_in_order(server: ChatServer) -> None:
    chat = llm(server, api_key="sk-test-123")
    conversations = [
        [ChatMessage("system", "Be brief."), ChatMessage("user", "Where did Alice park?")],
        [ChatMessage("user", "What did Bob buy?")],
        [ChatMessage("user", "Who called?")],
    ]
    assert chat.generate_batch(conversations, max_new_tokens=16) == [
        "echo: Where did Alice park?",
        "echo: What did Bob buy?",
        "echo: Who called?",
    ]
    assert len(server.requests) == 3
    first = next(r for r in server.requests if r.body["messages"][0]["role"] == "system")
    assert first.path == "/v1/chat/completions"
    assert first.body == {
        "model": "tiny-llm",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Where did Alice park?"},
        ],
        "max_tokens": 16,
        "temperature": 0,
    }
    assert all(r.headers["authorization"] == "Bearer sk-test-123" for r in server.requests)
    assert "sk-test-123" not in repr(chat.client)


def test_llm_key_from_environment_or_none(server: ChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_TEST_LLM_KEY", "sk-env-456")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert llm(server, api_key_env="MMAGENT_TEST_LLM_KEY").generate([ChatMessage("user", "hi")]) == "echo: hi"
    assert llm(server).generate([ChatMessage("user", "hello")]) == "echo: hello"
    assert server.requests[0].headers["authorization"] == "Bearer sk-env-456"
    assert "authorization" not in server.requests[1].headers


def test_retries_a_503_then_succeeds(server: ChatServer) -> None:
    server.script = [(503, b'{"error": "loading model"}')]
    assert llm(server, retries=2).generate([ChatMessage("user", "again")]) == "echo: again"
    assert len(server.requests) == 2


def test_http_errors_are_clear_and_client_errors_are_not_retried(server: ChatServer) -> None:
    server.script = [(500, b"boom")] * 2
    with pytest.raises(ModelServerError, match=r"answered HTTP 500: boom"):
        llm(server, retries=1).generate([ChatMessage("user", "x")])
    assert len(server.requests) == 2
    server.script = [(401, b'{"error": {"message": "invalid api key"}}')]
    with pytest.raises(ModelServerError, match="HTTP 401") as caught:
        llm(server, retries=3, api_key="sk-secret-789").generate([ChatMessage("user", "x")])
    assert len(server.requests) == 3 and "sk-secret-789" not in str(caught.value)


def test_malformed_replies_are_clear_errors(server: ChatServer) -> None:
    server.script = [(200, b"this is not json {"), (200, b'{"id": "x", "choices": []}')]
    with pytest.raises(ModelServerError, match="malformed reply: not JSON"):
        llm(server).generate([ChatMessage("user", "x")])
    with pytest.raises(ModelServerError, match=r"malformed reply: no choices\[0\].message"):
        llm(server).generate([ChatMessage("user", "x")])


def test_refused_port_is_a_clear_error() -> None:
    import models

    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}/v1"
    chat = models.create("llm", "openai", model="m", base_url=url, retries=1, backoff=0.0)
    with pytest.raises(ModelServerError, match=f"cannot reach the chat server at {url}/chat/completions: "):
        chat.generate([ChatMessage("user", "x")])


def test_captioner_sends_jpeg_frames_and_the_shared_prompt(server: ChatServer) -> None:
    import models

    frames = tuple(
        np.asarray(Image.open(need(DATA / "screens" / "omniparser" / name)).convert("RGB"))
        for name in ("excel.png", "word.png", "windows.png")
    )
    request = CaptionRequest(
        10.0, 14.0, frames=frames, times=(10.0, 12.0, 14.0), speech=(("voice_0", "open the invoice"),),
        faces=("face_0",), screen_text=("Invoice #4471",), window="Excel - Book1",
    )
    server.reply = (
        "face_0 opens Excel.\n- voice_0 says: 'open the invoice'.\nface_0 opens Excel. The window shows Invoice #4471."
    )
    captioner = models.create(
        "captioner", "openai", model="tiny-vl", base_url=server.url, max_frames=2, max_side=320, api_key="k"
    )
    captions = captioner.caption_batch([request, CaptionRequest(0.0, 1.0)])
    assert captions == [
        ["face_0 opens Excel.", "voice_0 says: 'open the invoice'.", "The window shows Invoice #4471."],
        [],  # an empty request is never sent
    ]
    (sent,) = server.requests
    assert sent.body["model"] == "tiny-vl" and sent.body["temperature"] == 0 and sent.body["max_tokens"] == 256
    system, user = sent.body["messages"]
    assert system == {"role": "system", "content": CAPTION_SYSTEM}
    *images, text = user["content"]
    assert text == {"type": "text", "text": caption_prompt(request, [0, 2])}
    sizes = []
    for part in images:
        assert part["type"] == "image_url"
        prefix, _, payload = part["image_url"]["url"].partition(",")
        assert prefix == "data:image/jpeg;base64"
        picture = Image.open(io.BytesIO(base64.b64decode(payload)))
        assert picture.format == "JPEG" and picture.mode == "RGB"
        sizes.append(picture.size)
    assert sizes == [(320, 180), (320, 200)]  # excel 1919x1079 and windows 1280x800, aspect kept
