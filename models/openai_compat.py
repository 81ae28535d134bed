"""Backends over an OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, OpenAI):
``POST {base_url}/chat/completions``, greedy (temperature 0).

The API key comes from ``api_key`` or the environment variable named by ``api_key_env``; it is
sent as a bearer token and never logged or put in an error message. Connection errors, timeouts,
HTTP 429 and 5xx are retried with exponential backoff; what still fails raises
:class:`ModelServerError` with a one-line message.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from models.base import LLM, Captioner, CaptionRequest, ChatMessage, ImageArray
from models.caption_prompt import (
    CAPTION_SYSTEM,
    caption_prompt,
    is_empty,
    parse_sentences,
    sample_evenly,
    shorten,
)
from models.errors import ModelNotInstalled, ModelServerError

log = logging.getLogger(__name__)

DEFAULT_URL = "http://localhost:8000/v1"


class OpenAIChatClient:
    """One chat-completions endpoint; ``complete`` sends one conversation, returns the text."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        model: str = "",
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self._api_key = api_key if api_key is not None else os.environ.get(api_key_env) or None

    def __repr__(self) -> str:  # no key here
        return f"OpenAIChatClient(url={self.url!r}, model={self.model!r})"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def session(self) -> Any:
        """An ``httpx.Client`` to pass to :meth:`complete` (use it as a context manager)."""
        try:
            import httpx
        except ImportError:
            raise ModelNotInstalled("httpx", "openai-compatible") from None
        return httpx.Client(timeout=self.timeout, headers=self._headers())

    def complete(self, http: Any, messages: list[dict[str, Any]], max_tokens: int) -> str:
        """The assistant's reply to ``messages``."""
        import httpx

        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = http.post(self.url, json=body)
            except httpx.TransportError as exc:  # refused, reset, timed out
                if last:
                    why = str(exc).strip() or type(exc).__name__
                    raise ModelServerError(f"cannot reach the chat server at {self.url}: {why}") from None
            else:
                if response.status_code < 400:
                    return self._reply_text(response)
                if last or not (response.status_code == 429 or response.status_code >= 500):
                    detail = shorten(response.text, 200) if response.text else response.reason_phrase
                    raise ModelServerError(
                        f"chat server at {self.url} answered HTTP {response.status_code}: {detail}"
                    )
            delay = self.backoff * 2**attempt
            log.warning(
                "chat server at %s failed (try %d of %d), retrying in %.1f s",
                self.url, attempt + 1, self.retries + 1, delay,
            )
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _reply_text(self, response: Any) -> str:
        def malformed(why: str) -> ModelServerError:
            return ModelServerError(f"chat server at {self.url} sent a malformed reply: {why}")

        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise malformed(f"not JSON: {shorten(response.text, 80)!r}") from None
        if not isinstance(data, dict):
            raise malformed(f"expected an object, got {type(data).__name__}")
        if "error" in data and "choices" not in data:
            error = data["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise malformed(f"error: {shorten(str(message), 200)}")
        try:
            content = data["choices"][0]["message"].get("content")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise malformed("no choices[0].message") from None
        if content is None:
            return ""
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise malformed(f"content is a {type(content).__name__}")
        return content.strip()

    def complete_many(
        self, conversations: Sequence[list[dict[str, Any]]], max_tokens: int, concurrency: int
    ) -> list[str]:
        """Replies in order; up to ``concurrency`` requests in flight (servers batch them)."""
        if not conversations:
            return []
        with self.session() as http:
            if concurrency <= 1 or len(conversations) == 1:
                return [self.complete(http, messages, max_tokens) for messages in conversations]
            with ThreadPoolExecutor(min(concurrency, len(conversations))) as pool:
                return list(pool.map(lambda m: self.complete(http, m, max_tokens), conversations))


class OpenAIChatLLM(LLM):
    def __init__(
        self,
        model: str,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        retries: int = 2,
        backoff: float = 0.5,
        concurrency: int = 4,
    ) -> None:
        """``model``: the name the server knows the model by; ``concurrency`` requests at once."""
        self.model_id = model
        self.concurrency = concurrency
        self.client = OpenAIChatClient(base_url, model, api_key, api_key_env, timeout, retries, backoff)

    def generate_batch(
        self, conversations: Sequence[Sequence[ChatMessage]], max_new_tokens: int = 64
    ) -> list[str]:
        payloads = [[{"role": m.role, "content": m.content} for m in turns] for turns in conversations]
        return self.client.complete_many(payloads, max_new_tokens, self.concurrency)


def jpeg_data_url(image: ImageArray, max_side: int, quality: int = 85) -> str:
    """An RGB uint8 image as a ``data:image/jpeg;base64`` URL, shrunk to ``max_side`` at most."""
    from PIL import Image

    picture = Image.fromarray(image).convert("RGB")
    if max(picture.size) > max_side:
        picture.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class OpenAICaptioner(Captioner):
    def __init__(
        self,
        model: str,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 120.0,
        retries: int = 2,
        backoff: float = 0.5,
        concurrency: int = 4,
        max_new_tokens: int = 256,
        max_frames: int = 8,
        max_side: int = 768,
    ) -> None:
        """``model``: a vision-language model served at ``base_url``; frames are sampled evenly
        down to ``max_frames`` and sent as JPEGs no larger than ``max_side`` pixels."""
        self.model_id = model
        self.concurrency = concurrency
        self.max_new_tokens = max_new_tokens
        self.max_frames = max_frames
        self.max_side = max_side
        self.client = OpenAIChatClient(base_url, model, api_key, api_key_env, timeout, retries, backoff)

    def messages(self, request: CaptionRequest) -> list[dict[str, Any]]:
        """The chat messages sent for ``request``."""
        picked = sample_evenly(len(request.frames), self.max_frames)
        content: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": jpeg_data_url(request.frames[i], self.max_side)}}
            for i in picked
        ]
        content.append({"type": "text", "text": caption_prompt(request, picked)})
        return [{"role": "system", "content": CAPTION_SYSTEM}, {"role": "user", "content": content}]

    def caption_batch(self, requests: Sequence[CaptionRequest]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in requests]
        todo = [i for i, request in enumerate(requests) if not is_empty(request)]
        payloads = [self.messages(requests[i]) for i in todo]
        replies = self.client.complete_many(payloads, self.max_new_tokens, self.concurrency)
        for i, reply in zip(todo, replies):
            out[i] = parse_sentences(reply)
        return out
