"""Speaker turns inside a clip: who spoke which words, as clip-local voices.

With the diarizer's voice segments (``diarized_turns``), the clip's segments are clustered on
their own (``perception.diarize.speaker_turns_of``, the reduce stage's recipe over one clip) and
each word takes the speaker of the turn it overlaps most: no model runs, the turns carry no
vector (the reduce stage matches the source's speakers by the segments' vectors). Without a
diarizer (``speaker_turns``), GE2E windows over the words:

Sliding windows (1.5 s, every 0.75 s, at least half inside words) over the speech are embedded and grouped greedily by
cosine similarity; each word takes the group of the window centred nearest to it; runs of words
form turns, turns under ``min_turn`` seconds join a neighbour, and adjacent turns whose own
embeddings match are merged. Turns then get clip-local voice labels (``v0``, ``v1``, ...) by
the same similarity rule. Stable ids across clips and sources are the reduce stage's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.base import FloatArray, Segment, VoiceEncoder, Word
from perception.diarize import speaker_turns_of
from perception.diarize_options import DiarizeOptions
from perception.records import SpeakerTurn, VoiceSegment


@dataclass(frozen=True)
class VoiceOptions:
    window: float = 1.5
    hop: float = 0.75
    # cosine. Tuned on real speech (jfk, faster-whisper's two-speaker file, GRID, the Hamilton
    # clip): GE2E on 1-6 s turns gives 0.68-0.80 within a speaker and 0.45-0.68 across speakers
    same_voice: float = 0.70
    min_turn: float = 1.0
    min_speech: float = 0.5  # share of a window inside words for it to be embedded


def _groups(vectors: FloatArray, threshold: float) -> list[int]:
    """Greedy online grouping: join the most similar group if similar enough, else start one."""
    labels: list[int] = []
    sums: list[FloatArray] = []
    for v in vectors:
        if not v.any():
            labels.append(labels[-1] if labels else 0)
            if not sums:
                sums.append(np.zeros_like(v))
            continue
        sims = [float(v @ (s / max(float(np.linalg.norm(s)), 1e-9))) for s in sums]
        best = int(np.argmax(sims)) if sims else -1
        if best >= 0 and sims[best] >= threshold:
            sums[best] = sums[best] + v
            labels.append(best)
        else:
            sums.append(v.copy())
            labels.append(len(sums) - 1)
    return labels


def _cut(audio: FloatArray, t0: float, start: float, end: float, rate: int) -> FloatArray:
    return audio[max(0, int((start - t0) * rate)) : max(0, int((end - t0) * rate))]


def _overlap(words: Sequence[Word], start: float, end: float) -> float:
    """Seconds of [start, end] inside words (the words of a clip do not overlap)."""
    return sum(max(0.0, min(end, w.end) - max(start, w.start)) for w in words)


def _voiced_seconds(words: Sequence[Word]) -> float:
    return sum(max(0.0, w.end - w.start) for w in words)


def _voiced(audio: FloatArray, t0: float, words: Sequence[Word], rate: int) -> FloatArray:
    """The audio of the words only, pauses left out: silence blurs a voice embedding."""
    parts = [_cut(audio, t0, w.start, w.end, rate) for w in words]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def speaker_turns(
    segments: Sequence[Segment], audio: FloatArray, audio_t0: float, encoder: VoiceEncoder,
    options: VoiceOptions = VoiceOptions(),
) -> tuple[SpeakerTurn, ...]:
    words: list[Word] = [w for s in segments for w in s.words]
    if not words:
        return ()
    rate = encoder.sample_rate
    first, last = words[0].start, words[-1].end
    half = options.window / 2
    centres = np.arange(first + half, max(last - half, first + half) + 1e-6, options.hop)
    # windows mostly over pauses say little about a voice (and cost as much as the others)
    spoken = np.array([_overlap(words, c - half, c + half) for c in centres])
    if (spoken >= options.min_speech * options.window).any():
        centres = centres[spoken >= options.min_speech * options.window]
    windows = encoder.embed_batch([_cut(audio, audio_t0, c - half, c + half, rate) for c in centres])
    window_group = _groups(windows, options.same_voice)
    word_group = [window_group[int(np.argmin(np.abs(centres - (w.start + w.end) / 2)))] for w in words]

    runs: list[list[Word]] = []
    run_groups: list[int] = []
    for w, g in zip(words, word_group):
        if runs and run_groups[-1] == g:
            runs[-1].append(w)
        else:
            runs.append([w])
            run_groups.append(g)
    # short runs join the previous run (or the next one, at the start)
    k = 0
    while len(runs) > 1 and k < len(runs):
        if runs[k][-1].end - runs[k][0].start < options.min_turn:
            into = k - 1 if k > 0 else k + 1
            runs[into] = sorted(runs[into] + runs[k], key=lambda w: w.start)
            del runs[k], run_groups[k]
            k = max(0, k - 1)
        else:
            k += 1
    embeddings = encoder.embed_batch([_voiced(audio, audio_t0, r, rate) for r in runs])
    # adjacent turns that sound the same are one turn. GE2E's utterance embedding is the mean of
    # its 1.6 s partials, so the joined turn's is the duration-weighted mean of the two (no re-run)
    merged: list[tuple[list[Word], FloatArray]] = []
    for run, emb in zip(runs, embeddings):
        if merged and emb.any() and float(merged[-1][1] @ emb) >= options.same_voice:
            words_, prev = merged[-1]
            a, b = _voiced_seconds(words_), _voiced_seconds(run)
            joined = prev * a + emb * b
            merged[-1] = (words_ + run, (joined / max(float(np.linalg.norm(joined)), 1e-9)).astype(np.float32))
        else:
            merged.append((run, emb))
    labels = _groups(np.stack([e for _, e in merged]), options.same_voice)
    return tuple(
        SpeakerTurn(
            run[0].start, run[-1].end, " ".join(w.text for w in run), f"v{label}",
            tuple(round(float(x), 5) for x in emb),
        )
        for (run, emb), label in zip(merged, labels)
    )


def _speaker_of(word: Word, spoken: Sequence[tuple[VoiceSegment, int]]) -> int:
    """The speaker of the segment the word overlaps most, else of the nearest one in time."""
    best, best_overlap, best_gap = 0, 0.0, float("inf")
    for seg, label in spoken:
        overlap = min(word.end, seg.end) - max(word.start, seg.start)
        if overlap > best_overlap:
            best, best_overlap = label, overlap
        elif best_overlap <= 0.0:
            gap = max(seg.start - word.end, word.start - seg.end, 0.0)
            if gap < best_gap:
                best, best_gap = label, gap
    return best


def words_by_speaker(segments: Sequence[Segment], spoken: Sequence[tuple[VoiceSegment, int]], span: tuple[float, float]
                     ) -> tuple[tuple[SpeakerTurn, ...], list[int]]:
    """The words of a clip (``span``) in runs of one speaker: (turns, each turn's speaker). A
    turn's ``voice`` is the speaker's clip-local label; its vector is left empty."""
    near = [(s, k) for s, k in spoken if s.end >= span[0] - 5.0 and s.start <= span[1] + 5.0] or list(spoken)
    runs: list[tuple[list[Word], int]] = []
    for word in (w for seg in segments for w in seg.words):
        k = _speaker_of(word, near)
        if runs and runs[-1][1] == k:
            runs[-1][0].append(word)
        else:
            runs.append(([word], k))
    local: dict[int, str] = {}
    turns = tuple(
        SpeakerTurn(ws[0].start, ws[-1].end, " ".join(w.text.strip() for w in ws),
                    local.setdefault(k, f"v{len(local)}"), ())
        for ws, k in runs
    )
    return turns, [k for _, k in runs]


def spoken_by(records: Sequence[VoiceSegment], overlaps: Sequence[tuple[float, float]], options: DiarizeOptions
              ) -> list[tuple[VoiceSegment, int]]:
    """The diarizer's map-stage records clustered into speakers: (stretch, speaker) pairs — the
    speaker turns (local-speaker recipe) or the segments themselves."""
    labels, turns = speaker_turns_of(records, overlaps, options)
    if records and records[0].window is not None:
        return [(VoiceSegment(a, b, ()), k) for a, b, k in turns]
    return list(zip(records, labels))


def diarized_turns(segments: Sequence[Segment], records: Sequence[VoiceSegment], overlaps: Sequence[tuple[float, float]],
                   span: tuple[float, float], options: DiarizeOptions) -> tuple[SpeakerTurn, ...]:
    """A clip's speaker turns from its own voice segments (clustered over the clip alone): the
    clip-local voices a captioner names, with no voice model run. None without segments or words."""
    if not records or not any(s.words for s in segments):
        return ()
    return words_by_speaker(segments, spoken_by(records, overlaps, options), span)[0]
