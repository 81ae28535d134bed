"""``mmagent doctor [--repair]`` on real stores damaged in real ways: points deleted from the
Qdrant Edge shard, a catalog record truncated, a journal left by a SIGKILLed ``index``, a catalog
record deleted (orphan points), a source folder gone, ``mmagent.json`` garbled. The exit code says
healthy (0) / broken (1) / repaired (2); a repaired store holds the same memories (the same point
ids) as before the damage, and answers the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apps.cli import main
from mmagent import MMAgent, Settings
from tests.faults import cli


def doctor(capsys: pytest.CaptureFixture[str], store: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = main(["doctor", "--store", str(store), "--json", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, json.loads(out)


def points(store: Path) -> list[tuple[str, str, str]]:
    """(source, kind, point id) of every episodic and visual point, and the entity ids."""
    with MMAgent(Settings.load(env={}, store=store, llm="none")) as a:
        a.verify = False
        a.recover = False
        return sorted((r.source_id, r.kind, r.id) for r in a.store.scroll() if r.kind != "semantic")


def listed(store: Path) -> list[tuple[str, int, int]]:
    return sorted((json.loads(p.read_text())["source_id"], json.loads(p.read_text())["clips"],
                   json.loads(p.read_text())["memories"]) for p in (store / "sources").glob("*.json"))


def day(folder: Path, d: int) -> Path:
    """A recorder's day folder: captures whose text was read when saved (no OCR model runs)."""
    folder.mkdir()
    for k in range(8):
        (folder / f"c{k}.json").write_text(json.dumps({
            "time": 1795165200 + 86400 * d + 40 * k, "app": "Mail", "window": f"Inbox {k}",
            "ocr": [{"text": f"Invoice {4400 + k + 100 * d} from Globex is due on day {k}", "score": 0.99, "box": []}]}))
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """Two day folders and a short spoken video (espeak-ng; its perception cache is what a repair reuses)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    from mmagent.samples import Scene, make_demo_video

    root = tmp_path_factory.mktemp("doctor")
    video = root / "standup.mp4"
    make_demo_video(video, (Scene("Standup", ("Release: March 14",), "Good morning, the release is on March fourteenth.", "en-us"),
                            Scene("Budget", ("Budget: 12,800",), "The budget was approved this morning.", "en-us+f3")))
    sources = {"day0": day(root / "day0", 0), "day1": day(root / "day1", 1), "video": video}
    store = root / "store"
    assert main(["index", *(str(p) for p in sources.values()), "--store", str(store)]) == 0
    return store, sources


@pytest.fixture()
def store(built: tuple[Path, dict[str, Path]], tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(built[0], copy, symlinks=True)
    return copy


def source_of(store: Path, path: Path) -> str:
    return next(p.stem for p in (store / "sources").glob("*.json") if json.loads(p.read_text())["path"] == str(path))


def test_a_healthy_store_is_healthy(capsys: pytest.CaptureFixture[str], store: Path) -> None:
    code, doc = doctor(capsys, store)
    assert code == 0 and doc["status"] == "healthy" and not [f for f in doc["findings"] if f["damage"]], doc
    code, doc = doctor(capsys, store, "--repair")  # nothing to repair: nothing changes
    assert code == 0 and "repaired" not in doc


def test_deleted_points_are_found_and_rebuilt_from_the_perception_cache(capsys: pytest.CaptureFixture[str],
                                                                        built: tuple[Path, dict[str, Path]],
                                                                        store: Path) -> None:
    before, catalog = points(store), listed(store)
    sid = source_of(store, built[1]["video"])
    with MMAgent(Settings.load(env={}, store=store, llm="none")) as a:
        gone = [r.id for r in a.store.scroll() if r.source_id == sid and r.kind == "episodic"][:2]
        a.store.delete(gone)  # lost from the engine, the catalog still counts them
    code, doc = doctor(capsys, store)
    assert code == 1 and doc["status"] == "broken"
    assert any(f["kind"] == "count" and f["source_id"] == sid and f["repair"] == "reindex" for f in doc["findings"]), doc
    code, doc = doctor(capsys, store, "--repair")
    assert code == 2 and doc["status"] == "repaired", doc
    assert not [f for f in doc["remaining"] if f["damage"]], doc
    assert any("perception cache" in r for r in doc["repaired"])
    assert points(store) == before and listed(store) == catalog
    assert doctor(capsys, store)[0] == 0


def test_a_truncated_catalog_record_is_rebuilt(capsys: pytest.CaptureFixture[str], built: tuple[Path, dict[str, Path]],
                                               store: Path) -> None:
    before, catalog = points(store), listed(store)
    sid = source_of(store, built[1]["day1"])
    record = store / "sources" / f"{sid}.json"
    record.write_bytes(record.read_bytes()[: record.stat().st_size // 2])
    code, doc = doctor(capsys, store)
    assert code == 1 and any(f["kind"] == "catalog" and f["source_id"] == sid for f in doc["findings"]), doc
    code, doc = doctor(capsys, store, "--repair")
    assert code == 2, doc
    assert points(store) == before and listed(store) == catalog


def test_a_journal_left_by_a_killed_index_is_finished(capsys: pytest.CaptureFixture[str], store: Path,
                                                     tmp_path: Path) -> None:
    before = points(store)
    extra = day(tmp_path / "day2", 2)
    killed = cli("index", str(extra), "--store", str(store), env={"MMAGENT_WORKERS": "1"}, crash="index:before-catalog")
    assert killed.returncode == -9, killed.stderr
    assert list((store / "journal").glob("*.json"))
    code, doc = doctor(capsys, store)
    kinds = {f["kind"] for f in doc["findings"] if f["damage"]}
    assert code == 1 and {"journal", "orphan"} <= kinds, doc
    code, doc = doctor(capsys, store, "--repair")
    assert code == 2, doc
    assert not list((store / "journal").glob("*.json"))
    after = points(store)
    assert [p for p in after if p[0] != doc["findings"][0]["source_id"]] == before  # the others untouched
    assert len(listed(store)) == 4  # the interrupted index, done


def test_orphan_points_are_relisted_or_removed(capsys: pytest.CaptureFixture[str], built: tuple[Path, dict[str, Path]],
                                               store: Path, tmp_path: Path) -> None:
    before, catalog = points(store), listed(store)
    sid = source_of(store, built[1]["day0"])
    (store / "sources" / f"{sid}.json").unlink()  # its points stay: nothing lists or forgets them
    code, doc = doctor(capsys, store)
    assert code == 1 and any(f["kind"] == "orphan" and f["source_id"] == sid for f in doc["findings"]), doc
    assert doctor(capsys, store, "--repair")[0] == 2
    assert points(store) == before and listed(store) == catalog  # its folder is there: indexed again, the same

    # the folder is gone too: the orphans cannot be rebuilt, and go
    moved = tmp_path / "elsewhere"
    shutil.copytree(built[1]["day1"], moved)
    sid1 = source_of(store, built[1]["day1"])
    (store / "sources" / f"{sid1}.json").unlink()
    record = next(p for p in points(store) if p[0] == sid1)
    assert record
    gone_folder = built[1]["day1"]
    shutil.rmtree(gone_folder)
    try:
        code, doc = doctor(capsys, store, "--repair")
        assert code == 2 and any("cannot be rebuilt" in r for r in doc["repaired"]), doc
        assert not [p for p in points(store) if p[0] == sid1]
    finally:
        shutil.copytree(moved, gone_folder)


def test_a_vanished_file_is_a_note_and_a_garbled_store_is_broken(capsys: pytest.CaptureFixture[str],
                                                                  built: tuple[Path, dict[str, Path]],
                                                                  store: Path) -> None:
    sid = source_of(store, built[1]["video"])
    record = store / "sources" / f"{sid}.json"
    doc = json.loads(record.read_text())
    record.write_text(json.dumps({**doc, "path": str(built[1]["video"]) + ".moved"}))
    code, doc = doctor(capsys, store)
    assert code == 0 and any(f["kind"] == "file" and "vanished" in f["message"] for f in doc["findings"]), doc
    (store / "mmagent.json").write_text('{"schema_version": "two"')
    code, doc = doctor(capsys, store, "--repair")
    assert code == 1 and doc["findings"][-1]["kind"] == "store" and "mmagent.json" in doc["findings"][-1]["message"], doc


def test_a_perception_cache_cut_short_is_a_note(capsys: pytest.CaptureFixture[str],
                                                built: tuple[Path, dict[str, Path]], store: Path) -> None:
    sid = source_of(store, built[1]["video"])
    clips = sorted((store / "perception" / sid).glob("clips-*/clip_*.json"))
    assert clips
    clips[-1].unlink()
    code, doc = doctor(capsys, store)
    notes = [f for f in doc["findings"] if f["kind"] == "cache" and f["source_id"] == sid]
    assert code == 0 and notes and not notes[0]["damage"] and f"holds {len(clips) - 1} of its" in notes[0]["message"], doc


def test_help_names_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["doctor", "--help"])
    out = capsys.readouterr().out
    assert "0 healthy" in out and "1 broken" in out and "2 repaired" in out


def test_entity_and_fact_counts_per_source_and_lost_facts_are_found(capsys: pytest.CaptureFixture[str],
                                                                    built: tuple[Path, dict[str, Path]],
                                                                    store: Path, tmp_path: Path) -> None:
    """Per source: its points by kind, its entities and facts, and the statements its memories
    make that some fact keeps; a fact point lost from the shard is damage (the open check counts
    episodic memories only), rebuilt by --repair. A fact two sources state is shared, not lost."""
    notes = tmp_path / "notes"
    notes.mkdir()
    said = ["The release is on March 14.", "Our office is in Lisbon.", "The Globex invoice is 12,800 euros.",
            "The standup is at 16:30."]
    for k, text in enumerate(said):
        (notes / f"n{k}.json").write_text(json.dumps({"time": 1795400000 + 40 * k, "app": "Notes", "window": f"Note {k}",
                                                      "ocr": [{"text": text, "score": 0.99, "box": []}]}))
    shared = tmp_path / "shared"  # states the release date again, later
    shared.mkdir()
    (shared / "s0.json").write_text(json.dumps({"time": 1795500000, "app": "Mail", "window": "Re: release",
                                                "ocr": [{"text": "The release is on March 14.", "score": 0.99, "box": []}]}))
    assert main(["index", str(notes), str(shared), "--store", str(store)]) == 0
    code, doc = doctor(capsys, store)
    rows = {r["path"]: r for r in doc["sources"]}
    assert code == 0 and set(rows) == {str(p) for p in (*built[1].values(), notes, shared)}, doc
    assert rows[str(built[1]["video"])]["entities"] >= 1  # its voices and faces
    assert rows[str(notes)]["entities"] == 0 and rows[str(notes)]["facts"] == 4  # screen text: no voice, no face
    assert rows[str(notes)]["statements"] == rows[str(notes)]["statements_kept"] == 4
    assert rows[str(shared)]["facts"] == 1 and rows[str(shared)]["statements_kept"] == 1
    assert all(r["statements_kept"] == r["statements"] for r in rows.values()), rows
    main(["doctor", "--store", str(store)])
    text = capsys.readouterr().out
    assert f"source {notes}: " in text and "0 entities, 4 facts (4 of 4 statements kept)" in text, text

    sid = source_of(store, notes)
    with MMAgent(Settings.load(env={}, store=store, llm="none")) as a:
        lost = [r.id for r in a.store.scroll() if r.kind == "semantic" and "Lisbon" in r.text]
        assert len(lost) == 1
        a.store.delete(lost)  # a fact only the notes state, gone
    code, doc = doctor(capsys, store)
    found = [f for f in doc["findings"] if f["kind"] == "count" and f["source_id"] == sid]
    assert code == 1 and found and "1 of the 4 statements its memories make are in no fact" in found[0]["message"], doc
    assert not [f for f in doc["findings"] if f["damage"] and f["source_id"] != sid]  # the others are whole
    code, doc = doctor(capsys, store, "--repair")
    assert code == 2 and not [f for f in doc["remaining"] if f["damage"]], doc
    assert {r["path"]: r for r in doc["sources"]}[str(notes)] == rows[str(notes)]
