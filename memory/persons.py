"""Persons: the face and voice entities of a store (:mod:`memory.entities`) grouped into people,
and their names.

Persons
    Every face and voice entity is born with a person id. A face and a voice are linked when the
    voice speaks while that face is the only one on screen for at least ``link_seconds`` summed
    over all their co-occurrences, and each is the other's dominant partner (``link_share`` of
    its co-occurrence time) — evidence accumulated over many turns, never one frame. A person is
    a connected group of linked entities and takes the smallest birth id of its members; the
    other birth ids record ``merged_into``. Persons are derived from the entities every time.

Names
    Evidence per entity: a voice introducing itself ("I'm Alice"), a name tag on screen while one
    face is shown, the user (``entities enroll`` / ``entities rename``). A person's name is the
    user's when given, else the best-supported one; all others are aliases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memory.entities import Entity
    from memory.entity_options import EntityOptions


@dataclass(frozen=True)
class Person:
    id: str
    faces: tuple[str, ...]
    voices: tuple[str, ...]
    name: str | None
    aliases: tuple[str, ...]
    appearances: tuple[tuple[str, float, float], ...]  # (source, start, end)
    births: tuple[str, ...]  # the birth person ids it absorbed (itself first)
    evidence: tuple[dict[str, Any], ...]  # name evidence and face-voice links

    def label(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


class Persons:
    """The persons of an :class:`memory.entities.EntityRegistry`, derived from its entities every time."""

    if TYPE_CHECKING:  # what the registry holds
        entities: dict[str, Entity]
        options: EntityOptions

        def root(self, entity_id: str) -> str: ...

    def main_faces(self) -> dict[str, str]:
        """Voice root → the face root it has spoken with most while that face was alone on screen
        (no threshold: the evidence so far, used to keep people who sound alike apart)."""
        seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for voice in self.entities.values():
            for faces in voice.cooccur.values():
                for face_id, (sec, _) in faces.items():
                    if face_id in self.entities:
                        seconds[self.root(voice.id)][self.root(face_id)] += sec
        return {v: max(sorted(fs), key=lambda f: fs[f]) for v, fs in seconds.items() if fs}

    def links(self) -> list[tuple[str, str, float, int]]:
        """(voice root, face root, seconds, turns) pairs that pass the mutual-dominance rule."""
        pair: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
        for voice in self.entities.values():
            for faces in voice.cooccur.values():
                for face_id, (seconds, turns) in faces.items():
                    if face_id in self.entities:
                        p = pair[(self.root(voice.id), self.root(face_id))]
                        p[0] += seconds
                        p[1] += turns
        by_voice: dict[str, float] = defaultdict(float)
        by_face: dict[str, float] = defaultdict(float)
        for (v, f), (seconds, _) in pair.items():
            by_voice[v] += seconds
            by_face[f] += seconds
        out = []
        for (v, f), (seconds, turns) in sorted(pair.items()):
            if (
                seconds >= self.options.link_seconds
                and seconds >= self.options.link_share * by_voice[v]
                and seconds >= self.options.link_share * by_face[f]
            ):
                out.append((v, f, round(seconds, 3), int(turns)))
        return out

    def persons(self) -> list[Person]:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for entity in self.entities.values():
            find(entity.id)
            if entity.merged_into and entity.merged_into in self.entities:
                parent[find(entity.id)] = find(entity.merged_into)
        links = self.links()
        for v, f, _, _ in links:
            parent[find(v)] = find(f)
        groups: dict[str, list[Entity]] = defaultdict(list)
        for entity in self.entities.values():
            groups[find(entity.id)].append(entity)
        out = []
        for members in groups.values():
            births = sorted({e.person for e in members}, key=lambda p: int(p.rsplit("_", 1)[1]))
            ids = {e.id for e in members}
            names, aliases, evidence = _names(members)
            spans = sorted((s, a, b) for e in members for s, lst in e.spans.items() for a, b in lst)
            evidence += tuple(
                {"how": "voice-face", "voice": v, "face": f, "seconds": sec, "turns": t}
                for v, f, sec, t in links if v in ids and f in ids
            )
            out.append(Person(
                births[0],
                tuple(sorted((e.id for e in members if e.kind == "face" and not e.merged_into), key=_number)),
                tuple(sorted((e.id for e in members if e.kind == "voice" and not e.merged_into), key=_number)),
                names[0] if names else None, tuple(aliases), tuple(_join_spans(spans, self.options.span_gap)),
                tuple(births), evidence,
            ))
        return sorted(out, key=lambda p: _number(p.id))

    def person_of(self) -> dict[str, Person]:
        """Entity id (face, voice, or a birth person id) → its person."""
        out = {}
        for person in self.persons():
            for x in (*person.faces, *person.voices, *person.births):
                out[x] = person
        for entity in self.entities.values():
            if entity.id not in out:
                out[entity.id] = out[self.root(entity.id)]
        return out


def _number(x: str) -> int:
    return int(x.rsplit("_", 1)[1])



def _join_spans(spans: Sequence[tuple[str, float, float]], gap: float) -> list[tuple[str, float, float]]:
    out: list[list[Any]] = []
    for s, a, b in spans:
        if out and out[-1][0] == s and a - out[-1][2] <= gap:
            out[-1][2] = max(out[-1][2], b)
        else:
            out.append([s, a, b])
    return [(s, round(a, 3), round(b, 3)) for s, a, b in out]


# a name said to a voice ("thanks, Tom") is weaker than a name tag: the addressee is inferred from turn order
_HOW_WEIGHT = {"renamed": 100.0, "enrolled": 50.0, "self-introduction": 2.0, "name-tag": 1.0, "address": 0.5}


def _names(members: Sequence[Entity]) -> tuple[list[str], list[str], tuple[dict[str, Any], ...]]:
    """Names by weight of evidence: the user's first, then self-introductions, then name tags,
    then names others said to the voice."""
    score: Counter[str] = Counter()
    shown: dict[str, str] = {}
    evidence = []
    for entity in members:
        for source, names in entity.names.items():
            for n in names:
                key = " ".join(n["name"].lower().split())
                shown.setdefault(key, n["name"])
                score[key] += _HOW_WEIGHT.get(n["how"], 1.0)
                evidence.append({"how": n["how"], "name": n["name"], "entity": entity.id, "source_id": source,
                                 "t": n["t"], "text": n["text"]})
    ranked = [shown[k] for k, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ranked, ranked[1:], tuple(evidence)


def person_text(person: Person) -> str:
    parts = [person.label()]
    if person.aliases:
        parts.append("also called " + ", ".join(person.aliases))
    if person.faces:
        parts.append("faces " + ", ".join(person.faces))
    if person.voices:
        parts.append("voices " + ", ".join(person.voices))
    return "; ".join(parts)


def person_attrs(person: Person) -> dict[str, Any]:
    return {
        "name": person.name, "aliases": list(person.aliases), "faces": list(person.faces),
        "voices": list(person.voices), "births": list(person.births),
        "appearances": [{"source_id": s, "start": a, "end": b} for s, a, b in person.appearances],
        "evidence": list(person.evidence),
    }

