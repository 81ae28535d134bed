"""Episodic memory v0: one memory per clip — what was said and what was shown, with its span."""

from __future__ import annotations

import re

from memory.records import MemoryRecord, Snippet
from models.base import Segment
from perception.records import ClipObservation, Keyframe

_SENTENCE_END = re.compile(r"[.!?]$")
MAX_SNIPPET_WORDS = 24
MAX_BLOCK_LINES = 8


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
    """What the screen showed, a block of lines per distinct read frame (a slide, a window), from
    that frame until the next read frame that shows something else (or the clip's end). Lines of
    one frame stay together: "Invoice #4471" and "Due: March 14" answer questions as a pair."""
    shown: list[tuple[float, tuple[str, ...], Keyframe]] = []
    for kf in clip.keyframes:
        if not kf.ocr_ran:
            continue
        lines = tuple(line.text for line in kf.ocr)
        if not shown or lines != shown[-1][1]:
            shown.append((kf.t, lines, kf))
    out = []
    for k, (t, lines, kf) in enumerate(shown):
        end = shown[k + 1][0] if k + 1 < len(shown) else clip.end
        title = " - ".join(x for x in (kf.app, kf.window) if x)
        image = kf.image if clip.wall_start is not None else None  # screenshots cite their file
        for block in _blocks(lines):
            text = " | ".join(block)
            out.append(Snippet(t, round(end, 3), f"[{title}] {text}" if title else text, "screen", image))
    return out


def _blocks(lines: tuple[str, ...], max_lines: int = MAX_BLOCK_LINES, max_chars: int = 240) -> list[list[str]]:
    blocks: list[list[str]] = []
    for line in lines:
        if not blocks or len(blocks[-1]) >= max_lines or sum(map(len, blocks[-1])) + len(line) > max_chars:
            blocks.append([])
        blocks[-1].append(line)
    return blocks


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
        parts.append("On screen: " + " | ".join(line.text for line in clip.ocr_lines()))
    return MemoryRecord(
        kind="episodic",
        level="clip",
        source_id=clip.source_id,
        t_start=clip.start,
        t_end=clip.end,
        text="\n".join(parts),
        path=path,
        wall_time=clip.wall_start,
        snippets=tuple(speech + screen),
        provenance={"clip_index": clip.clip_index, **clip.producer},
    )
