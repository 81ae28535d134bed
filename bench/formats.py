"""Loaders for public long-video QA benchmarks, so users with the videos can run them here:
``python -m bench m3bench|mlvu|videomme --annotations FILE --videos DIR``.

- **M3-Bench** (``robot.json`` / ``web.json`` of ByteDance-Seed/m3-agent): ``{video_key: {"video_path",
  "qa_list": [{"question", "answer", "question_id", "timestamp": "MM:SS", "type": [...],
  "before_clip": N}]}}``. Free-form answers. A question is asked as of its ``timestamp`` (the
  moment it is posed in the video: nothing later is visible — M3-Bench's time-causal setting).
- **MLVU** (dev json): ``[{"video", "question", "candidates": [...], "answer", "question_type"}]``.
- **Video-MME** (the annotation table as JSON or JSON lines): ``{"videoID", "question",
  "options": ["A. ...", ...], "answer": "A", "task_type", "duration"}``.

Multiple-choice questions are answered by the system in free form; the option closest in
meaning to its answer and cited evidence is its choice (``option_picker``). A video named in
the annotations but not found in ``--videos`` is counted as missing, never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov")


@dataclass(frozen=True)
class Item:
    id: str
    video: str  # path of the video file
    question: str
    answer: str  # the reference: free-form text, or the correct option's text
    competency: str
    options: tuple[str, ...] = ()
    before: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def question_dict(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.question, "answers": [self.answer], "competency": self.competency,
                "options": list(self.options), "before": self.before, "evidence": [], "check": "contains"}


def _find(videos: Path, name: str) -> Path | None:
    stem = Path(name).stem
    for candidate in (videos / Path(name).name, *(videos / f"{stem}{s}" for s in VIDEO_SUFFIXES)):
        if candidate.is_file():
            return candidate
    return None


def _clock(value: str | None) -> float | None:
    if not value:
        return None
    parts = [float(p) for p in str(value).split(":")]
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def m3bench(annotations: Path, videos: Path) -> tuple[list[Item], int]:
    data = json.loads(annotations.read_text())
    items, missing = [], 0
    for key, entry in data.items():
        path = _find(videos, Path(entry.get("video_path") or key).name)
        if path is None:
            missing += 1
            continue
        for qa in entry.get("qa_list", []):
            kinds = qa.get("type") or ["m3bench"]
            items.append(Item(qa.get("question_id") or f"{key}#{len(items)}", str(path), qa["question"],
                              str(qa["answer"]).rstrip("."), "_".join(kinds[0].lower().split()),
                              before=_clock(qa.get("timestamp")), extra={"types": kinds}))
    return items, missing


def mlvu(annotations: Path, videos: Path) -> tuple[list[Item], int]:
    data = json.loads(annotations.read_text())
    items, missing = [], 0
    seen_missing: set[str] = set()
    for k, qa in enumerate(data):
        path = _find(videos, qa["video"])
        if path is None:
            if qa["video"] not in seen_missing:
                seen_missing.add(qa["video"])
                missing += 1
            continue
        items.append(Item(str(qa.get("question_id", k)), str(path), qa["question"], str(qa["answer"]),
                          qa.get("question_type", "mlvu"), tuple(map(str, qa.get("candidates", ())))))
    return items, missing


_LETTER = re.compile(r"^\s*([A-Z])[.)]\s*")


def videomme(annotations: Path, videos: Path) -> tuple[list[Item], int]:
    text = annotations.read_text()
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x.strip()]
    items, missing = [], 0
    seen_missing: set[str] = set()
    for k, row in enumerate(rows):
        name = row.get("videoID") or row.get("video_id")
        path = _find(videos, str(name))
        if path is None:
            if name not in seen_missing:
                seen_missing.add(str(name))
                missing += 1
            continue
        options = tuple(_LETTER.sub("", o) for o in row["options"])
        letters = [(_LETTER.match(o).group(1) if _LETTER.match(o) else chr(65 + i)) for i, o in enumerate(row["options"])]
        answer = options[letters.index(row["answer"])] if row["answer"] in letters else str(row["answer"])
        items.append(Item(str(row.get("question_id", k)), str(path), row["question"], answer,
                          "_".join(str(row.get("task_type", "videomme")).lower().split()), options,
                          extra={"duration": row.get("duration")}))
    return items, missing


LOADERS: dict[str, Callable[[Path, Path], tuple[list[Item], int]]] = {"m3bench": m3bench, "mlvu": mlvu, "videomme": videomme}


def load(suite: str, annotations: Path, videos: Path) -> tuple[list[Item], int]:
    if not annotations.is_file():
        raise SystemExit(f"no annotation file at {annotations}")
    if not videos.is_dir():
        raise SystemExit(f"no folder of videos at {videos}")
    return LOADERS[suite](annotations, videos)


def option_picker(embedder: Any) -> Callable[[str, Sequence[str]], str]:
    """The option closest in meaning to a system's answer and evidence (words shared count too)."""
    from memory import keywords

    def pick(text: str, options: Sequence[str]) -> str:
        vectors = embedder.embed_batch([text, *options])
        cos = vectors[1:] @ vectors[0]
        words = keywords.terms(text)
        overlap = [len(keywords.terms(o) & words) / max(1, len(keywords.terms(o))) for o in options]
        best = max(range(len(options)), key=lambda i: cos[i] + 0.5 * overlap[i])
        return options[best]

    return pick
