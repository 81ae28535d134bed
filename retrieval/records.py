"""Records owned by retrieval: the answer and the evidence it cites (DESIGN.md's JSON contract)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Evidence:
    source_id: str
    path: str
    start: float
    end: float
    kind: str  # memory kind: "episodic"
    memory_id: str
    text: str
    score: float
    modality: str = ""  # "speech" | "screen"
    wall_time: float | None = None  # screen sources: wall-clock time (epoch seconds) of ``start``
    image: str | None = None  # screen sources: the screenshot that shows it
    flags: tuple[str, ...] = ()  # provenance: "instruction" = it reads as a command to the assistant (not followed)


@dataclass(frozen=True)
class Answer:
    answer: str
    evidence: tuple[Evidence, ...]
    rounds: int
    mode: str  # "llm" | "extractive" | "counted" | "not_found"
    note: str = ""
    steps: tuple[Any, ...] = ()  # the agent's typed steps (retrieval.agent.Step), for --trace

    @property
    def found(self) -> bool:
        return self.mode != "not_found"

    def to_json(self, trace: bool = False) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "evidence": [asdict(e) for e in self.evidence],
            "rounds": self.rounds,
            "mode": self.mode,
            "note": self.note,
            **({"trace": [s.to_json() for s in self.steps]} if trace else {}),
        }
