"""Deterministic, scripted stand-ins for model roles (never for Qdrant: tests use the real engine)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from models.base import LLM, ChatMessage, TextEmbedder


class HashEmbedder(TextEmbedder):
    """Bag of hashed words: texts sharing words are close. Same text, same vector."""

    model_id = "hash-embedder"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int(hashlib.md5(word.strip(".,?!").encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            out[i] /= max(np.linalg.norm(out[i]), 1e-6)
        return out


class ScriptedLLM(LLM):
    """Replies from a script, in order; records what it was asked."""

    model_id = "scripted-llm"

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.seen: list[Sequence[ChatMessage]] = []

    def generate_batch(self, conversations, max_new_tokens: int = 64) -> list[str]:  # type: ignore[no-untyped-def]
        self.seen.extend(conversations)
        return [self.replies.pop(0) for _ in conversations]
