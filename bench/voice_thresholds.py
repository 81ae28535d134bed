"""Voice-entity thresholds per voice encoder (``memory.entity_options.VOICE_THRESHOLDS``): how close a
speaker's mean vector comes to another stretch of the same speaker, and to other speakers.

    .venv/bin/python -m bench.voice_thresholds [--encoder campplus|resemblyzer]

On the reference recordings (../shared/data/speech/diarization): each speaker's speech outside
overlap, in 3 s pieces, embedded; the pieces split alternately into two halves. *Same*: the
cosine of one half's duration-weighted mean to the other's (one speaker, two stretches: what a
voice entity's mean and a new source's speaker centroid look like). AMI's dev00 and dev01 share
their two speakers (MEE009, MEE012): *same, across files* is one file's speaker mean against the
other's. *Other*: the means of two different speakers (any files). The voice-match threshold of
an encoder must sit between the lowest *same* and the highest *other*.
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict

import numpy as np

import models
from bench.der import read_rttm
from bench.diarization import RATE, RECORDINGS, REFERENCE, load_audio
from models.base import FloatArray

PIECE = 3.0


def _mean(vectors: list[FloatArray], weights: list[float]) -> FloatArray:
    total = np.sum([w * v / max(float(np.linalg.norm(v)), 1e-9) for v, w in zip(vectors, weights)], axis=0)
    return total / max(float(np.linalg.norm(total)), 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="campplus", choices=("campplus", "resemblyzer"))
    args = parser.parse_args()
    encoder = models.create("voice_encoder", args.encoder)
    means: dict[tuple[str, str], FloatArray] = {}  # (file, speaker) -> mean
    same: list[tuple[str, float]] = []
    for name in RECORDINGS:
        audio = load_audio(REFERENCE / f"{name}.wav")
        turns = read_rttm(REFERENCE / f"{name}.rttm")
        pieces: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for start, end, who in turns:
            others = [(a, b) for a, b, w in turns if w != who and b > start and a < end]
            edges = sorted({start, end, *(x for a, b in others for x in (a, b) if start < x < end)})
            for a, b in zip(edges, edges[1:]):  # the parts of the turn nobody else speaks over
                if not any(s <= (a + b) / 2 <= e for s, e in others) and b - a >= 1.0:
                    n = max(1, int(round((b - a) / PIECE)))
                    cuts = np.linspace(a, b, n + 1)
                    pieces[who].extend(zip(cuts[:-1], cuts[1:]))
        for who, spans in pieces.items():  # AMI speaker ids are corpus-wide; pyAudioAnalysis' labels per file
            who = who if name.startswith("ami_") else f"{name}:{who}"
            vectors = list(encoder.embed_batch([audio[int(a * RATE) : int(b * RATE)] for a, b in spans]))
            weights = [b - a for a, b in spans]
            means[(name, who)] = _mean(vectors, weights)
            if len(spans) >= 2:
                halves = [_mean(vectors[k::2], weights[k::2]) for k in (0, 1)]
                same.append((f"{name}:{who.split(':')[-1]} ({sum(weights):.0f} s)", float(halves[0] @ halves[1])))
    across = [(f"{a[1]} {a[0]}~{b[0]}", float(means[a] @ means[b]))
              for a, b in itertools.combinations(means, 2) if a[1] == b[1]]
    other = sorted(float(means[a] @ means[b]) for a, b in itertools.combinations(means, 2) if a[1] != b[1])
    print(f"encoder {encoder.model_id}")
    for label, c in sorted(same, key=lambda x: x[1]):
        print(f"  same, two halves   {c:6.3f}  {label}")
    for label, c in across:
        print(f"  same, across files {c:6.3f}  {label}")
    print(f"  other speakers: {len(other)} pairs, max {other[-1]:.3f}, 95th pct {np.percentile(other, 95):.3f}, "
          f"median {np.median(other):.3f}")
    print(f"  top other pairs: {', '.join(f'{c:.3f}' for c in other[-5:])}")


if __name__ == "__main__":
    main()
