"""Issue 18, damaged store files: a store whose files were truncated, deleted or altered gives
one line naming the store and what to run (exit 1), never a traceback nor answers from half a
memory; ``forget`` and indexing the source again repair it. Real Qdrant Edge files, damaged on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apps.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main([*argv, "--json"] if argv[0] in ("sources", "index") else list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[Path], list[str]]:  # type: ignore[no-untyped-def]
    """Two recorder day folders (their text read when saved: no OCR model) in one store."""
    root = tmp_path_factory.mktemp("damaged")
    days = []
    for d in range(2):
        day = root / f"day{d}"
        day.mkdir()
        for k in range(12):
            (day / f"c{k}.json").write_text(json.dumps({
                "time": 1795165200 + 3600 * d + 40 * k, "app": "Mail", "window": f"Inbox {k}",
                "ocr": [{"text": f"Invoice {4400 + k + 100 * d} from Globex is due on day {k}", "score": 0.99, "box": []}]}))
        days.append(day)
    store = root / "store"
    assert main(["index", *map(str, days), "--store", str(store)]) == 0
    ids = sorted(p.stem for p in (store / "sources").glob("*.json"))
    return store, days, ids


@pytest.fixture()
def store(built, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    copy = tmp_path / "store"
    shutil.copytree(built[0], copy, symlinks=True)
    return copy


def _one_line(code: int, err: str) -> str:
    assert code == 1 and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("mmagent: error:")]
    assert len(lines) == 1, err
    return lines[0]


def _source_of(store: Path, ids: list[str], day: Path) -> str:
    return next(i for i in ids if json.loads((store / "sources" / f"{i}.json").read_text())["path"] == str(day))


def test_truncated_id_mappings_are_damage_not_fewer_answers(capsys, built, store: Path) -> None:  # type: ignore[no-untyped-def]
    _, days, ids = built
    (mappings,) = store.glob("qdrant/segments/*/mutable_id_tracker.mappings")
    with open(mappings, "r+b") as fh:  # half the point ids lost, after the WAL was folded into the segment
        fh.truncate(mappings.stat().st_size // 2)
    for wal in store.glob("qdrant/wal/open-*"):
        wal.unlink()
    code, _, err = run(capsys, "sources", "--store", str(store))
    line = _one_line(code, err)
    assert f"store damaged: {store}" in line and "of its 15 memories" in line and "mmagent forget" in line
    code, _, err = run(capsys, "ask", "which invoice is due on day 3?", "--store", str(store), "--llm", "none")
    _one_line(code, err)

    # the repair it names: forget the damaged source, index it again
    damaged = line.split("mmagent forget ")[1].split("`")[0]
    code, out, err = run(capsys, "forget", damaged, "--store", str(store))
    assert code == 0, err
    code, out, err = run(capsys, "index", *(str(d) for d in days), "--store", str(store))
    assert code == 0, err
    code, out, err = run(capsys, "sources", "--store", str(store))
    assert code == 0 and sorted(s["memories"] for s in json.loads(out)["sources"]) == [15, 15]


def test_indexing_a_damaged_source_again_repairs_it(capsys, built, store: Path) -> None:  # type: ignore[no-untyped-def]
    _, days, ids = built
    (mappings,) = store.glob("qdrant/segments/*/mutable_id_tracker.mappings")
    with open(mappings, "r+b") as fh:
        fh.truncate(mappings.stat().st_size // 2)
    for wal in store.glob("qdrant/wal/open-*"):
        wal.unlink()
    code, _, err = run(capsys, "index", *(str(d) for d in days), "--store", str(store))
    if code != 0:  # both sources lost points: each is repaired by its own index
        for day in days:
            code, _, err = run(capsys, "index", str(day), "--store", str(store))
    code, out, err = run(capsys, "sources", "--store", str(store))
    assert code == 0, err
    assert sorted(s["memories"] for s in json.loads(out)["sources"]) == [15, 15]


def test_a_deleted_shard_is_named_not_answered_as_not_found(capsys, store: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(store / "qdrant")
    code, _, err = run(capsys, "ask", "which invoice is due on day 3?", "--store", str(store), "--llm", "none")
    line = _one_line(code, err)
    assert "store damaged" in line and "holds no memories (qdrant/ deleted or emptied)" in line


def test_a_truncated_catalog_entry_is_named_and_forget_removes_it(capsys, built, store: Path) -> None:  # type: ignore[no-untyped-def]
    _, days, ids = built
    entry = store / "sources" / f"{ids[0]}.json"
    entry.write_bytes(entry.read_bytes()[:40])
    code, _, err = run(capsys, "sources", "--store", str(store))
    line = _one_line(code, err)
    assert str(entry) in line and "unreadable" in line and f"mmagent forget {ids[0][:16]}" in line
    code, out, err = run(capsys, "forget", ids[0][:16], "--store", str(store))
    assert code == 0, err
    code, out, err = run(capsys, "sources", "--store", str(store))
    assert code == 0 and [s["source_id"] for s in json.loads(out)["sources"]] == [ids[1]]


@pytest.mark.parametrize("value", ['"two"', "2.5", "null", "[2]"])
def test_a_wrong_typed_schema_version_is_one_line(capsys, store: Path, value: str) -> None:  # type: ignore[no-untyped-def]
    meta = store / "mmagent.json"
    doc = json.loads(meta.read_text())
    meta.write_text(json.dumps(doc).replace(f'"schema_version": {doc["schema_version"]}', f'"schema_version": {value}'))
    code, _, err = run(capsys, "sources", "--store", str(store))
    line = _one_line(code, err)
    assert f"store damaged: {meta} is unreadable" in line and "schema_version" in line
