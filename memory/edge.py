"""Qdrant Edge: the real Qdrant engine in-process, one shard under STORE/qdrant (the default)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memory import keywords
from memory.catalog import Catalog, SourceEntry
from memory.records import MemoryRecord
from memory.store import Hit, MemoryStore, Row, Scope, StoreLock, check_meta
from models.base import FloatArray


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
            self._catalog = Catalog(folder)
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

    def _existing(self, ids: Sequence[str]) -> set[str]:
        return {str(r.id) for r in self._shard.retrieve(list(ids), with_payload=False, with_vector=False)}

    def _write(self, rows: Sequence[Row]) -> None:
        from qdrant_edge import Point, SparseVector, UpdateOperation

        points = []
        for record, dense, (idx, val) in rows:
            named: dict[str, Any] = {"text": dense}
            if idx:
                named["keywords"] = SparseVector(idx, val)
            points.append(Point(record.id, named, record.payload()))
        self._shard.update(UpdateOperation.upsert_points(points))
        self._shard.flush()

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

    def get_source(self, source_id: str) -> SourceEntry | None:
        return self._catalog.get(source_id)

    def put_source(self, entry: SourceEntry) -> None:
        self._catalog.put(entry)

    def sources(self) -> list[SourceEntry]:
        return self._catalog.all()

    def close(self) -> None:
        shard, self._shard = getattr(self, "_shard", None), None
        if shard is not None:
            shard.flush()
            shard.close()
        self._lock.release()
