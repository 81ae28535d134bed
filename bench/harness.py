"""The evaluation harness: build a suite, index it through the real pipeline, ask every question
with every system, score answers and evidence, time every stage, print a table, write JSON.

    python -m bench longvideo [--minutes M | --hours H] [--seed S] [--systems agent,single,transcript]
    python -m bench screen [--seed S]
    python -m bench m3bench|mlvu|videomme --annotations FILE --videos DIR [--limit N]
    mmagent bench ...    (the same)

Systems: ``agent`` (mmagent's agent with the configured LLM choosing the calls), ``rules`` (the
agent with the rule planner), ``single`` (one hybrid search over mmagent's memory, no loop),
``transcript`` (transcript-only RAG with the same embedder and LLM: bench/baselines.py).
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
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.score import Score, judge, score

SYSTEMS = ("agent", "rules", "single", "transcript")


def _pct(values: Sequence[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def _bytes(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


class Run:
    """One store, the systems over it, and the per-question records."""

    def __init__(self, store: Path, systems: Sequence[str], overrides: dict[str, Any] | None = None) -> None:
        from mmagent import MMAgent, Settings

        unknown = set(systems) - set(SYSTEMS)
        if unknown:
            raise SystemExit(f"unknown systems: {', '.join(sorted(unknown))} (known: {', '.join(SYSTEMS)})")
        self.settings = Settings.load(store=store, **(overrides or {}))
        self.agent = MMAgent(self.settings)
        self.systems = list(systems)
        self._transcript: Any = None
        self.records: list[dict[str, Any]] = []

    def index(self, path: Path, wall_start: float | None = None) -> dict[str, Any]:
        began = time.perf_counter()
        result = self.agent.index(path, wall_start=wall_start)
        seconds = time.perf_counter() - began
        stages = dict(result.perception.stages) if result.perception else {}
        if result.reduce is not None:
            stages["reduce"] = result.reduce.seconds
        hours = max(result.duration, 1e-9) / 3600
        store = self.settings.store
        return {
            "source_id": result.source_id, "duration_s": round(result.duration, 1), "index_s": round(seconds, 1),
            "real_time_factor": round(result.duration / seconds, 2) if seconds else None,
            "stage_seconds": {k: round(v, 2) for k, v in sorted(stages.items())},
            "stage_real_time_factor": {k: round(result.duration / v, 1) for k, v in sorted(stages.items()) if v > 0},
            "store_mb_per_hour": round((_bytes(store / "qdrant") + _bytes(store / "sources")) / 1e6 / hours, 2),
            "peak_rss_mb": _peak_rss_mb(),
        }

    def _transcript_rag(self) -> Any:
        if self._transcript is None:
            from bench.baselines import TranscriptRAG

            llm, _ = self.agent._llm_or_reason()
            self._transcript = TranscriptRAG(self.agent.store, self.agent.embedder, llm)
        return self._transcript

    def ask(self, system: str, question: dict[str, Any], source_id: str | None, now: float | None = None,
            pick: Callable[[str, Sequence[str]], str] | None = None) -> dict[str, Any]:
        """Ask one question with one system; returns the record (answer, evidence, score, seconds)."""
        began = time.perf_counter()
        before = question.get("before")
        if system == "transcript":
            reply = self._transcript_rag().ask(question["question"], before)
            answer, abstained = reply.answer, reply.abstained
            evidence = [(c.start, c.end) for c in reply.evidence]
            same = [c.source_id == source_id for c in reply.evidence] if source_id else None
            texts = [c.text for c in reply.evidence]
            rounds, mode = 1, "transcript"
        else:
            planner = {"agent": "auto", "rules": "rules", "single": "single"}[system]
            sources = (source_id,) if source_id and question.get("scoped") else ()
            got = self.agent.ask(question["question"], sources=sources, before=before, planner=planner, now=now)
            answer, abstained = got.answer, not got.found
            evidence = [(e.start, e.end) for e in got.evidence]
            same = [e.source_id == source_id for e in got.evidence] if source_id else None
            if question.get("files"):  # screen questions: the capture shown is the evidence
                names = set(question["files"])
                evidence = [(0.0, 1.0) if e.image and Path(e.image).name in names else (-2.0, -1.0) for e in got.evidence]
            texts = [e.text for e in got.evidence]
            rounds, mode = got.rounds, got.mode
        seconds = time.perf_counter() - began
        if pick is not None and question.get("options"):
            answer = pick(answer + " " + " ".join(texts), question["options"])
        q = dict(question)
        if question.get("files"):
            q["evidence"] = [[0.0, 1.0]]
        s: Score = score(q, answer, abstained, evidence, same_source=same)
        record = {"system": system, "id": question.get("id"), "competency": question.get("competency", ""),
                  "question": question["question"], "answer": answer, "seconds": round(seconds, 3),
                  "rounds": rounds, "mode": mode, **s.to_json()}
        self.records.append(record)
        return record

    def judge_all(self, questions: dict[str, dict[str, Any]]) -> None:
        """The configured LLM's verdicts on answered questions with a reference (reported apart)."""
        llm, why = self.agent._llm_or_reason()
        if llm is None:
            raise SystemExit(f"--judge needs a language model, but {why}")
        for r in self.records:
            q = questions.get(r["id"]) or {}
            if q.get("answers") and not r["abstained"]:
                r["judge"] = judge(llm, r["question"], q["answers"][0], r["answer"])

    def close(self) -> None:
        self.agent.close()


def summarise(records: Sequence[dict[str, Any]], systems: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for system in systems:
        mine = [r for r in records if r["system"] == system]
        if not mine:
            continue
        by_comp: dict[str, list[bool]] = defaultdict(list)
        for r in mine:
            by_comp[r["competency"] or "all"].append(r["correct"])
        recalls = [r["evidence_recall"] for r in mine if r["evidence_recall"] is not None]
        ious = [r["best_iou"] for r in mine if r["best_iou"] is not None]
        firsts = [r["first_hit"] for r in mine if r["first_hit"] is not None]
        abstained = [r for r in mine if r["abstained"]]
        unanswerable = [r for r in mine if r["competency"] == "unanswerable"]
        judged = [r["judge"] for r in mine if "judge" in r]
        times = [r["seconds"] for r in mine]
        out[system] = {
            "accuracy": round(sum(r["correct"] for r in mine) / len(mine), 3),
            "by_competency": {c: round(sum(v) / len(v), 3) for c, v in sorted(by_comp.items())},
            "evidence_recall_at_3": round(statistics.mean(recalls), 3) if recalls else None,
            "first_evidence_hit": round(sum(firsts) / len(firsts), 3) if firsts else None,
            "temporal_iou": round(statistics.mean(ious), 3) if ious else None,
            "abstention_precision": round(sum(r["competency"] == "unanswerable" for r in abstained) / len(abstained), 3) if abstained else None,
            "abstention_recall": round(sum(r["abstained"] for r in unanswerable) / len(unanswerable), 3) if unanswerable else None,
            "llm_judge_accuracy": round(sum(judged) / len(judged), 3) if judged else None,
            "ask_p50_s": round(statistics.median(times), 3), "ask_p95_s": round(_pct(times, 0.95), 3),
            "questions": len(mine),
        }
    return out


def table(summary: dict[str, Any]) -> str:
    """Accuracy per competency (rows) and system (columns), then evidence and latency rows."""
    systems = list(summary)
    comps = sorted({c for s in summary.values() for c in s["by_competency"]})
    width = max([len(c) for c in comps] + [22])
    head = f"{'':{width}}  " + "  ".join(f"{s:>10}" for s in systems)
    lines = [head, "-" * len(head)]

    def row(label: str, values: list[Any], fmt: str = "{:>10.2f}") -> None:
        cells = ["{:>10}".format("-") if v is None else fmt.format(v) for v in values]
        lines.append(f"{label:{width}}  " + "  ".join(cells))

    for c in comps:
        row(c, [summary[s]["by_competency"].get(c) for s in systems])
    lines.append("-" * len(head))
    row("accuracy (all)", [summary[s]["accuracy"] for s in systems])
    row("evidence recall@3", [summary[s]["evidence_recall_at_3"] for s in systems])
    row("first evidence hit", [summary[s]["first_evidence_hit"] for s in systems])
    row("temporal IoU", [summary[s]["temporal_iou"] for s in systems])
    row("abstention precision", [summary[s]["abstention_precision"] for s in systems])
    row("llm judge", [summary[s]["llm_judge_accuracy"] for s in systems])
    row("ask p50 (s)", [summary[s]["ask_p50_s"] for s in systems])
    row("ask p95 (s)", [summary[s]["ask_p95_s"] for s in systems])
    return "\n".join(lines)


def gains(summary: dict[str, Any], ours: str = "agent") -> dict[str, dict[str, float]]:
    """mmagent's accuracy gain over each baseline, per competency (points of accuracy)."""
    if ours not in summary:
        return {}
    out = {}
    for other, s in summary.items():
        if other == ours:
            continue
        out[other] = {c: round(v - s["by_competency"].get(c, 0.0), 3) for c, v in summary[ours]["by_competency"].items()}
    return out


# -- suites ----------------------------------------------------------------------------------


def _run_suite(args: argparse.Namespace, suite_dir: Path, truth: dict[str, Any], media: str) -> tuple[Run, dict[str, Any]]:
    """Index the suite's media into a new store, ask every question with every system."""
    store = Path(tempfile.mkdtemp(prefix="store-", dir=suite_dir))
    run = Run(store, args.systems, _overrides(args))
    try:
        indexing = run.index(suite_dir / media)
        for q in truth["questions"]:
            for system in args.systems:
                run.ask(system, q, indexing["source_id"], now=truth.get("now"))
        if args.judge:
            run.judge_all({q["id"]: q for q in truth["questions"]})
    finally:
        run.close()
    return run, indexing


def run_longvideo(args: argparse.Namespace) -> dict[str, Any]:
    from bench.suites.longvideo import render

    minutes = args.hours * 60 if args.hours else args.minutes
    suite_dir = args.work / f"longvideo-{minutes:g}m-seed{args.seed}"
    truth_file = suite_dir / "truth.json"
    began = time.perf_counter()
    truth = json.loads(truth_file.read_text()) if truth_file.is_file() else render(suite_dir, minutes, args.seed)
    build_s = time.perf_counter() - began
    run, indexing = _run_suite(args, suite_dir, truth, truth["video"])
    return _report("longvideo", args, run, indexing, {"minutes": minutes, "duration_s": truth["duration"],
                                                      "build_s": round(build_s, 1)})


def run_screen(args: argparse.Namespace) -> dict[str, Any]:
    from bench.suites.screen import render

    suite_dir = args.work / f"screen-seed{args.seed}"
    truth_file = suite_dir / "truth.json"
    truth = json.loads(truth_file.read_text()) if truth_file.is_file() else render(suite_dir, args.seed)
    run, indexing = _run_suite(args, suite_dir, truth, truth["folder"])
    return _report("screen", args, run, indexing, {"captures": truth["captures"]})


def run_format(args: argparse.Namespace) -> dict[str, Any]:
    from bench import formats

    if not args.annotations or not args.videos:
        raise SystemExit(f"{args.suite} needs --annotations FILE and --videos DIR")
    items, missing = formats.load(args.suite, args.annotations, args.videos)
    if args.limit:
        items = items[: args.limit]
    if not items:
        raise SystemExit(f"none of the annotated videos is in {args.videos} ({missing} missing)")
    store = Path(tempfile.mkdtemp(prefix=f"store-{args.suite}-", dir=args.work))
    run = Run(store, args.systems, _overrides(args))
    indexing: dict[str, Any] = {}
    try:
        pick = formats.option_picker(run.agent.embedder)
        for item in items:
            if item.video not in indexing:
                indexing[item.video] = run.index(Path(item.video))
            q = item.question_dict()
            for system in args.systems:
                run.ask(system, q, indexing[item.video]["source_id"], pick=pick)
        if args.judge:
            run.judge_all({i.id: i.question_dict() for i in items})
    finally:
        run.close()
    durations = [v["duration_s"] for v in indexing.values()]
    summary_index = {"videos": len(indexing), "hours": round(sum(durations) / 3600, 2),
                     "index_s": round(sum(v["index_s"] for v in indexing.values()), 1),
                     "peak_rss_mb": max(v["peak_rss_mb"] for v in indexing.values())}
    return _report(args.suite, args, run, summary_index, {"missing_videos": missing, "questions": len(items)})


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"llm": "none"} if getattr(args, "no_llm", False) else {}


def _report(suite: str, args: argparse.Namespace, run: Run, indexing: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    summary = summarise(run.records, args.systems)
    return {
        "suite": suite, "seed": getattr(args, "seed", None), "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} cores", "llm": run.settings.llm if run.settings.llm == "none"
        else (run.settings.llm_model or "SmolLM2-135M-Instruct (bundled)"),
        **extra, "indexing": indexing, "summary": summary, "gain_of_agent": gains(summary),
        "records": run.records, "command": " ".join(["python -m bench", *sys.argv[1:]]) if sys.argv else "",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mmagent bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", choices=["longvideo", "screen", "m3bench", "mlvu", "videomme"])
    parser.add_argument("--minutes", type=float, default=5.0, help="longvideo: footage length (default 5)")
    parser.add_argument("--hours", type=float, help="longvideo: footage length in hours")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", default="agent,single,transcript", help=f"comma-separated: {', '.join(SYSTEMS)}")
    parser.add_argument("--annotations", type=Path, help="m3bench / mlvu / videomme: the annotation file")
    parser.add_argument("--videos", type=Path, help="m3bench / mlvu / videomme: the folder of videos")
    parser.add_argument("--limit", type=int, help="at most N questions")
    parser.add_argument("--judge", action="store_true", help="also grade answers with the configured LLM")
    parser.add_argument("--no-llm", action="store_true", help="no language model (extractive answers)")
    parser.add_argument("--work", type=Path, help="where suites are built and indexed (default: a cache folder)")
    parser.add_argument("--out", type=Path, help="the JSON report (default: bench/results/SUITE.json)")
    args = parser.parse_args(argv)
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if args.work is None:
        from platformdirs import user_cache_dir

        args.work = Path(os.environ.get("MMAGENT_CACHE") or user_cache_dir("mmagent")) / "bench"
    args.work.mkdir(parents=True, exist_ok=True)
    runner = {"longvideo": run_longvideo, "screen": run_screen}.get(args.suite, run_format)
    report = runner(args)
    out = args.out or Path(__file__).resolve().parent / "results" / f"{args.suite}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(table(report["summary"]))
    ix = report["indexing"]
    if "real_time_factor" in ix:
        print(f"indexing: {ix['duration_s']} s of footage in {ix['index_s']} s ({ix['real_time_factor']}x real time), "
              f"peak RSS {ix['peak_rss_mb']} MB, store {ix['store_mb_per_hour']} MB/hour")
        print("stages (x real time): " + ", ".join(f"{k} {v}" for k, v in ix["stage_real_time_factor"].items()))
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
