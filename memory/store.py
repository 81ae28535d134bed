"""The memory store: one interface, Qdrant Edge (embedded, the default) behind it.

Backends: :class:`memory.edge.EdgeStore` (Qdrant Edge in-process, under the store folder; the
default) and :class:`memory.qdrant_server.QdrantServerStore` (a Qdrant server or cluster by URL, or
qdrant-client's local mode by path, which stands in for the server in tests).

Store folder layout (Edge)::

    STORE/mmagent.json     schema version, embedding model id and dimension
    STORE/LOCK             our own lock: Qdrant Edge allows one process per shard
    STORE/qdrant/          the Qdrant Edge shard
    STORE/sources/         one JSON per indexed source (see memory.catalog)
    STORE/perception/      per-clip map results (see perception.map)

Points: named dense vector ``text``, sparse vector ``keywords`` (IDF applied by Qdrant), the
payload of :class:`memory.records.MemoryRecord`, payload indexes on every filtered field.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memory import keywords
from memory.catalog import SourceEntry
from memory.errors import StoreCorrupt, StoreInUse, StoreModelMismatch
from memory.records import SCHEMA_VERSION, MemoryRecord
from models.base import FloatArray

META = "mmagent.json"


@dataclass(frozen=True)
class Scope:
    """What a query may see. ``before``: only memories that start before this time (seconds)."""

    source_ids: tuple[str, ...] = ()
    kind: str | None = None
    level: str | None = None
    before: float | None = None


@dataclass(frozen=True)
class Hit:
    id: str
    record: MemoryRecord
    score: float  # fused rank score
    dense: float  # cosine similarity of the query and the memory text


# a record ready to write: the record, its dense vector, its sparse keyword vector (indices, values)
Row = tuple[MemoryRecord, list[float], tuple[list[int], list[float]]]


class MemoryStore(ABC):
    def upsert(self, records: Sequence[MemoryRecord], vectors: FloatArray) -> int:
        """Write records with their dense vectors; returns how many ids were new."""
        if len(records) != len(vectors):
            raise ValueError("one vector per record")
        if not records:
            return 0
        ids = [r.id for r in records]
        known = self._existing(ids)
        rows = [
            (r, v.astype(np.float32).tolist(), keywords.document_vector(r.text)) for r, v in zip(records, vectors)
        ]
        self._write(rows)
        return sum(1 for i in ids if i not in known)

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

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StoreLock:
    """A non-blocking exclusive lock on STORE/LOCK, holding our PID."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "LOCK"
        self._fh: Any = None

    def acquire(self) -> None:
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            pid = fh.read().strip() or "unknown"
            fh.close()
            raise StoreInUse(
                f"store {self.path.parent} is in use by PID {pid}: wait for it to finish, "
                "or use another --store"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


def check_meta(folder: Path, model_id: str, dim: int) -> dict[str, Any]:
    """Create or verify STORE/mmagent.json: one embedding model per store, forever."""
    meta_path = folder / META
    if not meta_path.exists():
        if (folder / "qdrant").exists():
            raise StoreCorrupt(f"{folder} has a Qdrant shard but no {META}: not an mmagent store")
        meta = {
            "schema_version": SCHEMA_VERSION,
            "embedder": {"model_id": model_id, "dim": dim},
            "created": time.time(),
        }
        tmp = meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2))
        os.replace(tmp, meta_path)
        return meta
    try:
        meta = json.loads(meta_path.read_text())
        stored_model, stored_dim = meta["embedder"]["model_id"], int(meta["embedder"]["dim"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreCorrupt(f"{meta_path} is unreadable ({exc})") from None
    if (stored_model, stored_dim) != (model_id, dim):
        raise StoreModelMismatch(
            f"store {folder} was built with the embedding model {stored_model} ({stored_dim}-d), "
            f"but this run embeds with {model_id} ({dim}-d): use that model, or another --store"
        )
    if int(meta.get("schema_version", 0)) > SCHEMA_VERSION:
        raise StoreCorrupt(f"store {folder} has schema {meta['schema_version']}, newer than this mmagent")
    return meta


def open_store(
    folder: str | Path, model_id: str, dim: int, url: str | None = None, collection: str = "mmagent"
) -> MemoryStore:
    """The embedded store under ``folder``, or the Qdrant server at ``url`` (collection ``collection``)."""
    if url:
        from memory.qdrant_server import QdrantServerStore

        return QdrantServerStore(model_id, dim, collection, url=url)
    from memory.edge import EdgeStore

    return EdgeStore(Path(folder), model_id, dim)
