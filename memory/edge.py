"""Qdrant Edge: the real Qdrant engine in-process, one shard under STORE/qdrant (the default)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from memory import keywords
from memory.catalog import Catalog, SourceEntry
from memory.errors import StoreCorrupt, StoreFull
from memory.records import SCHEMA_VERSION, MemoryRecord
from memory.store import (
    FLOAT_FIELDS,
    KEYWORD_FIELDS,
    Hit,
    MemoryStore,
    Row,
    Scope,
    migrate_payload,
    named_vectors,
    payload_of,
)
from memory.store_folder import (
    StoreLock,
    check_free_space,
    check_meta,
    free_mb,
    is_disk_full,
    private_folder,
    write_meta,
)
from models.base import FloatArray


def _crash_point(name: str) -> None:
    """Where a test kills this process between writes, as a crash or a power cut would
    (``MMAGENT_CRASH_AT=store-write:N``: after the N-th durable write of this process;
    ``store-update:N``: after the N-th batch of points handed to the engine, before its flush)."""
    if os.environ.get("MMAGENT_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class EdgeStore(MemoryStore):
    """Qdrant Edge in-process. Holds the store lock for as long as it is open."""

    def __init__(self, folder: Path, model_id: str, dim: int) -> None:
        self.folder = folder
        self._writes = 0
        self._updates = 0
        private_folder(folder)
        check_free_space(folder)  # opening replays and extends memory-mapped files
        self._lock = StoreLock(folder)
        self._lock.acquire()
        try:
            self._meta = check_meta(folder, model_id, dim)
            self.dim = dim
            self._catalog = Catalog(folder)
            try:
                self._shard = self._open_shard(folder / "qdrant", dim)
            except BaseException as exc:  # the engine's own error (a Rust panic included): a damaged shard
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                raise StoreCorrupt(
                    f"store damaged: Qdrant cannot open {folder / 'qdrant'} ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}): "
                    "restore it from a backup, or index the sources into a new --store"
                ) from None
            if int(self._meta.get("schema_version", 1)) < SCHEMA_VERSION:
                self._migrate()
        except BaseException:
            if getattr(self, "_shard", None) is not None:
                self._shard.close()
            self._lock.release()
            raise

    @staticmethod
    def _open_shard(path: Path, dim: int) -> Any:
        from qdrant_edge import Distance, EdgeConfig, EdgeShard, EdgeSparseVectorParams, EdgeVectorParams, Modifier

        if path.exists() and any(path.iterdir()):
            return EdgeShard.load(str(path))  # its own config: named vectors added later included
        config = EdgeConfig(
            vectors={"text": EdgeVectorParams(size=dim, distance=Distance.Cosine)},
            sparse_vectors={"keywords": EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        shard = EdgeShard.create(str(path), config)
        EdgeStore._create_indexes(shard, KEYWORD_FIELDS, FLOAT_FIELDS, text=True)
        shard.flush()
        return shard

    @staticmethod
    def _create_indexes(shard: Any, keyword: Sequence[str], floats: Sequence[str], text: bool) -> None:
        from qdrant_edge import PayloadSchemaType, TextIndexParams, TokenizerType, UpdateOperation

        for name in keyword:
            shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Keyword))
        for name in floats:
            shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Float))
        if text:
            text_index = TextIndexParams(tokenizer=TokenizerType.Word, lowercase=True)
            shard.update(UpdateOperation.create_field_index("text", text_index))

    def _migrate(self) -> None:
        """Schema 1 → 2 in place: new payload fields and their indexes; the meta file last, so an
        interrupted migration runs again on the next open."""
        from qdrant_edge import ScrollRequest, UpdateOperation

        self._create_indexes(self._shard, ("sources", "key", "status"), (), text=False)
        offset = None
        while True:
            points, offset = self._shard.scroll(ScrollRequest(offset=offset, limit=256, with_payload=True))
            for point in points:
                self._shard.update(UpdateOperation.overwrite_payload([point.id], migrate_payload(point.payload)))
            if offset is None:
                break
        self._shard.flush()
        self._meta["schema_version"] = SCHEMA_VERSION
        self._save_meta()

    # -- named vectors -----------------------------------------------------------------------

    def _where(self) -> str:
        return f"store {self.folder}"

    def _add_vector(self, name: str, size: int) -> None:
        from qdrant_edge import Distance, UpdateOperation

        self._shard.update(UpdateOperation.create_dense_vector(name, size, Distance.Cosine))
        self._shard.flush()

    def _save_meta(self) -> None:
        write_meta(self.folder, self._meta)

    # -- writes ------------------------------------------------------------------------------

    def _existing(self, ids: Sequence[str]) -> set[str]:
        return {str(r.id) for r in self._shard.retrieve(list(ids), with_payload=False, with_vector=False)}

    def _write(self, rows: Sequence[Row]) -> None:
        from qdrant_edge import Point, SparseVector, UpdateOperation

        points = []
        for record, dense, (idx, val) in rows:
            named: dict[str, Any] = dict(dense)
            if idx:
                named["keywords"] = SparseVector(idx, val)
            points.append(Point(record.id, named, payload_of(record)))
        check_free_space(self.folder, "write to it")
        with self._full_disk("writing"):
            for k in range(0, len(points), 512):
                self._shard.update(UpdateOperation.upsert_points(points[k : k + 512]))
                self._updates += 1
                _crash_point(f"store-update:{self._updates}")  # sent to the engine, not yet flushed
            self._shard.flush()
        self._writes += 1
        _crash_point(f"store-write:{self._writes}")

    def delete(self, ids: Sequence[str]) -> None:
        from qdrant_edge import UpdateOperation

        if ids:
            check_free_space(self.folder, "write to it")
            with self._full_disk("deleting from"):
                self._shard.update(UpdateOperation.delete_points(list(ids)))
                self._shard.flush()

    def optimize(self) -> bool:
        """Qdrant Edge runs no optimizer of its own: an embedded shard keeps every point in
        appendable segments, searched by brute force, until its owner asks. Here the engine plans
        the work itself (segments past its indexing threshold get an HNSW graph; small stores are
        left as they are) and swaps the rebuilt segments in atomically, so a killed run leaves the
        old ones. At 100 hours of footage search goes from a scan to a graph walk (bench.agent_latency)."""
        check_free_space(self.folder, "index it")
        with self._full_disk("indexing"):
            return bool(self._shard.optimize())

    @contextmanager
    def _full_disk(self, doing: str) -> Iterator[None]:
        """A write the engine failed for want of space: StoreFull naming the store and its free space."""
        try:
            yield
        except BaseException as exc:  # the engine's errors include Rust panics (not Exceptions)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) or not is_disk_full(exc):
                raise
            raise StoreFull(
                f"store {self.folder}: the disk filled up while {doing} it ({free_mb(self.folder):.0f} MB free): "
                "free some space and run the command again (a journal finishes or rolls back what was half done)"
            ) from None

    # -- reads -------------------------------------------------------------------------------

    def _filter(self, scope: Scope) -> Any:
        from qdrant_edge import FieldCondition, Filter, MatchAny, MatchValue, RangeFloat

        must: list[Any] = []
        for name, values in (("source_id", scope.source_ids), ("kind", scope.kinds), ("entity_ids", scope.entity_ids),
                             ("sources", scope.sources_any), ("key", scope.keys)):
            if values:
                must.append(FieldCondition(name, match=MatchAny(list(values))))
        if scope.kind:
            must.append(FieldCondition("kind", match=MatchValue(scope.kind)))
        if scope.level:
            must.append(FieldCondition("level", match=MatchValue(scope.level)))
        if scope.before is not None:
            must.append(FieldCondition("t_start", range=RangeFloat(lt=scope.before)))
        if scope.after is not None:
            must.append(FieldCondition("t_end", range=RangeFloat(gt=scope.after)))
        if scope.wall_after is not None or scope.wall_before is not None:
            must.append(FieldCondition("wall_time", range=RangeFloat(gte=scope.wall_after, lt=scope.wall_before)))
        if scope.current:
            must.append(FieldCondition("status", match=MatchValue("current")))
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

    def search_vector(self, name: str, vector: FloatArray, scope: Scope, limit: int) -> list[Hit]:
        from qdrant_edge import Query, QueryRequest

        request = QueryRequest(
            limit=limit, query=Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=name),
            filter=self._filter(scope), with_payload=True,
        )
        return [
            Hit(str(p.id), MemoryRecord.from_payload(p.payload), float(p.score), float(p.score))
            for p in self._shard.query(request)
        ]

    def count(self, scope: Scope = Scope()) -> int:
        from qdrant_edge import CountRequest

        return int(self._shard.count(CountRequest(exact=True, filter=self._filter(scope))))

    def counts_by_source(self, scope: Scope, source_ids: Sequence[str]) -> dict[str, int]:
        """One exact facet request on the indexed ``source_id`` field."""
        from qdrant_edge import FacetRequest

        if not source_ids:
            return {}
        response = self._shard.facet(FacetRequest("source_id", limit=len(source_ids) + 64, exact=True,
                                                  filter=self._filter(scope)))
        counts = {str(h.value): int(h.count) for h in response.hits}
        return {sid: counts.get(sid, 0) for sid in source_ids}

    def scroll(self, scope: Scope = Scope()) -> Iterator[MemoryRecord]:
        for record, _ in self.scroll_with(scope, ()):
            yield record

    def scroll_with(self, scope: Scope, vectors: Sequence[str]) -> Iterator[tuple[MemoryRecord, dict[str, FloatArray]]]:
        from qdrant_edge import ScrollRequest

        offset = None
        while True:
            records, offset = self._shard.scroll(
                ScrollRequest(offset=offset, limit=256, filter=self._filter(scope), with_payload=True,
                              with_vector=list(vectors) if vectors else False)
            )
            for r in records:
                yield MemoryRecord.from_payload(r.payload), named_vectors(r.vector, vectors)
            if offset is None:
                return

    def get(self, ids: Sequence[str], vectors: Sequence[str] = ()) -> list[tuple[MemoryRecord, dict[str, FloatArray]]]:
        if not ids:
            return []
        found = self._shard.retrieve(list(ids), with_payload=True, with_vector=list(vectors) if vectors else False)
        return [(MemoryRecord.from_payload(r.payload), named_vectors(r.vector, vectors)) for r in found]

    def get_source(self, source_id: str) -> SourceEntry | None:
        return self._catalog.get(source_id)

    def put_source(self, entry: SourceEntry) -> None:
        self._catalog.put(entry)

    def sources(self) -> list[SourceEntry]:
        return self._catalog.all()

    def remove_source(self, source_id: str) -> None:
        self._catalog.remove(source_id)

    def source_ids(self) -> list[str]:
        return self._catalog.ids()

    def close(self) -> None:
        shard, self._shard = getattr(self, "_shard", None), None
        try:
            if shard is not None:
                with self._full_disk("closing"):
                    shard.flush()
                    shard.close()
        finally:
            self._lock.release()

