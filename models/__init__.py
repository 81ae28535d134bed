"""Model roles (one interface each) and their backends (one file each).

This layer imports nothing from the project. Backends import their heavy libraries lazily,
so ``import models`` costs nothing; pick a backend by name through :mod:`models.registry`.
"""

import os

# OpenMP threads that wait at a barrier sleep instead of spinning (libgomp reads this once, when
# torch loads it). Spinning threads on a busy machine — other programs, the recorder, a second
# model — hold a core each while the thread they wait for has none: SmolLM2 wrote a 15-token answer
# in 72 s with 2 threads at load 12, 4.4 s with this set (1.8 CPU-s either way on its own work).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from models.base import ASR, LLM, OCR, ChatMessage, Face, FaceEncoder, Segment, TextBox, TextEmbedder, VoiceEncoder, Word
from models.registry import available, create

__all__ = [
    "ASR",
    "LLM",
    "OCR",
    "ChatMessage",
    "Face",
    "FaceEncoder",
    "Segment",
    "TextBox",
    "TextEmbedder",
    "VoiceEncoder",
    "Word",
    "available",
    "create",
]
