"""Semantic facts, offline: claims from transcript sentences and screen text, reconciled into facts
with support counts, history and supersession.

Claims (``subject | relation | value``) are read from the dependency parse by
:mod:`memory.claims` (:func:`extract_claims`); values compare by their canonical form from
:mod:`memory.values` (:func:`canonical_value`: times -> "15:00", dates -> "march 14", money ->
"1250 usd", text -> lowercase).

Reconciliation (:func:`reconcile`) is a pure function of the set of mentions. Single-valued
relations (:data:`SINGLE_VALUED`: when, amount, where, name, lives in) keep one current value per
subject: the one whose latest mention is latest; the others point at it with ``superseded_by``.
All other relations are multi-valued (no supersession).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from memory.claims import Claim, extract_claims, split_sentences
from memory.values import canonical_value, same_value

__all__ = [
    "SINGLE_VALUED",
    "Claim",
    "Fact",
    "Mention",
    "canonical_value",
    "current_facts",
    "extract_claims",
    "mentions_from",
    "reconcile",
    "same_value",
    "split_sentences",
]

SINGLE_VALUED: frozenset[str] = frozenset({"when", "amount", "where", "name", "lives in"})


@dataclass(frozen=True)
class Mention:
    """A claim asserted in a source at ``t`` seconds; ``order`` = (source sequence number, t) ranks
    assertions globally (larger = later)."""

    claim: Claim
    source_id: str
    t: float
    order: tuple[int, float]
    wall_time: float | None = None


@dataclass(frozen=True)
class Fact:
    """A (subject, relation, value) with its mentions; ``key`` = "subject|relation|canonical value";
    ``superseded_by`` = key of the current fact of the same single-valued (subject, relation)."""

    key: str
    subject: str
    relation: str
    value: str
    text: str
    mentions: tuple[Mention, ...]
    support: int
    first_seen: Mention
    last_seen: Mention
    confidence: float
    superseded_by: str | None
    sources: tuple[str, ...]


# ---------------------------------------------------------------------------------------------


def _mention_key(m: Mention) -> tuple[object, ...]:
    c = m.claim
    return (m.order, m.source_id, m.t, m.wall_time is None, m.wall_time or 0.0, c.subject, c.relation, c.value, c.text)


def reconcile(mentions: Iterable[Mention]) -> list[Fact]:
    """Facts from mentions, sorted by key; a pure function of the *set* of mentions.

    Mentions group by (subject, relation); values equal under :func:`same_value` form one fact
    (its ``value`` is the latest wording). For a single-valued relation the fact whose latest
    mention is latest (by ``order``, then support, then key) is current; every other fact of the
    group gets ``superseded_by`` = the current key, so a value asserted again later becomes current
    again. ``confidence`` = 1 - 0.5 ** support (one mention 0.5, two 0.75, three 0.875).
    """
    groups: dict[tuple[str, str], dict[str, list[Mention]]] = {}
    for m in sorted(set(mentions), key=_mention_key):
        c = m.claim
        groups.setdefault((c.subject, c.relation), {}).setdefault(canonical_value(c.value), []).append(m)
    facts: list[Fact] = []
    for (subject, relation), by_value in groups.items():
        keyed = [(f"{subject}|{relation}|{canon}", ms) for canon, ms in by_value.items()]
        current: str | None = None
        if relation in SINGLE_VALUED and len(keyed) > 1:
            current = max(keyed, key=lambda kv: (_mention_key(kv[1][-1]), len(kv[1]), kv[0]))[0]
        for key, ms in keyed:
            value = ms[-1].claim.value
            facts.append(Fact(
                key=key,
                subject=subject,
                relation=relation,
                value=value,
                text=f"{subject} \u2014 {relation}: {value}",
                mentions=tuple(ms),
                support=len(ms),
                first_seen=ms[0],
                last_seen=ms[-1],
                confidence=round(1.0 - 0.5 ** len(ms), 6),
                superseded_by=None if current in (None, key) else current,
                sources=tuple(sorted({m.source_id for m in ms})),
            ))
    return sorted(facts, key=lambda f: f.key)


def current_facts(facts: Iterable[Fact]) -> list[Fact]:
    """The facts that are not superseded."""
    return [f for f in facts if f.superseded_by is None]


def mentions_from(
    text: str, source_id: str, t: float, seq: int, speaker: str | None = None, wall_time: float | None = None
) -> list[Mention]:
    """Mentions of the claims in ``text`` said or shown at ``t`` seconds into source number ``seq``."""
    return [Mention(c, source_id, t, (seq, t), wall_time) for c in extract_claims(text, speaker)]
