"""Entities: stable face and voice identities across clips and sources, and the persons they form.

Identities
    Face tracks and voice turns of each clip are matched, in time order, to the nearest live
    entity of their kind (faces: Euclidean distance of dlib embeddings to the entity's mean;
    voices: cosine of GE2E embeddings to the entity's mean); no match under the threshold starts
    a new entity. Ids (``face_N``, ``voice_N``, ``person_N``) are never renumbered: the next
    number is one past the largest in use, so only a forgotten entity's number can come back.

    Each entity keeps its statistics per source (embedding sum and count, appearance spans, name
    evidence, co-occurrences), so ``forget SOURCE`` subtracts exactly what that source added and
    re-adding it gives the same memory. After a source, two entities of a kind whose means
    came within the threshold are merged: the younger records ``merged_into`` (and which source
    caused it; forgetting that source undoes the merge) and queries follow it.

Persons and names
    Faces and voices linked into persons, and the persons' names: :mod:`memory.persons`; the
    match thresholds, per voice model: :mod:`memory.entity_options`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memory.entity_options import EntityOptions
from memory.persons import Person, Persons, person_attrs, person_text
from memory.records import MemoryRecord
from memory.store import MemoryStore, Scope
from models.base import FloatArray

__all__ = ["USER", "ClipIds", "Entity", "EntityRegistry", "Person", "relabel"]

USER = "user"  # the pseudo-source of what the user told us (enrolled photos, renames)


@dataclass
class Entity:
    id: str
    kind: str  # "face" | "voice"
    person: str  # birth person id
    stats: dict[str, list[Any]] = field(default_factory=dict)  # source -> [count, sum vector]
    spans: dict[str, list[list[float]]] = field(default_factory=dict)  # source -> [[start, end], ...]
    names: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # source -> [{name, t, how, text}]
    cooccur: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # voices: source -> face -> [seconds, turns]
    merged_into: str | None = None
    merged_by: str | None = None  # the source whose indexing caused the merge
    # diarized voices: source -> [[start, end], ...], every stretch of that source the diarizer gave
    # this voice (speech with or without words): what ``transcript --format rttm`` prints
    turns: dict[str, list[list[float]]] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return int(self.id.rsplit("_", 1)[1])

    def count(self) -> float:
        return float(sum(c for c, _ in self.stats.values()))

    def total(self) -> FloatArray:
        return np.sum([np.asarray(s, dtype=np.float64) for _, s in self.stats.values()], axis=0)

    def sources(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.stats) | set(self.names)))

    def to_attrs(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "stats": {s: [c, [round(float(x), 7) for x in v]] for s, (c, v) in sorted(self.stats.items())},
            "spans": dict(sorted(self.spans.items())),
            "names": dict(sorted(self.names.items())),
            "cooccur": dict(sorted(self.cooccur.items())),
            "merged_into": self.merged_into,
            "merged_by": self.merged_by,
            **({"turns": dict(sorted(self.turns.items()))} if self.turns else {}),
        }

    @classmethod
    def from_record(cls, record: MemoryRecord) -> Entity:
        a = record.attrs
        return cls(
            record.key, record.level, a["person"],
            {s: [c, list(v)] for s, (c, v) in a.get("stats", {}).items()},
            {s: [list(x) for x in v] for s, v in a.get("spans", {}).items()},
            {s: list(v) for s, v in a.get("names", {}).items()},
            {s: {f: list(x) for f, x in v.items()} for s, v in a.get("cooccur", {}).items()},
            a.get("merged_into"), a.get("merged_by"),
            {s: [list(x) for x in v] for s, v in a.get("turns", {}).items()},
        )



@dataclass(frozen=True)
class ClipIds:
    """Stable ids of one clip's clip-local labels: face track ``f0`` → ``face_3``, voice ``v1`` →
    ``voice_2`` (the one that spoke most of that label's turns); ``turns``: each turn's own id."""

    faces: Mapping[str, str]
    voices: Mapping[str, str]
    turns: tuple[str | None, ...] = ()


class EntityRegistry(Persons):
    """Every face and voice entity of a store, in memory while a source is reduced."""

    def __init__(self, entities: Iterable[Entity] = (), options: EntityOptions = EntityOptions()) -> None:
        self.options = options
        self.entities: dict[str, Entity] = {e.id: e for e in entities}
        self._sums: dict[str, tuple[float, FloatArray]] | None = None  # root -> (count, sum), lazily

    @classmethod
    def load(cls, store: MemoryStore, options: EntityOptions = EntityOptions()) -> EntityRegistry:
        return cls.from_records(store.scroll(Scope(kind="entity")), options)

    @classmethod
    def from_records(cls, records: Iterable[MemoryRecord], options: EntityOptions = EntityOptions()) -> EntityRegistry:
        """From the store's entity points (person points are derived: skipped)."""
        return cls((Entity.from_record(r) for r in records if r.level in ("face", "voice")), options)

    # -- ids ---------------------------------------------------------------------------------

    def _next(self, prefix: str, used: Iterable[str]) -> str:
        numbers = [int(x.rsplit("_", 1)[1]) for x in used if x.startswith(prefix + "_")]
        return f"{prefix}_{max(numbers, default=0) + 1}"

    def _new(self, kind: str) -> Entity:
        entity = Entity(
            self._next(kind, self.entities), kind, self._next("person", (e.person for e in self.entities.values()))
        )
        self.entities[entity.id] = entity
        return entity

    def root(self, entity_id: str) -> str:
        seen = set()
        while (e := self.entities.get(entity_id)) is not None and e.merged_into and entity_id not in seen:
            seen.add(entity_id)
            entity_id = e.merged_into
        return entity_id

    def _roots(self, kind: str) -> list[Entity]:
        return [e for e in self.entities.values() if e.kind == kind and not e.merged_into]

    def _root_sums(self) -> dict[str, tuple[float, FloatArray]]:
        if self._sums is None:
            sums: dict[str, tuple[float, FloatArray]] = {}
            for e in self.entities.values():
                if e.stats:
                    r = self.root(e.id)
                    c, t = sums.get(r, (0.0, 0.0))
                    sums[r] = (c + e.count(), t + e.total())
            self._sums = sums
        return self._sums

    def _mean(self, root: Entity) -> FloatArray:
        count, total = self._root_sums()[root.id]
        return np.asarray(total) / max(count, 1e-9)

    def _distance(self, kind: str, vector: FloatArray, mean: FloatArray) -> float:
        if kind == "face":
            return float(np.linalg.norm(vector - mean))
        return 1.0 - float(vector @ mean / max(float(np.linalg.norm(vector) * np.linalg.norm(mean)), 1e-9))

    def _limit(self, kind: str) -> float:
        return self.options.face_match if kind == "face" else 1.0 - self.options.voice_match

    def match(self, kind: str, vector: FloatArray, alone: Mapping[str, float] | None = None,
              exclude: frozenset[str] = frozenset()) -> tuple[str | None, float]:
        """The live entity of ``kind`` that ``vector`` is most clearly within the threshold of
        (the largest margin), and its distance. ``alone``: voices only — the faces alone on
        screen while it spoke; a voice linked to one of them is trusted more, a voice linked to
        a face that is not there less. ``exclude``: entities it may not be (voices of one source
        that the diarizer told apart are not one entity)."""
        sums = self._root_sums()
        partner: dict[str, str] = {}
        if kind == "voice" and alone:
            partner = self.main_faces()
            alone_roots = {self.root(f) for f in alone}
        best, best_margin, best_d = None, 0.0, float("inf")
        for root in sorted(self._roots(kind), key=lambda e: e.number):
            if root.id not in sums or root.id in exclude:
                continue
            d = self._distance(kind, vector, self._mean(root))
            limit = self._limit(kind)
            if root.id in partner:
                linked = partner[root.id] in alone_roots
                limit = 1.0 - (self.options.voice_match_linked if linked else self.options.voice_match_other)
            if d < limit and limit - d > best_margin:
                best, best_margin, best_d = root.id, limit - d, d
        return best, best_d

    # -- reduce ------------------------------------------------------------------------------

    def observe(self, source_id: str, kind: str, vector: FloatArray, weight: float, span: tuple[float, float],
                alone: Mapping[str, float] | None = None, exclude: frozenset[str] = frozenset()) -> str:
        """One face track, one voice turn of a clip, or one diarized voice of a source: its stable id."""
        found, _ = self.match(kind, vector, alone, exclude)
        entity = self.entities[found] if found else self._new(kind)
        count, total = entity.stats.get(source_id, [0.0, np.zeros_like(vector, dtype=np.float64)])
        entity.stats[source_id] = [count + weight, np.asarray(total, dtype=np.float64) + weight * vector]
        if self._sums is not None:  # entity is a root: update its running sum in place
            c, t = self._sums.get(entity.id, (0.0, np.zeros_like(vector, dtype=np.float64)))
            self._sums[entity.id] = (c + weight, np.asarray(t) + weight * np.asarray(vector, dtype=np.float64))
        self._add_span(entity, source_id, span)
        return entity.id

    def add_span(self, entity_id: str, source_id: str, span: tuple[float, float]) -> None:
        """Another appearance of an observed entity (a diarized voice speaks many times)."""
        self._add_span(self.entities[entity_id], source_id, span)

    def _add_span(self, entity: Entity, source_id: str, span: tuple[float, float]) -> None:
        spans = entity.spans.setdefault(source_id, [])
        if spans and span[0] - spans[-1][1] <= self.options.span_gap and span[0] >= spans[-1][0]:
            spans[-1][1] = round(max(spans[-1][1], span[1]), 3)
        else:
            spans.append([round(span[0], 3), round(span[1], 3)])
            spans.sort()

    def add_turn(self, entity_id: str, source_id: str, span: tuple[float, float]) -> None:
        """One diarized speaker turn of a voice in a source, kept as it is (``spans`` join
        appearances 30 s apart; turns are exact)."""
        self.entities[entity_id].turns.setdefault(source_id, []).append([round(span[0], 3), round(span[1], 3)])

    def add_name(self, entity_id: str, source_id: str, name: str, t: float, how: str, text: str) -> None:
        entity = self.entities[entity_id]
        entity.names.setdefault(source_id, []).append({"name": name, "t": round(t, 3), "how": how, "text": text})

    def add_cooccurrence(self, source_id: str, voice_id: str, face_id: str, seconds: float) -> None:
        pair = self.entities[voice_id].cooccur.setdefault(source_id, {}).setdefault(face_id, [0.0, 0])
        pair[0] = round(pair[0] + seconds, 3)
        pair[1] += 1

    def merge_close(self, source_id: str) -> list[tuple[str, str]]:
        """Entities whose means came within the threshold: the younger merges into the older."""
        merged = []
        for kind in ("face", "voice"):
            limit = self._limit(kind) if kind == "face" else 1.0 - self.options.voice_merge
            changed = True
            while changed:
                changed = False
                partner = {v: f for v, f, _, _ in self.links()} if kind == "voice" else {}
                roots = sorted((r for r in self._roots(kind) if r.id in self._root_sums()), key=lambda e: e.number)
                means = {r.id: self._mean(r) for r in roots}
                for i, old in enumerate(roots):
                    for young in roots[i + 1 :]:
                        faces = {partner.get(old.id), partner.get(young.id)} - {None}
                        if len(faces) > 1:
                            continue  # each speaks for another face: two people who sound alike
                        if kind == "voice" and self.options.voices_apart_in_source and self._share_source(old, young):
                            continue  # the diarizer heard both in one source: two people
                        if self._distance(kind, means[young.id], means[old.id]) < limit:
                            young.merged_into, young.merged_by = old.id, source_id
                            self._sums = None
                            merged.append((young.id, old.id))
                            changed = True
                            break
                    if changed:
                        break
        return merged

    def _share_source(self, a: Entity, b: Entity) -> bool:
        """Whether two roots (with what merged into them) hold speech of one source."""
        def sources(root: Entity) -> set[str]:
            return {s for e in self.entities.values() if self.root(e.id) == root.id for s in e.stats} - {USER}
        return bool(sources(a) & sources(b))

    # -- the user ----------------------------------------------------------------------------

    def enroll(self, name: str, embedding: FloatArray, photo: str) -> str:
        """A named face from a photo: the matching face entity gets the name, or a new one is made."""
        found, _ = self.match("face", embedding)
        entity = self.entities[found] if found else self._new("face")
        if not found:
            entity.stats[USER] = [1.0, np.asarray(embedding, dtype=np.float64)]
            self._sums = None
        self.add_name(entity.id, USER, name, 0.0, "enrolled", photo)
        return entity.id

    def rename(self, entity_id: str, name: str) -> str:
        """The user's name for an entity (face, voice or person id); replaces earlier renames."""
        target = self._resolve(entity_id)
        entity = self.entities[target]
        entity.names[USER] = [n for n in entity.names.get(USER, []) if n["how"] != "renamed"]
        self.add_name(target, USER, name, 0.0, "renamed", "")
        return target

    def _resolve(self, entity_id: str) -> str:
        if entity_id in self.entities:
            return entity_id
        for person in self.persons():
            if entity_id == person.id or entity_id in person.births:
                members = sorted(person.faces + person.voices, key=lambda x: self.entities[x].number)
                return next((m for m in members if self.entities[m].person == person.id), members[0])
        raise KeyError(entity_id)

    # -- forget ------------------------------------------------------------------------------

    def forget(self, source_id: str) -> None:
        for entity in list(self.entities.values()):
            entity.stats.pop(source_id, None)
            entity.spans.pop(source_id, None)
            entity.turns.pop(source_id, None)
            entity.names.pop(source_id, None)
            entity.cooccur.pop(source_id, None)
            if entity.merged_by == source_id:
                entity.merged_into = entity.merged_by = None
        for entity in list(self.entities.values()):
            for faces in entity.cooccur.values():
                for face_id in [f for f in faces if f not in self.entities or not self.entities[f].stats]:
                    del faces[face_id]
        orphans = {e.id for e in self.entities.values() if not e.stats}
        for entity in self.entities.values():  # nothing may point at a removed entity
            if entity.merged_into in orphans:
                entity.merged_into = entity.merged_by = None
        for orphan in orphans:
            del self.entities[orphan]
        self._sums = None

    # -- records -----------------------------------------------------------------------------

    def records(self) -> tuple[list[MemoryRecord], list[dict[str, FloatArray]]]:
        """Every entity and person as records, with their face / voice vectors."""
        records: list[MemoryRecord] = []
        vectors: list[dict[str, FloatArray]] = []
        person_of = self.person_of()
        for entity in sorted(self.entities.values(), key=lambda e: (e.kind, e.number)):
            person = person_of[entity.id]
            text = f"{entity.id} of {person.label()}" + (f", merged into {entity.merged_into}" if entity.merged_into else "")
            mean = entity.total() / max(entity.count(), 1e-9)
            records.append(MemoryRecord(
                "entity", entity.kind, "", *_extent(entity.spans), text, key=entity.id, sources=entity.sources(),
                entity_ids=(entity.id, person.id), attrs=entity.to_attrs(),
            ))
            vectors.append({entity.kind: mean.astype(np.float32)})
        for person in self.persons():
            for birth in person.births:
                merged = birth != person.id
                text = f"{birth} merged into {person.label()}" if merged else person_text(person)
                members = person.faces + person.voices
                sources = tuple(sorted({s for m in members for s in self.entities[m].sources()}))
                records.append(MemoryRecord(
                    "entity", "person", "", *_extent({s: [[a, b]] for s, a, b in person.appearances}), text,
                    key=birth, sources=sources, entity_ids=(birth, person.id, *members),
                    attrs={"merged_into": person.id} if merged else person_attrs(person),
                ))
                vectors.append({})
        return records, vectors



def _extent(spans: Mapping[str, Sequence[Sequence[float]]]) -> tuple[float, float]:
    flat = [x for lst in spans.values() for s in lst for x in s]
    return (min(flat), max(flat)) if flat else (0.0, 0.0)



_LABEL = re.compile(r"\b(face|voice)_(\d+)\b")


def relabel(text: str, ids: ClipIds) -> str:
    """A caption's clip-local labels (``face_0``, ``voice_1``) as stable ids, in one pass."""

    def sub(m: re.Match[str]) -> str:
        table = ids.faces if m.group(1) == "face" else ids.voices
        return table.get(("f" if m.group(1) == "face" else "v") + m.group(2), m.group(0))

    return _LABEL.sub(sub, text)
