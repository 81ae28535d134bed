"""pyannote's recipe for the diarizer (``DiarizeOptions.local_speakers``): each local speaker of the
segmentation model's windows embedded (map stage), the records clustered with one window's local
speakers kept apart, and each frame given the speakers of the windows that hold it (reduce stage)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from models.base import FloatArray, VoiceEncoder
from models.intervals import minus
from perception.diarize_options import DiarizeOptions, Span
from perception.records import VoiceSegment
from perception.speaker_clusters import centroids, cluster_vectors, finish_labels, normalise, voting
from perception.speech_regions import mask_runs, segmented_speech
from perception.voice_changes import voice_changes


def local_speaker_segments(audio: FloatArray, audio_t0: float, span: Span, encoder: VoiceEncoder, segmenter: Any,
                           options: DiarizeOptions = DiarizeOptions()) -> tuple[tuple[VoiceSegment, ...], list[Span]]:
    """Map stage, pyannote's recipe (``pyannote.audio``'s SpeakerDiarization: segmentation,
    embeddings per local speaker, clustering, reconstruction): the segmentation model's 10 s
    windows over ``audio`` (which starts at ``audio_t0`` source seconds) each hear up to three
    local speakers; each one becomes a record (``VoiceSegment`` with ``window``) of where it speaks
    in its window (inside ``span`` and the speech the windows together hear) and its vector over
    the audio where it speaks alone (all of its frames when it never does for ``min_duration``).
    Returns the records and the overlapped speech (source seconds, inside ``span``)."""
    from models.segmentation_pyannote import FRAME_STEP, RATE, local_speakers, powerset_windows

    windows = powerset_windows(segmenter, audio, options.seg_step)
    speech, overlap, _ = segmented_speech(audio, segmenter, replace(options, overlap_clean=False), windows)
    starts, probs = windows
    active = local_speakers(probs)
    clean = active & (active.sum(axis=2, keepdims=True) == 1)
    frames = active.shape[1]
    hop = int(round(FRAME_STEP * RATE))
    lo, hi = span[0] - audio_t0, min(span[1] - audio_t0, len(audio) / RATE)
    cuts = np.zeros(0)
    if options.local_changes:  # voice changes in the speech one voice speaks (audio seconds)
        single = [(a, b) for a, b in minus(speech, overlap, 0.1) if b > lo and a < hi]
        single = [(max(a, lo), min(b, hi)) for a, b in single]
        found = voice_changes(audio, 0.0, single, encoder, options)
        cuts = np.array(sorted(c for each in found for c in each))
    records: list[tuple[float, float | None, tuple[Span, ...], float]] = []
    wavs: list[FloatArray] = []
    for s, act_w, clean_w in zip(starts, active, clean):
        t0 = s / RATE
        times = t0 + (np.arange(frames) + 0.5) * FRAME_STEP
        allowed = (times >= lo) & (times < hi) & _inside(times, speech)
        piece_of = np.searchsorted(cuts, times)  # between which two voice changes each frame lies
        for j in range(act_w.shape[1]):
            whole = act_w[:, j] & allowed
            for p in np.unique(piece_of[whole]) if len(cuts) else [None]:
                act = whole & (piece_of == p) if p is not None else whole
                if act.sum() * FRAME_STEP < options.min_local:
                    continue
                runs = tuple((round(max(a, lo) + audio_t0, 3), round(min(b, hi) + audio_t0, 3))
                             for a, b in mask_runs(act, times, FRAME_STEP / 2, 0.0, 0.0))
                use = clean_w[:, j] & act
                alone = float(use.sum() * FRAME_STEP)
                if alone < options.min_duration:  # too little alone to vote: its vector over all its frames
                    use = act
                edges = np.flatnonzero(np.diff(np.concatenate([[0], use.astype(np.int8), [0]])))
                wav = np.concatenate([audio[s + a * hop : s + b * hop] for a, b in zip(edges[::2], edges[1::2])])
                piece = None if p is None else round(float(cuts[p - 1]) + audio_t0, 3) if p > 0 else round(t0 + audio_t0, 3)
                records.append((round(t0 + audio_t0, 3), piece, runs, round(alone, 3)))
                wavs.append(wav)
    emb = encoder.embed_batch(wavs) if wavs else np.zeros((0, encoder.dim), np.float32)
    out = tuple(
        VoiceSegment(runs[0][0], runs[-1][1], tuple(round(float(x), 5) for x in v), window, runs, seconds, piece)
        for (window, piece, runs, seconds), v in zip(records, emb)
    )
    kept = [(round(max(a, lo) + audio_t0, 3), round(min(b, hi) + audio_t0, 3)) for a, b in overlap if min(b, hi) > max(a, lo)]
    return out, kept


def _inside(times: npt.NDArray[np.float64], spans: Sequence[Span]) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(times), dtype=bool)
    for a, b in spans:
        out |= (times >= a) & (times < b)
    return out


def cluster_local(records: Sequence[VoiceSegment], options: DiarizeOptions = DiarizeOptions()) -> list[int]:
    """Reduce stage of pyannote's recipe: one speaker label per local-speaker record (numbered by
    first appearance). The records that speak alone for ``min_duration`` vote (agglomerative
    clustering, as :func:`cluster_segments`, weighted by those seconds; two local speakers of one
    window at the largest distance, a soft cannot-link); then every record takes a cluster, the
    local speakers of one window different clusters (the best one-to-one assignment per window,
    Hungarian, as pyannote's constrained assignment); clusters with less than ``min_speaker`` seconds of speech
    (the union of their runs) join their nearest neighbour when some speaker has that much."""
    from scipy.optimize import linear_sum_assignment

    n = len(records)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (records[i].start, records[i].end, i))
    recs = [records[i] for i in order]
    x = normalise(np.array([r.embedding for r in recs], dtype=np.float32))
    seconds = np.array([r.clean for r in recs], dtype=np.float64)
    valid = x.any(axis=1)
    if not valid.any():
        return [0] * n
    voters = voting(valid, seconds, options)
    keys = [(r.window, r.piece) if r.window is not None else (-1.0 - i, None) for i, r in enumerate(recs)]
    ids: dict[tuple[float, float | None], int] = {}
    windows = np.array([ids.setdefault(k, len(ids)) for k in keys], dtype=np.float64)  # one id per group
    labels = cluster_vectors(x[voters], seconds[voters], options, windows[voters])
    cent = centroids(x[voters], seconds[voters], labels, int(labels.max()) + 1)
    assign = np.full(n, -1, dtype=np.int64)
    groups: dict[float, list[int]] = {}
    for i in np.flatnonzero(valid):
        groups.setdefault(float(windows[i]), []).append(int(i))

    def constrained(members: list[int], alive: npt.NDArray[np.int64]) -> None:
        sim = x[members] @ cent[alive].T
        rows, cols = linear_sum_assignment(-sim)
        for r, c in zip(rows, cols):
            assign[members[r]] = alive[c]
        for r in set(range(len(members))) - set(rows.tolist()):  # more local speakers than clusters
            assign[members[r]] = alive[int(np.argmax(sim[r]))]

    everyone = np.arange(len(cent))
    for members in groups.values():
        constrained(members, everyone)
    while True:
        alive = np.unique(assign[valid])
        mass = {int(c): _length([run for i in np.flatnonzero(assign == c) for run in recs[i].runs]) for c in alive}
        small = [c for c in alive if mass[int(c)] < options.min_speaker]
        if not small or len(alive) <= 1 or max(mass.values()) < options.min_speaker:
            break  # a short file where no speaker has min_speaker of speech: they stay apart
        c = min(small, key=lambda c: (mass[int(c)], c))
        others = np.array([o for o in alive if o != c])
        target = int(others[int(np.argmax(cent[others] @ cent[c]))])
        cent[target] = normalise((cent[target] * mass[target] + cent[c] * mass[int(c)])[None, :])[0]
        cent[c] = 0.0
        for members in groups.values():  # the clusters left, one-to-one again in each window
            if any(assign[i] == c for i in members):
                constrained(members, others)
    return finish_labels(assign, valid, recs, order)


def _length(spans: Sequence[Span]) -> float:
    """Seconds covered by the union of ``spans``."""
    total, end = 0.0, -np.inf
    for a, b in sorted(spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def local_turns(records: Sequence[VoiceSegment], labels: Sequence[int], overlap: Sequence[Span],
                chunk: int = 200_000) -> list[tuple[float, float, int]]:
    """Reconstruction: each frame (``FRAME_STEP``) where some record speaks gets its speakers
    from the windows that hold it: as many as speak there (two in ``overlap``, else one), those
    whose local speakers are active there in most windows (ties: the lower label). Returns
    (start, end, speaker) turns in time order, each speaker's touching frames joined. Frames are
    counted ``chunk`` at a time (about an hour), so memory is O(chunk x speakers) whatever the
    length of the source."""
    from models.segmentation_pyannote import FRAME_STEP

    if not records:
        return []
    t0 = min(r.start for r in records)
    n = int(np.ceil((max(r.end for r in records) - t0) / FRAME_STEP)) + 1
    k = max(labels) + 1
    spans = [(int(round((a - t0) / FRAME_STEP)), int(round((b - t0) / FRAME_STEP)), label)
             for rec, label in zip(records, labels) for a, b in rec.runs]
    two = [(int(round((a - t0) / FRAME_STEP)), int(round((b - t0) / FRAME_STEP))) for a, b in overlap]
    turns: list[tuple[float, float, int]] = []
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        votes = np.zeros((c1 - c0, k), dtype=np.float32)
        for a, b, label in spans:
            if b > c0 and a < c1:
                votes[max(a, c0) - c0 : min(b, c1) - c0, label] += 1.0
        count = (votes.sum(axis=1) > 0).astype(np.int64)
        for a, b in two:
            if b > c0 and a < c1:
                sl = slice(max(a, c0) - c0, min(b, c1) - c0)
                count[sl] = np.where(count[sl] > 0, 2, 0)
        ranked = np.argsort(-votes - np.arange(k)[None, :] * 1e-6, axis=1, kind="stable")
        speaks = np.zeros((c1 - c0, k), dtype=bool)
        for c in range(min(2, k)):
            rows = np.flatnonzero(count > c)
            who = ranked[rows, c]
            ok = votes[rows, who] > 0
            speaks[rows[ok], who[ok]] = True
        times = t0 + (np.arange(c0, c1) + 0.5) * FRAME_STEP
        turns += [(round(a, 3), round(b, 3), label) for label in range(k)
                  for a, b in mask_runs(speaks[:, label], times, FRAME_STEP / 2, 0.0, 0.0)]
    joined: list[tuple[float, float, int]] = []  # a turn cut at a chunk's edge is one turn
    for label in range(k):
        for a, b, _ in sorted(t for t in turns if t[2] == label):
            if joined and joined[-1][2] == label and a <= joined[-1][1] + 1e-3:
                joined[-1] = (joined[-1][0], max(joined[-1][1], b), label)
            else:
                joined.append((a, b, label))
    return sorted(joined)
