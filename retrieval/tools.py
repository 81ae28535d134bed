"""The tools the retrieval agent calls: each reads the store through a :class:`Scope`, and every
result is a list of items with a source and a span, so any of them can be cited.

A hard time limit (``--before T``) lives here, not in the planner: every tool adds it to its
scope, so nothing after T is visible to any tool. Facts summarise all time, so under a time
limit ``search_semantic`` finds nothing and says why (the episodes still hold what was said).

Wrong tool names and bad arguments raise :class:`ToolCallError` (a model mistake, fed back to
the model); anything else a tool raises is our bug and propagates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from memory.catalog import SourceEntry
from memory.entities import EntityRegistry
from memory.persons import Person
from memory.records import MemoryRecord, Snippet
from memory.store import Hit, MemoryStore, Scope
from memory.transcript import Speakers, transcript_lines
from models.base import ImageEmbedder, TextEmbedder
from perception.records import on_screen


class ToolCallError(ValueError):
    """The model asked for a tool that does not exist, or gave it bad arguments."""


@dataclass(frozen=True)
class Item:
    """One result: a memory (or a source, or a person) with where and when it is."""

    memory_id: str
    source_id: str
    start: float
    end: float
    kind: str
    level: str
    text: str
    entity_ids: tuple[str, ...] = ()
    score: float = 0.0

    def to_json(self, width: int = 160) -> dict[str, Any]:
        text = self.text if len(self.text) <= width else self.text[: width - 1] + "…"
        return {"memory_id": self.memory_id, "source_id": self.source_id, "start": round(self.start, 2),
                "end": round(self.end, 2), "kind": self.kind, "level": self.level, "text": text,
                **({"entity_ids": list(self.entity_ids)} if self.entity_ids else {}),
                **({"score": round(self.score, 4)} if self.score else {})}


@dataclass(frozen=True)
class ToolResult:
    items: tuple[Item, ...]
    hits: tuple[Hit, ...] = ()  # the memories behind the items (the answer step reads their snippets)
    note: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "str" | "float" | "int" | "list" | "bool"
    required: bool = False
    help: str = ""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    help: str
    params: tuple[Param, ...] = field(default=())

    def describe(self) -> str:
        args = ", ".join(f"{p.name}{'' if p.required else '?'}: {p.type}" for p in self.params)
        return f"{self.name}({args}) — {self.help}"


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec("search_episodic", "search what was said and shown (episodes), optionally in a time range, "
             "at a level (clip / scene / hour / day), about people (entity ids or names), in sources", (
        Param("query", "str", True), Param("level", "str"), Param("start", "float"), Param("end", "float"),
        Param("entities", "list"), Param("sources", "list"), Param("limit", "int"),
        Param("wall_start", "float"), Param("wall_end", "float"))),
    ToolSpec("search_semantic", "search facts (subject, relation, value): current facts first; "
             "history=true also returns the values they replaced", (
        Param("query", "str", True), Param("entities", "list"), Param("history", "bool"), Param("limit", "int"))),
    ToolSpec("search_visual", "search keyframes by what they look like, from words or an image file "
             "(needs an image model)", (
        Param("query", "str"), Param("image", "str"), Param("limit", "int"))),
    ToolSpec("lookup_entity", "a person by name or id: names, faces, voices, when they appear", (
        Param("name", "str", True),)),
    ToolSpec("zoom", "the finer memories inside an episode (day → hour → scene → clip)", (
        Param("memory_id", "str", True),)),
    ToolSpec("read_span", "everything remembered in a time span of a source: speech with speakers, "
             "on-screen text, captions", (
        Param("source", "str", True), Param("start", "float", True), Param("end", "float", True))),
    ToolSpec("list_sources", "the indexed sources (videos, screen folders) in the order they happened"),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}


def _coerce(spec: ToolSpec, args: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(args, Mapping):
        raise ToolCallError(f"{spec.name}: arguments must be an object, got {type(args).__name__}")
    params = {p.name: p for p in spec.params}
    unknown = sorted(set(args) - set(params))
    if unknown:
        raise ToolCallError(f"{spec.name} has no argument {unknown[0]!r} (it takes: {', '.join(params) or 'none'})")
    out: dict[str, Any] = {}
    for name, p in params.items():
        value = args.get(name)
        if value is None or value == "":
            if p.required:
                raise ToolCallError(f"{spec.name} needs {name!r}")
            continue
        try:
            if p.type == "str":
                value = str(value).strip()
            elif p.type == "float":
                value = float(value)
            elif p.type == "int":
                value = int(value)
            elif p.type == "bool":
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            elif p.type == "list":
                value = [value] if isinstance(value, str) else [str(v) for v in value]
        except (TypeError, ValueError):
            raise ToolCallError(f"{spec.name}: {name!r} must be a {p.type}, got {value!r}") from None
        out[name] = value
    return out


def check_call(name: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """A tool call's arguments, checked and coerced; ToolCallError for an unknown tool or bad arguments."""
    spec = SPEC_BY_NAME.get(name)
    if spec is None:
        raise ToolCallError(f"there is no tool {name!r} (tools: {', '.join(SPEC_BY_NAME)})")
    return _coerce(spec, args)


def item_of(hit: Hit) -> Item:
    r = hit.record
    return Item(hit.id, r.source_id, r.t_start, r.t_end, r.kind, r.level, r.text, r.entity_ids, hit.score)


def _record_hit(record: MemoryRecord, score: float = 0.0) -> Hit:
    return Hit(record.id, record, score, score)


class MemoryTools:
    """The store seen through a fixed scope (sources, a time limit) plus the tools over it."""

    def __init__(
        self,
        store: MemoryStore,
        embedder: TextEmbedder,
        people: Mapping[str, Sequence[str]] | None = None,
        registry: Callable[[], EntityRegistry] | None = None,
        image: ImageEmbedder | None = None,
        sources: tuple[str, ...] = (),
        before: float | None = None,
        limit: int = 8,
    ) -> None:
        """``people``: lowercase names and ids → entity ids; ``registry``: loads the entities
        (called once, on the first ``lookup_entity``)."""
        self.store = store
        self.embedder = embedder
        self.people = {k.lower(): tuple(v) for k, v in (people or {}).items()}
        self._registry_loader = registry
        self._persons: list[Person] | None = None
        self._speakers: Speakers | None = None  # read_span's names of voices, loaded once
        self.image = image
        self.sources = sources
        self.before = before
        self.limit = limit
        self._vectors: dict[str, np.ndarray] = {}

    # -- plumbing ----------------------------------------------------------------------------

    def call(self, name: str, args: Mapping[str, Any]) -> ToolResult:
        clean = check_call(name, args)
        began = time.perf_counter()
        result: ToolResult = getattr(self, name)(**clean)
        return replace(result, seconds=time.perf_counter() - began)

    def vector(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self._vectors[text] = self.embedder.embed(text)
        return self._vectors[text]

    def _scope(self, **kw: Any) -> Scope:
        """The fixed scope (sources, time limit) narrowed by a tool's arguments."""
        sources = tuple(kw.pop("source_ids", ()) or ())
        if self.sources:
            sources = tuple(s for s in sources if s in self.sources) if sources else self.sources
            if not sources:
                sources = ("\0none",)  # asked only for sources outside the scope: nothing
        before = kw.pop("before", None)
        if self.before is not None:
            before = self.before if before is None else min(before, self.before)
        return Scope(source_ids=sources, before=before, **kw)

    def _clip(self, hits: Sequence[Hit]) -> tuple[Hit, ...]:
        """Under a time limit, no snippet after it: a memory that started before T is cut at T."""
        if self.before is None:
            return tuple(hits)
        out = []
        for h in hits:
            r = h.record
            snippets = tuple(s for s in r.snippets if s.start < self.before)
            record = replace(r, snippets=snippets, t_end=min(r.t_end, self.before))
            out.append(Hit(h.id, record, h.score, h.dense))
        return tuple(out)

    def _result(self, hits: Sequence[Hit], note: str = "") -> ToolResult:
        hits = self._clip(hits)
        return ToolResult(tuple(item_of(h) for h in hits), hits, note)

    def resolve(self, names: Sequence[str]) -> tuple[str, ...]:
        """Names or ids of people → every entity id that stands for them."""
        ids: set[str] = set()
        for n in names:
            ids.update(self.people.get(n.lower().strip(), (n.strip(),)))
        return tuple(sorted(ids))

    def persons(self) -> list[Person]:
        if self._persons is None:
            self._persons = self._registry_loader().persons() if self._registry_loader else []
        return self._persons

    def nth_person(self, n: int, modality: str = "person", min_voice_seconds: float = 1.0
                   ) -> tuple[str, tuple[str, ...], tuple[tuple[str, float, float], ...]] | None:
        """The ``n``-th person to appear (1-based; -1 the last) in the scope, in the order the
        sources were indexed and then by time: counted among faces seen (``face``), voices heard
        (``voice``) or either (``person``). A face counts from one sighting (faces are looked for
        in sampled frames: a 3 s shot can be one sighting); a voice from ``min_voice_seconds``
        of speech. Returns (label, every entity id of the person, their spans of that modality)."""
        if self._registry_loader is None or n == 0:
            return None
        registry = self._registry_loader()
        kinds = {"face": ("face",), "voice": ("voice",)}.get(modality, ("face", "voice"))
        seq = {e.source_id: e.seq for e in self.store.sources()}
        found = []
        for p in registry.persons():
            spans = sorted(
                (seq.get(src, 0), src, a, b, e.kind)
                for eid in (*p.faces, *p.voices) if (e := registry.entities.get(eid)) is not None and e.kind in kinds
                for src, lst in e.spans.items() if (not self.sources or src in self.sources)
                for a, b in lst if self.before is None or a < self.before
            )
            heard = sum(b - a for _, _, a, b, kind in spans if kind == "voice")
            if any(kind == "face" for *_, kind in spans) or heard >= min_voice_seconds:
                found.append((spans[0][:3], p, tuple((src, a, b) for _, src, a, b, _ in spans)))
        found.sort(key=lambda x: x[0])
        if not found or (n > 0 and n > len(found)) or (n < 0 and -n > len(found)):
            return None
        _, person, spans = found[n - 1 if n > 0 else n]
        return person.label(), (person.id, *person.births, *person.faces, *person.voices), self._presence(person, kinds) or spans

    def _presence(self, person: Person, kinds: Sequence[str]) -> tuple[tuple[str, float, float], ...]:
        """When exactly a person was there (an entity's spans join moments up to half a minute
        apart): their face tracks, and the sentences their voices said."""
        out: list[tuple[str, float, float]] = []
        if "face" in kinds and person.faces:
            tracks = self.store.scroll(self._scope(kind="visual", level="face", entity_ids=person.faces))
            out += [(r.source_id, a, b) for r in tracks
                    for a, b in on_screen([float(t) for t in r.attrs.get("times") or ()], r.t_start, r.t_end)]
        if "voice" in kinds and person.voices:
            voices = set(person.voices)
            clips = self.store.scroll(self._scope(kind="episodic", level="clip", entity_ids=person.voices))
            out += [(r.source_id, s.start, s.end) for r in clips for s in r.snippets if s.speaker in voices]
        return tuple(sorted(set(out), key=lambda x: (x[0], x[1])))

    # -- the tools ---------------------------------------------------------------------------

    def search_episodic(self, query: str, level: str | None = None, start: float | None = None,
                        end: float | None = None, entities: Sequence[str] = (), sources: Sequence[str] = (),
                        limit: int | None = None, wall_start: float | None = None,
                        wall_end: float | None = None) -> ToolResult:
        if level is not None and level not in ("clip", "scene", "hour", "day"):
            raise ToolCallError(f"search_episodic: level must be clip, scene, hour or day, got {level!r}")
        scope = self._scope(kind="episodic", level=level, after=start, before=end, source_ids=tuple(sources),
                            entity_ids=self.resolve(entities), wall_after=wall_start, wall_before=wall_end)
        query_text = " ".join([query, *self.resolve(entities)])
        return self._result(self.store.search(self.vector(query), query_text, scope, limit or self.limit))

    def search_semantic(self, query: str, entities: Sequence[str] = (), history: bool = False,
                        limit: int | None = None) -> ToolResult:
        if self.before is not None:
            return ToolResult((), (), f"facts are not time-causal: under --before {self.before:g} only episodes are searched")
        scope = self._scope(kind="semantic", current=not history, entity_ids=self.resolve(entities))
        hits = self.store.search(self.vector(query), query, scope, limit or self.limit)
        hits.sort(key=lambda h: (bool(h.record.attrs.get("superseded_by")), -h.score))  # current facts first
        return self._result(hits)

    def search_visual(self, query: str | None = None, image: str | None = None, limit: int | None = None) -> ToolResult:
        if (query is None) == (image is None):
            raise ToolCallError("search_visual needs either 'query' (words) or 'image' (an image file)")
        if self.image is None or "visual" not in self.store.vector_specs():
            return ToolResult((), (), "no image model is configured (MMAGENT_IMAGE_MODEL): visual memory is empty")
        if image is not None:
            from perception.clip_signals import read_rgb

            try:
                vec = self.image.embed_images([read_rgb(image)])[0]
            except (OSError, ValueError) as exc:
                raise ToolCallError(f"search_visual: cannot read the image {image}: {exc}") from None
        else:
            vec = self.image.embed_texts([query or ""])[0]
        frames = self.store.search_vector("visual", vec, self._scope(kind="visual", level="keyframe"), limit or self.limit)
        # a keyframe is cited through its clip, which holds what was said and shown around it
        parents = {h.record.parent: h.score for h in frames if h.record.parent}
        clips = [_record_hit(r, parents[r.id]) for r, _ in self.store.get(list(parents))]
        clips.sort(key=lambda h: -h.score)
        return self._result([*frames, *clips])

    def lookup_entity(self, name: str) -> ToolResult:
        ids = set(self.resolve([name]))
        found = [p for p in self.persons() if ids & {p.id, *p.births, *p.faces, *p.voices}]
        if not found:
            return ToolResult((), (), f"no person known as {name!r}")
        items: list[Item] = []
        hits: list[Hit] = []
        for p in found:
            every = (p.id, *p.births, *p.faces, *p.voices)
            label = f"{p.label()}: faces {', '.join(p.faces) or 'none'}; voices {', '.join(p.voices) or 'none'}"
            for source, a, b in p.appearances:
                if (not self.sources or source in self.sources) and (self.before is None or a < self.before):
                    items.append(Item(p.id, source, a, b if self.before is None else min(b, self.before), "entity",
                                      "person", label, every))
            clips = self.store.scroll(self._scope(kind="episodic", level="clip", entity_ids=every))
            hits.extend(_record_hit(r) for r in sorted(clips, key=lambda r: (r.source_id, r.t_start))[: self.limit * 2])
        result = self._result(hits)
        return ToolResult(tuple(items) + result.items, result.hits)

    def zoom(self, memory_id: str) -> ToolResult:
        got = self.store.get([memory_id])
        if not got:
            raise ToolCallError(f"zoom: no memory {memory_id!r}")
        record = got[0][0]
        if not record.children:
            return ToolResult((), (), f"{memory_id} is a {record.level}: it has no finer memories")
        children = sorted((r for r, _ in self.store.get(list(record.children))), key=lambda r: r.t_start)
        if self.before is not None:
            children = [r for r in children if r.t_start < self.before]
        return self._result([_record_hit(r) for r in children])

    def read_span(self, source: str, start: float, end: float) -> ToolResult:
        """The clips of the span (their snippets cut to it) and, first, the transcript lines of
        the span: who said what, by name where known (``memory.transcript``, as ``mmagent
        transcript`` prints them)."""
        if end <= start:
            raise ToolCallError(f"read_span: end ({end}) must be after start ({start})")
        scope = self._scope(kind="episodic", level="clip", source_ids=(source,), after=start, before=end)
        records = sorted(self.store.scroll(scope), key=lambda r: r.t_start)
        # only the snippets inside the span: a 30 s clip read for a 5 s moment says what was then
        hits = []
        for r in records:
            snippets = tuple(s for s in r.snippets if s.end > start and s.start < end)
            hits.append(_record_hit(replace(r, snippets=snippets) if snippets else r))
        limit = self.before

        def inside(s: Snippet) -> bool:
            return s.end > start and s.start < end and (limit is None or s.start < limit)

        said = tuple(
            Item(line.memory_id, source, line.start, line.end, "episodic", "speech",
                 f"{line.speaker}: {line.text}" if line.speaker else line.text,
                 tuple(x for x in (line.voice, line.person) if x))
            for line in transcript_lines(records, self._transcript_speakers(), keep=inside)
        )
        result = self._result(hits, "" if hits else f"nothing remembered in {source} from {start:g} to {end:g} s")
        return replace(result, items=said + result.items)

    def _transcript_speakers(self) -> Speakers:
        if self._speakers is None:
            self._speakers = Speakers(self._registry_loader() if self._registry_loader else None)
        return self._speakers

    def list_sources(self) -> ToolResult:
        entries: list[SourceEntry] = sorted(self.store.sources(), key=lambda e: (e.seq, e.source_id))
        items = tuple(
            Item(e.source_id, e.source_id, 0.0, e.duration if self.before is None else min(e.duration, self.before),
                 "source", "source", f"{e.name or e.path} ({e.duration:.0f} s, {e.clips} clips)")
            for e in entries if not self.sources or e.source_id in self.sources
        )
        return ToolResult(items)
