"""CPU seconds of the map stage's ASR alone, on one thread: a figure that a busy machine does not
move much (wall-clock figures such as ``bench.map_speed`` do), to compare two versions of the ASR.

    .venv/bin/python -m bench.asr_cpu [--minutes 5] [--model tiny.en|base|FOLDER] [--doubt none|LOGPROB]
        [--retry-beam N]

The real GRID clips in ../shared/data joined end to end for about ``--minutes``, cut into 120 s
stretches (an ASR group of four 30 s clips), each through ``transcribe_batch`` as the map stage
calls it. Prints the audio seconds, the process's CPU seconds, wall seconds and the words heard.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.asr_wer import DATA, RATE, read_audio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--doubt", help="doubt_logprob: chunks whose greedy pass is under it are decoded again with "
                        "beam 5 ('none': never; default: the ASR's own)")
    parser.add_argument("--retry-beam", type=int, help="the beam of that second pass (default: the ASR's own)")
    args = parser.parse_args()
    grid = DATA / "video" / "grid"
    if not grid.is_dir():
        sys.exit(f"real media not found: {grid}")
    import models
    from mmagent.samples import concat_videos

    clips = sorted(grid.glob("*.mpg"))
    video = Path(tempfile.mkdtemp(prefix="mmagent-asrcpu-")) / "grid.mp4"
    concat_videos([c for _ in range(max(1, round(args.minutes * 60 / (3.0 * len(clips))))) for c in clips], video)
    audio = read_audio(video)
    extra = {} if not args.doubt else {"doubt_logprob": None if args.doubt == "none" else float(args.doubt)}
    if args.retry_beam:
        extra["retry_beam"] = args.retry_beam
    asr = models.create("asr", "faster-whisper", model_path=args.model, threads=1, **extra)
    asr.transcribe_batch([audio[:RATE]])  # the model loads outside the figures
    cpu, wall, words = time.process_time(), time.perf_counter(), 0
    for i in range(0, len(audio), 120 * RATE):
        words += sum(len(s.words) for s in asr.transcribe_batch([audio[i : i + 120 * RATE]])[0])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({"model": args.model, "doubt_logprob": asr.doubt_logprob, "retry_beam": asr.retry_beam,
                      "audio_seconds": round(len(audio) / RATE, 1), "cpu_seconds": round(cpu, 2),
                      "wall_seconds": round(wall, 2), "audio_seconds_per_cpu_second": round(len(audio) / RATE / cpu, 1),
                      "words": words}))


if __name__ == "__main__":
    main()
