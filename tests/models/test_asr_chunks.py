"""The chunks the faster-whisper backend hears: speech regions joined with ``PAUSE`` seconds of
the real pause where it was long, and every sample of a chunk mapped back to the sample of the audio it is."""

from __future__ import annotations

import numpy as np

from models.asr_chunks import _even_chunks, _TimeMap
from models.asr_faster_whisper import PAUSE, PAUSE_FROM, FasterWhisperASR
from tests.conftest import DATA, need
from tests.models.test_asr import load

RATE = 16000


def test_chunks_keep_the_real_pause_capped_and_map_back_exactly() -> None:
    jfk = load(need(DATA / "speech" / "jfk.flac"))
    audio = np.concatenate([jfk, np.zeros(RATE * 3, dtype=np.float32), jfk, jfk])  # 36 s, a long pause in it
    asr = FasterWhisperASR(threads=1)
    regions = asr._speech_regions(audio)
    assert len(regions) > 3
    chunks = _even_chunks(audio, regions, 24.0, RATE, PAUSE, PAUSE_FROM)
    times = _TimeMap(RATE)
    spoken = sum(r["end"] - r["start"] for r in regions)
    gaps = [b["start"] - a["end"] for a, b in zip(regions, regions[1:])]
    assert any(g >= PAUSE_FROM * RATE for g in gaps)  # the 3 s of silence at least
    kept = sum(min(int(PAUSE * RATE), g) for g in gaps if g >= PAUSE_FROM * RATE)
    assert spoken < sum(len(c) for c, _ in chunks) <= spoken + kept
    for samples, meta in chunks:
        assert len(samples) <= 24.0 * RATE and meta["duration"] == len(samples) / RATE
        times.add(round(meta["offset"] * RATE), meta["pieces"])
        # the pieces tile the chunk, and each is the audio it says it is, sample for sample
        assert sum(p[2] for p in meta["pieces"]) == len(samples)
        for at, src, length in meta["pieces"]:
            assert np.array_equal(samples[at : at + length], audio[src : src + length])
    # a time inside a piece goes back to the same sample of the audio
    for joined, src, length in times.pieces:
        for k in (0, length // 2, length - 1):
            t = (joined + k) / RATE
            assert round((t + times.shift(t)) * RATE) == src + k
    # no pause at all: the regions end to end, as before
    glued = _even_chunks(audio, regions, 24.0, RATE, 0.0)
    assert sum(len(c) for c, _ in glued) == spoken
