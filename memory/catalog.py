"""The catalog of indexed sources: STORE/sources/<source_id>.json, written atomically after the
source's memories are flushed, so a source is listed only once it is fully in the store."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from memory.errors import StoreCorrupt


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
        return read_entry(path)

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
        return [read_entry(p) for p in sorted(self.folder.glob("*.json"))]

    def ids(self) -> list[str]:
        """Every source with a catalog file, readable or not (``forget`` removes a damaged one)."""
        return sorted(p.stem for p in self.folder.glob("*.json")) if self.folder.is_dir() else []


def read_entry(path: Path) -> SourceEntry:
    """A catalog file's entry; a truncated or altered one is :class:`StoreCorrupt` naming it."""
    try:
        entry = entry_from(json.loads(path.read_text()))
        if entry.source_id != path.stem:
            raise ValueError(f"it names source {entry.source_id!r}")
        return entry
    except (ValueError, TypeError, KeyError, RecursionError, UnicodeDecodeError) as exc:
        raise StoreCorrupt(
            f"store damaged: {path} is unreadable ({str(exc)[:80]}): run `mmagent forget {path.stem[:16]}` "
            f"and index the source again"
        ) from None


_FIELDS = {"source_id": str, "path": str, "duration": (int, float), "clips": int, "memories": int,
           "perception": str, "indexed_at": (int, float), "seq": int}


def entry_from(d: dict) -> SourceEntry:  # type: ignore[type-arg]
    if not isinstance(d, dict):
        raise ValueError(f"a JSON {type(d).__name__}, not an object")
    d = dict(d)
    for name, kind in _FIELDS.items():
        if name in d and (not isinstance(d[name], kind) or isinstance(d[name], bool)):
            raise ValueError(f"{name} is {type(d[name]).__name__}")
    d["tags"] = tuple(d.get("tags") or ())
    return SourceEntry(**d)
