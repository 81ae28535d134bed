"""The map stage's per-clip cache: one JSON file per clip under a source's cache folder, holding
its observation, one fingerprint per signal (``perception.map.Perceiver.signals``) and how far its
streams decoded; written atomically (a kill leaves the old file or the new one, never half of one)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from perception.clip_signals import missing_files
from perception.records import ClipObservation

log = logging.getLogger(__name__)


@dataclass
class CachedClip:
    observation: ClipObservation
    signals: dict[str, str]
    until: float


def clip_file(cache_dir: Path, index: int) -> Path:
    return cache_dir / f"clip_{index:05d}.json"


def read_clip(cache_dir: Path, index: int) -> CachedClip | None:
    """The cached clip, whatever settings made it; None when missing, unreadable (a partial or
    older file) or cut short (a picture it cites is gone): the clip is then recomputed."""
    path = clip_file(cache_dir, index)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        cached = CachedClip(ClipObservation.from_json(data["observation"]), dict(data["signals"]), float(data["until"]))
    except (ValueError, KeyError, TypeError) as exc:  # a partial or older file: recompute it
        log.warning("ignoring unreadable cached clip %s (%s)", path, exc)
        return None
    if (missing := missing_files(cached.observation, cache_dir)) is not None:
        # the clip's JSON is written after its pictures: one gone means the cache was cut short
        # (a delete killed half way): recompute the clip rather than cite pictures that are not there
        log.warning("ignoring cached clip %s: its picture %s is gone", path, missing)
        return None
    return cached


def write_clip(cache_dir: Path, index: int, signals: dict[str, str], until: float, observation: ClipObservation) -> None:
    _save_atomic(clip_file(cache_dir, index), {"signals": signals, "until": round(until, 3), "observation": observation.to_json()})


def _save_atomic(path: Path, data: dict) -> None:  # type: ignore[type-arg]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
