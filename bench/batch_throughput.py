"""Batch throughput on this machine: hours of footage indexed per hour of wall time, 1 vs N workers.

    .venv/bin/python -m bench.batch_throughput [--videos 4] [--minutes 2.5] [--workers 1 2]

Builds a library of ``--videos`` speech videos of about ``--minutes`` each from the real GRID
talking-face clips in ../shared/data (each video a different rotation of the clips), then runs the
real ``mmagent batch LIBRARY`` in a fresh store for each worker count (defaults otherwise) and
reports wall seconds, footage hours per wall hour, and the job's per-source times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "video" / "grid"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=2.5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch_throughput.json")
    args = parser.parse_args()
    if not GRID.is_dir():
        sys.exit(f"real media not found: {GRID}")
    from mmagent.samples import concat_videos

    work = Path(tempfile.mkdtemp(prefix="mmagent-batch-"))
    library = work / "library"
    library.mkdir()
    clips = sorted(GRID.glob("*.mpg"))
    per_video = max(1, round(args.minutes * 60 / 3.0))
    footage = 0.0
    for v in range(args.videos):
        order = [clips[(v + k) % len(clips)] for k in range(per_video)]
        footage += concat_videos(order, library / f"video_{v}.mp4")[-1][1]
    print(f"library: {args.videos} videos, {footage:.0f} s of footage, {library}", file=sys.stderr)

    exe = str(Path(sys.executable).with_name("mmagent"))
    env = dict(os.environ, MMAGENT_LLM="none")
    runs = []
    for workers in args.workers:
        store = work / f"store-{workers}"
        began = time.perf_counter()
        done = subprocess.run([exe, "batch", str(library), "--store", str(store), "--workers", str(workers), "--json"],
                              capture_output=True, text=True, env=env)
        wall = time.perf_counter() - began
        if done.returncode != 0:
            sys.exit(f"batch failed with {workers} workers:\n{done.stderr[-3000:]}")
        report = json.loads(done.stdout)
        runs.append({
            "workers": workers,
            "wall_seconds": round(wall, 1),
            "footage_hours_per_wall_hour": round(footage / wall, 2),
            "sources_done": report["counts"]["done"],
            "per_source_seconds": [round(s["seconds"], 1) for s in report["sources"].values()],
        })
        print(json.dumps(runs[-1]), file=sys.stderr)
    result = {"machine": f"{os.cpu_count()} cores", "videos": args.videos, "footage_seconds": round(footage, 1), "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
