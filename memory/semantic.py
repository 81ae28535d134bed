"""The semantic memories of the reduce stage: the statements of a source's clip memories become
claims (:func:`memory.facts.extract_claims`, remembered per sentence), and the mentions of all
sources are reconciled into fact points (support, first / last seen, superseded history).
:func:`facts_for` is what ``memory.reduce.Reducer`` writes and deletes for a source it reduces
or forgets."""

from __future__ import annotations

from collections.abc import Sequence

from memory import facts as factlib
from memory.claims import parse_ahead
from memory.records import MemoryRecord, Snippet
from memory.store import MemoryStore, Scope, payload_of

__all__ = ["claims_of", "fact_record", "fact_records", "facts_for", "mentions_of"]


def facts_for(store: MemoryStore, source_id: str, seq: int = 0, episodic: Sequence[MemoryRecord] = ()
              ) -> tuple[list[MemoryRecord], set[str], list[MemoryRecord]]:
    """(fact records to write, ids to delete, unchanged fact records) once ``source_id``'s
    mentions are those of its ``episodic`` clip memories (none: the source forgotten)."""
    existing = list(store.scroll(Scope(kind="semantic")))
    mentions = [m for r in existing for m in mentions_of(r) if m.source_id != source_id]
    said = [(record, snip) for record in episodic if record.level == "clip" for snip in record.snippets]
    read = claims_of([(snip.text, snip.speaker) for _, snip in said]) if said else []  # forget loads no parser
    for (record, snip), claims in zip(said, read):
        for claim in claims:
            mentions.append(factlib.Mention(claim, source_id, snip.start, (seq, snip.start),
                                            _wall(record, snip)))
    return fact_records(existing, factlib.reconcile(mentions))


_CLAIMS_KEPT = 50_000
_claimed: dict[tuple[str, str | None], tuple[factlib.Claim, ...]] = {}  # oldest first


def claims_of(said: Sequence[tuple[str, str | None]]) -> list[tuple[factlib.Claim, ...]]:
    """Claims of each (text, speaker), remembered: a source reduced again (a screen day, every
    pass) holds mostly sentences already read. The texts not read yet are parsed in one batch
    first (:func:`memory.claims.parse_ahead`)."""
    todo = [key for key in dict.fromkeys(said) if key not in _claimed]
    parse_ahead(text for text, _ in todo)
    for text, speaker in todo:
        _claimed[(text, speaker)] = tuple(factlib.extract_claims(text, speaker=speaker))
    out = [_claimed[key] for key in said]
    while len(_claimed) > _CLAIMS_KEPT:
        del _claimed[next(iter(_claimed))]
    return out


def _wall(record: MemoryRecord, snip: Snippet) -> float | None:
    return None if record.wall_time is None else record.wall_time + snip.start - record.t_start


def mentions_of(record: MemoryRecord) -> list[factlib.Mention]:
    out = []
    for m in record.attrs.get("mentions", []):
        claim = factlib.Claim(m["subject"], m["relation"], m["value"], m["text"])
        out.append(factlib.Mention(claim, m["source_id"], float(m["t"]), (int(m["order"][0]), float(m["order"][1])),
                                   m.get("wall_time")))
    return out


def fact_record(fact: factlib.Fact, older: Sequence[factlib.Fact] = ()) -> MemoryRecord:
    """A fact as a point; ``older``: the facts it superseded (their statements are outdated)."""
    last = fact.last_seen
    return MemoryRecord(
        "semantic", "fact", last.source_id, last.t, last.t, fact.text, key=fact.key, sources=fact.sources,
        entity_ids=tuple(x for x in (fact.subject,) if x.split("_")[0] in ("face", "voice", "person")),
        wall_time=last.wall_time,
        snippets=tuple(Snippet(m.t, m.t, m.claim.text, "statement") for m in fact.mentions[-5:]),
        attrs={
            "subject": fact.subject, "relation": fact.relation, "value": fact.value, "support": fact.support,
            "confidence": round(fact.confidence, 4), "superseded_by": fact.superseded_by,
            "supersedes": [{"key": o.key, "value": o.value, "texts": sorted({m.claim.text for m in o.mentions})}
                           for o in older],
            "first_seen": {"source_id": fact.first_seen.source_id, "t": fact.first_seen.t},
            "last_seen": {"source_id": last.source_id, "t": last.t},
            "mentions": [
                {"subject": m.claim.subject, "relation": m.claim.relation, "value": m.claim.value,
                 "text": m.claim.text, "source_id": m.source_id, "t": m.t, "order": list(m.order),
                 "wall_time": m.wall_time}
                for m in fact.mentions
            ],
        },
    )


def fact_records(existing: Sequence[MemoryRecord], reconciled: Sequence[factlib.Fact]
                  ) -> tuple[list[MemoryRecord], set[str], list[MemoryRecord]]:
    before = {r.id: payload_of(r) for r in existing}
    older: dict[str, list[factlib.Fact]] = {}
    for f in reconciled:
        if f.superseded_by:
            older.setdefault(f.superseded_by, []).append(f)
    new = [fact_record(f, older.get(f.key, ())) for f in reconciled]
    write = [r for r in new if before.get(r.id) != payload_of(r)]
    same = [r for r in new if before.get(r.id) == payload_of(r)]
    return write, set(before) - {r.id for r in new}, same
