"""Time intervals in seconds, shared by the ASR (speech no word covers) and the diarizer
(speech less overlapped speech)."""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[float, float]


def minus(spans: Sequence[Span], holes: Sequence[Span], min_length: float) -> list[Span]:
    """``spans`` less ``holes``: the pieces of each span no hole covers, those shorter than
    ``min_length`` dropped. ``holes`` sorted by start; they may overlap one another (a hole
    reaching past the next one's start is fine). O(spans x holes)."""
    out: list[Span] = []
    for a, b in spans:
        at = a
        for h0, h1 in holes:
            if h1 <= at or h0 >= b:
                continue
            if h0 - at >= min_length:
                out.append((at, h0))
            at = max(at, h1)
        if b - at >= min_length:
            out.append((at, b))
    return out
