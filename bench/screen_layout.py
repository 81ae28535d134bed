"""Layout reading per capture, retrieval left out: for each answerable screens-dev question, the
span finder (retrieval/spans.py) reads the capture the question is about — its title, its layout
lines (perception/layout.py) and its raw OCR lines, as the memory stores them — and the answer is
scored as bench/devqa.py does. It shows what the layout gives when the right capture is found.

    python -m bench.screen_layout [--raw]     # --raw: the raw OCR lines only (no layout)

Real OCR (RapidOCR) on ``../shared/data/qa/screens-dev/shots``; prints per-kind counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence

from bench.devqa import data_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screen_layout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", action="store_true", help="the raw OCR lines only, no layout lines")
    args = parser.parse_args(argv)
    import models
    from perception import layout
    from perception.records import OcrLine
    from perception.screens import load_image
    from retrieval.question import parse
    from retrieval.spans import Piece, find

    qa = data_dir() / "qa" / "screens-dev"
    if not qa.is_dir():
        raise SystemExit(f"{qa} is missing: the dev sets live in ../shared/data/qa")
    ocr = models.create("ocr", "rapidocr")
    questions = [q for q in json.loads((qa / "questions.json").read_text()) if q["image"] and q["expect"] != ["@abstain"]]
    pieces: dict[str, Piece] = {}
    right: dict[str, list[bool]] = defaultdict(list)
    for q in questions:
        name = q["image"]
        if name not in pieces:
            image, why = load_image(qa / "shots" / name, 1920)
            if image is None:
                raise SystemExit(f"{name}: {why}")
            lines = [OcrLine(0.0, b.text, b.score, b.box) for b in ocr.read(image)]
            meta = json.loads((qa / "shots" / name).with_suffix(".json").read_text())
            title = " - ".join(x for x in (meta.get("app"), meta.get("window")) if x)
            read = [] if args.raw else list(layout.read(lines, image).lines())
            pieces[name] = Piece(f"[{title}] " + " | ".join([*read, *(x.text for x in lines)]), "screen")
        found = find(parse(q["q"]), [pieces[name]])
        answer = " ".join((found.text if found else "").lower().split())
        ok = bool(answer) and any(e in answer for e in q["expect"])
        right[q["kind"]].append(ok)
        print(f"{q['id']} {q['kind']:9} {'ok ' if ok else 'BAD'} {answer[:60]!r}", file=sys.stderr)
    for kind, oks in sorted(right.items()):
        print(f"{kind:10} {sum(oks):>2} / {len(oks)}")
    print(f"{'all':10} {sum(sum(v) for v in right.values()):>2} / {sum(len(v) for v in right.values())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
