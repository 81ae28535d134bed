"""The memory store: one interface, Qdrant Edge (embedded, the default) behind it.

Backends: :class:`memory.edge.EdgeStore` (Qdrant Edge in-process, under the store folder; the
default) and :class:`memory.qdrant_server.QdrantServerStore` (a Qdrant server or cluster by URL, or
qdrant-client's local mode by path, which stands in for the server in tests).

Store folder layout (Edge)::

    STORE/mmagent.json     schema version, embedding model id and dimension (memory.store_folder)
    STORE/LOCK             our own lock: Qdrant Edge allows one process per shard (memory.store_folder)
    STORE/qdrant/          the Qdrant Edge shard
    STORE/sources/         one JSON per indexed source (see memory.catalog)
    STORE/perception/      per-clip map results (see perception.map)

Points: named dense vector ``text``, sparse vector ``keywords`` (IDF applied by Qdrant), the
payload of :class:`memory.records.MemoryRecord`, payload indexes on every filtered field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memory import keywords
from memory.catalog import SourceEntry
from memory.errors import StoreModelMismatch
from memory.records import SCHEMA_VERSION, MemoryRecord
from models.base import FloatArray


@dataclass(frozen=True)
class Scope:
    """What a query may see. ``before``: only memories that start before this time (seconds);
    ``after``: only memories that end after it; ``wall_after`` / ``wall_before``: a wall-clock
    window (epoch seconds) on memories that have a wall time. ``kinds`` / ``entity_ids`` /
    ``sources_any``: any of; ``current``: hide superseded facts and merged entities."""

    source_ids: tuple[str, ...] = ()
    kind: str | None = None
    level: str | None = None
    before: float | None = None
    kinds: tuple[str, ...] = ()
    entity_ids: tuple[str, ...] = ()
    sources_any: tuple[str, ...] = ()
    current: bool = False
    keys: tuple[str, ...] = ()
    after: float | None = None
    wall_after: float | None = None
    wall_before: float | None = None


# payload fields with an index: keyword and float ones (the text index is separate)
KEYWORD_FIELDS = ("kind", "level", "source_id", "entity_ids", "sources", "key", "status")
FLOAT_FIELDS = ("t_start", "t_end", "wall_time")


@dataclass(frozen=True)
class Hit:
    id: str
    record: MemoryRecord
    score: float  # fused rank score
    dense: float  # cosine similarity of the query and the memory text


# a record ready to write: the record, its named dense vectors, its sparse keyword vector (indices, values)
Row = tuple[MemoryRecord, dict[str, list[float]], tuple[list[int], list[float]]]


def payload_of(record: MemoryRecord) -> dict[str, Any]:
    """The stored payload: the record's, plus ``status`` (current / superseded) for ``Scope.current``."""
    p = record.payload()
    p["status"] = "superseded" if record.attrs.get("superseded_by") or record.attrs.get("merged_into") else "current"
    return p


def named_vectors(vector: Any, names: Sequence[str]) -> dict[str, FloatArray]:
    """The named vectors asked for, from a point's vector field (a dict on both backends)."""
    if not names or not isinstance(vector, dict):
        return {}
    return {n: np.asarray(vector[n], dtype=np.float32) for n in names if vector.get(n) is not None}


class MemoryStore(ABC):
    dim: int

    def upsert(
        self, records: Sequence[MemoryRecord], vectors: FloatArray,
        extra: Sequence[Mapping[str, Sequence[float] | FloatArray]] | None = None,
    ) -> int:
        """Write records with their dense text vectors, and optionally other named vectors per
        record (``face``, ``voice``, ``visual``: see :meth:`ensure_vectors`); returns how many
        ids were new."""
        if len(records) != len(vectors) or (extra is not None and len(extra) != len(records)):
            raise ValueError("one vector per record")
        if not records:
            return 0
        ids = [r.id for r in records]
        known = self._existing(ids)
        rows = []
        for k, (r, v) in enumerate(zip(records, vectors)):
            named = {"text": np.asarray(v, dtype=np.float32).tolist()}
            for name, vec in (extra[k] if extra is not None else {}).items():
                if name not in self.vector_specs():
                    raise ValueError(f"the store has no vector named {name!r}: call ensure_vectors first")
                named[name] = np.asarray(vec, dtype=np.float32).tolist()
            rows.append((r, named, keywords.document_vector(r.text)))
        self._write(rows)
        return sum(1 for i in ids if i not in known)

    _meta: dict[str, Any]  # the store's metadata: schema, embedder, named vectors

    def vector_specs(self) -> dict[str, tuple[str, int]]:
        """Named dense vectors besides ``text``: name -> (model id, dimension)."""
        return {k: (v["model_id"], int(v["dim"])) for k, v in self._meta.get("vectors", {}).items()}

    def ensure_vectors(self, specs: Mapping[str, tuple[str, int]]) -> None:
        """Add named dense vectors (cosine) to the store, or check the model and size of those
        it has: a vector made by another model is refused (:class:`StoreModelMismatch`)."""
        new = check_vectors(self._where(), self._meta.get("vectors", {}), specs)
        if not new:
            return
        for name, (_, size) in new.items():
            self._add_vector(name, size)
        vectors = dict(self._meta.get("vectors", {}))
        vectors.update({name: {"model_id": m, "dim": d} for name, (m, d) in new.items()})
        self._meta["vectors"] = vectors
        self._save_meta()  # last: a vector added but not recorded is added again, harmlessly

    @abstractmethod
    def _where(self) -> str:
        """The store, as errors name it."""

    @abstractmethod
    def _add_vector(self, name: str, size: int) -> None:
        """Create a named dense cosine vector in the engine."""

    @abstractmethod
    def _save_meta(self) -> None:
        """Persist ``_meta``."""

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id (durably)."""

    @abstractmethod
    def get(self, ids: Sequence[str], vectors: Sequence[str] = ()) -> list[tuple[MemoryRecord, dict[str, FloatArray]]]:
        """The records stored under these ids (missing ones left out), with the named vectors asked for."""

    @abstractmethod
    def scroll_with(self, scope: Scope, vectors: Sequence[str]) -> Iterator[tuple[MemoryRecord, dict[str, FloatArray]]]:
        """Every record in scope with the named vectors asked for."""

    @abstractmethod
    def search_vector(self, name: str, vector: FloatArray, scope: Scope, limit: int) -> list[Hit]:
        """Nearest points by one named dense vector (``text``, ``visual``, ``face``, ``voice``)."""

    @abstractmethod
    def _existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these point ids are stored already."""

    @abstractmethod
    def _write(self, rows: Sequence[Row]) -> None:
        """Upsert the rows durably (flushed / acknowledged before returning)."""

    @abstractmethod
    def search(self, dense: FloatArray, text: str, scope: Scope, limit: int) -> list[Hit]:
        """Hybrid search: dense and keyword candidates fused by reciprocal rank."""

    @abstractmethod
    def count(self, scope: Scope = Scope()) -> int: ...

    @abstractmethod
    def scroll(self, scope: Scope = Scope()) -> Iterator[MemoryRecord]: ...

    @abstractmethod
    def close(self) -> None: ...

    # the catalog of fully indexed sources lives with the memories it describes
    @abstractmethod
    def get_source(self, source_id: str) -> SourceEntry | None: ...

    @abstractmethod
    def put_source(self, entry: SourceEntry) -> None:
        """Record a source as indexed; called only after its memories are written."""

    @abstractmethod
    def sources(self) -> list[SourceEntry]: ...

    @abstractmethod
    def remove_source(self, source_id: str) -> None:
        """Drop a source from the catalog (``forget``: after its memories are gone)."""

    def optimize(self) -> bool:
        """Build the search indexes of what was written (vector graphs, merged segments) where the
        engine leaves that to its owner; True when something was rebuilt. A Qdrant server does it
        on its own (the default here: nothing to do)."""
        return False

    def counts_by_source(self, scope: Scope, source_ids: Sequence[str]) -> dict[str, int]:
        """Points in ``scope`` per source (one count each; a backend may do it in one request)."""
        return {sid: self.count(Scope(**{**scope.__dict__, "source_ids": (sid,)})) for sid in source_ids}

    def source_ids(self) -> list[str]:
        """Every source the catalog holds an entry for, readable or not."""
        return [e.source_id for e in self.sources()]

    def next_seq(self) -> int:
        """The order number of the next indexed source (facts compare assertions by it)."""
        return max((e.seq for e in self.sources()), default=0) + 1

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_vectors(where: str, have: Mapping[str, Any], wanted: Mapping[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """Which of ``wanted`` are new; raises when one exists with another model or size."""
    new = {}
    for name, (model_id, dim) in wanted.items():
        if name not in have:
            new[name] = (model_id, dim)
            continue
        stored = (have[name]["model_id"], int(have[name]["dim"]))
        if stored != (model_id, dim):
            raise StoreModelMismatch(
                f"{where} holds {name} vectors made by {stored[0]} ({stored[1]}-d), but this run makes them "
                f"with {model_id} ({dim}-d): use that model, or another store"
            )
    return new


def migrate_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An older record's payload in the current schema (v1 → v2: key, sources, parent, children,
    attrs, the ``superseded`` flag; nothing in v1 is dropped)."""
    record = MemoryRecord.from_payload(payload)
    from dataclasses import replace

    return payload_of(replace(record, schema_version=SCHEMA_VERSION))


def open_store(
    folder: str | Path, model_id: str, dim: int, url: str | None = None, collection: str = "mmagent"
) -> MemoryStore:
    """The embedded store under ``folder``, or the Qdrant server at ``url`` (collection ``collection``)."""
    if url:
        from memory.qdrant_server import QdrantServerStore

        return QdrantServerStore(model_id, dim, collection, url=url)
    from memory.edge import EdgeStore

    return EdgeStore(Path(folder), model_id, dim)
