"""A Qdrant server or cluster through qdrant-client (``url=``), for shared stores and many writers.

qdrant-client's local mode (``path=``) runs the same code path without a server; the tests use it
to stand in for one (a real server is tested when QDRANT_URL is set). Two collections:

    COLLECTION          the memories: named vectors ``text`` (dense) and ``keywords`` (sparse, IDF)
    COLLECTION__meta    no vectors; point 0 = the embedding model, other points = the source catalog
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from memory import keywords
from memory.catalog import SourceEntry, entry_from
from memory.errors import StoreCorrupt, StoreModelMismatch, StoreUnavailable
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
from models.base import FloatArray
from models.errors import ModelNotInstalled

_SOURCES = uuid.UUID("0c6d2a6e-5d1b-4e0e-8a0e-6f0f3c7b9a21")
_META_ID = 0


class QdrantServerStore(MemoryStore):
    def __init__(self, model_id: str, dim: int, collection: str = "mmagent", url: str | None = None,
                 path: str | None = None, api_key: str | None = None) -> None:
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise ModelNotInstalled("qdrant-client", "store") from None
        if (url is None) == (path is None):
            raise ValueError("give exactly one of url= (a server) or path= (local mode)")
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        self.client = (
            QdrantClient(url=url, api_key=api_key, check_compatibility=False) if url else QdrantClient(path=path)
        )
        self.collection, self.meta = collection, f"{collection}__meta"
        self.dim = dim
        self._local = path is not None  # local mode: brute force, payload indexes do nothing
        try:
            self._ensure(model_id, dim)
        except (ResponseHandlingException, UnexpectedResponse, OSError) as exc:
            self.client.close()
            raise StoreUnavailable(f"Qdrant at {url or path} cannot be used: {exc}") from None
        except BaseException:
            self.client.close()
            raise

    def _ensure(self, model_id: str, dim: int) -> None:
        from qdrant_client import models as m

        c = self.client
        if not c.collection_exists(self.meta):
            c.create_collection(self.meta, vectors_config={})
        found = c.retrieve(self.meta, [_META_ID], with_payload=True)
        if not found:
            if c.collection_exists(self.collection):
                raise StoreCorrupt(f"collection {self.collection} exists but has no mmagent metadata")
            c.create_collection(
                self.collection,
                vectors_config={"text": m.VectorParams(size=dim, distance=m.Distance.COSINE)},
                sparse_vectors_config={"keywords": m.SparseVectorParams(modifier=m.Modifier.IDF)},
            )
            self._indexes(KEYWORD_FIELDS, FLOAT_FIELDS, text=True)
            meta = {"schema_version": SCHEMA_VERSION, "embedder": {"model_id": model_id, "dim": dim}, "created": time.time()}
            c.upsert(self.meta, [m.PointStruct(id=_META_ID, vector={}, payload=meta)])
            self._meta = meta
            return
        stored = found[0].payload or {}
        self._meta = dict(stored)
        have = (stored.get("embedder", {}).get("model_id"), stored.get("embedder", {}).get("dim"))
        if have != (model_id, dim):
            raise StoreModelMismatch(
                f"collection {self.collection} was built with the embedding model {have[0]} ({have[1]}-d), "
                f"but this run embeds with {model_id} ({dim}-d): use that model, or another collection"
            )
        if int(stored.get("schema_version", 1)) < SCHEMA_VERSION:
            self._migrate()

    def _indexes(self, keyword: Sequence[str], floats: Sequence[str], text: bool) -> None:
        from qdrant_client import models as m

        if self._local:  # local mode: brute force, payload indexes do nothing
            return
        c = self.client
        for name in keyword:
            c.create_payload_index(self.collection, name, m.PayloadSchemaType.KEYWORD)
        for name in floats:
            c.create_payload_index(self.collection, name, m.PayloadSchemaType.FLOAT)
        if text:
            params = m.TextIndexParams(type=m.TextIndexType.TEXT, tokenizer=m.TokenizerType.WORD, lowercase=True)
            c.create_payload_index(self.collection, "text", params)

    def _migrate(self) -> None:
        """Schema 1 → 2: new payload fields and indexes; the metadata last (re-runs if interrupted)."""
        self._indexes(("sources", "key", "status"), (), text=False)
        offset = None
        while True:
            points, offset = self.client.scroll(self.collection, limit=256, offset=offset, with_payload=True)
            for p in points:
                self.client.overwrite_payload(self.collection, migrate_payload(p.payload or {}), points=[p.id], wait=True)
            if offset is None:
                break
        self._meta["schema_version"] = SCHEMA_VERSION
        self._save_meta()

    def _save_meta(self) -> None:
        from qdrant_client import models as m

        self.client.upsert(self.meta, [m.PointStruct(id=_META_ID, vector={}, payload=self._meta)], wait=True)

    # -- named vectors -----------------------------------------------------------------------

    def _where(self) -> str:
        return f"collection {self.collection}"

    def _add_vector(self, name: str, size: int) -> None:
        from qdrant_client import models as m

        config = m.DenseVectorNameConfig(dense=m.DenseVectorConfig(size=size, distance=m.Distance.COSINE))
        self.client.create_vector_name(self.collection, name, config)

    # -- memories ----------------------------------------------------------------------------

    def _existing(self, ids: Sequence[str]) -> set[str]:
        return {str(p.id) for p in self.client.retrieve(self.collection, list(ids), with_payload=False)}

    def _write(self, rows: Sequence[Row]) -> None:
        from qdrant_client import models as m

        points = []
        for record, dense, (idx, val) in rows:
            named: dict[str, Any] = dict(dense)
            if idx:
                named["keywords"] = m.SparseVector(indices=idx, values=val)
            points.append(m.PointStruct(id=record.id, vector=named, payload=payload_of(record)))
        for k in range(0, len(points), 256):
            self.client.upsert(self.collection, points[k : k + 256], wait=True)

    def delete(self, ids: Sequence[str]) -> None:
        from qdrant_client import models as m

        if ids:
            self.client.delete(self.collection, m.PointIdsList(points=list(ids)), wait=True)

    def _filter(self, scope: Scope) -> Any:
        from qdrant_client import models as m

        must: list[Any] = []
        for name, values in (("source_id", scope.source_ids), ("kind", scope.kinds), ("entity_ids", scope.entity_ids),
                             ("sources", scope.sources_any), ("key", scope.keys)):
            if values:
                must.append(m.FieldCondition(key=name, match=m.MatchAny(any=list(values))))
        if scope.current:
            must.append(m.FieldCondition(key="status", match=m.MatchValue(value="current")))
        if scope.kind:
            must.append(m.FieldCondition(key="kind", match=m.MatchValue(value=scope.kind)))
        if scope.level:
            must.append(m.FieldCondition(key="level", match=m.MatchValue(value=scope.level)))
        if scope.before is not None:
            must.append(m.FieldCondition(key="t_start", range=m.Range(lt=scope.before)))
        if scope.after is not None:
            must.append(m.FieldCondition(key="t_end", range=m.Range(gt=scope.after)))
        if scope.wall_after is not None or scope.wall_before is not None:
            must.append(m.FieldCondition(key="wall_time", range=m.Range(gte=scope.wall_after, lt=scope.wall_before)))
        return m.Filter(must=must) if must else None

    def search(self, dense: FloatArray, text: str, scope: Scope, limit: int) -> list[Hit]:
        from qdrant_client import models as m

        flt = self._filter(scope)
        query = dense.astype(np.float32).tolist()
        idx, val = keywords.query_vector(text)
        wide = max(limit * 4, 20)
        if idx:
            result = self.client.query_points(
                self.collection,
                prefetch=[
                    m.Prefetch(query=query, using="text", limit=wide, filter=flt),
                    m.Prefetch(query=m.SparseVector(indices=idx, values=val), using="keywords", limit=wide, filter=flt),
                ],
                query=m.RrfQuery(rrf=m.Rrf(k=60)),  # the same fusion as the embedded store
                limit=limit, with_payload=True, with_vectors=["text"],
            )
        else:
            result = self.client.query_points(
                self.collection, query=query, using="text", query_filter=flt, limit=limit,
                with_payload=True, with_vectors=["text"],
            )
        hits = []
        for p in result.points:
            vec = np.asarray(p.vector["text"], dtype=np.float32)  # type: ignore[index]
            cosine = float(vec @ dense / max(float(np.linalg.norm(vec)), 1e-9))
            hits.append(Hit(str(p.id), MemoryRecord.from_payload(p.payload or {}), float(p.score), cosine))
        return hits

    def count(self, scope: Scope = Scope()) -> int:
        return int(self.client.count(self.collection, count_filter=self._filter(scope), exact=True).count)

    def scroll(self, scope: Scope = Scope()) -> Iterator[MemoryRecord]:
        for record, _ in self.scroll_with(scope, ()):
            yield record

    def scroll_with(self, scope: Scope, vectors: Sequence[str]) -> Iterator[tuple[MemoryRecord, dict[str, FloatArray]]]:
        offset = None
        while True:
            points, offset = self.client.scroll(
                self.collection, scroll_filter=self._filter(scope), limit=256, offset=offset, with_payload=True,
                with_vectors=list(vectors) if vectors else False,
            )
            for p in points:
                yield MemoryRecord.from_payload(p.payload or {}), named_vectors(p.vector, vectors)
            if offset is None:
                return

    def get(self, ids: Sequence[str], vectors: Sequence[str] = ()) -> list[tuple[MemoryRecord, dict[str, FloatArray]]]:
        if not ids:
            return []
        found = self.client.retrieve(self.collection, list(ids), with_payload=True,
                                     with_vectors=list(vectors) if vectors else False)
        return [(MemoryRecord.from_payload(p.payload or {}), named_vectors(p.vector, vectors)) for p in found]

    def search_vector(self, name: str, vector: FloatArray, scope: Scope, limit: int) -> list[Hit]:
        result = self.client.query_points(
            self.collection, query=np.asarray(vector, dtype=np.float32).tolist(), using=name,
            query_filter=self._filter(scope), limit=limit, with_payload=True,
        )
        return [Hit(str(p.id), MemoryRecord.from_payload(p.payload or {}), float(p.score), float(p.score))
                for p in result.points]

    # -- catalog -----------------------------------------------------------------------------

    def get_source(self, source_id: str) -> SourceEntry | None:
        found = self.client.retrieve(self.meta, [str(uuid.uuid5(_SOURCES, source_id))], with_payload=True)
        return entry_from(found[0].payload) if found and found[0].payload else None

    def put_source(self, entry: SourceEntry) -> None:
        from qdrant_client import models as m

        point = m.PointStruct(id=str(uuid.uuid5(_SOURCES, entry.source_id)), vector={}, payload=asdict(entry))
        self.client.upsert(self.meta, [point], wait=True)

    def sources(self) -> list[SourceEntry]:
        out, offset = [], None
        while True:
            points, offset = self.client.scroll(self.meta, limit=256, offset=offset, with_payload=True)
            out.extend(entry_from(p.payload) for p in points if p.id != _META_ID and p.payload)
            if offset is None:
                return sorted(out, key=lambda e: e.source_id)

    def remove_source(self, source_id: str) -> None:
        from qdrant_client import models as m

        self.client.delete(self.meta, m.PointIdsList(points=[str(uuid.uuid5(_SOURCES, source_id))]), wait=True)

    def close(self) -> None:
        self.client.close()

