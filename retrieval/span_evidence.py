"""The evidence the span finder (retrieval/spans.py) reads for the answer step
(retrieval/answering.py): the stretch of a recording the best match belongs to, what was said
near it, each snippet as a piece, and the pool of snippets read."""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval import spans
from retrieval.answer import Scored
from retrieval.planners import shows
from retrieval.question import Question


def speaker_stretch(best: Scored, among: Sequence[Scored], collected: Sequence[Scored]) -> list[Scored]:
    """The snippets of ``among`` inside the stretch of the recording ``best`` belongs to: the
    time its speaker spoke, joined with every speaker who said something inside it (and then
    all they said), until no other did — a reading is one voice, a conversation the voices
    taking turns in it — so "the last line of the poem" is not the last close line of a song
    sung after it. A voice heard before and after the stretch but never in it does not join.
    A best match no one said (a screen line): no stretch is known, and all of ``among`` is kept."""
    src = best.hit.record.source_id
    said: dict[str, list[tuple[float, float]]] = {}
    for s in collected:
        if s.snippet.speaker and s.hit.record.source_id == src:
            said.setdefault(s.snippet.speaker, []).append((s.snippet.start, s.snippet.end))
    if best.snippet.speaker not in said:
        return list(among)
    mine = said.pop(best.snippet.speaker or "")
    lo, hi = min(a for a, _ in mine), max(b for _, b in mine)
    joined = True
    while joined:
        voices = [v for v, turns in said.items() if any(a < hi and b > lo for a, b in turns)]
        joined = bool(voices)
        for v in voices:
            turns = said.pop(v)
            lo, hi = min(lo, *(a for a, _ in turns)), max(hi, *(b for _, b in turns))
    inside = [s for s in among if s.hit.record.source_id == src and s.snippet.start >= lo - 0.01 and s.snippet.end <= hi + 0.01]
    return inside or list(among)


def said_near(best: Scored, others: Sequence[Scored], window: float) -> list[Scored]:
    """What was said within ``window`` seconds of ``best`` in its source, nearest first."""
    src, t = best.hit.record.source_id, best.snippet.start
    near = [s for s in others if s.snippet.modality == "speech" and s.hit.record.source_id == src
            and abs(s.snippet.start - t) <= window]
    return sorted(near, key=lambda s: abs(s.snippet.start - t))


def shown_while(pool: Sequence[Scored], others: Sequence[Scored], said: bool = False) -> list[Scored]:
    """What was on screen while a spoken piece of ``pool`` was said (the title slide shown while
    "this is the weekly operations review" was said), in the order of ``others``; ``said``: the
    other way round, what was said while a screen of ``pool`` was shown (``others`` may hold
    ``pool``'s own pieces then)."""
    near, far = ("screen", "speech") if said else ("speech", "screen")
    times = [(p.hit.record.source_id, p.snippet.start, p.snippet.end) for p in pool if p.snippet.modality == near]
    out: list[Scored] = []
    for s in others:
        if s.snippet.modality != far or (s in pool and not said) or s in out:
            continue
        src = s.hit.record.source_id
        if any(src == w and s.snippet.start <= max(a, b) and a <= max(s.snippet.end, s.snippet.start) for w, a, b in times):
            out.append(s)
    return out


# a thousands group the transcript wrote apart from its number ("$120 ,000"): one number
_DIGIT_GROUP = re.compile(r"(\d) ,(\d{3})(?!\d)")


def piece_of(s: Scored) -> spans.Piece:
    """A snippet as the span finder reads it: a screen block with the other blocks of the same
    capture (a label and its value can fall into two blocks), speech as said."""
    snip = s.snippet
    attrs = getattr(snip, "attrs", None) or {}
    if snip.modality != "screen":
        return spans.Piece(_DIGIT_GROUP.sub(r"\1,\2", snip.text), snip.modality, snip.speaker, attrs)
    blocks = [x.text for x in s.hit.record.snippets
              if x.modality == "screen" and x.start == snip.start and x.image == snip.image] or [snip.text]
    title = ""
    lines: list[str] = []
    for block in blocks:
        head, body = spans.split_title(block)
        title = title or head
        lines.extend(body)
    return spans.Piece((f"[{title}] " if title else "") + " | ".join(lines), "screen", None, attrs)


def span_pool(q: Question, chosen: Sequence[Scored], close: Sequence[Scored], size: int) -> list[Scored]:
    """The snippets the span finder reads: the chosen evidence, then the close ones. Another block
    of a capture already in the pool takes no place (the finder reads a capture whole, so it is
    the same piece again: a second block of the entry list must not crowd out the welcome
    screen); the captures that show every name the question gives take the free places first."""
    seen = {(s.snippet.image, s.snippet.start) for s in chosen if s.snippet.modality == "screen"}
    fresh: list[Scored] = []
    for s in close:
        if s.snippet.modality == "screen":
            key = (s.snippet.image, s.snippet.start)
            if key in seen:
                continue
            seen.add(key)
        fresh.append(s)
    if q.key_terms:
        fresh.sort(key=lambda s: not (s.snippet.modality == "screen" and all(shows(t, s.snippet.text) for t in q.key_terms)))
    return [*chosen, *fresh][:size]

