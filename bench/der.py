"""Diarization error rate, scored as pyannote.metrics' ``DiarizationErrorRate(collar=2c)`` does.

DER = (missed + false alarm + confusion) / total reference speech, where, on every stretch of the
scored region (the UEM, less ``collar`` seconds either side of every reference turn boundary)
with ``r`` reference and ``h`` estimated speakers active, ``r`` counts to the total,
``max(0, r - h)`` to missed, ``max(0, h - r)`` to false alarm and ``min(r, h) - correct`` to
confusion. ``correct`` counts the reference speakers whose mapped estimated speaker is active too,
under the one-to-one mapping (Hungarian, scipy) that maximises the time the two overlap. Overlapped
speech counts in full: two reference speakers at once are two seconds a second. Overlapping turns
of one label are joined first (pyannote.metrics would count them twice). Checked against
pyannote.metrics 4.2.0 on 70 perturbed versions of the reference files, collar 0 and 0.25 s:
equal to 1e-13 s.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

Turn = tuple[float, float, Hashable]  # start, end, speaker


@dataclass(frozen=True)
class DER:
    total: float  # reference speech, seconds (overlap counted once per speaker)
    missed: float
    false_alarm: float
    confusion: float
    ref_speakers: int
    est_speakers: int

    @property
    def rate(self) -> float:
        return (self.missed + self.false_alarm + self.confusion) / self.total if self.total > 0 else 0.0


def read_rttm(path: Path) -> list[Turn]:
    turns: list[Turn] = []
    for line in path.read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            turns.append((start, start + dur, f[7]))
    return turns


def read_uem(path: Path) -> list[tuple[float, float]]:
    return [(float(f[2]), float(f[3])) for f in (ln.split() for ln in path.read_text().splitlines()) if f]


def _union(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _active(turns: Sequence[Turn], labels: list[Hashable], mids: np.ndarray) -> np.ndarray:
    """(len(mids), len(labels)) booleans: is the speaker talking at each midpoint."""
    act = np.zeros((len(mids), len(labels)), dtype=bool)
    for j, lab in enumerate(labels):
        spans = _union([(a, b) for a, b, s in turns if s == lab])
        if spans:
            starts = np.array([a for a, _ in spans])
            ends = np.array([b for _, b in spans])
            k = np.searchsorted(starts, mids, side="right") - 1
            act[:, j] = (k >= 0) & (mids < ends[np.maximum(k, 0)])
    return act


def der(reference: Sequence[Turn], estimate: Sequence[Turn], uem: Sequence[tuple[float, float]] | None = None,
        collar: float = 0.25) -> DER:
    """``collar`` seconds either side of each reference boundary are not scored (NIST's 0.25 s,
    which pyannote.metrics writes ``collar=0.5``). Without ``uem`` the scored region runs from the
    earliest to the latest turn of either side."""
    if uem is None:
        every = [*reference, *estimate]
        uem = [(min(t[0] for t in every), max(t[1] for t in every))] if every else []
    region = _union(uem)
    holes = _union([(t - collar, t + collar) for a, b, _ in reference for t in (a, b)]) if collar > 0 else []
    cuts = {x for span in region for x in span} | {x for span in holes for x in span}
    cuts |= {x for a, b, _ in [*reference, *estimate] for x in (a, b)}
    edges = np.array(sorted(cuts))
    ref_labels = sorted({s for *_, s in reference}, key=str)
    est_labels = sorted({s for *_, s in estimate}, key=str)
    if len(edges) < 2:
        return DER(0.0, 0.0, 0.0, 0.0, len(ref_labels), len(est_labels))
    mids, dur = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    keep = _active([(a, b, 0) for a, b in region], [0], mids)[:, 0]
    if holes:
        keep &= ~_active([(a, b, 0) for a, b in holes], [0], mids)[:, 0]
    mids, dur = mids[keep], dur[keep]
    ref = _active(reference, ref_labels, mids)
    est = _active(estimate, est_labels, mids)
    r, h = ref.sum(axis=1), est.sum(axis=1)
    correct = np.zeros(len(mids))
    if ref_labels and est_labels:
        overlap = np.einsum("t,ti,tj->ij", dur, ref.astype(float), est.astype(float))
        rows, cols = linear_sum_assignment(-overlap)
        for i, j in zip(rows, cols):
            correct += ref[:, i] & est[:, j]
    return DER(
        total=float((dur * r).sum()),
        missed=float((dur * np.maximum(0, r - h)).sum()),
        false_alarm=float((dur * np.maximum(0, h - r)).sum()),
        confusion=float((dur * (np.minimum(r, h) - correct)).sum()),
        ref_speakers=len(ref_labels),
        est_speakers=len(est_labels),
    )


def jer(reference: Sequence[Turn], estimate: Sequence[Turn], uem: Sequence[tuple[float, float]] | None = None) -> float:
    """Jaccard error rate (DIHARD's, as dscore scores it): the mean over reference speakers of
    1 - |ref & est| / |ref | est| for the estimated speaker mapped to it (the one-to-one mapping,
    Hungarian, that minimises the total; a reference speaker left unmapped counts 1), no collar,
    within ``uem``."""
    if uem is None:
        every = [*reference, *estimate]
        uem = [(min(t[0] for t in every), max(t[1] for t in every))] if every else []
    region = _union(uem)
    cuts = {x for span in region for x in span} | {x for a, b, _ in [*reference, *estimate] for x in (a, b)}
    edges = np.array(sorted(cuts))
    ref_labels = sorted({s for *_, s in reference}, key=str)
    est_labels = sorted({s for *_, s in estimate}, key=str)
    if len(edges) < 2 or not ref_labels:
        return 0.0
    mids, dur = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    keep = _active([(a, b, 0) for a, b in region], [0], mids)[:, 0]
    mids, dur = mids[keep], dur[keep]
    ref = _active(reference, ref_labels, mids).astype(float)
    if not est_labels:
        return 1.0
    est = _active(estimate, est_labels, mids).astype(float)
    inter = np.einsum("t,ti,tj->ij", dur, ref, est)
    union = (dur @ ref)[:, None] + (dur @ est)[None, :] - inter
    cost = 1.0 - np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    rows, cols = linear_sum_assignment(cost)
    return float((cost[rows, cols].sum() + (len(ref_labels) - len(rows))) / len(ref_labels))
