"""The development QA sets made from material nobody here wrote: real screenshots with human
questions, and a composite of real video clips with their own transcripts.

    python -m bench.devqa [--set screens|video|all] [--systems agent,single,transcript] [--out FILE]

Data is read from ``../shared/data/qa`` (``$MMAGENT_SHARED_DATA/qa``), never copied. Each set is
indexed through the real pipeline into a store cached under ``/tmp/devqa-stores`` (or
``--stores``), keyed by a hash of the code that makes stores (perception, models, memory's reduce
stage), so reruns only ask. Every question goes through the real ``ask`` path of each system
(bench/harness.py's :class:`Run`).

Scores, per set, system and question ``kind``:
- accuracy: the answer contains one of ``expect`` (normalised as bench/score.py does); an
  ``@abstain`` question is right when the system answered "Not found in memory.";
- span exactness (answerable questions): right, and short — at most twice the words of the
  longest ``expect`` (at least 3 words);
- evidence hit@3 (answerable questions): for video, one of the first three evidence spans overlaps
  the question's ``span``; for screens, one of the first three evidence items cites its ``image``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import Run

ROOT = Path(__file__).resolve().parent.parent
SETS = ("screens", "video")
# the code a store depends on: a change here re-indexes, a change anywhere else only re-asks
_STORE_CODE = ("perception", "models", "memory/episodic.py", "memory/reduce.py", "memory/entities.py",
               "memory/entity_options.py", "memory/facts.py", "memory/claims.py", "memory/claim_values.py",
               "memory/values.py", "memory/nlp.py", "memory/names.py", "memory/records.py", "memory/keywords.py",
               "memory/store.py", "memory/store_folder.py", "memory/edge.py", "memory/semantic.py",
               "mmagent/pipeline.py", "mmagent/settings.py")


def data_dir() -> Path:
    shared = os.environ.get("MMAGENT_SHARED_DATA")
    return Path(shared) if shared else ROOT.parent / "shared" / "data"


def code_key() -> str:
    h = hashlib.sha256()
    for name in _STORE_CODE:
        path = ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            if f.is_file():
                h.update(str(f.relative_to(ROOT)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:12]


def load(which: str) -> tuple[Path, list[dict[str, Any]], float | None]:
    """The media to index, the questions in the harness's form, and the "now" of the questions."""
    qa = data_dir() / "qa"
    if which == "screens":
        folder = qa / "screens-dev" / "shots"
        raw = json.loads((qa / "screens-dev" / "questions.json").read_text())
        times = [json.loads(p.read_text())["time"] for p in folder.glob("*.json")]
        from datetime import datetime

        now = max(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in times) + 3600
        media = folder
    else:
        media = qa / "video-dev" / "composite.mp4"
        raw = json.loads((qa / "video-dev" / "questions.json").read_text())["video"]
        now = None
    questions = []
    for q in raw:
        abstain = q["expect"] == ["@abstain"]
        item: dict[str, Any] = {"id": q["id"], "question": q["q"], "answers": q["expect"], "competency": q["kind"],
                                "check": "abstain" if abstain else "contains"}
        if which == "screens" and q.get("image") and not abstain:
            item["files"] = [q["image"]]
        if which == "video" and q.get("span") and not abstain:
            item["evidence"] = [q["span"]]
        questions.append(item)
    return media, questions, now


def exact(answer: str, expect: Sequence[str], correct: bool) -> bool:
    longest = max(len(e.split()) for e in expect)
    return correct and len(answer.split()) <= max(3, 2 * longest)


def run_set(which: str, systems: Sequence[str], stores: Path) -> dict[str, Any]:
    media, questions, now = load(which)
    if not media.exists():
        raise SystemExit(f"{media} is missing: the dev sets live in ../shared/data/qa (see its SOURCES.md)")
    store = stores / f"{which}-{code_key()}"
    run = Run(store, systems)
    began = time.perf_counter()
    try:
        indexing = run.index(media)
        print(f"[{which}] indexed in {time.perf_counter() - began:.0f} s ({store})", file=sys.stderr)
        for q in questions:
            for system in systems:
                r = run.ask(system, q, indexing["source_id"], now=now)
                r["kind"] = q["competency"]
                r["expect"] = q["answers"]
                answerable = q["check"] != "abstain"
                r["exact"] = exact(r["answer"], q["answers"], r["correct"]) if answerable else None
                r["hit3"] = (r["evidence_recall"] or 0.0) > 0 if answerable else None
                print(f"[{which}] {system:10} {q['id']} {'ok ' if r['correct'] else 'BAD'} {r['answer'][:100]!r}",
                      file=sys.stderr)
    finally:
        run.close()
    return {"store": str(store), "indexing": indexing, "summary": summarise(run.records, systems),
            "records": run.records}


def _rate(values: Sequence[bool | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 3) if kept else None


def summarise(records: Sequence[dict[str, Any]], systems: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for system in systems:
        mine = [r for r in records if r["system"] == system]
        kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in mine:
            kinds[r["kind"]].append(r)
        answerable = [r for r in mine if r["exact"] is not None]
        row = lambda rs: {"n": len(rs), "accuracy": _rate([r["correct"] for r in rs]),  # noqa: E731
                          "exact": _rate([r["exact"] for r in rs]), "hit3": _rate([r["hit3"] for r in rs])}
        out[system] = {"all": row(mine), "answerable": row(answerable),
                       "abstain": row([r for r in mine if r["exact"] is None]),
                       "by_kind": {k: row(v) for k, v in sorted(kinds.items())}}
    return out


def table(which: str, summary: dict[str, Any]) -> str:
    systems = list(summary)
    kinds = sorted({k for s in summary.values() for k in s["by_kind"]})
    head = f"{which:18} {'n':>3}  " + "  ".join(f"{s + ' acc/exact/hit3':>24}" for s in systems)
    lines = [head, "-" * len(head)]

    def cell(v: dict[str, Any]) -> str:
        f = lambda x: "   -" if x is None else f"{x:4.2f}"  # noqa: E731
        return f"{f(v['accuracy'])} / {f(v['exact'])} / {f(v['hit3'])}"

    def row(label: str, get: Any) -> None:
        first = get(summary[systems[0]])
        lines.append(f"{label:18} {first['n']:>3}  " + "  ".join(f"{cell(get(summary[s])):>24}" for s in systems))

    for k in kinds:
        row(k, lambda s, k=k: s["by_kind"][k])
    lines.append("-" * len(head))
    row("answerable", lambda s: s["answerable"])
    row("abstain", lambda s: s["abstain"])
    row("all", lambda s: s["all"])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.devqa", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="all", choices=[*SETS, "all"])
    parser.add_argument("--systems", default="agent,single,transcript")
    parser.add_argument("--stores", type=Path, default=Path("/tmp/devqa-stores"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "devqa.json")
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    args.stores.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = json.loads(args.out.read_text()) if args.out.is_file() else {}
    for which in SETS if args.set == "all" else (args.set,):
        result = run_set(which, systems, args.stores)
        report[which] = {"date": time.strftime("%Y-%m-%d %H:%M"), "systems": systems,
                         "command": "python -m bench.devqa " + " ".join(sys.argv[1:] if argv is None else argv),
                         **result}
        print(table(which, result["summary"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
