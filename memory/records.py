"""Memory records: what goes into the store, one point each."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 2  # 1: episodic clip memories only; 2: + key, sources, parent / children, attrs
_NAMESPACE = uuid.UUID("6f1c2a52-3f43-4c8e-9a57-6d2f1f7f0b11")


@dataclass(frozen=True)
class Snippet:
    """A citable piece of a memory: one spoken sentence or one on-screen line, with its time."""

    start: float
    end: float
    text: str
    modality: str  # "speech" | "screen" | "sound" (music heard: memory/episodic.sound_snippets)
    image: str | None = None  # screen sources: the screenshot file that shows it
    speaker: str | None = None  # speech: the stable voice id (``voice_3``) of who said it
    flags: tuple[str, ...] = ()  # provenance: "instruction" = reads as a command to the assistant (memory/instructions.py)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text, "modality": self.modality}
        if self.image:
            d["image"] = self.image
        if self.speaker:
            d["speaker"] = self.speaker
        if self.flags:
            d["flags"] = list(self.flags)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Snippet:
        flags = d.get("flags")
        return cls(float(d["start"]), float(d["end"]), str(d["text"]), str(d["modality"]), d.get("image"),
                   d.get("speaker"), tuple(str(f) for f in flags) if isinstance(flags, list) else ())


KINDS = ("episodic", "semantic", "visual", "entity")
LEVELS = {
    "episodic": ("clip", "scene", "hour", "day"),
    "semantic": ("fact",),
    "visual": ("keyframe", "face"),
    "entity": ("face", "voice", "person"),
}


@dataclass(frozen=True)
class MemoryRecord:
    """One point. ``key``: when set, the id comes from (kind, key) alone, so the point is updated
    in place (entities, facts); otherwise from source, span, kind and content. ``sources``: every
    source that contributed (``forget`` uses it); ``parent`` / ``children``: the episodic levels
    (clip → scene → hour → day); ``attrs``: what the kind needs (a fact's support, an entity's
    names and statistics)."""

    kind: str  # one of KINDS
    level: str  # one of LEVELS[kind]
    source_id: str
    t_start: float
    t_end: float
    text: str
    path: str = ""
    entity_ids: tuple[str, ...] = ()
    wall_time: float | None = None
    snippets: tuple[Snippet, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    key: str = ""
    sources: tuple[str, ...] = ()
    parent: str | None = None
    children: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sources and self.source_id:
            object.__setattr__(self, "sources", (self.source_id,))

    @property
    def id(self) -> str:
        """Deterministic: the same source, span, kind and content give the same point id."""
        if self.key:
            return key_id(self.kind, self.key)
        content = hashlib.sha256(self.text.encode()).hexdigest()[:16]
        key = f"{self.source_id}|{self.kind}|{self.level}|{self.t_start:.3f}|{self.t_end:.3f}|{content}"
        return str(uuid.uuid5(_NAMESPACE, key))

    def payload(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "level": self.level,
            "source_id": self.source_id,
            "path": self.path,
            "t_start": self.t_start,
            "t_end": self.t_end,
            "wall_time": self.wall_time,
            "entity_ids": list(self.entity_ids),
            "text": self.text,
            "snippets": [s.to_json() for s in self.snippets],
            "provenance": self.provenance,
            "schema_version": self.schema_version,
            "key": self.key,
            "sources": list(self.sources),
            "parent": self.parent,
            "children": list(self.children),
            "attrs": self.attrs,
        }

    @classmethod
    def from_payload(cls, p: dict[str, Any]) -> MemoryRecord:
        return cls(
            kind=p["kind"],
            level=p["level"],
            source_id=p["source_id"],
            t_start=float(p["t_start"]),
            t_end=float(p["t_end"]),
            text=p["text"],
            path=p.get("path", ""),
            entity_ids=tuple(p.get("entity_ids") or ()),
            wall_time=p.get("wall_time"),
            snippets=tuple(Snippet.from_json(s) for s in p.get("snippets") or ()),
            provenance=p.get("provenance") or {},
            schema_version=int(p.get("schema_version", SCHEMA_VERSION)),
            key=p.get("key") or "",
            sources=tuple(p.get("sources") or ()),
            parent=p.get("parent"),
            children=tuple(p.get("children") or ()),
            attrs=p.get("attrs") or {},
        )


def key_id(kind: str, key: str) -> str:
    """The point id of a keyed record (an entity, a fact)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}#{key}"))
