"""Retrieval-agent latency over hours of indexed footage, on this machine.

    .venv/bin/python -m bench.agent_latency [--hours 10] [--out bench/results/agent_latency.json]

1. Indexes two real videos through the pipeline: a ~45 s stand-up meeting (two synthetic
   speakers, slides, a changed fact: tests/retrieval/test_agent.py's) and ~10 minutes of GRID
   talking faces (../shared/data).
2. Grows the store to ``--hours`` of footage by copying those sources' episodic, visual and fact
   points under new source ids (each copy a source of its own in the catalog, its parent /
   children links remapped). Real vectors, real payloads, real Qdrant Edge: only the
   perception is not redone, since it does not change what a question costs.
3. Asks a fixed set of questions (every kind the agent handles) in one warm process and
   reports: each tool call's latency (p50 / p95, by tool), and a full ``ask`` p50 / p95 with
   the CPU default (the bundled LLM choosing the calls and writing the answer), with the rule
   planner (no LLM), and the single-shot baseline — plus whether each found the expected scene;
   the store's own hybrid search apart from embedding the question (``store_search_ms``), the
   time of ``store.optimize()`` after growing (what an index job ends with) and the RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "video" / "grid"

# (question, scene of the stand-up video whose time the first evidence must fall in; None: not in memory)
QUESTIONS: list[tuple[str, int | None]] = [
    ("When is the design review?", 4),
    ("When was the design review before it changed?", 0),
    ("What is the invoice number for Globex?", 1),
    ("How many times was the Globex invoice mentioned?", 1),
    ("What was said first about the design review?", 0),
    ("What was said after the lunch break?", 3),
    ("What was on screen when parking was mentioned?", 3),
    ("What did Priya say?", None),
    ("Who said the Globex invoice was paid?", 5),
    ("What is the CFO's favourite colour?", None),
]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def grow(agent: Any, hours: float) -> tuple[int, float]:
    """Copy the indexed sources' points under new source ids until ``hours`` of footage."""
    from memory.catalog import SourceEntry
    from memory.store import Scope

    store = agent.store
    base = store.sources()
    base_seconds = sum(e.duration for e in base)
    copies = max(0, int(hours * 3600 // base_seconds) - 1)
    names = ["text", *store.vector_specs()]
    points = {e.source_id: list(store.scroll_with(Scope(source_ids=(e.source_id,), kinds=("episodic", "visual", "semantic")), names)) for e in base}
    seq = store.next_seq()
    pending: list[tuple[Any, dict[str, Any]]] = []  # written a few thousand at a time, as a reduce would

    def write() -> None:
        vecs = [v for _, v in pending]
        store.upsert([m for m, _ in pending], [v["text"] for v in vecs], [{n: x for n, x in v.items() if n != "text"} for v in vecs])
        pending.clear()

    for k in range(copies):
        for entry in base:
            new_id = f"{entry.source_id[:24]}c{k:05d}"
            rows = points[entry.source_id]
            moved = [replace(r, source_id=new_id, sources=(new_id,), key=f"{r.key}#{new_id}" if r.key else "",
                             parent=None, children=()) for r, _ in rows]
            ids = {r.id: m.id for (r, _), m in zip(rows, moved)}
            moved = [replace(m, parent=ids.get(r.parent) if r.parent else None,
                             children=tuple(ids[c] for c in r.children if c in ids)) for (r, _), m in zip(rows, moved)]
            pending.extend((m, v) for m, (_, v) in zip(moved, rows))
            if len(pending) >= 4096:
                write()
            store.put_source(SourceEntry(new_id, entry.path, entry.duration, entry.clips, entry.memories, entry.perception,
                                         time.time(), seq, f"copy {k} of {Path(entry.path).name}", entry.tags))
            seq += 1
    if pending:
        write()
    return copies, (copies + 1) * base_seconds / 3600


def rss_mb() -> float:
    """This process's resident memory now (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--grid-minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "agent_latency.json")
    parser.add_argument("--no-optimize", action="store_true",
                        help="leave the grown store as written (every search a scan: the store before 2026-12-07)")
    args = parser.parse_args()
    if not GRID.is_dir():
        sys.exit(f"real media not found: {GRID}")
    from memory.store import Scope
    from mmagent import MMAgent, Settings
    from mmagent.samples import concat_videos, make_demo_video
    from retrieval import tools as tools_mod
    from tests.retrieval.test_agent import SCENES

    work = Path(tempfile.mkdtemp(prefix="mmagent-agent-bench-"))
    standup, grid = work / "standup.mp4", work / "grid.mp4"
    script = make_demo_video(standup, SCENES)
    clips = sorted(GRID.glob("*.mpg"))
    concat_videos([c for _ in range(max(1, round(args.grid_minutes * 60 / (3.0 * len(clips))))) for c in clips], grid)
    settings = Settings.load(store=work / "store")
    began = time.perf_counter()
    with MMAgent(settings) as agent:
        agent.index(standup)
        agent.index(grid)
        index_s = time.perf_counter() - began
        began = time.perf_counter()
        copies, hours = grow(agent, args.hours)
        grow_s = time.perf_counter() - began
        points = agent.store.count(Scope())
        print(f"store: {hours:.1f} h of footage, {points} points ({copies} copies, {grow_s:.0f} s)", file=sys.stderr)
        # what an index job does once its source is whole (MMAgent.index): the store's indexes
        began = time.perf_counter()
        optimized = False if args.no_optimize else agent.store.optimize()
        optimize_s = time.perf_counter() - began
        print(f"store.optimize(): {optimized} in {optimize_s:.1f} s", file=sys.stderr)

        # every tool call's own time: wrap MemoryTools.call
        calls: dict[str, list[float]] = {}
        original = tools_mod.MemoryTools.call

        def timed_call(self: Any, name: str, call_args: Any) -> Any:
            result = original(self, name, call_args)
            calls.setdefault(name, []).append(result.seconds * 1000)
            return result

        tools_mod.MemoryTools.call = timed_call  # type: ignore[method-assign]
        agent.ask("warm up: what was said?", planner="auto")  # load the models once
        calls.clear()
        results: dict[str, Any] = {}
        for planner in ("auto", "rules", "single"):
            times, right, detail = [], 0, []
            for question, scene in QUESTIONS:
                t = time.perf_counter()
                answer = agent.ask(question, planner=planner)
                times.append(time.perf_counter() - t)
                if scene is None:
                    ok = not answer.found if "favourite" in question else answer.found
                else:
                    e = answer.evidence[0] if answer.evidence else None
                    s = script[scene]
                    ok = e is not None and e.path == str(standup.resolve()) and s["start"] <= (e.start + e.end) / 2 < s["end"]
                right += ok
                detail.append({"question": question, "right": bool(ok), "answer": answer.answer, "mode": answer.mode,
                               "seconds": round(times[-1], 3), "rounds": answer.rounds,
                               "first_evidence": None if not answer.evidence else
                               {"path": Path(answer.evidence[0].path).name, "start": answer.evidence[0].start,
                                "text": answer.evidence[0].text}})
            results[planner] = {"ask_p50_s": round(statistics.median(times), 3), "ask_p95_s": round(pct(times, 0.95), 3),
                                "ask_max_s": round(max(times), 3), "right": f"{right}/{len(QUESTIONS)}", "questions": detail}
            print(planner, {k: v for k, v in results[planner].items() if k != "questions"}, file=sys.stderr)
        tools_mod.MemoryTools.call = original  # type: ignore[method-assign]
        # the store's own search (the target's figure), apart from embedding the question
        vecs = agent.embedder.embed_batch([q for q, _ in QUESTIONS])
        store_ms: list[float] = []
        for _ in range(5):
            for (q, _), v in zip(QUESTIONS, vecs):
                for scope in (Scope(kind="episodic"), Scope(kind="episodic", level="clip")):
                    t = time.perf_counter()
                    agent.store.search(v, q, scope, 10)
                    store_ms.append((time.perf_counter() - t) * 1000)
        every = [x for v in calls.values() for x in v]
        tool_stats = {name: {"calls": len(v), "p50_ms": round(statistics.median(v), 2), "p95_ms": round(pct(v, 0.95), 2)}
                      for name, v in sorted(calls.items())}
    report = {
        "machine": "2 cores (this sandbox)", "date": time.strftime("%Y-%m-%d"),
        "footage_hours": round(hours, 2), "points": points, "index_seconds_of_the_two_real_videos": round(index_s, 1),
        "grow_seconds": round(grow_s, 1), "optimize": {"rebuilt": optimized, "seconds": round(optimize_s, 1)},
        "rss_mb": {"now": rss_mb(), "peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)},
        "load_average_1m": round(os.getloadavg()[0], 1),
        "store_search_ms": {"n": len(store_ms), "p50": round(statistics.median(store_ms), 2), "p95": round(pct(store_ms, 0.95), 2)},
        "tool_calls": {"all": {"calls": len(every), "p50_ms": round(statistics.median(every), 2),
                               "p95_ms": round(pct(every, 0.95), 2)}, **tool_stats},
        "ask": results,
        "llm": settings.llm_model or "SmolLM2-135M-Instruct (bundled)",
        "command": f"python -m bench.agent_latency --hours {args.hours:g}",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
