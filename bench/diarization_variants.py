"""Speaker counts (issue 16): reduce-stage alternatives to the default clustering, measured the
way ``bench.diarization --loo`` measures the default (held out, leave-one-out over the 7 reference
recordings) and on the built conversations (real single-speaker recordings laid end to end).

    .venv/bin/python -m bench.diarization_variants [--threads 1] [--only VARIANT]

Variants (each on top of the default voice segments and ``DiarizeOptions``):
  - ``main``: ``cluster_segments`` as shipped (average linkage, cosine distance).
  - ``centroid``: centroid linkage (pyannote.audio's ``AgglomerativeClustering`` default) on the
    unit vectors, cut at the Euclidean distance sqrt(2 x threshold).
  - ``split``: a second, tighter pass: each cluster's voting segments cut in two (average
    linkage); the halves stay apart when their centroids are ``SPLIT`` apart in cosine and each
    half holds ``min_speaker`` seconds.
  - ``nme``: the number of speakers from the eigengap of the p-neighbour binarised affinity
    (NME-SC, Park et al. 2019, as NeMo), the larger of it and the threshold's count.
  - ``keep_far``: a cluster under ``min_speaker`` seconds joins its nearest neighbour only when
    that one is nearer than ``KEEP_FAR`` (a short voice unlike every other stays a speaker).
  - ``hidden``: speakers heard only in overlapped speech: the segmentation windows' local
    speakers (``local_speaker_segments``) with at least half of their speech overlapped and a
    vector farther than ``HIDDEN`` from every cluster are clustered among themselves; each
    cluster is a new speaker in the overlapped speech its local speakers cover.
The leave-one-out grid is the default's (overlap out of the segments or not x threshold x
min_speaker x overlap second voice or not), plus, for ``centroid``, thresholds 0.3-0.45, and each
variant's own setting (``EXTRA``, with "off" first: ties on the other six keep it off).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.der import DER, der
from bench.diarization import (RATE, CachedEncoder, Recording, conversations, local_records, reference_recordings,
                               segments_of, speech_of)
from perception.diarize import speaker_turns, with_overlap
from perception.diarize_options import DiarizeOptions, Span
from perception.records import VoiceSegment
from perception.speaker_clusters import _ahc, centroids, cluster_segments, cluster_vectors, normalise, voting
from perception.voice_changes import voice_segments

SPLIT = 0.45
KEEP_FAR = 0.7
HIDDEN = 0.8
Turns = list[tuple[float, float, int]]


def _reduce(segments: Sequence[VoiceSegment], options: DiarizeOptions, linkage: str = "average",
            split: float | None = None, nme: bool = False, keep_far: float | None = None) -> list[int]:
    """``cluster_segments`` with the variants' changes (same voting, nearest-centroid assignment,
    small clusters joined, too-short segments labelled by their neighbour in time)."""
    from scipy.cluster.hierarchy import fcluster, linkage as link

    from perception.speaker_clusters import finish_labels, join_small, ordered_vectors

    if not segments:
        return []
    order, x, dur, valid = ordered_vectors(segments)
    if not valid.any():
        return [0] * len(segments)
    voters = voting(valid, dur, options)
    xv = x[voters]
    if linkage == "centroid" and len(xv) > 1:
        z = link(xv.astype(np.float64), method="centroid", metric="euclidean")
        labels = np.unique(fcluster(z, t=np.sqrt(2 * options.threshold), criterion="distance"), return_inverse=True)[1]
    else:
        labels = cluster_vectors(xv, dur[voters], options)
    if nme and len(xv) > 2:
        k = max(int(labels.max()) + 1, nme_count(xv))
        if k > int(labels.max()) + 1:
            dist = np.clip(1.0 - xv @ xv.T, 0.0, 2.0)
            z = link(dist[np.triu_indices(len(xv), 1)], method="average")
            labels = np.unique(fcluster(z, t=k, criterion="maxclust"), return_inverse=True)[1]
    labels = labels.astype(np.int64)
    cent = centroids(xv, dur[voters], labels, int(labels.max()) + 1)
    assign = np.argmax(x @ cent.T, axis=1)
    if split is not None:
        cent, assign = _split(x, dur, valid, voters, cent, assign, split, options.min_speaker)
    def far(cent: np.ndarray, alive: np.ndarray, c: int) -> bool:  # keep_far: a short cluster far from all stays
        return keep_far is not None and len(alive) > 1 and max(float(cent[o] @ cent[c]) for o in alive if o != c) <= 1 - keep_far

    join_small(cent, assign, dur, valid, options.min_speaker, far)
    return finish_labels(assign, valid, [segments[i] for i in order], order)


def nme_count(x: npt.NDArray[np.float32], most: int = 8, share: float = 0.25) -> int:
    """NME-SC's speaker count: for each p, the affinity's p nearest neighbours per row (made
    symmetric), its Laplacian's largest eigengap g_p among the first ``most``; the p with the
    least p / g_p (normalised by the largest eigenvalue) gives the count."""
    a = x @ x.T
    best: tuple[float, int] | None = None
    for p in range(1, max(2, int(len(x) * share)) + 1):
        b = np.zeros_like(a)
        np.put_along_axis(b, np.argsort(-a, axis=1)[:, :p], 1.0, axis=1)
        s = (b + b.T) / 2
        lam = np.sort(np.linalg.eigvalsh(np.diag(s.sum(1)) - s))
        gaps = np.diff(lam)[: min(most, len(x) - 1)]
        ratio = p / max(float(gaps.max()) / max(float(lam[-1]), 1e-9), 1e-9)
        if best is None or ratio < best[0]:
            best = (ratio, int(np.argmax(gaps)) + 1)
    return best[1] if best else 1


def _split(x: Any, dur: Any, valid: Any, voters: Any, cent: Any, assign: Any, apart: float, mass_min: float) -> tuple[Any, Any]:
    from scipy.cluster.hierarchy import fcluster, linkage

    cents = list(cent)
    votes = np.zeros(len(x), bool)
    votes[voters] = True
    for c in range(len(cent)):
        mem = np.flatnonzero(votes & (assign == c))
        if len(mem) < 2:
            continue
        dist = np.clip(1.0 - x[mem] @ x[mem].T, 0.0, 2.0)
        half = fcluster(linkage(dist[np.triu_indices(len(mem), 1)], method="average"), t=2, criterion="maxclust") - 1
        sub = centroids(x[mem], dur[mem], half.astype(np.int64), 2)
        if half.max() < 1 or 1.0 - float(sub[0] @ sub[1]) < apart:
            continue
        members = np.flatnonzero(valid & (assign == c))
        side = np.argmax(x[members] @ sub.T, axis=1)
        if np.bincount(side, weights=dur[members], minlength=2).min() < mass_min:
            continue
        cents[c] = sub[0]
        cents.append(sub[1])
        assign[members[side == 1]] = len(cents) - 1
    return np.array(cents, dtype=np.float32), assign


def hidden_turns(segments: Sequence[VoiceSegment], labels: Sequence[int], records: Sequence[VoiceSegment],
                 overlap: Sequence[Span], far: float = HIDDEN) -> Turns:
    """New speakers from the local speakers heard mostly in overlapped speech, far from every
    cluster (see the module's docstring): (start, end, label) in the overlap they cover."""
    x = normalise(np.array([s.embedding for s in segments], np.float32))
    dur = np.array([s.end - s.start for s in segments])
    lab = np.array(labels)
    valid = x.any(axis=1)
    k = int(lab.max()) + 1
    cent = centroids(x[valid], dur[valid], lab[valid], k)
    found, where = [], []
    for r in records:
        total = sum(b - a for a, b in r.runs)
        over = [(max(a, c), min(b, d)) for a, b in r.runs for c, d in overlap if min(b, d) > max(a, c)]
        v = normalise(np.array([r.embedding], np.float32))[0]
        if total <= 0 or sum(b - a for a, b in over) < total / 2 or not v.any() or float((1 - cent @ v).min()) <= far:
            continue
        found.append(v)
        where.append(over)
    if not found:
        return []
    sub = _ahc(np.array(found), far)
    return sorted((a, b, k + int(s)) for s, over in zip(sub, where) for a, b in over)


VARIANTS: dict[str, Callable[..., list[int]]] = {
    "main": lambda s, o, _: cluster_segments(s, o),
    "centroid": lambda s, o, _: _reduce(s, o, linkage="centroid"),
    "split": lambda s, o, x: _reduce(s, o, split=x),
    "nme": lambda s, o, _: _reduce(s, o, nme=True),
    "keep_far": lambda s, o, x: _reduce(s, o, keep_far=x),
    "hidden": lambda s, o, _: cluster_segments(s, o),
}
# each variant's own setting, in the leave-one-out grid with "off" (None) first: a tie on the
# other six keeps it off, so a variant is chosen held out only when they prefer it
EXTRA: dict[str, tuple[float | None, ...]] = {"split": (None, 0.35, SPLIT, 0.5), "keep_far": (None, KEEP_FAR, 0.8, 0.9),
                                              "hidden": (None, 0.6, 0.7, HIDDEN, 0.9)}


def turns_of(variant: str, segs: Sequence[VoiceSegment], overlap: Sequence[Span], records: Sequence[VoiceSegment],
             o: DiarizeOptions, extra: float | None) -> Turns:
    labels = VARIANTS[variant](segs, o, extra)
    turns = speaker_turns(segs, labels)
    if variant == "hidden" and labels and extra is not None:
        turns = sorted(turns + hidden_turns(segs, labels, records, overlap, extra))
    return with_overlap(turns, overlap, o.overlap_reach) if o.overlap_reach > 0 else turns


def _line(name: str, scores: Sequence[DER]) -> str:
    right = sum(d.ref_speakers == d.est_speakers for d in scores)
    each = " ".join(f"{d.rate:.1%} {d.est_speakers}/{d.ref_speakers}" for d in scores)
    return f"{name:9s} mean {np.mean([d.rate for d in scores]):6.1%}, counts right on {right} of {len(scores)}  [{each}]"


def measure(variant: str, refs: list[Recording], convs: list[Recording], made: dict[Any, Any], base: DiarizeOptions) -> None:
    """Leave-one-out over the reference recordings; the setting best on all seven, on them and
    on the built conversations."""
    thresholds = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8) if variant == "centroid" else (0.5, 0.6, 0.7, 0.8)
    grid: list[tuple[tuple[DiarizeOptions, float | None], dict[str, DER]]] = []
    for extra, clean, threshold, min_speaker, reach in itertools.product(
            EXTRA.get(variant, (None,)), (False, True), thresholds, (1.0, 2.0, 3.0, 4.0), (0.0, base.overlap_reach)):
        o = replace(base, overlap_clean=clean, threshold=threshold, min_speaker=min_speaker, overlap_reach=reach)
        grid.append(((o, extra), {r.name: der(r.turns, turns_of(variant, *made[("loo", r.name, clean)], o, extra), r.uem)
                                  for r in refs}))
    held, chosen = [], []
    for r in refs:
        (o, extra), scores = min(grid, key=lambda g: (np.mean([d.rate for n, d in g[1].items() if n != r.name]),
                                                      -g[0][0].threshold))
        held.append(scores[r.name])
        chosen.append(f"t{o.threshold}/{extra}")
    print(_line(variant, held) + f"  reference, leave-one-out (threshold/setting chosen: {' '.join(chosen)})")
    (o, extra), scores = min(grid, key=lambda g: (np.mean([d.rate for d in g[1].values()]), -g[0][0].threshold))
    best = replace(base, threshold=o.threshold, min_speaker=o.min_speaker, overlap_clean=o.overlap_clean, overlap_reach=o.overlap_reach)
    print(_line("", [der(r.turns, turns_of(variant, *made[("off", r.name)], best, extra), r.uem) for r in refs])
          + f"  reference, 30 s pieces, best on all seven: threshold {o.threshold} min_speaker {o.min_speaker} "
            f"overlap_clean {o.overlap_clean} overlap_reach {o.overlap_reach} setting {extra}")
    if convs:
        print(_line("", [der(r.turns, turns_of(variant, *made[("off", r.name)], best, extra), r.uem) for r in convs])
              + "  built conversations, the same setting", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=sorted(VARIANTS), help="one variant")
    parser.add_argument("--reference-only", action="store_true", help="skip the built conversations")
    args = parser.parse_args()
    import torch

    import models
    from models.segmentation_pyannote import Segmentation

    torch.set_num_threads(args.threads)
    encoder = CachedEncoder(models.create("voice_encoder", "campplus"))
    segmenter = Segmentation()
    base = DiarizeOptions()
    refs = list(reference_recordings())
    convs = [] if args.reference_only else conversations()
    made: dict[Any, Any] = {}
    for r in refs:  # as bench.diarization --loo makes them: the whole recording at once
        for clean in (False, True):
            o = replace(base, overlap_clean=clean)
            speech, overlap, _ = speech_of(r, o, segmenter)
            made[("loo", r.name, clean)] = (voice_segments(r.audio, 0.0, speech, encoder, o), overlap)
    for r in refs + convs:
        records = local_records(r, encoder, segmenter, base)[0] if args.only in (None, "hidden") else []
        for key in [k for k in made if k[1] == r.name]:
            made[key] = (*made[key][:2], records)
        made[("off", r.name)] = (*segments_of(r, encoder, base, segmenter), records)
    print(f"{len(refs)} reference recordings, {len(convs)} built conversations ({sum(len(r.audio) for r in convs) / RATE / 60:.1f} min)")
    for variant in [args.only] if args.only else VARIANTS:
        measure(variant, refs, convs, made, base)


if __name__ == "__main__":
    main()
