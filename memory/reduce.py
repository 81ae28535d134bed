"""The reduce stage: one source's clip observations → entities, episodic, semantic and visual
memories in the store, incrementally; and ``forget``, its exact inverse.

Per source, in time order:

1. entities — the source's earlier contributions are taken out first (re-indexing a source
   equals indexing it once), then every face track and voice of every clip gets a stable id,
   co-occurrences and name evidence are added, close entities merge, persons are derived. When
   the clips carry voice segments (the diarizer's map stage), the segments of the whole source
   are clustered into speakers (``perception.diarize.speaker_turns_of``: the segmentation
   windows' local speakers linked across windows, or the segments cut at voice changes), each
   speaker is matched to a voice entity once, and the clips' turns are cut again where the
   speaker changes: every word takes the speaker of the turn (or segment) it overlaps most. Without them, each clip-local turn is
   matched alone;
2. episodic — clip memories naming people by stable ids, then scene / hour / day summaries;
3. visual — one memory per face track (its ``face`` vector and crop) and per embedded keyframe
   (its ``visual`` vector);
4. semantic (:mod:`memory.semantic`) — statements in speech and on screen become claims; all
   claims of all sources are reconciled into facts (support, first / last seen, superseded history);
5. writes — new and changed points first, then stale ones of this source are deleted; the
   catalog entry is written by the caller last, so an interrupted run simply runs again.
"""

from __future__ import annotations


import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from memory import names as namelib
from memory.entities import ClipIds, EntityRegistry, Person
from memory.entity_options import EntityOptions, voice_options
from memory.episodic import Summarize, clip_memory, rollup
from memory.records import MemoryRecord
from memory.semantic import facts_for
from memory.store import MemoryStore, Scope, payload_of
from models.base import FloatArray, TextEmbedder
from perception.diarize import speaker_turns_of
from perception.diarize_options import CALIBRATED, DiarizeOptions
from perception.records import ClipObservation, SpeakerTurn, VoiceSegment, on_screen
from perception.voices import words_by_speaker

# 3: diarized voices; 4: screen layout lines (label: value, selected, lists) beside the raw lines;
# 5: face memories keep their sighting times, names said to a voice; 6: diarized speaker turns kept per voice;
# 7: short clusters join only beside a sure speaker; 8: local speakers per segmentation window (pyannote's recipe)
REDUCE_VERSION = "reduce-9"  # sources indexed by an older reduce stage are reduced again


@dataclass(frozen=True)
class ReduceOptions:
    entities: EntityOptions = EntityOptions()
    scene_seconds: float = 300.0


@dataclass
class ReduceReport:
    source_id: str
    points: Counter[str] = field(default_factory=Counter)  # "kind/level" -> points of this source written
    written: int = 0
    deleted: int = 0
    seconds: float = 0.0
    merges: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"points": dict(sorted(self.points.items())), "written": self.written, "deleted": self.deleted,
                "seconds": round(self.seconds, 3), "merges": [list(m) for m in self.merges]}


class Reducer:
    def __init__(self, store: MemoryStore, embedder: TextEmbedder, options: ReduceOptions = ReduceOptions(),
                 summarize: Summarize | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.options = options
        self.summarize = summarize

    # -- index -------------------------------------------------------------------------------

    def reduce(self, clips: Sequence[ClipObservation], path: str, seq: int, cache_dir: Path | None = None,
               wall_start: float | None = None) -> ReduceReport:
        began = time.perf_counter()
        clips = sorted(clips, key=lambda c: c.start)
        source_id = clips[0].source_id if clips else ""
        report = ReduceReport(source_id)
        self._ensure_vectors(clips)
        diarizer = _diarizer(clips)
        registry, before = self._registry(diarizer)
        registry.forget(source_id)
        if diarizer is not None:
            clips, ids = self._identify_diarized(registry, clips, diarizer)
        else:
            ids = [self._identify(registry, clip, cache_dir) for clip in clips]
        report.merges = registry.merge_close(source_id)
        people = registry.person_of()

        episodic = [m for c, i in zip(clips, ids) if (m := clip_memory(c, path, i, people)) is not None]
        episodic = rollup(episodic, self.summarize, self.options.scene_seconds)
        episode_of = {r.provenance.get("clip_index"): r.id for r in episodic if r.level == "clip"}
        visual, visual_vectors = _visual(clips, ids, people, path, cache_dir, episode_of)
        semantic = facts_for(self.store, source_id, seq, episodic)
        entities, entity_vectors = registry.records()

        # a source reduced again (a screen day every few seconds, a re-index): unchanged points are not rewritten
        had = {r.id: payload_of(r) for r in self.store.scroll(Scope(source_ids=(source_id,), kinds=("episodic", "visual")))}
        fresh = [(r, v) for r, v in zip(episodic + visual, [{} for _ in episodic] + visual_vectors)
                 if had.get(r.id) != payload_of(r)]
        records = [r for r, _ in fresh]
        vectors: list[dict[str, FloatArray]] = [v for _, v in fresh]
        changed_entities = [(r, v) for r, v in zip(entities, entity_vectors) if before.get(r.id) != payload_of(r)]
        records += [r for r, _ in changed_entities] + semantic[0]
        vectors += [v for _, v in changed_entities] + [{} for _ in semantic[0]]
        report.written = self._write(records, vectors)
        report.points.update(f"{r.kind}/{r.level}" for r in episodic + visual)
        report.points["semantic/fact"] += sum(1 for r in semantic[0] + semantic[2] if source_id in r.sources)

        stale = set(had) - {r.id for r in episodic + visual}
        stale |= set(before) - {r.id for r in entities}
        stale |= semantic[1]
        self.store.delete(sorted(stale))
        report.deleted = len(stale)
        report.seconds = time.perf_counter() - began
        return report

    def _ensure_vectors(self, clips: Sequence[ClipObservation]) -> None:
        specs: dict[str, tuple[str, int]] = {}
        for clip in clips:
            if clip.faces and clip.producer.get("face"):
                specs["face"] = (clip.producer["face"], len(clip.faces[0].embedding))
            if clip.turns and clip.producer.get("voice"):
                specs["voice"] = (clip.producer["voice"], len(clip.turns[0].embedding))
        for clip in clips:  # diarized voices are matched by the diarizer's vectors
            if clip.voice_segments and clip.producer.get("diarizer"):
                specs["voice"] = (clip.producer["diarizer"], len(clip.voice_segments[0].embedding))
                break
        for clip in clips:
            if clip.visual and clip.producer.get("image"):
                specs["visual"] = (clip.producer["image"], len(clip.visual[0].vector))
                break
        if specs:
            self.store.ensure_vectors(specs)

    def _identify(self, registry: EntityRegistry, clip: ClipObservation, cache_dir: Path | None) -> ClipIds:
        sid = clip.source_id
        faces: dict[str, str] = {}
        for track in clip.faces:
            faces[track.track] = registry.observe(
                sid, "face", np.asarray(track.embedding, dtype=np.float64), 1.0, (track.start, track.end)
            )
        shown = [(faces[f.track], a, b) for f in clip.faces for a, b in _visible(f)]
        # each turn on its own: a clip's voice labels can pool several people who sound alike
        turn_ids: list[str | None] = []
        for turn in clip.turns:
            vector = np.asarray(turn.embedding, dtype=np.float64)
            if not vector.any():
                turn_ids.append(None)
                continue
            alone = _alone(shown, turn.start, turn.end)
            voice_id = registry.observe(sid, "voice", vector, max(turn.end - turn.start, 0.1), (turn.start, turn.end), alone)
            turn_ids.append(voice_id)
            for face_id, seconds in alone.items():  # who is on screen, alone, while the voice speaks
                registry.add_cooccurrence(sid, voice_id, face_id, seconds)
        voices = _majority(clip.turns, turn_ids)
        for turn, voice_id in zip(clip.turns, turn_ids):
            if voice_id is None:
                continue
            for name in namelib.self_introductions(turn.text):
                registry.add_name(voice_id, sid, name, turn.start, "self-introduction", turn.text)
        _address_names(registry, sid, list(zip(clip.turns, turn_ids)))
        self._name_tags(registry, clip, faces)
        return ClipIds(faces, voices, tuple(turn_ids))

    def _identify_diarized(self, registry: EntityRegistry, clips: Sequence[ClipObservation], diarizer: str
                           ) -> tuple[list[ClipObservation], list[ClipIds]]:
        """Faces clip by clip, then the source's speakers: one voice entity each, matched by the
        speaker's duration-weighted mean vector over all its segments (a long, stable average,
        where one short turn is not). The clips come back with their turns cut by speaker."""
        sid = clips[0].source_id
        face_ids: list[dict[str, str]] = []
        for clip in clips:
            face_ids.append({
                t.track: registry.observe(sid, "face", np.asarray(t.embedding, dtype=np.float64), 1.0, (t.start, t.end))
                for t in clip.faces
            })
        shown = [(faces[f.track], a, b) for clip, faces in zip(clips, face_ids) for f in clip.faces for a, b in _visible(f)]
        segments = [seg for clip in clips for seg in clip.voice_segments]
        options = CALIBRATED.get(diarizer, DiarizeOptions())
        overlaps = [span for clip in clips for span in clip.overlaps]
        labels, source_turns = speaker_turns_of(segments, overlaps, options)
        local = bool(segments) and segments[0].window is not None  # pyannote's recipe: records per window
        speaker_ids: dict[int, str] = {}
        for k in sorted({t[2] for t in source_turns} if local else set(labels)):  # first voice heard first
            members = sorted((s for s, label in zip(segments, labels) if label == k), key=lambda s: s.start)
            pieces = [(a, b) for a, b, kk in source_turns if kk == k] if local else [(s.start, s.end) for s in members]
            alone = [_alone(shown, a, b) for a, b in pieces]
            pooled: dict[str, float] = {}
            for a in alone:
                for face_id, seconds in a.items():
                    pooled[face_id] = pooled.get(face_id, 0.0) + seconds
            voice_id = registry.observe(
                sid, "voice", _centroid(members), sum(max(b - a, 0.0) for a, b in pieces),
                pieces[0], pooled, frozenset(speaker_ids.values()),
            )
            speaker_ids[k] = voice_id
            for piece, a in zip(pieces, alone):
                registry.add_span(voice_id, sid, piece)
                for face_id, seconds in a.items():
                    registry.add_cooccurrence(sid, voice_id, face_id, seconds)
        for start, end, k in source_turns:
            registry.add_turn(speaker_ids[k], sid, (start, end))
        # each word goes to the speaker of the turn (local recipe) or segment it overlaps most
        spoken = [(VoiceSegment(a, b, ()), k) for a, b, k in source_turns] if local else list(zip(segments, labels))
        out_clips: list[ClipObservation] = []
        out_ids: list[ClipIds] = []
        said: list[tuple[Any, str | None]] = []  # every turn of the source and its speaker
        for clip, faces in zip(clips, face_ids):
            turns, turn_labels = words_by_speaker(clip.segments, spoken, (clip.start, clip.end))
            turn_ids = tuple(speaker_ids[k] for k in turn_labels)
            for turn, voice_id in zip(turns, turn_ids):
                for name in namelib.self_introductions(turn.text):
                    registry.add_name(voice_id, sid, name, turn.start, "self-introduction", turn.text)
            said += zip(turns, turn_ids)
            self._name_tags(registry, clip, faces)
            # the clip-local voices its captions name: each the speaker of most of its time
            local = _majority(clip.turns, [_overlapping(t, turns, turn_ids) for t in clip.turns])
            out_clips.append(replace(clip, turns=turns))
            out_ids.append(ClipIds(faces, local, turn_ids))
        _address_names(registry, sid, said)
        return out_clips, out_ids

    def _name_tags(self, registry: EntityRegistry, clip: ClipObservation, faces: dict[str, str]) -> None:
        sid = clip.source_id
        for kf in clip.keyframes:  # a name tag on screen while one face is shown
            lines = [line.text for line in kf.ocr]
            shown = {faces[f.track] for f in clip.faces if any(a <= kf.t <= b for a, b in _visible(f))}
            if lines and len(shown) == 1:
                for name in namelib.name_tags(lines):
                    registry.add_name(next(iter(shown)), sid, name, kf.t, "name-tag", " | ".join(lines))

    # -- forget ------------------------------------------------------------------------------

    def forget(self, source_id: str) -> ReduceReport:
        """Remove everything derived from a source, and nothing else."""
        began = time.perf_counter()
        report = ReduceReport(source_id)
        registry, before = self._registry()
        registry.forget(source_id)
        entities, entity_vectors = registry.records()
        changed = [(r, v) for r, v in zip(entities, entity_vectors) if before.get(r.id) != payload_of(r)]
        to_write, fact_stale, _ = facts_for(self.store, source_id)
        report.written = self._write([r for r, _ in changed] + to_write,
                                     [v for _, v in changed] + [{} for _ in to_write])
        stale = {r.id for r in self.store.scroll(Scope(source_ids=(source_id,), kinds=("episodic", "visual")))}
        stale |= set(before) - {r.id for r in entities}
        stale |= fact_stale
        self.store.delete(sorted(stale))
        report.deleted = len(stale)
        report.seconds = time.perf_counter() - began
        return report

    # -- the user ----------------------------------------------------------------------------

    def update_entities(self, change: Callable[[EntityRegistry], str]) -> str:
        """Apply a user change (enroll, rename) to the registry and write what it changed."""
        registry, before = self._registry()
        result = change(registry)
        entities, vectors = registry.records()
        changed = [(r, v) for r, v in zip(entities, vectors) if before.get(r.id) != payload_of(r)]
        self._write([r for r, _ in changed], [v for _, v in changed])
        self.store.delete(sorted(set(before) - {r.id for r in entities}))
        return result

    # -- helpers -----------------------------------------------------------------------------

    def _registry(self, voice_model: str | None = None) -> tuple[EntityRegistry, dict[str, dict[str, Any]]]:
        """The entities of the store, and the payloads of their points (to write only changes);
        the voice thresholds are those of ``voice_model``, the model of the voice vectors."""
        records = list(self.store.scroll(Scope(kind="entity")))
        options = voice_options(self.options.entities, voice_model)
        if voice_model is not None:  # diarized: speakers of one source stay apart
            options = replace(options, voices_apart_in_source=True)
        return EntityRegistry.from_records(records, options), {r.id: payload_of(r) for r in records}

    def _write(self, records: Sequence[MemoryRecord], vectors: Sequence[dict[str, FloatArray]]) -> int:
        if not records:
            return 0
        texts = sorted({r.text for r in records})  # face sightings repeat their text: embed once
        unique = dict(zip(texts, self.embedder.embed_batch(texts)))
        dense = np.stack([unique[r.text] for r in records])
        self.store.upsert(records, dense, vectors)
        return len(records)


def _diarizer(clips: Sequence[ClipObservation]) -> str | None:
    """The diarizer's model when the source's clips carry voice segments, else None."""
    for clip in clips:
        if clip.voice_segments and clip.producer.get("diarizer"):
            return str(clip.producer["diarizer"])
    return None


def _centroid(segments: Sequence[VoiceSegment]) -> FloatArray:
    """Duration-weighted mean of the segments' unit vectors (those too short to embed are zero);
    a local speaker's record weighs the seconds it speaks alone."""
    total = np.zeros(len(segments[0].embedding), dtype=np.float64)
    for seg in segments:
        v = np.asarray(seg.embedding, dtype=np.float64)
        n = float(np.linalg.norm(v))
        if n > 0:
            total += max(seg.clean if seg.window is not None else seg.end - seg.start, 1e-3) * v / n
    n = float(np.linalg.norm(total))
    return total / n if n > 0 else total


def _overlapping(turn: SpeakerTurn, turns: Sequence[SpeakerTurn], ids: Sequence[str]) -> str | None:
    """The id of the turns that overlap ``turn`` most in time."""
    said: dict[str, float] = {}
    for other, voice_id in zip(turns, ids):
        overlap = min(turn.end, other.end) - max(turn.start, other.start)
        if overlap > 0:
            said[voice_id] = said.get(voice_id, 0.0) + overlap
    return max(sorted(said), key=lambda v: said[v]) if said else None


def _visible(track: Any) -> list[tuple[float, float]]:
    """When a face track was on screen (perception.records.on_screen)."""
    return on_screen(track.times, track.start, track.end)


def _majority(turns: Sequence[Any], ids: Sequence[str | None]) -> dict[str, str]:
    """Clip-local voice label → the stable id that spoke most of its time."""
    said: dict[str, Counter[str]] = {}
    for turn, voice_id in zip(turns, ids):
        if voice_id is not None:
            said.setdefault(turn.voice, Counter())[voice_id] += max(turn.end - turn.start, 0.1)
    return {label: max(sorted(c), key=lambda v: c[v]) for label, c in said.items()}


def _alone(shown: Sequence[tuple[str, float, float]], start: float, end: float) -> dict[str, float]:
    """Seconds of [start, end] during which each face was the only one on screen."""
    edges = sorted({start, end, *(x for _, a, b in shown for x in (a, b) if start < x < end)})
    out: dict[str, float] = {}
    for a, b in zip(edges, edges[1:]):
        mid = (a + b) / 2
        present = {f for f, s, e in shown if s <= mid <= e}
        if len(present) == 1:
            (face_id,) = present
            out[face_id] = round(out.get(face_id, 0.0) + b - a, 3)
    return out


def _address_names(registry: EntityRegistry, sid: str, said: Sequence[tuple[Any, str | None]], reach: float = 15.0) -> None:
    """A name said to someone ("thanks, Tom", "Tom, can you ...?") names the other voice that
    spoke just before it (thanks, agreement) or speaks next (a question, a call), within
    ``reach`` seconds; weak evidence (:data:`memory.entities._HOW_WEIGHT`), kept with its sentence."""
    turns = sorted(((t, v) for t, v in said if v is not None), key=lambda x: x[0].start)
    for k, (turn, voice) in enumerate(turns):
        if "," not in turn.text and "?" not in turn.text:
            continue  # a vocative is set off by commas (or asks): most sentences need no parse
        for name, way in namelib.addressed(turn.text):
            others = reversed(turns[:k]) if way == "previous" else iter(turns[k + 1:])
            other = next(((t, v) for t, v in others if v != voice), None)
            if other is None:
                continue
            gap = turn.start - other[0].end if way == "previous" else other[0].start - turn.end
            if gap <= reach:
                registry.add_name(other[1], sid, name, turn.start, "address", turn.text)


def _visual(clips: Sequence[ClipObservation], ids: Sequence[ClipIds], people: dict[str, Person], path: str,
            cache_dir: Path | None, episode_of: dict[Any, str]) -> tuple[list[MemoryRecord], list[dict[str, FloatArray]]]:
    """Face tracks and embedded keyframes; ``parent`` is their clip's episodic memory."""
    records: list[MemoryRecord] = []
    vectors: list[dict[str, FloatArray]] = []
    for clip, clip_ids in zip(clips, ids):
        for track in clip.faces:
            face_id = clip_ids.faces.get(track.track)
            if face_id is None:
                continue
            person = people.get(face_id)
            who = f"{person.label()} ({face_id})" if person else face_id
            crop = str(cache_dir / track.crop) if cache_dir is not None and track.crop else None
            records.append(MemoryRecord(
                "visual", "face", clip.source_id, track.start, track.end, f"{who} on screen", path=path,
                entity_ids=tuple(x for x in (face_id, person.id if person else None) if x), wall_time=clip.wall_start,
                parent=episode_of.get(clip.clip_index), attrs={"image": crop, "box": list(track.box), "sightings": track.sightings, "clip_index": clip.clip_index,
                       "times": list(track.times)},
            ))
            vectors.append({"face": np.asarray(track.embedding, dtype=np.float32)})
        shown = {k.t: k for k in clip.keyframes}
        for vv in clip.visual:
            kf = shown.get(vv.t)
            lines = " | ".join(line.text for line in kf.ocr) if kf else ""
            image = str(cache_dir / vv.image) if cache_dir is not None else vv.image
            records.append(MemoryRecord(
                "visual", "keyframe", clip.source_id, vv.t, vv.t, f"Keyframe at {vv.t:.1f}s" + (f": {lines}" if lines else ""),
                path=path, wall_time=clip.wall_start, parent=episode_of.get(clip.clip_index),
                attrs={"image": image, "clip_index": clip.clip_index},
            ))
            vectors.append({"visual": np.asarray(vv.vector, dtype=np.float32)})
    return records, vectors
