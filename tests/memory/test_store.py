"""The real Qdrant Edge engine under the store interface."""

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
