"""Baselines run in the same harness as mmagent.

- :class:`TranscriptRAG` — transcript-only RAG: the transcript the ASR produced (every spoken
  sentence of the store's clip memories, in time order) cut into fixed chunks of about
  ``chunk_words`` words, one dense search with the same text embedder, the same LLM writing the
  answer from the top chunks (or the best chunk quoted when there is no LLM). No screen text, no
  people, no facts, no agent loop — what most "chat with your video" tools do.
- single-shot retrieval over mmagent's own memory is ``MMAgent.ask(..., planner="single")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memory.store import MemoryStore, Scope
from models.base import LLM, ChatMessage, TextEmbedder
from retrieval.prompts import render


@dataclass(frozen=True)
class Chunk:
    source_id: str
    path: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class BaselineAnswer:
    answer: str
    abstained: bool
    evidence: tuple[Chunk, ...]


class TranscriptRAG:
    def __init__(self, store: MemoryStore, embedder: TextEmbedder, llm: LLM | None, chunk_words: int = 40,
                 top_k: int = 3, min_cosine: float = 0.35, max_new_tokens: int = 48) -> None:
        self.embedder, self.llm, self.top_k = embedder, llm, top_k
        self.min_cosine, self.max_new_tokens = min_cosine, max_new_tokens
        self.chunks = self._chunks(store, chunk_words)
        self.vectors = embedder.embed_batch([c.text for c in self.chunks]) if self.chunks else np.zeros((0, embedder.dim))

    @staticmethod
    def _chunks(store: MemoryStore, chunk_words: int) -> list[Chunk]:
        sentences: dict[str, list[tuple[float, float, str, str]]] = {}
        for r in store.scroll(Scope(kind="episodic", level="clip")):
            for s in r.snippets:
                if s.modality == "speech":
                    sentences.setdefault(r.source_id, []).append((s.start, s.end, s.text, r.path))
        chunks: list[Chunk] = []
        for source_id, items in sorted(sentences.items()):
            items.sort()
            words: list[str] = []
            start = end = 0.0
            path = ""
            for a, b, text, p in items:
                if not words:
                    start, path = a, p
                words.extend(text.split())
                end = b
                if len(words) >= chunk_words:
                    chunks.append(Chunk(source_id, path, start, end, " ".join(words)))
                    words = []
            if words:
                chunks.append(Chunk(source_id, path, start, end, " ".join(words)))
        return chunks

    def ask(self, question: str, before: float | None = None) -> BaselineAnswer:
        if not self.chunks:
            return BaselineAnswer("Not found in memory.", True, ())
        cos = self.vectors @ self.embedder.embed(question)
        order = [int(i) for i in np.argsort(-cos) if before is None or self.chunks[int(i)].start < before]
        top = [self.chunks[i] for i in order[: self.top_k]]
        if not top or cos[order[0]] < self.min_cosine:
            return BaselineAnswer("Not found in memory.", True, ())
        if self.llm is None:
            return BaselineAnswer(f'From the transcript: "{top[0].text}"', False, tuple(top))
        from retrieval.guard import data_block

        memories = data_block(f"- {c.text}" for c in top)  # the same prompt as the agent's writer: memory text is data
        reply = self.llm.generate([
            ChatMessage("system", render("answer_system")),
            ChatMessage("user", render("answer_user", memories=memories, question=question)),
        ], self.max_new_tokens).strip()
        reply = reply.splitlines()[0].strip() if reply else ""
        if not reply or "not in memory" in reply.lower():
            return BaselineAnswer("Not found in memory.", True, ())
        return BaselineAnswer(reply, False, tuple(top))
