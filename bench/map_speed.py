"""Perception (map stage) speed and memory on this machine, through the real CLI.

    .venv/bin/python -m bench.map_speed [--minutes 10] [--workers 0] [--ray local] [--out FILE]

Builds a speech video with faces of about ``--minutes`` from the real GRID talking-face clips in
../shared/data (11 speakers, joined end to end, repeated), indexes it into a fresh store with the
default settings (ASR + voices + faces + keyframes with scene cuts + OCR on change + composed
captions), and reports:
  - wall seconds, real-time factor and speed (video seconds per wall second);
  - seconds per stage, summed over the workers (from ``mmagent index --json``);
  - peak resident memory of the whole process tree (the CLI and its workers), sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "video" / "grid"


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=0, help="0: the default (one per core)")
    parser.add_argument("--ray", help="'local' or a cluster address")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not GRID.is_dir():
        sys.exit(f"real media not found: {GRID}")
    from mmagent.samples import concat_videos

    exe = str(Path(sys.executable).with_name("mmagent"))
    work = Path(tempfile.mkdtemp(prefix="mmagent-mapbench-"))
    clips = sorted(GRID.glob("*.mpg"))
    repeats = max(1, round(args.minutes * 60 / (3.0 * len(clips))))
    video = work / "speech.mp4"
    duration = concat_videos([c for _ in range(repeats) for c in clips], video)[-1][1]
    print(f"video: {duration:.0f} s ({repeats} x {len(clips)} GRID clips)", file=sys.stderr)

    cmd = [exe, "index", str(video), "--store", str(work / "store"), "--json"]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    if args.ray:
        cmd += ["--ray", args.ray]
    env = dict(os.environ, MMAGENT_CACHE=str(work / "cache"), RAY_AUTH_MODE="disabled")
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        ps = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                peak = max(peak, tree_rss(ps))
            except psutil.Error:
                return
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - began
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"index failed:\n{err}")
    source = json.loads(out)["sources"][0]
    perception = source["perception"]
    result = {
        "machine": f"{os.cpu_count()} cores",
        "video_seconds": round(duration, 1),
        "wall_seconds": round(wall, 1),
        "real_time_factor": round(wall / duration, 4),
        "speed_x_real_time": round(duration / wall, 1),
        "hour_of_video_takes_minutes": round(60 * wall / duration, 1),
        "runner": perception["runner"],
        "workers": perception["workers"],
        "clips": source["clips"],
        "stage_seconds_summed_over_workers": perception["stage_seconds"],
        # where the wall time went: the command (start-up, imports), the index call (map + reduce), reduce
        "index_seconds": source.get("seconds"),
        "reduce_seconds": (source.get("reduce") or {}).get("seconds"),
        "peak_rss_mb_process_tree": round(peak / 1e6),
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
