"""ASR windows that follow the speech, not the clip grid.

The clips of one ASR group (``PerceptionOptions.asr_group`` consecutive clips) are transcribed as
one stretch of audio, so a sentence across a clip edge inside the group is heard whole: the ASR
finds the speech in it with VAD and cuts it into windows at pauses. Between two groups the
stretch ends at a **cut**: the pause nearest to the group edge (within ``search`` seconds), or
the edge itself when it falls in silence. A cut depends only on the audio around its edge, so
both groups beside an edge find the same one, however the clips are spread over processes or
machines, and a killed run resumed transcribes exactly what an uninterrupted one does.

A clip edge only decides which clip memory a finished word belongs to: inside a group, the clip
holding the word's midpoint; at a group's ends, the cut (a word just before an edge that the cut
moved later stays with the clip before it, and the other way round).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from models.base import FloatArray, Segment, Word
from perception.decode import Span, clip_audio

RATE = 16000


@dataclass(frozen=True)
class CutOptions:
    search: float = 5.0  # seconds either side of a group edge where a pause is looked for
    min_pause: float = 0.2  # seconds of non-speech that a cut may fall in
    pad: float = 0.3  # seconds of audio kept beyond each cut (the VAD's own padding sees it)


def speech_regions(audio: FloatArray, min_silence: float = 0.1, pad: float = 0.0) -> list[tuple[float, float]]:
    """Silero VAD (faster-whisper ships it): speech intervals in seconds from the start of ``audio``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(audio) < RATE // 10:
        return []
    options = VadOptions(min_silence_duration_ms=int(min_silence * 1000), speech_pad_ms=int(pad * 1000))
    return [(r["start"] / RATE, r["end"] / RATE) for r in get_speech_timestamps(audio, options)]


def cut_near(audio: FloatArray, t0: float, edge: float, options: CutOptions = CutOptions()) -> float:
    """Where to end one ASR stretch and start the next, near ``edge`` (``audio`` starts at ``t0``
    and covers the search window): the edge when it is in silence, else the middle of the
    pause nearest to it, else (speech without a pause for 2 x ``search`` s) the quietest 20 ms."""
    regions = [(a + t0, b + t0) for a, b in speech_regions(audio)]
    lo, hi = t0, t0 + len(audio) / RATE
    if not regions:
        return edge
    pauses: list[tuple[float, float]] = []
    prev = lo
    for a, b in regions:
        if a - prev >= options.min_pause or (prev == lo and a > lo):
            pauses.append((prev, a))
        prev = b
    if hi - prev > 0:
        pauses.append((prev, hi))
    for a, b in pauses:
        if a + 0.05 <= edge <= b - 0.05:
            return round(edge, 3)
    inner = [(a, b) for a, b in pauses if b - a >= options.min_pause and a > lo and b < hi]
    if inner:
        a, b = min(inner, key=lambda p: (abs((p[0] + p[1]) / 2 - edge), p[0]))
        return round((a + b) / 2, 3)
    frame = RATE // 50
    energy = [float(np.mean(audio[i : i + frame] ** 2)) for i in range(0, max(1, len(audio) - frame), frame)]
    k = int(np.argmin(energy))
    return round(t0 + (k * frame + frame / 2) / RATE, 3)


def edge_cut(path: Path, edge: float, duration: float, options: CutOptions = CutOptions()) -> float:
    """The cut for a group edge at ``edge`` s (0 and the end of the source are their own cuts)."""
    if edge <= 0:
        return 0.0
    if edge >= duration - 1e-6:
        return duration
    audio, t0, _until = clip_audio(path, (max(0.0, edge - options.search), min(duration, edge + options.search)), 0.0)
    if audio is None or len(audio) < RATE // 10:
        return edge
    return cut_near(audio, t0, edge, options)


def stretch(path: Path, spans: Sequence[Span], group_span: Span, duration: float,
            options: CutOptions = CutOptions()) -> tuple[FloatArray, float, tuple[float, float], float]:
    """The audio one ASR group hears: from the cut near its first edge to the cut near its last
    (``pad`` seconds beyond each), its start time, the two cuts, and how far the audio decoded."""
    left = edge_cut(path, group_span[0], duration, options)
    right = edge_cut(path, group_span[1], duration, options)
    audio, t0, until = clip_audio(path, (left, right), options.pad)
    return audio, t0, (left, right), until


def owned(found: Sequence[Segment], audio_t0: float, span: Span, cuts: tuple[float, float],
          first: bool, last: bool) -> tuple[Segment, ...]:
    """The ASR's segments of a group's audio → the words of one of its clips, on the source's
    clock: those whose midpoint is inside the clip, with the group's cuts standing for the
    clip's outer edges (``first`` / ``last``: the clip is the group's first / last)."""
    start = cuts[0] if first else span[0]
    end = cuts[1] if last else span[1]
    kept = []
    for seg in found:
        if seg.words:
            words = tuple(
                Word(round(w.start + audio_t0, 3), round(w.end + audio_t0, 3), w.text, w.probability)
                for w in seg.words
                if start <= audio_t0 + (w.start + w.end) / 2 < end
            )
            if words:
                kept.append(replace(seg, start=words[0].start, end=words[-1].end, text=" ".join(w.text for w in words), words=words))
        elif start <= audio_t0 + (seg.start + seg.end) / 2 < end:
            kept.append(replace(seg, start=round(seg.start + audio_t0, 3), end=round(seg.end + audio_t0, 3)))
    return tuple(kept)
