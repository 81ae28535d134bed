"""Reduce stage of the diarizer: the voice segments of a whole source clustered into speakers.

Agglomerative clustering (average linkage, cosine distance, stop at ``threshold``), so the number
of speakers is estimated, not given. Segments under ``min_duration`` do not vote: they, and all
others, then take their nearest duration-weighted cluster centroid; clusters with less than
``min_speaker`` seconds of speech join their nearest neighbour (when some speaker has that much:
in a short file where none has, the clusters stay as found). Scale: at most ``block`` segments
are clustered at once. Beyond that, consecutive blocks are clustered with a tighter threshold
(``block_tighten`` x ``threshold``) into sub-clusters whose centroids are clustered in turn, the
same way, until one block holds them all; memory stays O(block^2), never O(n^2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from models.base import FloatArray
from perception.diarize_options import DiarizeOptions
from perception.records import VoiceSegment


def normalise(x: FloatArray) -> FloatArray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)



def _ahc(x: FloatArray, threshold: float, groups: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.int64]:
    """Average-linkage clustering on cosine distance; labels 0..k-1. ``groups``: two vectors of
    one group (the local speakers of one window) are different people: their distance is the
    largest there is (2), so a cluster holding both has to be far apart on average."""
    if len(x) == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    dist = np.clip(1.0 - x @ x.T, 0.0, 2.0)
    if groups is not None:
        dist[(groups[:, None] == groups[None, :]) & ~np.eye(len(x), dtype=bool)] = 2.0
    condensed = dist[np.triu_indices(len(x), 1)]
    labels = fcluster(linkage(condensed, method="average"), t=threshold, criterion="distance")
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def voting(valid: npt.NDArray[np.bool_], seconds: npt.NDArray[np.float64], options: DiarizeOptions) -> npt.NDArray[np.int64]:
    """The segments that shape the clusters: embedded ones of at least ``min_duration`` (all the
    embedded ones when none is that long)."""
    voters = np.flatnonzero(valid & (seconds >= options.min_duration))
    return voters if len(voters) else np.flatnonzero(valid)


def centroids(x: FloatArray, w: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], k: int) -> FloatArray:
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x * w[:, None])
    return normalise(sums).astype(np.float32)


def cluster_vectors(x: FloatArray, w: npt.NDArray[np.float64], options: DiarizeOptions,
             groups: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.int64]:
    """Labels for unit vectors ``x`` weighted by ``w``, at most ``block`` clustered at once;
    ``groups`` as :func:`_ahc` (within a block; the blocks' centroids have none)."""
    if len(x) <= options.block:
        return _ahc(x, options.threshold, groups)
    for share in (options.block_tighten, 1.0):
        sub = np.zeros(len(x), dtype=np.int64)
        offset = 0
        for a in range(0, len(x), options.block):
            part = _ahc(x[a : a + options.block], options.threshold * share,
                        None if groups is None else groups[a : a + options.block])
            sub[a : a + options.block] = part + offset
            offset += int(part.max()) + 1
        if offset < len(x):
            cw = np.bincount(sub, weights=w, minlength=offset)
            return cluster_vectors(centroids(x, w, sub, offset), cw, options)[sub]
    return sub  # no two segments of any block are alike: as many voices as segments


def cluster_segments(segments: Sequence[VoiceSegment], options: DiarizeOptions = DiarizeOptions()) -> list[int]:
    """Reduce stage: one speaker label per segment, numbered by first appearance (0 = the first
    voice heard). Deterministic: the same segments give the same labels."""
    if not segments:
        return []
    order, x, dur, valid = ordered_vectors(segments)
    if not valid.any():
        return [0] * len(segments)
    voters = voting(valid, dur, options)
    labels = cluster_vectors(x[voters], dur[voters], options)
    k = int(labels.max()) + 1
    cent = centroids(x[voters], dur[voters], labels, k)
    # every valid segment takes its nearest centroid; then small clusters join their nearest one
    assign = np.argmax(x @ cent.T, axis=1)
    join_small(cent, assign, dur, valid, options.min_speaker)
    return finish_labels(assign, valid, [segments[i] for i in order], order)


def ordered_vectors(segments: Sequence[VoiceSegment]) -> tuple[list[int], npt.NDArray[np.float32],
                                                                npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """The segments in time order: that order, their unit vectors, durations, and which have a
    vector (a segment too short to embed has none)."""
    order = sorted(range(len(segments)), key=lambda i: (segments[i].start, segments[i].end, i))
    x = normalise(np.array([segments[i].embedding for i in order], dtype=np.float32))
    dur = np.array([segments[i].end - segments[i].start for i in order], dtype=np.float64)
    return order, x, dur, x.any(axis=1)


def join_small(cent: npt.NDArray[np.float32], assign: npt.NDArray[np.int64], dur: npt.NDArray[np.float64],
               valid: npt.NDArray[np.bool_], min_speaker: float,
               keep: Callable[[npt.NDArray[np.float32], npt.NDArray[np.int64], int], bool] | None = None) -> None:
    """Clusters with under ``min_speaker`` seconds of speech join their nearest one, smallest
    first, in place (``cent`` and ``assign``); ``keep(cent, alive, c)`` spares a small cluster."""
    while True:
        mass = np.bincount(assign[valid], weights=dur[valid], minlength=len(cent))
        alive = np.flatnonzero(mass > 0)
        small = [c for c in alive if mass[c] < min_speaker and not (keep and keep(cent, alive, c))]
        if not small or len(alive) <= 1 or mass[alive].max() < min_speaker:
            break  # a short file where no speaker has min_speaker of speech: nobody to join, they stay apart
        c = min(small, key=lambda c: (mass[c], c))
        others = [o for o in alive if o != c]
        target = others[int(np.argmax(cent[others] @ cent[c]))]
        cent[target] = normalise((cent[target] * mass[target] + cent[c] * mass[c])[None, :])[0]
        cent[c] = 0.0
        assign[assign == c] = target


def finish_labels(assign: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_], ordered: Sequence[VoiceSegment],
                  order: Sequence[int]) -> list[int]:
    """The labels in the caller's order: ``assign`` (cluster per segment of ``ordered``, which is
    the input sorted by ``order``) with each segment too short to embed (not ``valid``) given
    the label of the nearest embedded one in time, renumbered by first appearance."""
    mids = np.array([(s.start + s.end) / 2 for s in ordered])
    have = np.flatnonzero(valid)
    for i in np.flatnonzero(~valid):
        assign[i] = assign[have[int(np.argmin(np.abs(mids[have] - mids[i])))]]
    renumber: dict[int, int] = {}
    out = [0] * len(order)
    for pos, i in enumerate(order):
        out[i] = renumber.setdefault(int(assign[pos]), len(renumber))
    return out
