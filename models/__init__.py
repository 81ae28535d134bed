"""Model roles (one interface each) and their backends (one file each).

This layer imports nothing from the project. Backends import their heavy libraries lazily,
so ``import models`` costs nothing; pick a backend by name through :mod:`models.registry`.
"""

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
