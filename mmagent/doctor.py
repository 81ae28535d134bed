"""``mmagent doctor``: check a store end to end, and repair what can be rebuilt.

What is checked (one :class:`Finding` each):

- the store opens at all (``mmagent.json``, the Qdrant shard) — else nothing else can be read;
- a journal left over by a killed ``index`` / ``forget`` (``STORE/journal``);
- each catalog record is readable (``sources/*.json``);
- each source has as many episodic memories as its record counts (the check ``mmagent`` runs on
  every open, :meth:`MMAgent.damaged_sources`);
- each source's entity and fact points are counted, and every statement its clip memories make
  is kept by a fact (``sources`` in ``--json``);
- orphan points: memories, visual points or entity shares of a source the catalog does not list;
- entity ids that memories name but no entity point holds;
- perception caches of sources that are gone (left over), and sources without a cache;
- sources whose file changed (another content hash) or vanished: their memories describe what
  was indexed, they cannot be rebuilt from the file (a note, not damage).

``--repair``: the journal is finished or rolled back; a damaged, unreadable or orphaned source is
indexed again from its perception cache (same clips, no model run for a cached clip; the same
memory ids) when its file is still there, unchanged; orphans that cannot be rebuilt are removed
(nothing can list or forget them); left-over caches are deleted. The store is checked again.

Exit codes: 0 healthy (notes allowed), 1 broken (damage found, or left after ``--repair``),
2 repaired (damage found and all of it repaired).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmagent.settings import Settings

log = logging.getLogger(__name__)

HEALTHY, BROKEN, REPAIRED = 0, 1, 2


@dataclass
class Finding:
    kind: str  # store | journal | catalog | count | orphan | entity | cache | file
    message: str
    source_id: str | None = None
    path: str | None = None
    damage: bool = True  # False: a note (a changed / vanished file, a source without a cache)
    repair: str | None = None  # how --repair fixes it: reindex | recover | drop | delete-cache; None: it cannot

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Report:
    store: str
    findings: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    after: list[Finding] | None = None  # the check after repairs
    sources: list[dict[str, Any]] = field(default_factory=list)  # per source: points by kind, statements kept

    @property
    def code(self) -> int:
        damage = [f for f in self.findings if f.damage]
        if not damage:
            return HEALTHY
        if self.after is None:
            return BROKEN
        return REPAIRED if not any(f.damage for f in self.after) else BROKEN

    def to_json(self) -> dict[str, Any]:
        status = {HEALTHY: "healthy", BROKEN: "broken", REPAIRED: "repaired"}[self.code]
        doc: dict[str, Any] = {"store": self.store, "status": status, "exit_code": self.code,
                               "findings": [f.to_json() for f in self.findings], "sources": self.sources}
        if self.after is not None:
            doc["repaired"] = self.repaired
            doc["remaining"] = [f.to_json() for f in self.after]
        return doc


def _agent(settings: Settings, recover: bool) -> Any:
    from mmagent.pipeline import MMAgent

    agent = MMAgent(settings)
    agent.verify = False  # the doctor reads what the open check would refuse
    agent.recover = recover
    return agent


def inspect(settings: Settings, counts: list[dict[str, Any]] | None = None) -> list[Finding]:
    """Every finding about the store (nothing is changed); ``counts`` gets a row per listed
    source: what it holds in the engine, by kind."""
    from memory.errors import MemoryError_, StoreCorrupt
    from memory.store import Scope

    store_dir = settings.store
    findings: list[Finding] = []
    journal = store_dir / "journal"
    for f in sorted(journal.glob("*.json")) if journal.is_dir() else ():
        try:
            intent = json.loads(f.read_text())
            what = f"{intent.get('op', '?')} {intent.get('path') or intent.get('source_id')}"
        except (OSError, ValueError, AttributeError):
            what = "unreadable"
        findings.append(Finding("journal", f"{f} left by an interrupted command ({what})", f.stem, repair="recover"))
    with _agent(settings, recover=False) as agent:
        try:
            store = agent.store
        except (StoreCorrupt, MemoryError_, OSError) as exc:
            findings.append(Finding("store", f"the store does not open: {exc}"))
            return findings
        entries: dict[str, Any] = {}
        for sid in store.source_ids():
            try:
                entry = store.get_source(sid)
            except StoreCorrupt as exc:
                findings.append(Finding("catalog", str(exc), sid, repair="reindex"))
                continue
            if entry is not None:
                entries[sid] = entry
        points = _points_by_source(store)
        for sid, have in agent.damaged_sources():
            e = entries[sid]
            findings.append(Finding("count", f"{e.path} has {have} of its {e.memories} memories", sid, e.path,
                                    repair="reindex"))
        findings += _statements(store, entries, counts)
        paths: dict[str, str] = {}
        for record in store.scroll(Scope(kinds=("episodic", "visual"))):
            paths.setdefault(record.source_id, record.path)
        listed = set(store.source_ids())
        for sid, n in sorted(points.items()):
            if sid and sid not in listed:
                findings.append(Finding("orphan", f"{n} point(s) of source {sid} ({paths.get(sid, 'path unknown')}), "
                                        "which the catalog does not list", sid, paths.get(sid), repair="reindex"))
        entity_records = list(store.scroll(Scope(kind="entity")))
        known = {r.key for r in entity_records if r.key} | {i for r in entity_records for i in r.entity_ids}
        shares = sorted({s for r in entity_records for s in r.sources if s not in listed and s not in points})
        for sid in shares:
            findings.append(Finding("orphan", f"entity shares of source {sid}, which the catalog does not list", sid,
                                    repair="drop"))
        named: dict[str, set[str]] = {}
        for record in store.scroll(Scope(kinds=("episodic", "visual"))):
            for i in record.entity_ids:
                if i not in known:
                    named.setdefault(i, set()).add(record.source_id)
        for i, sids in sorted(named.items()):
            for sid in sorted(sids):
                findings.append(Finding("entity", f"memories of {sid} name {i}, which no entity point holds", sid,
                                        entries[sid].path if sid in entries else paths.get(sid), repair="reindex"))
        cache_root = store_dir / "perception"
        for folder in sorted(cache_root.iterdir()) if cache_root.is_dir() else ():
            if folder.is_dir() and not folder.name.startswith(".") and folder.name not in listed \
                    and folder.name not in points:
                findings.append(Finding("cache", f"perception cache {folder} of a source that is gone", folder.name,
                                        repair="delete-cache"))
        for sid, e in sorted(entries.items()):
            path = Path(e.path)
            if not path.exists():
                findings.append(Finding("file", f"{e.path} vanished: its memories stay, they cannot be rebuilt",
                                        sid, e.path, damage=False))
            elif path.is_file() and _content_id(path) != sid:
                findings.append(Finding("file", f"{e.path} changed since it was indexed: index it again to bring "
                                        "its memories up to date", sid, e.path, damage=False))
            elif path.is_file() and not (cache_root / sid).is_dir():
                findings.append(Finding("cache", f"{e.path} has no perception cache: a repair would run perception "
                                        "again", sid, e.path, damage=False))
            elif path.is_file() and (cached := _cached_clips(cache_root / sid)) < e.clips:
                findings.append(Finding("cache", f"the perception cache of {e.path} holds {cached} of its {e.clips} "
                                        "clips: a repair would run perception for the rest", sid, e.path, damage=False))
    return findings


def _statement_key(text: str, relation: str, t: float) -> tuple[str, str, float]:
    return text, relation, round(float(t), 3)


def _statements(store: Any, entries: dict[str, Any], counts: list[dict[str, Any]] | None) -> list[Finding]:
    """Entity and fact points per source, and the check they allow: every statement a source's
    clip memories make (a claim ``memory.facts`` reads in a snippet) is a mention of some fact
    point. Facts and entities are shared and reshaped by later sources (merges, superseded
    facts), so their number per source is no invariant; a statement kept by no fact is."""
    from memory import facts as factlib
    from memory.store import Scope

    mentioned: dict[str, set[tuple[str, str, float]]] = {}
    facts: dict[str, int] = {}
    for r in store.scroll(Scope(kind="semantic")):
        for sid in r.sources:
            facts[sid] = facts.get(sid, 0) + 1
        for m in r.attrs.get("mentions", []):
            try:
                mentioned.setdefault(str(m["source_id"]), set()).add(_statement_key(m["text"], m["relation"], m["t"]))
            except (KeyError, TypeError, ValueError):
                continue  # a mention no fact can be made of: nothing to compare
    entities: dict[str, int] = {}
    for r in store.scroll(Scope(kind="entity")):
        for sid in r.sources:
            entities[sid] = entities.get(sid, 0) + 1
    findings = []
    for sid, e in sorted(entries.items()):
        said: set[tuple[str, str, float]] = set()
        kinds: dict[str, int] = {}
        for r in store.scroll(Scope(source_ids=(sid,), kinds=("episodic", "visual"))):
            kinds[r.kind] = kinds.get(r.kind, 0) + 1
            if r.kind != "episodic" or r.level != "clip":
                continue
            for snip in r.snippets:
                said |= {_statement_key(c.text, c.relation, snip.start)
                         for c in factlib.extract_claims(snip.text, speaker=snip.speaker)}
        kept = said & mentioned.get(sid, set())
        if counts is not None:
            counts.append({"source_id": sid, "path": e.path, "memories": kinds.get("episodic", 0),
                           "visual": kinds.get("visual", 0), "entities": entities.get(sid, 0),
                           "facts": facts.get(sid, 0), "statements": len(said), "statements_kept": len(kept)})
        if len(kept) < len(said):
            findings.append(Finding("count", f"{e.path}: {len(said) - len(kept)} of the {len(said)} statements its "
                                    "memories make are in no fact", sid, e.path, repair="reindex"))
    return findings


def _points_by_source(store: Any) -> dict[str, int]:
    """Episodic and visual points per source id (what is in the engine, listed or not)."""
    from memory.store import Scope

    counts: dict[str, int] = {}
    for record in store.scroll(Scope(kinds=("episodic", "visual"))):
        counts[record.source_id] = counts.get(record.source_id, 0) + 1
    return counts


def _cached_clips(folder: Path) -> int:
    """Readable cached clips (``clip_NNNNN.json``) of one clip length, the fullest."""
    best = 0
    for sub in folder.glob("clips-*"):
        n = 0
        for f in sub.glob("clip_*.json"):
            try:
                json.loads(f.read_text())
                n += 1
            except (OSError, ValueError):
                continue
        best = max(best, n)
    return best


def _content_id(path: Path) -> str:
    from perception.decode import source_id_for

    return source_id_for(path)


def _rebuildable(sid: str, path: str | None, store_dir: Path) -> str | None:
    """Why ``sid`` cannot be indexed again from its cache and file, or None when it can."""
    from perception.screens import folder_source_id

    if not path:
        return "its path is unknown"
    p = Path(path)
    if p.is_dir():
        return None if folder_source_id(p) == sid else f"{path} is now another source"
    if not p.is_file():
        return f"{path} vanished"
    if _content_id(p) != sid:
        return f"{path} changed since it was indexed"
    if not (store_dir / "perception" / sid).is_dir():
        return "its perception cache is gone"
    return None


def repair(settings: Settings, findings: list[Finding]) -> list[str]:
    """Repair what can be rebuilt; returns a line per repair made."""
    done: list[str] = []
    store_dir = settings.store
    if any(f.kind == "store" for f in findings):
        return done  # nothing can be read: nothing is rebuilt
    if any(f.kind == "journal" for f in findings):
        with _agent(settings, recover=True) as agent:
            agent.store  # noqa: B018 - opening runs the journal's recovery
        done.append("finished or rolled back what the journal recorded")
    todo: dict[str, str | None] = {}
    for f in findings:
        if f.repair == "reindex" and f.source_id:
            todo.setdefault(f.source_id, f.path)
            todo[f.source_id] = todo[f.source_id] or f.path
    for f in findings:
        if f.kind == "catalog" and f.source_id and not todo.get(f.source_id):
            todo[f.source_id] = _path_from_points(settings, f.source_id)
    for sid, path in todo.items():
        why = _rebuildable(sid, path, store_dir)
        with _agent(settings, recover=True) as agent:
            store = agent.store
            listed = sid in store.source_ids()
            if why is None:
                store.remove_source(sid)  # "already indexed" no more: the index below rewrites it whole
                agent.close()
                with _agent(settings, recover=True) as again:
                    again.index(path)
                done.append(f"indexed {path} again from its perception cache")
                continue
            if not listed:  # an orphan nothing can list or forget: out
                agent.forget_points(sid)
                done.append(f"removed the points of {sid}, which cannot be rebuilt ({why})")
            else:
                log.warning("cannot rebuild %s: %s", sid, why)
    for f in findings:
        if f.repair == "drop" and f.source_id and f.source_id not in todo:
            with _agent(settings, recover=True) as agent:
                agent.forget_points(f.source_id)
            done.append(f"removed the entity shares of {f.source_id}")
        if f.repair == "delete-cache" and f.source_id:
            shutil.rmtree(store_dir / "perception" / f.source_id, ignore_errors=True)
            done.append(f"deleted the perception cache of {f.source_id}")
    return done


def _path_from_points(settings: Settings, sid: str) -> str | None:
    from memory.store import Scope

    with _agent(settings, recover=False) as agent:
        for record in agent.store.scroll(Scope(source_ids=(sid,))):
            if record.path:
                return record.path
    return None


def run(settings: Settings, fix: bool) -> Report:
    report = Report(str(settings.store))
    report.findings = inspect(settings, report.sources)
    if fix and any(f.damage for f in report.findings):
        report.repaired = repair(settings, report.findings)
        report.sources = []
        report.after = inspect(settings, report.sources)
    return report


def render(report: Report) -> str:
    lines = [f"store {report.store}:"]
    for c in report.sources:
        lines.append(f"  source {c['path']}: {c['memories']} memories, {c['visual']} visual, {c['entities']} "
                     f"entities, {c['facts']} facts ({c['statements_kept']} of {c['statements']} statements kept)")
    for f in report.findings:
        mark = "damage" if f.damage else "note"
        fix = f" [--repair: {f.repair}]" if f.damage and f.repair and report.after is None else ""
        lines.append(f"  {mark}: {f.message}{fix}")
    for r in report.repaired:
        lines.append(f"  repaired: {r}")
    for f in report.after or ():
        if f.damage:
            lines.append(f"  still damaged: {f.message}")
    status = {HEALTHY: "healthy", BROKEN: "broken", REPAIRED: "repaired"}[report.code]
    if report.code == BROKEN and report.after is None:
        status += " (run `mmagent doctor --repair`)"
    lines.append(f"status: {status}")
    return "\n".join(lines)
