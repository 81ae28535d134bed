"""Scoring answers and evidence against ground truth.

- Answer accuracy: normalised containment (lowercase, number words as digits, digits joined so
  "6 6 0 4" meets "6604", punctuation dropped): any acceptable answer in the reply (all of
  them for a summary), and none of the wrong ones. Unanswerable questions are right when the
  system abstained.
- Evidence: recall@k (share of ground-truth spans overlapped by one of the first k evidence
  items), the first item's hit, and the best temporal IoU.
- Abstention precision: of the questions a system abstained on, the share that were unanswerable.
- An optional LLM judge (any configured backend) for free-form answers, reported separately.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memory import keywords


def normalise(text: str) -> str:
    words = keywords.normalise(text).split()
    joined = re.sub(r"(?<=\d) (?=\d)", "", " ".join(words))  # "6 6 0 4" → "6604"
    return f" {joined} "


def contains(reply: str, expected: str) -> bool:
    want = normalise(expected).strip()
    if not want:
        return False
    got = normalise(reply)
    return f" {want} " in got or (want.isdigit() and want in got.replace(" ", ""))


def overlap(a: Sequence[float], b: Sequence[float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter = overlap(a, b)
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Score:
    correct: bool
    abstained: bool
    evidence_recall: float | None  # None: the question has no evidence spans
    first_hit: bool | None
    best_iou: float | None

    def to_json(self) -> dict[str, Any]:
        return {"correct": self.correct, "abstained": self.abstained, "evidence_recall": self.evidence_recall,
                "first_hit": self.first_hit, "best_iou": None if self.best_iou is None else round(self.best_iou, 3)}


def score(question: dict[str, Any], answer: str, abstained: bool, evidence: Sequence[Sequence[float]],
          k: int = 3, same_source: Sequence[bool] | None = None) -> Score:
    """``evidence``: (start, end) of each cited item, best first; ``same_source``: whether each
    is from the question's video (items from other sources never count as hits)."""
    spans = question.get("evidence") or []
    ok = list(same_source) if same_source is not None else [True] * len(evidence)
    cited = [e for e, good in zip(evidence, ok) if good]
    top = [e for e, good in list(zip(evidence, ok))[:k] if good]
    recall = first = best = None
    if spans:
        recall = sum(any(overlap(s, e) > 0 for e in top) for s in spans) / len(spans)
        first = bool(evidence) and ok[0] and any(overlap(s, evidence[0]) > 0 for s in spans)
        best = max((iou(s, e) for s in spans for e in cited), default=0.0)
    check = question.get("check", "contains")
    if check == "abstain":
        correct = abstained
    elif abstained:
        correct = False
    elif check == "evidence":
        correct = bool(first)
    elif check == "all":  # a summary: every expected point is in it
        correct = all(contains(answer, a) for a in question["answers"])
    else:
        correct = any(contains(answer, a) for a in question["answers"])
    if correct and any(contains(answer, w) for w in question.get("wrong", ())):
        correct = False
    return Score(correct, abstained, recall, first, best)


def judge(llm: Any, question: str, reference: str, reply: str) -> bool:
    """An LLM's verdict on a free-form answer (yes / no)."""
    from models.base import ChatMessage

    conversation = [
        ChatMessage("system", "You grade answers. Reply with one word: yes or no."),
        ChatMessage("user", f"Question: {question}\nReference answer: {reference}\nCandidate answer: {reply}\n"
                            "Does the candidate answer agree with the reference?"),
    ]
    return llm.generate(conversation, 4).strip().lower().startswith("yes")
