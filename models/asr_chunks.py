"""The faster-whisper backend's pure parts: speech regions joined into chunks and the exact map
of their times back to the audio, our segment records, and hallucination loops."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from models.base import FloatArray, Segment, Word

MAX_WORD = 1.2  # seconds; longer words are alignment errors


def _segments(segments: Any, language: str = "") -> list[Segment]:
    """Our records. A word the aligner stretched over seconds (it happens at the end of a batched
    chunk) is cut to MAX_WORD seconds: its true end is lost, its start is right."""
    out = []
    for seg in segments:
        words = tuple(
            Word(round(float(w.start), 3), round(min(float(w.end), float(w.start) + MAX_WORD), 3),
                 w.word.strip(), float(w.probability))
            for w in (seg.words or ())
            if any(ch.isalnum() for ch in w.word)
        )
        text = seg.text.strip()
        if any(ch.isalnum() for ch in text):
            out.append(Segment(round(float(seg.start), 3), round(float(seg.end), 3), text, words, language))
    return out


def drop_loops(segments: list[Segment], longest: int = 6) -> list[Segment]:
    """A hallucination loop — the same 2-6 words three or more times in a row, or one word four or
    more times, within a segment or across segments — is kept once. Phrases of four words or more
    also loop with one stray word between their returns ("to eat the world is do do to eat the
    world is do to eat ..."): kept once too, the stray words with them. Segments that lost words
    are rebuilt from the words left; segments without word times are left as they are."""
    words = [(k, w) for k, s in enumerate(segments) for w in s.words]
    keys = [_norm(w.text) for _, w in words]
    drop: set[int] = set()
    i = 0
    while i < len(words):
        best = (0, 0, 0)  # (words dropped, n, end of the last return)
        for n in range(1, longest + 1):
            if len(keys[i : i + n]) < n:
                break
            at, reps = i, 1
            while True:
                step = next((d for d in ((n, n + 1) if n >= 4 else (n,)) if keys[at + d : at + d + n] == keys[i : i + n]), None)
                if step is None:
                    break
                at, reps = at + step, reps + 1
            if reps >= (4 if n == 1 else 3) and at + n - (i + n) > best[0]:
                best = (at - i, n, at + n)
        if best[0]:
            _dropped, n, end = best
            drop.update(range(i + n, end))
            i = end
        else:
            i += 1
    if not drop:
        return segments
    kept: dict[int, list[Word]] = {}
    for j, (k, w) in enumerate(words):
        if j not in drop:
            kept.setdefault(k, []).append(w)
    out = []
    for k, seg in enumerate(segments):
        if not seg.words:
            out.append(seg)
        elif len(kept.get(k, ())) == len(seg.words):
            out.append(seg)
        elif kept.get(k):
            ws = tuple(kept[k])
            out.append(replace(seg, start=ws[0].start, end=ws[-1].end, text=" ".join(w.text for w in ws), words=ws))
    return out


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _shift(seg: Segment, dt: float) -> Segment:
    words = tuple(Word(round(w.start + dt, 3), round(w.end + dt, 3), w.text, w.probability) for w in seg.words)
    return replace(seg, start=round(seg.start + dt, 3), end=round(seg.end + dt, 3), words=words)


MIN_WINDOW = 4.0  # seconds: a batch of short chunks is still encoded at least this long
BUCKET = 6.0  # seconds: chunks in the same band of this width share batches


def _even_chunks(
    audio: FloatArray, speech: list[dict[str, int]], most: float, rate: int, pause: float = 0.0,
    pause_from: float = 0.0,
) -> list[tuple[FloatArray, dict[str, Any]]]:
    """The speech regions (each at most ``most`` seconds, as VAD cut them) joined into as few
    chunks of at most ``most`` seconds as they fit in, of about equal length: 25 s of speech
    with ``most`` 12 gives three chunks of ≈ 8 s, not 12 + 12 + 1. Between two regions of a
    chunk more than ``pause_from`` seconds apart, ``pause`` seconds of the real pause between
    them are kept (its first half and its last half, the audio as it is). Metadata as
    faster-whisper's ``collect_chunks`` (offset and duration on the timeline of the chunks end to
    end), and ``pieces``: (start in the chunk, start in ``audio``, length), in samples."""
    import numpy as np

    keep = int(pause * rate)

    def before(k: int) -> int:  # samples of real pause kept before region k when it joins k - 1
        gap = speech[k]["start"] - speech[k - 1]["end"] if k else 0
        return min(keep, gap) if gap >= pause_from * rate else 0

    total = sum(r["end"] - r["start"] + before(k) for k, r in enumerate(speech))
    if total <= 0:
        return []
    limit = int(most * rate)
    target = total / math.ceil(total / limit)
    groups: list[list[int]] = []
    length = 0
    for k, r in enumerate(speech):
        size = r["end"] - r["start"]
        if not groups or length + before(k) + size > limit or length >= target:
            groups.append([])
            length = 0
        elif groups[-1]:
            size += before(k)
        groups[-1].append(k)
        length += size
    out = []
    offset = 0
    for group in groups:
        parts, pieces, at = [], [], 0
        for n, k in enumerate(group):
            lo, hi = speech[k]["start"], speech[k]["end"]
            if n:  # the pause's first half goes with the region before it, its last half with this one
                gap = before(k)
                end = speech[group[n - 1]]["end"]
                parts.append(audio[end : end + gap // 2])
                pieces[-1][2] += gap // 2
                at += gap // 2
                lo -= gap - gap // 2
            parts.append(audio[lo:hi])
            pieces.append([at, lo, hi - lo])
            at += hi - lo
        samples = np.concatenate(parts)
        out.append((samples, {"offset": offset / rate, "duration": len(samples) / rate, "pieces": [tuple(p) for p in pieces]}))
        offset += len(samples)
    return out


class _TimeMap:
    """Times on the joined timeline of ``_packed_pass`` → times in the audio: each stretch of
    audio a chunk took over (``pieces``) keeps its own shift, exactly."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.starts: list[int] = []  # on the joined timeline, samples
        self.pieces: list[tuple[int, int, int]] = []  # (joined start, audio start, length), samples

    def add(self, offset: int, pieces: list[tuple[int, int, int]]) -> None:
        for at, src, length in pieces:
            self.starts.append(offset + at)
            self.pieces.append((offset + at, src, length))

    def shift(self, t: float) -> float:
        """Seconds to add to a joined time near ``t`` (the piece holding it, or the nearest)."""
        import bisect

        x = t * self.rate
        k = max(0, bisect.bisect_right(self.starts, x) - 1)
        if k + 1 < len(self.pieces) and self.pieces[k + 1][0] - x < x - (self.pieces[k][0] + self.pieces[k][2]):
            k += 1  # in the pause between two pieces, nearer the next one
        joined, src, _length = self.pieces[k]
        return (src - joined) / self.rate


def _token_budget(seconds: float) -> int:
    """Tokens a chunk may produce: fast speech is ≈ 4 words (≈ 5-6 tokens) a second, plus
    timestamp tokens; a chunk stuck in a loop stops here instead of at whisper's 448."""
    return int(12 + 8 * seconds)


def _joined(regions: list[dict[str, int]], gap: int) -> list[dict[str, int]]:
    """Speech regions closer than ``gap`` samples as one."""
    out: list[dict[str, int]] = []
    for r in regions:
        if out and r["start"] - out[-1]["end"] < gap:
            out[-1] = {"start": out[-1]["start"], "end": max(out[-1]["end"], r["end"])}
        else:
            out.append({"start": r["start"], "end": r["end"]})
    return out


def _restored(piece: dict[str, Any], times: _TimeMap) -> Segment | None:
    """A segment of ``BatchedInferencePipeline.forward`` on the joined timeline → our record, in
    the time of its own audio (each word shifted by the piece of audio holding its midpoint)."""
    text = piece["text"].strip()
    if not any(ch.isalnum() for ch in text):
        return None  # "..." for a breath or a noise
    words = []
    for w in piece.get("words") or ():
        if not any(ch.isalnum() for ch in w["word"]):
            continue
        start, end = float(w["start"]), float(w["end"])
        dt = times.shift((start + end) / 2)
        start, end = start + dt, end + dt
        words.append(Word(round(start, 3), round(min(end, start + MAX_WORD), 3), w["word"].strip(), float(w["probability"])))
    language = piece.get("language", "")
    if words:
        return Segment(words[0].start, words[-1].end, text, tuple(words), language)
    start, end = float(piece["start"]), float(piece["end"])
    return Segment(round(start + times.shift(start), 3), round(end + times.shift(max(start, end - 0.01)), 3), text, (), language)
