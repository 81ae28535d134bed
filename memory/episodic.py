"""Episodic memory v0: one memory per clip — what was said and what was shown, with its span."""

from __future__ import annotations

import re

from memory.records import MemoryRecord, Snippet
from models.base import Segment
from perception.records import ClipObservation

_SENTENCE_END = re.compile(r"[.!?]$")
MAX_SNIPPET_WORDS = 24


def speech_snippets(segments: tuple[Segment, ...]) -> list[Snippet]:
    """Sentences from word times: split at end punctuation, pauses over 0.7 s, or 24 words."""
    out: list[Snippet] = []
    for seg in segments:
        if not seg.words:
            out.append(Snippet(seg.start, seg.end, seg.text, "speech"))
            continue
        current = []
        for k, word in enumerate(seg.words):
            current.append(word)
            nxt = seg.words[k + 1] if k + 1 < len(seg.words) else None
            if (
                nxt is None
                or _SENTENCE_END.search(word.text)
                or nxt.start - word.end > 0.7
                or len(current) >= MAX_SNIPPET_WORDS
            ):
                text = " ".join(w.text for w in current)
                out.append(Snippet(current[0].start, current[-1].end, text, "speech"))
                current = []
    return out


def screen_snippets(clip: ClipObservation) -> list[Snippet]:
    """Each distinct on-screen line, from the first keyframe showing it to the end of its run."""
    read = [k for k in clip.keyframes if k.ocr_ran]
    out = []
    for line in clip.ocr_lines():
        # visible until the next keyframe that was read and no longer shows it (or clip end)
        end = clip.end
        for k in read:
            if k.t > line.t and all(o.text != line.text for o in k.ocr):
                end = k.t
                break
        out.append(Snippet(line.t, round(end, 3), line.text, "screen"))
    return out


def clip_memory(clip: ClipObservation, path: str) -> MemoryRecord | None:
    """The clip's memory, or None when nothing was said or shown in it."""
    speech = speech_snippets(clip.segments)
    screen = screen_snippets(clip)
    if not speech and not screen:
        return None
    parts = []
    if speech:
        parts.append("Said: " + " ".join(s.text for s in speech))
    if screen:
        parts.append("On screen: " + " | ".join(s.text for s in screen))
    return MemoryRecord(
        kind="episodic",
        level="clip",
        source_id=clip.source_id,
        t_start=clip.start,
        t_end=clip.end,
        text="\n".join(parts),
        path=path,
        snippets=tuple(speech + screen),
        provenance={"clip_index": clip.clip_index, **clip.producer},
    )
