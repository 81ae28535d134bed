"""Index and ask figures on this machine, through the real CLI.

    .venv/bin/python -m bench.index_ask [--minutes 10] [--out bench/results/index_ask.json]

Builds a speech video of about ``--minutes`` from the real GRID talking-face clips in
../shared/data (joined end to end, repeated), then measures in fresh folders:
  - ``mmagent index``: wall seconds, real-time factor, peak RSS, and the reduce stage's own
    seconds (per hour of video);
  - points in the store per hour of video, by kind / level (entities, episodic levels, visual,
    facts), and the people found (the clips repeat: the same 10 faces must stay 10 entities);
  - store size on disk (the Qdrant shard + catalog, and the per-clip perception cache) per hour;
  - ``mmagent ask``: cold (first run ever: the LLM is dequantised into an empty cache), warm
    (a new process, cache present), and in-process (an MMAgent answering its second question).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "video" / "grid"


def folder_bytes(path: Path) -> int:
    """Bytes on disk (allocated blocks): Qdrant preallocates sparse 32 MB files that use little."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return time.perf_counter() - began, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "index_ask.json")
    args = parser.parse_args()
    if not GRID.is_dir():
        sys.exit(f"real media not found: {GRID}")
    from mmagent.samples import concat_videos

    exe = str(Path(sys.executable).with_name("mmagent"))
    work = Path(tempfile.mkdtemp(prefix="mmagent-bench-"))
    clips = sorted(GRID.glob("*.mpg"))
    repeats = max(1, round(args.minutes * 60 / (3.0 * len(clips))))
    video = work / "speech.mp4"
    spans = concat_videos([c for _ in range(repeats) for c in clips], video)
    duration = spans[-1][1]
    print(f"video: {duration:.0f} s of speech ({repeats} x {len(clips)} GRID clips), {video}", file=sys.stderr)

    env = dict(os.environ, MMAGENT_CACHE=str(work / "cache"))
    store = work / "store"
    index_s, out = timed([exe, "index", str(video), "--store", str(store), "--json"], env)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = json.loads(out)["sources"][0]
    memory_bytes = folder_bytes(store / "qdrant") + folder_bytes(store / "sources")
    cache_bytes = folder_bytes(store / "perception")
    per_hour = 3600.0 / duration

    question = "lay white by s zero again"
    ask = [exe, "ask", question, "--store", str(store), "--json"]
    cold_s, _ = timed(ask, env)
    warm = [timed(ask, env)[0] for _ in range(3)]
    extractive = [timed(ask + ["--llm", "none"], env)[0] for _ in range(2)]

    code = (
        "import time, json\nfrom mmagent import MMAgent, Settings\n"
        f"a = MMAgent(Settings.load(store={str(store)!r}))\na.ask('warm up')\n"
        f"t = time.perf_counter(); r = a.ask({question!r}); print(json.dumps(time.perf_counter() - t))\na.close()\n"
    )
    in_process = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout)

    count = (
        "import json, collections\nfrom mmagent import MMAgent, Settings\n"
        f"a = MMAgent(Settings.load(store={str(store)!r}, llm='none'))\n"
        "c = collections.Counter(f'{r.kind}/{r.level}' for r in a.store.scroll())\n"
        "p = a.persons()\n"
        "print(json.dumps({'points': c, 'persons': len(p), 'faces': sum(len(x.faces) for x in p),"
        " 'voices': sum(len(x.voices) for x in p), 'linked': sum(1 for x in p if x.faces and x.voices)}))\na.close()\n"
    )
    stored = json.loads(subprocess.run([sys.executable, "-c", count], capture_output=True, text=True, env=env, check=True).stdout)
    reduce_s = report["reduce"]["seconds"]

    result = {
        "machine": f"{os.cpu_count()} cores",
        "video_seconds": round(duration, 1),
        "index_seconds": round(index_s, 1),
        "index_real_time_factor": round(index_s / duration, 4),
        "index_peak_rss_mb": round(peak_rss_mb),
        "clips": report["clips"],
        "memories": report["memories_added"],
        "reduce_seconds": round(reduce_s, 2),
        "reduce_seconds_per_hour": round(reduce_s * per_hour, 1),
        "points_per_hour": {k: round(v * per_hour, 1) for k, v in sorted(stored["points"].items())},
        "points_total": sum(stored["points"].values()),
        "people": {k: stored[k] for k in ("persons", "faces", "voices", "linked")},
        "store_mb_per_hour": round(memory_bytes * per_hour / 1e6, 2),
        "perception_cache_mb_per_hour": round(cache_bytes * per_hour / 1e6, 2),
        "ask_cold_seconds": round(cold_s, 1),
        "ask_warm_seconds_median": round(sorted(warm)[1], 1),
        "ask_extractive_seconds_median": round(sorted(extractive)[len(extractive) // 2], 1),
        "ask_in_process_seconds": round(in_process, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
