"""The real Qdrant Edge engine under the store interface."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from memory.errors import StoreInUse, StoreModelMismatch
from memory.keywords import normalise
from memory.records import MemoryRecord, Snippet
from memory.catalog import SourceEntry
from memory.edge import EdgeStore
from memory.errors import StoreUnavailable
from memory.qdrant_server import QdrantServerStore
from memory.store import Scope, open_store
from tests.fakes import HashEmbedder

EMB = HashEmbedder()
BACKENDS = ["edge", "qdrant-local"] + (["qdrant-server"] if os.environ.get("QDRANT_URL") else [])


def make(backend: str, where, model_id: str = EMB.model_id, dim: int = EMB.dim):  # type: ignore[no-untyped-def]
    """The same operations on every backend (qdrant-client's congruence idea)."""
    if backend == "edge":
        return open_store(where, model_id, dim)
    if backend == "qdrant-local":
        return QdrantServerStore(model_id, dim, "mem", path=str(where / "qdrant-local"))
    return QdrantServerStore(model_id, dim, f"mmagent-test-{where.name}", url=os.environ["QDRANT_URL"])


def rec(source: str, start: float, text: str) -> MemoryRecord:
    return MemoryRecord("episodic", "clip", source, start, start + 30, text, path=f"/v/{source}.mp4",
                        snippets=(Snippet(start + 1, start + 4, text, "speech"),))


RECORDS = [
    rec("a", 0, "Said: the invoice 4471 for Globex is due on Friday"),
    rec("a", 30, "Said: Dana leads the warehouse move to Rotterdam"),
    rec("b", 0, "Said: the budget for the second quarter is 120000 dollars"),
    rec("b", 30, "On screen: Parking north garage level 3"),
]


def fill(store) -> int:  # type: ignore[no-untyped-def]
    return store.upsert(RECORDS, EMB.embed_batch([r.text for r in RECORDS]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_upsert_is_idempotent_and_persists(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with make(backend, tmp_path) as store:
        assert fill(store) == 4
        assert fill(store) == 0  # deterministic ids: nothing new
        assert store.count() == 4
        entry = SourceEntry("a", "/v/a.mp4", 60.0, 2, 2, "fp", 1.0)
        store.put_source(entry)
        assert store.get_source("a") == entry and store.get_source("zz") is None
    with make(backend, tmp_path) as store:  # reopened
        assert store.sources() == [SourceEntry("a", "/v/a.mp4", 60.0, 2, 2, "fp", 1.0)]
        assert store.count() == 4
        assert store.count(Scope(source_ids=("b",))) == 2
        assert store.count(Scope(before=20)) == 2
        back = sorted(store.scroll(), key=lambda r: (r.source_id, r.t_start))
        assert back == sorted(RECORDS, key=lambda r: (r.source_id, r.t_start))


@pytest.mark.parametrize("backend", BACKENDS)
def test_hybrid_search_finds_exact_terms_and_meaning(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with make(backend, tmp_path) as store:
        fill(store)
        q = "invoice number 4471"
        hits = store.search(EMB.embed(q), q, Scope(), 3)
        assert hits[0].record.text.startswith("Said: the invoice 4471")
        assert -1.0 <= hits[0].dense <= 1.0
        q = "who leads the move to Rotterdam"
        assert "Rotterdam" in store.search(EMB.embed(q), q, Scope(), 1)[0].record.text
        q = "parking level three"  # "three" meets the on-screen "3"
        assert "Parking" in store.search(EMB.embed(q), q, Scope(source_ids=("b",)), 1)[0].record.text
        hits = store.search(EMB.embed("invoice"), "invoice", Scope(source_ids=("b",)), 5)
        assert {h.record.source_id for h in hits} == {"b"}
        hits = store.search(EMB.embed("Rotterdam"), "Rotterdam", Scope(before=30), 5)
        assert all(h.record.t_start < 30 for h in hits)


@pytest.mark.parametrize("backend", BACKENDS)
def test_store_refuses_another_embedding_model(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with make(backend, tmp_path) as store:
        fill(store)
    with pytest.raises(StoreModelMismatch, match="hash-embedder"):
        make(backend, tmp_path, "all-MiniLM-L6-v2", 384)
    with make(backend, tmp_path) as store:  # still intact
        assert store.count() == 4


def test_second_process_is_refused_and_the_owner_keeps_working(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = EdgeStore(tmp_path, EMB.model_id, EMB.dim)
    try:
        fill(store)
        code = (
            "import sys\nfrom memory.store import open_store\n"
            "from memory.errors import StoreInUse\n"
            f"try:\n    open_store({str(tmp_path)!r}, 'hash-embedder', 64)\n"
            "except StoreInUse as e:\n    print(e); sys.exit(3)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert out.returncode == 3, out.stderr
        assert "in use by PID" in out.stdout
        with pytest.raises(StoreInUse):  # a second handle in this process is refused too
            EdgeStore(tmp_path, EMB.model_id, EMB.dim)
        store.upsert([rec("c", 0, "Said: later note")], EMB.embed_batch(["Said: later note"]))
        assert store.count() == 5
    finally:
        store.close()
    with open_store(tmp_path, EMB.model_id, EMB.dim) as again:
        assert again.count() == 5


def test_keyword_normalisation() -> None:
    assert normalise("Bin red by K7 now") == "bin red by k7 k 7 now"
    assert normalise("due on March fourteenth, level three") == "due on march fourteenth level 3"
    assert normalise("14th") == "14th 14"
    assert normalise("Invoice #4471-Globex") == "invoice 4471 globex"


def test_vectors_must_match_records(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with open_store(tmp_path, EMB.model_id, EMB.dim) as store, pytest.raises(ValueError):
        store.upsert(RECORDS, np.zeros((1, EMB.dim), dtype=np.float32))


def test_backends_agree(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Congruence: the same records and queries give the same ranking on Edge and qdrant-client."""
    stores = [make(b, tmp_path / b) for b in ("edge", "qdrant-local")]
    try:
        for store in stores:
            fill(store)
        for q in ("invoice number 4471", "Rotterdam warehouse", "budget", "parking level three"):
            hits = [s.search(EMB.embed(q), q, Scope(), 4) for s in stores]
            assert hits[0][0].record == hits[1][0].record, q  # the same best memory
            # the same candidates with the same similarities (order among RRF ties may differ)
            assert sorted((h.id, round(h.dense, 4)) for h in hits[0]) == sorted((h.id, round(h.dense, 4)) for h in hits[1])
    finally:
        for store in stores:
            store.close()


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="127.0.0.1:9"):
        QdrantServerStore(EMB.model_id, EMB.dim, url="http://127.0.0.1:9", api_key=None)


# -- schema 2: named vectors, keyed records, deletes, the superseded flag, migration ----------------

from dataclasses import replace  # noqa: E402
import shutil  # noqa: E402
import tarfile  # noqa: E402
from pathlib import Path  # noqa: E402

from memory.records import SCHEMA_VERSION  # noqa: E402

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize("backend", BACKENDS)
def test_named_vectors_keyed_records_and_deletes(backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    face = np.eye(4, dtype=np.float32)
    with make(backend, tmp_path) as store:
        with pytest.raises(ValueError, match="no vector named"):
            store.upsert(RECORDS[:1], EMB.embed_batch([RECORDS[0].text]), [{"face": face[0]}])
        store.ensure_vectors({"face": ("dlib", 4)})
        store.ensure_vectors({"face": ("dlib", 4)})  # known: nothing to do
        with pytest.raises(StoreModelMismatch, match="face vectors made by dlib"):
            store.ensure_vectors({"face": ("other", 4)})
        people = [
            MemoryRecord("entity", "face", "", 0, 0, f"face_{k}", key=f"face_{k}", sources=("a",),
                         attrs={"merged_into": "face_1"} if k == 2 else {})
            for k in (1, 2, 3)
        ]
        assert store.upsert(people, EMB.embed_batch([p.text for p in people]), [{"face": face[k]} for k in (1, 2, 3)]) == 3
        fill(store)
        # a keyed record is updated in place: same id whatever its text
        moved = replace(people[0], text="face_1 renamed", attrs={"names": ["Dana"]})
        assert store.upsert([moved], EMB.embed_batch([moved.text]), [{"face": face[1]}]) == 0
        assert store.count(Scope(kind="entity")) == 3
        assert store.count(Scope(kind="entity", current=True)) == 2  # face_2 was merged
        hits = store.search_vector("face", face[3], Scope(kind="entity"), 1)
        assert hits[0].record.key == "face_3" and hits[0].score == pytest.approx(1.0, abs=1e-5)
        (got, vecs), = store.get([moved.id], ["face"])
        assert got.attrs == {"names": ["Dana"]} and np.allclose(vecs["face"], face[1])
        assert {r.key for r, v in store.scroll_with(Scope(keys=("face_1", "face_3")), ["face"]) if "face" in v} == {"face_1", "face_3"}
        assert store.count(Scope(sources_any=("a",))) == 5  # 3 entities + 2 memories of a
        store.delete([r.id for r in store.scroll(Scope(source_ids=("a",)))])
        assert store.count() == 5 and store.count(Scope(source_ids=("a",))) == 0
    with make(backend, tmp_path) as store:  # reopened: the vector is still known
        assert store.vector_specs() == {"face": ("dlib", 4)}
        assert store.count(Scope(kind="entity")) == 3


def test_a_schema_1_store_is_migrated_forward(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """tests/fixtures/store_v1.tar.gz was written by mmagent's schema 1 (episodic clip memories)."""
    with tarfile.open(FIXTURES / "store_v1.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    folder = tmp_path / "store_v1"
    with open_store(folder, EMB.model_id, EMB.dim) as store:
        records = sorted(store.scroll(), key=lambda r: (r.source_id, r.t_start))
        assert [(r.source_id, r.t_start) for r in records] == [("a", 0), ("a", 30), ("b", 0)]
        assert all(r.schema_version == SCHEMA_VERSION and r.sources == (r.source_id,) for r in records)
        assert "invoice 4471" in records[0].text and records[0].snippets[0].text.startswith("the invoice 4471")
        assert store.count(Scope(sources_any=("a",))) == 2 and store.count(Scope(current=True)) == 3
        hits = store.search(EMB.embed("invoice 4471"), "invoice 4471", Scope(), 1)
        assert hits[0].record.t_start == 0 and hits[0].record.source_id == "a"
        assert [e.source_id for e in store.sources()] == ["a", "b"]
    assert json.loads((folder / "mmagent.json").read_text())["schema_version"] == SCHEMA_VERSION


def test_a_schema_1_collection_is_migrated_forward(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """qdrant-client's local mode with what schema 1 wrote: v1 payloads, v1 metadata."""
    from qdrant_client import QdrantClient, models as m

    client = QdrantClient(path=str(tmp_path / "q"))
    client.create_collection("mem__meta", vectors_config={})
    client.create_collection("mem", vectors_config={"text": m.VectorParams(size=EMB.dim, distance=m.Distance.COSINE)},
                             sparse_vectors_config={"keywords": m.SparseVectorParams(modifier=m.Modifier.IDF)})
    meta = {"schema_version": 1, "embedder": {"model_id": EMB.model_id, "dim": EMB.dim}, "created": 1.0}
    client.upsert("mem__meta", [m.PointStruct(id=0, vector={}, payload=meta)])
    old = RECORDS[0].payload()
    for k in ("key", "sources", "parent", "children", "attrs"):
        del old[k]
    old["schema_version"] = 1
    client.upsert("mem", [m.PointStruct(id=RECORDS[0].id, vector={"text": EMB.embed(RECORDS[0].text).tolist()}, payload=old)])
    client.close()
    with QdrantServerStore(EMB.model_id, EMB.dim, "mem", path=str(tmp_path / "q")) as store:
        (record,) = list(store.scroll(Scope(sources_any=("a",), current=True)))
        assert record == RECORDS[0]


def test_optimize_builds_the_search_index_and_keeps_every_answer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Qdrant Edge leaves indexing to its owner: past the engine's threshold (≈ 10 MB of vectors)
    ``optimize`` rebuilds the segments with a vector graph; what a search finds, its filters and a
    reopened store stay the same, and with nothing new it has nothing to do."""
    rng = np.random.default_rng(0)
    dim = 384
    with open_store(tmp_path, "random-384", dim) as store:
        assert store.optimize() is False  # empty: nothing planned
        filler = [rec(f"s{k // 100}", float(k % 100) * 30, f"Said: filler line {k}") for k in range(8000)]
        vectors = rng.standard_normal((len(filler), dim)).astype(np.float32)
        for k in range(0, len(filler), 2000):
            store.upsert(filler[k:k + 2000], vectors[k:k + 2000])
        probes = [3, 4321, 7999]
        before = [[h.id for h in store.search(vectors[k], f"filler line {k}", Scope(), 5)] for k in probes]
        scoped = [h.record.source_id for h in store.search(vectors[4321], "filler", Scope(source_ids=("s7",)), 5)]
        assert store.optimize() is True
        assert store.optimize() is False  # already optimal
        after = [[h.id for h in store.search(vectors[k], f"filler line {k}", Scope(), 5)] for k in probes]
        assert [a[0] for a in after] == [b[0] for b in before] == [filler[k].id for k in probes]
        assert [h.record.source_id for h in store.search(vectors[4321], "filler", Scope(source_ids=("s7",)), 5)] == scoped == ["s7"] * 5
        assert store.count() == 8000
    with open_store(tmp_path, "random-384", dim) as store:
        assert store.count(Scope(source_ids=("s42",))) == 100
        assert store.search(vectors[4321], "filler line 4321", Scope(), 1)[0].id == filler[4321].id
