"""The catalog of indexed sources: STORE/sources/<source_id>.json, written atomically after the
source's memories are flushed, so a source is listed only once it is fully in the store."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceEntry:
    source_id: str
    path: str
    duration: float
    clips: int
    memories: int
    perception: str  # the perception fingerprint that made its memories
    indexed_at: float
    seq: int = 0  # order of indexing: later sources' statements are newer
    name: str | None = None  # a name given in a batch manifest
    tags: tuple[str, ...] = ()  # tags given in a batch manifest (ask --tag)


class Catalog:
    def __init__(self, store_folder: Path) -> None:
        self.folder = store_folder / "sources"

    def get(self, source_id: str) -> SourceEntry | None:
        path = self.folder / f"{source_id}.json"
        if not path.is_file():
            return None
        return entry_from(json.loads(path.read_text()))

    def remove(self, source_id: str) -> None:
        (self.folder / f"{source_id}.json").unlink(missing_ok=True)

    def put(self, entry: SourceEntry) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{entry.source_id}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(entry), indent=2))
        os.replace(tmp, target)

    def all(self) -> list[SourceEntry]:
        if not self.folder.is_dir():
            return []
        return [entry_from(json.loads(p.read_text())) for p in sorted(self.folder.glob("*.json"))]


def entry_from(d: dict) -> SourceEntry:  # type: ignore[type-arg]
    d = dict(d)
    d["tags"] = tuple(d.get("tags") or ())
    return SourceEntry(**d)
