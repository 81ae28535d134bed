"""The memory store: one interface, Qdrant Edge (embedded, the default) behind it.

Store folder layout::

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


class MemoryStore(ABC):
    @abstractmethod
    def upsert(self, records: Sequence[MemoryRecord], vectors: FloatArray) -> int:
        """Write records with their dense vectors; returns how many ids were new."""

    @abstractmethod
    def search(self, dense: FloatArray, text: str, scope: Scope, limit: int) -> list[Hit]:
        """Hybrid search: dense and keyword candidates fused by reciprocal rank."""

    @abstractmethod
    def count(self, scope: Scope = Scope()) -> int: ...

    @abstractmethod
    def scroll(self, scope: Scope = Scope()) -> Iterator[MemoryRecord]: ...

    @abstractmethod
    def close(self) -> None: ...

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


class EdgeStore(MemoryStore):
    """Qdrant Edge in-process. Holds the store lock for as long as it is open."""

    def __init__(self, folder: Path, model_id: str, dim: int) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = StoreLock(folder)
        self._lock.acquire()
        try:
            check_meta(folder, model_id, dim)
            self.dim = dim
            self._shard = self._open_shard(folder / "qdrant", dim)
        except BaseException:
            self._lock.release()
            raise

    @staticmethod
    def _open_shard(path: Path, dim: int) -> Any:
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeShard,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            Modifier,
            PayloadSchemaType,
            TextIndexParams,
            TokenizerType,
            UpdateOperation,
        )

        config = EdgeConfig(
            vectors={"text": EdgeVectorParams(size=dim, distance=Distance.Cosine)},
            sparse_vectors={"keywords": EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        if path.exists() and any(path.iterdir()):
            return EdgeShard.load(str(path), config)
        shard = EdgeShard.create(str(path), config)
        for name in ("kind", "level", "source_id", "entity_ids"):
            shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Keyword))
        for name in ("t_start", "t_end", "wall_time"):
            shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Float))
        text_index = TextIndexParams(tokenizer=TokenizerType.Word, lowercase=True)
        shard.update(UpdateOperation.create_field_index("text", text_index))
        shard.flush()
        return shard

    # -- writes ------------------------------------------------------------------------------

    def upsert(self, records: Sequence[MemoryRecord], vectors: FloatArray) -> int:
        from qdrant_edge import Point, SparseVector, UpdateOperation

        if len(records) != len(vectors):
            raise ValueError("one vector per record")
        if not records:
            return 0
        ids = [r.id for r in records]
        known = {str(r.id) for r in self._shard.retrieve(ids, with_payload=False, with_vector=False)}
        points = []
        for record, vector in zip(records, vectors):
            idx, val = keywords.document_vector(record.text)
            named: dict[str, Any] = {"text": vector.astype(np.float32).tolist()}
            if idx:
                named["keywords"] = SparseVector(idx, val)
            points.append(Point(record.id, named, record.payload()))
        self._shard.update(UpdateOperation.upsert_points(points))
        self._shard.flush()
        return sum(1 for i in ids if i not in known)

    # -- reads -------------------------------------------------------------------------------

    def _filter(self, scope: Scope) -> Any:
        from qdrant_edge import FieldCondition, Filter, MatchAny, MatchValue, RangeFloat

        must: list[Any] = []
        if scope.source_ids:
            must.append(FieldCondition("source_id", match=MatchAny(list(scope.source_ids))))
        if scope.kind:
            must.append(FieldCondition("kind", match=MatchValue(scope.kind)))
        if scope.level:
            must.append(FieldCondition("level", match=MatchValue(scope.level)))
        if scope.before is not None:
            must.append(FieldCondition("t_start", range=RangeFloat(lt=scope.before)))
        return Filter(must=must) if must else None

    def search(self, dense: FloatArray, text: str, scope: Scope, limit: int) -> list[Hit]:
        from qdrant_edge import Fusion, Prefetch, Query, QueryRequest, SparseVector

        flt = self._filter(scope)
        dense_q = Query.Nearest(dense.astype(np.float32).tolist(), using="text")
        idx, val = keywords.query_vector(text)
        wide = max(limit * 4, 20)
        if idx:
            request = QueryRequest(
                limit=limit,
                prefetches=[
                    Prefetch(limit=wide, query=dense_q, filter=flt),
                    Prefetch(limit=wide, query=Query.Nearest(SparseVector(idx, val), using="keywords"), filter=flt),
                ],
                query=Fusion.Rrf(k=60),
                with_payload=True,
                with_vector=["text"],
            )
        else:
            request = QueryRequest(limit=limit, query=dense_q, filter=flt, with_payload=True, with_vector=["text"])
        hits = []
        for point in self._shard.query(request):
            vec = point.vector["text"] if isinstance(point.vector, dict) else point.vector
            cosine = float(np.dot(np.asarray(vec, dtype=np.float32), dense))
            hits.append(Hit(str(point.id), MemoryRecord.from_payload(point.payload), float(point.score), cosine))
        return hits

    def count(self, scope: Scope = Scope()) -> int:
        from qdrant_edge import CountRequest

        return int(self._shard.count(CountRequest(exact=True, filter=self._filter(scope))))

    def scroll(self, scope: Scope = Scope()) -> Iterator[MemoryRecord]:
        from qdrant_edge import ScrollRequest

        offset = None
        while True:
            records, offset = self._shard.scroll(
                ScrollRequest(offset=offset, limit=256, filter=self._filter(scope), with_payload=True)
            )
            for r in records:
                yield MemoryRecord.from_payload(r.payload)
            if offset is None:
                return

    def close(self) -> None:
        shard, self._shard = getattr(self, "_shard", None), None
        if shard is not None:
            shard.flush()
            shard.close()
        self._lock.release()


def open_store(folder: str | Path, model_id: str, dim: int) -> MemoryStore:
    return EdgeStore(Path(folder), model_id, dim)
