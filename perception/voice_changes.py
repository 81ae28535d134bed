"""Map stage of the diarizer: speech cut where the voice changes, each piece embedded.

Inside every speech interval, ``window`` s windows every ``hop`` s are embedded; at each point the
cosine distance between the two windows that meet there (one ending, one starting) is a change
score, and its peaks above ``DiarizeOptions.change`` (at least ``min_segment`` apart) are speaker
changes. Homogeneous runs longer than ``max_segment`` are cut into equal pieces, so that the
clustering sees several votes and a missed change stays local. Each piece is embedded over its
own audio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from models.base import FloatArray, VoiceEncoder
from perception.diarize_options import DiarizeOptions, Span
from perception.records import VoiceSegment


def _change_points(starts: npt.NDArray[np.float64], emb: FloatArray, options: DiarizeOptions) -> list[float]:
    """Peaks of the distance between windows that meet, strongest first, ``min_segment`` apart."""
    m = max(1, int(round(options.window / options.hop)))  # window k ends where window k + m starts
    if len(starts) <= m:
        return []
    left, right = emb[:-m], emb[m:]
    valid = left.any(axis=1) & right.any(axis=1)
    dist = np.where(valid, 1.0 - np.sum(left * right, axis=1), 0.0)
    points = starts[m:]
    chosen: list[float] = []
    for i in np.argsort(-dist, kind="stable"):
        if dist[i] < options.change:
            break
        if all(abs(points[i] - c) >= options.min_segment for c in chosen):
            chosen.append(float(points[i]))
    return sorted(chosen)


def _cut(audio: FloatArray, t0: float, rate: int, start: float, end: float) -> FloatArray:
    return audio[max(0, int(round((start - t0) * rate))) : max(0, int(round((end - t0) * rate)))]


def voice_changes(audio: FloatArray, audio_t0: float, spans: Sequence[Span], encoder: VoiceEncoder,
                  options: DiarizeOptions) -> list[list[float]]:
    """The voice changes inside each of ``spans`` (source seconds, sorted, inside the audio):
    ``window`` s embeddings every ``hop`` s, every window of every span in one batch; the peaks
    of the distance between windows that meet (:func:`_change_points`)."""
    rate = encoder.sample_rate
    owners: list[int] = []
    starts: list[float] = []
    for k, (a, b) in enumerate(spans):
        n = int(np.floor((b - a - options.window) / options.hop + 1e-9)) + 1 if b - a >= 2 * options.window else 0
        starts.extend(a + options.hop * np.arange(n))
        owners.extend([k] * n)
    if not starts:
        return [[] for _ in spans]
    win = encoder.embed_batch([_cut(audio, audio_t0, rate, s, s + options.window) for s in starts])
    out: list[list[float]] = []
    for k in range(len(spans)):
        mine = np.flatnonzero(np.asarray(owners) == k)
        out.append(_change_points(np.asarray(starts)[mine], win[mine], options) if len(mine) else [])
    return out


def voice_segments(
    audio: FloatArray, audio_t0: float, speech: Sequence[Span], encoder: VoiceEncoder,
    options: DiarizeOptions = DiarizeOptions(), changes: Sequence[float] | None = None,
) -> tuple[VoiceSegment, ...]:
    """Map stage: ``audio`` (16 kHz mono float32) starts at ``audio_t0`` source seconds; ``speech``
    holds (start, end) speech intervals in source seconds (VAD, or ASR words). Returns the speech
    cut at speaker changes, each piece embedded over its own audio, in time order. ``changes``
    (source seconds, from the segmentation model): the speaker changes, in place of the peaks of
    the distance between adjacent window embeddings."""
    rate = encoder.sample_rate
    t_end = audio_t0 + len(audio) / rate
    spans = sorted((max(a, audio_t0), min(b, t_end)) for a, b in speech)
    spans = [(a, b) for a, b in spans if b - a > 1e-3]
    found = voice_changes(audio, audio_t0, spans, encoder, options) if changes is None else None
    pieces: list[Span] = []
    for k, (a, b) in enumerate(spans):
        cuts = found[k] if found is not None else [c for c in changes or () if a + 0.25 < c < b - 0.25]
        bounds = [a, *cuts, b]
        for s, e in zip(bounds[:-1], bounds[1:]):
            n = max(1, int(np.ceil((e - s) / options.max_segment - 1e-9)))
            edges = np.linspace(s, e, n + 1)
            pieces.extend((float(x), float(y)) for x, y in zip(edges[:-1], edges[1:]))
    if not pieces:
        return ()
    emb = encoder.embed_batch([_cut(audio, audio_t0, rate, s, e) for s, e in pieces])
    return tuple(
        VoiceSegment(round(s, 3), round(e, 3), tuple(round(float(x), 5) for x in v)) for (s, e), v in zip(pieces, emb)
    )
