"""How the question table reads questions other people wrote: M3-Bench's robot split (1,276
human-written questions with their answers, ``../shared/data/qa/m3-bench/robot.json``; the videos
are not needed). The answers say what kind of answer was wanted, so they check the kind the parse
gives, without running the agent:

- a "Yes." / "No." answer wants a yes / no question (or a choice whose alternatives are yes and no);
- a bare number wants "how many" (or "how many times");
- a question offering two alternatives ("is it in the corner or in the middle?") must be a choice
  (never yes / no), and its answer should name one of the two parsed alternatives.

    python -m bench.question_kinds [--out FILE]

Prints a JSON document: counts per kind, agreement per check, and the misses (a benchmark, no
gates; tests/retrieval/test_question_kinds.py holds the floor).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.devqa import data_dir

_YES_NO = re.compile(r"^(yes|no)\b", re.IGNORECASE)
_NUMBER = re.compile(r"^(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\.?$", re.IGNORECASE)


def questions(path: Path | None = None) -> list[dict[str, Any]]:
    data = json.loads((path or data_dir() / "qa" / "m3-bench" / "robot.json").read_text())
    return [qa for video in data.values() for qa in video["qa_list"]]


def check(items: list[dict[str, Any]]) -> dict[str, Any]:
    from memory.keywords import terms
    from retrieval.question import parse

    kinds: Counter[str] = Counter()
    rows = {"yes_no_answers_read_as_yes_no": [0, 0], "number_answers_read_as_counts": [0, 0],
            "other_answers_not_read_as_yes_no": [0, 0], "choice_answers_name_an_alternative": [0, 0]}
    misses: dict[str, list[str]] = {k: [] for k in rows}
    began = time.perf_counter()
    for qa in items:
        text, answer = qa["question"], qa["answer"].strip()
        q = parse(text)
        kinds[q.kind] += 1

        def tally(row: str, ok: bool) -> None:
            rows[row][1] += 1
            rows[row][0] += ok
            if not ok and len(misses[row]) < 20:
                misses[row].append(f"{text} -> {q.kind} {list(q.options)} (answer: {answer})")

        if _YES_NO.match(answer):
            tally("yes_no_answers_read_as_yes_no", q.kind in ("yes_no", "choice"))
        else:
            tally("other_answers_not_read_as_yes_no", q.kind != "yes_no")
        if _NUMBER.match(answer):
            tally("number_answers_read_as_counts", q.kind in ("how_many", "how_many_times"))
        if q.kind == "choice":
            said = terms(answer)
            tally("choice_answers_name_an_alternative", any(terms(o) & said for o in q.options))
    return {
        "questions": len(items), "seconds": round(time.perf_counter() - began, 1),
        "kinds": dict(kinds.most_common()),
        "agreement": {k: {"right": r, "of": n, "rate": round(r / n, 3) if n else None} for k, (r, n) in rows.items()},
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.question_kinds", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    doc = check(questions())
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
