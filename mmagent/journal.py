"""The store's journal and its check on open, for :class:`mmagent.pipeline.MMAgent`: an index or
a forget is recorded before its first write and the record goes when it is whole; the next
process that opens the store finishes (a forget) or rolls back (an index) what a killed command
left half done, then checks that each source has the memories its catalog entry counts."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from memory.catalog import SourceEntry
from memory.reduce import ReduceReport, Reducer
from memory.store import MemoryStore, Scope
from models.base import TextEmbedder

from mmagent.crash import crash_point
from mmagent.settings import Settings

log = logging.getLogger(__name__)


class StoreJournal:
    """What a killed command left half done, finished or rolled back; the store checked on open."""

    if TYPE_CHECKING:  # what MMAgent holds
        settings: Settings
        _store: MemoryStore | None
        _indexing: str | None

        @property
        def embedder(self) -> TextEmbedder: ...

        @property
        def store(self) -> MemoryStore: ...

    def _journal(self) -> Path:
        return self.settings.store / "journal"

    def _begin(self, op: str, source_id: str, path: str) -> Path:
        """Record ``op`` ("indexing" / "forgetting") of a source before its first write; the
        record goes when the operation is whole (see :meth:`_recover`)."""
        folder = self._journal()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{source_id}.json"
        tmp = folder / f".{source_id}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump({"op": op, "source_id": source_id, "path": path, "pid": os.getpid(), "time": time.time()}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target

    @staticmethod
    def _end(intent: Path) -> None:
        intent.unlink(missing_ok=True)

    def _recover(self) -> None:
        """Finish what a killed command left half done, before anything reads the store: a
        forget is finished (memories, catalog entry, cache); an index is rolled back (its points
        and entity shares removed, its catalog entry with them: the source is indexed again
        whole, from its perception cache) unless this process is indexing that very source now
        (it writes the same points again). Leftovers of deleted caches are removed."""
        import shutil

        folder = self._journal()
        for f in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            try:
                intent = json.loads(f.read_text())
                op, source_id, path = intent["op"], str(intent["source_id"]), str(intent.get("path", ""))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring an unreadable journal record %s (%s)", f, exc)
                f.unlink(missing_ok=True)
                continue
            if op == "indexing" and source_id == self._indexing:
                continue  # this run writes the same points again, and clears the record
            if op not in ("indexing", "forgetting"):
                log.warning("ignoring journal record %s: unknown operation %r", f, op)
                f.unlink(missing_ok=True)
                continue
            self._drop_source(source_id, cache=op == "forgetting")
            if op == "forgetting":
                log.warning("finished forgetting %s (%s), which was interrupted", source_id, path)
            else:
                log.warning("rolled back an interrupted index of %s (%s): index it again to answer from it",
                            path or source_id, source_id)
            f.unlink(missing_ok=True)
        trash = self.settings.store / "perception"
        for old in trash.glob(".trash-*") if trash.is_dir() else ():
            shutil.rmtree(old, ignore_errors=True)

    def _check(self) -> None:
        """A cheap consistency check of the store on open: each listed source has as many episodic
        memories in the engine as its catalog entry counts (one facet request on an indexed field). A
        shard that lost points (a truncated file, ``qdrant/`` deleted) is StoreCorrupt, in one
        line naming what to run; a source this process is indexing again is repaired by it."""
        from memory.errors import StoreCorrupt

        store = self._store
        assert store is not None
        damaged = []
        for entry, have in self._short(store.sources()):
            if entry.source_id == self._indexing:  # indexed again now: from scratch, not "already indexed"
                log.warning("store damaged: %s has %d of its %d memories: indexing it again", entry.path, have,
                            entry.memories)
                store.remove_source(entry.source_id)
                continue
            damaged.append((entry, have))
        if not damaged:
            return
        where = getattr(store, "folder", None) or self.settings.qdrant_url or self.settings.store
        first, have = damaged[0]
        more = f" (and {len(damaged) - 1} more source(s))" if len(damaged) > 1 else ""
        if all(h == 0 for _, h in damaged) and store.count() == 0:
            what = "its Qdrant shard holds no memories (qdrant/ deleted or emptied)"
        else:
            what = f"{first.path} has {have} of its {first.memories} memories{more}"
        raise StoreCorrupt(
            f"store damaged: {where}: {what}; run `mmagent forget {first.source_id[:16]}` "
            f"and index it again (or `mmagent index {first.path}`)"
        )

    def _short(self, entries: list[SourceEntry]) -> list[tuple[SourceEntry, int]]:
        """Catalog entries whose episodic memories in the engine are not as many as they count."""
        assert self._store is not None
        counts = self._store.counts_by_source(Scope(kind="episodic"), [e.source_id for e in entries])
        return [(e, counts[e.source_id]) for e in entries if counts[e.source_id] != e.memories]

    def damaged_sources(self) -> list[tuple[str, int]]:
        """(source id, memories found) of each readable catalog entry short of memories: the open
        check, for ``mmagent doctor`` (unreadable entries are left to the caller)."""
        from memory.errors import StoreCorrupt

        entries = []
        for sid in self.store.source_ids():
            try:
                entry = self.store.get_source(sid)
            except StoreCorrupt:
                continue
            if entry is not None:
                entries.append(entry)
        return [(e.source_id, have) for e, have in self._short(entries)]

    def forget_points(self, source_id: str) -> ReduceReport:
        """Everything derived from a source that cannot be rebuilt, out (``doctor --repair`` of an
        orphan: points, entity shares, catalog entry and cache), journaled like ``forget``."""
        intent = self._begin("forgetting", source_id, "")
        report = self._drop_source(source_id, cache=True)
        self._end(intent)
        return report

    def _drop_source(self, source_id: str, cache: bool) -> ReduceReport:
        """Everything derived from a source, out: points and entity shares, then the catalog entry,
        then (``cache``) the perception cache, moved aside at once so no half of it is ever read."""
        import shutil

        report = Reducer(self._store, self.embedder, self.settings.reduce_options(), None).forget(source_id)
        crash_point("forget:before-catalog")
        self._store.remove_source(source_id)
        if cache:
            folder = self.settings.store / "perception" / source_id
            if folder.is_dir():
                trash = folder.with_name(f".trash-{source_id}-{os.getpid()}")
                os.replace(folder, trash)
                crash_point("forget:cache-moved")
                shutil.rmtree(trash, ignore_errors=True)
        return report
