"""Captioner without a model: the request's own signals as short sentences, deterministic.

The offline default. It says only what the request holds (faces seen, speech, window, screen
text), naming people by their clip-local labels; frames are not described.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.base import Captioner, CaptionRequest
from models.caption_prompt import ELLIPSIS, distinct, shorten


def _join(labels: Sequence[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


class ComposedCaptioner(Captioner):
    model_id = "composed"
    uses_frames = False

    def __init__(
        self,
        max_faces: int = 8,
        max_turns: int = 12,
        max_quote: int = 160,
        max_screen_lines: int = 6,
        max_screen_chars: int = 80,
    ) -> None:
        """Bounds: labels listed, speech turns quoted, characters per quote, screen lines
        quoted, characters per screen line (longer texts end in an ellipsis)."""
        self.max_faces = max_faces
        self.max_turns = max_turns
        self.max_quote = max_quote
        self.max_screen_lines = max_screen_lines
        self.max_screen_chars = max_screen_chars

    def caption_batch(self, requests: Sequence[CaptionRequest]) -> list[list[str]]:
        return [self._caption(request) for request in requests]

    def _caption(self, request: CaptionRequest) -> list[str]:
        sentences: list[str] = []
        faces = distinct(request.faces)
        if faces:
            shown = faces[: self.max_faces]
            if len(faces) > len(shown):
                shown = [*shown, f"{len(faces) - len(shown)} more"]
            sentences.append(f"{_join(shown)} on screen.")
        turns = [(voice.strip(), text) for voice, text in request.speech if text.strip()]
        for voice, text in turns[: self.max_turns]:
            quote = shorten(text, self.max_quote)
            end = "" if quote[-1:] in ".!?" or quote.endswith(ELLIPSIS) else "."
            sentences.append(f"{voice or 'Someone'} says: '{quote}'{end}")
        if len(turns) > self.max_turns:
            sentences.append(f"{len(turns) - self.max_turns} more speech turns follow.")
        if request.window.strip():
            sentences.append(f"Window: {shorten(request.window, self.max_quote).rstrip('.')}.")
        lines = distinct(request.screen_text)
        if lines:
            shown = lines[: self.max_screen_lines]
            quoted = "; ".join(f"'{shorten(line, self.max_screen_chars)}'" for line in shown)
            more = f"; {ELLIPSIS}" if len(lines) > self.max_screen_lines else ""
            sentences.append(f"Screen shows: {quoted}{more}.")
        return sentences
