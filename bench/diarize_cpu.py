"""CPU seconds of the map stage's ``diarize`` work on GRID speech, split by model, one torch thread.

    .venv/bin/python -m bench.diarize_cpu [--minutes 5]

The GRID talking-face clips of ../shared/data (as ``bench.map_speed`` joins them), cut into
30 s clips; each clip's speech, overlap and voice segments computed as the map stage does
(``clip_speech`` then ``voice_segments``). Reports process CPU seconds (not wall: less sensitive
to a loaded machine than ``bench.map_speed``'s per-stage wall timers) in all, in the
segmentation model, in CAM++ (and its fbank front end), and how many inputs CAM++ embedded.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

GRID = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "grid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()
    import torch

    import models
    import models.voice_campplus as campplus
    from bench.diarization import load_audio
    from models.segmentation_pyannote import Segmentation
    from perception.diarize import clip_speech
    from perception.diarize_options import options_for
    from perception.voice_changes import voice_segments

    torch.set_num_threads(1)
    clips = sorted(GRID.glob("*.mpg"))
    if not clips:
        raise SystemExit(f"real media not found: {GRID}")
    want = int(args.minutes * 60 * 16000)
    parts: list[np.ndarray] = []
    while sum(len(p) for p in parts) < want:
        parts += [load_audio(c) for c in clips]
    audio = np.concatenate(parts)[:want]
    encoder = models.create("voice_encoder", "campplus")
    segmenter = Segmentation()
    encoder._load(), segmenter._load()
    options = options_for(encoder)
    spent = {"segmentation": 0.0, "campplus": 0.0, "fbank": 0.0}
    count = {"inputs": 0, "seconds": 0.0}

    def timed(key: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[key] += time.process_time() - t
        return wrapper

    campplus.fbank = timed("fbank", campplus.fbank)  # type: ignore[assignment]
    segmenter.powerset = timed("segmentation", segmenter.powerset)  # type: ignore[method-assign]
    embed = timed("campplus", encoder.embed_batch)

    def counted(audios: Any) -> Any:
        count["inputs"] += len(audios)
        count["seconds"] += sum(len(a) for a in audios) / 16000
        return embed(audios)

    encoder.embed_batch = counted  # type: ignore[method-assign]
    began, step, segments = time.process_time(), 30 * 16000, 0
    for a in range(0, len(audio), step):
        span = (a / 16000, min(len(audio), a + step) / 16000)
        speech, _overlap, changes = clip_speech(audio[a : a + step], span[0], span, 16000, options, segmenter)
        segments += len(voice_segments(audio[a : a + step], span[0], speech, encoder, options, changes))
    total, minutes = time.process_time() - began, len(audio) / 16000 / 60
    print(f"{minutes:.1f} min of GRID speech: {total:.1f} CPU-s ({total / minutes:.2f} per audio minute); "
          f"segmentation {spent['segmentation']:.1f}, CAM++ {spent['campplus']:.1f} (fbank {spent['fbank']:.1f}); "
          f"{count['inputs']} CAM++ inputs, {count['seconds']:.0f} s of audio; {segments} voice segments")


if __name__ == "__main__":
    main()
