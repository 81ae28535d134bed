"""The thresholds of entity matching (:mod:`memory.entities`): face and voice distances to an
entity's mean, how faces inform voices, when two entities merge, and the voice thresholds of each
voice model (:func:`voice_options`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["VOICE_THRESHOLDS", "EntityOptions", "voice_options"]


@dataclass(frozen=True)
class EntityOptions:
    # dlib distance to an entity's mean face. Tuned on GRID: the same man in two recordings 0.24,
    # different speakers 0.61-1.03; dlib's own rule of thumb is 0.6.
    face_match: float = 0.5
    # GE2E cosine to an entity's mean voice. GRID's 2 s utterances: the same man 0.81, different
    # speakers up to 0.84 — short turns cannot separate every pair; persons lean on faces.
    voice_match: float = 0.80
    # faces inform voices: while a face is alone on screen, a voice that has mostly spoken with
    # that face matches from this cosine, and one that has mostly spoken with another face only
    # from ``voice_match_other`` (people who sound alike stay apart when their faces differ)
    voice_match_linked: float = 0.70
    voice_match_other: float = 0.90
    voice_merge: float = 0.90  # two voice entities' means this close are one voice (unless linked to two faces)
    link_seconds: float = 1.5
    link_share: float = 0.6
    span_gap: float = 30.0  # appearances closer than this are one span
    # diarized stores: two voices that speak in one source were told apart by clustering that
    # whole source, a sharper judge than two means: they never merge
    voices_apart_in_source: bool = False


# Voice thresholds per voice model, where they differ from the GE2E ones above: (voice_match,
# voice_match_linked, voice_match_other, voice_merge). CAM++ vectors spread far wider than GE2E's.
# ``python -m bench.voice_thresholds`` on the reference recordings' speakers (means of 3 s pieces):
# one speaker's two halves 0.48 (3-4 s each) and 0.63-0.89 (5 s and more), AMI's two speakers
# across two files 0.84 and 0.88; two different speakers: median 0.08, 95th percentile 0.34, max
# 0.50 (208 pairs). GE2E on the same: same 0.69-0.94, across files 0.92-0.95, others up to 0.80.
# So CAM++ matches from 0.55 (a linked face lowers it to 0.45, another face raises it to 0.70),
# and two entities merge from 0.75, well above any two speakers seen.
VOICE_THRESHOLDS: dict[str, tuple[float, float, float, float]] = {
    "campplus-zh-en-common-advanced": (0.55, 0.45, 0.70, 0.75),
}


def voice_options(options: EntityOptions, model_id: str | None) -> EntityOptions:
    """``options`` with the voice thresholds of the model that made the voice vectors (a store
    holds one voice model's vectors: ``MemoryStore.ensure_vectors`` refuses another)."""
    found = VOICE_THRESHOLDS.get(model_id or "")
    if found is None:
        return options
    match, linked, other, merge = found
    return replace(options, voice_match=match, voice_match_linked=linked, voice_match_other=other, voice_merge=merge)
