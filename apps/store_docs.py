"""What the memory server answers besides ask / search / sources / index (:mod:`apps.service`):
the people (entities, one person, rename), forget, a source's transcript and timeline, a video
frame and a screen capture as pictures. The CLI builds the same documents in-process when no
server holds the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apps.service import resolve_sources
from mmagent.errors import SettingsError


def person_json(p: Any) -> dict[str, Any]:
    return {
        "id": p.id, "kind": "person", "name": p.name, "names": [n for n in (p.name, *p.aliases) if n],
        "faces": list(p.faces), "voices": list(p.voices),
        "appearances": [{"source_id": s, "start": a, "end": b} for s, a, b in p.appearances],
        "merged": [b for b in p.births if b != p.id],
        "evidence": list(p.evidence),
    }


def find_person(agent: Any, wanted: str) -> Any:
    persons = agent.persons()
    key = " ".join(wanted.lower().split())
    for p in persons:
        if wanted in (p.id, *p.faces, *p.voices, *p.births):
            return p
    named = [p for p in persons if key in {n.lower() for n in (p.name, *p.aliases) if n}]
    if len(named) == 1:
        return named[0]
    reason = "several people have that name" if named else "no person, face, voice or name matches it"
    raise SettingsError(f"entity {wanted}: {reason} (see: mmagent entities)")


def face_crops(agent: Any) -> dict[str, str]:
    """Each face id → the crop file of its sighting with the most sightings (files that exist)."""
    from memory.store import Scope

    best: dict[str, tuple[int, str]] = {}
    for r in agent.store.scroll(Scope(kind="visual", level="face")):
        image = r.attrs.get("image")
        if not image or not Path(image).is_file():
            continue
        sightings = r.attrs.get("sightings") or 0
        seen = sightings if isinstance(sightings, int) else len(sightings)
        for face in (e for e in r.entity_ids if e.startswith("face_")):
            if face not in best or seen > best[face][0]:
                best[face] = (seen, image)
    return {face: image for face, (_, image) in best.items()}


def entities_doc(agent: Any) -> dict[str, Any]:
    crops = face_crops(agent)
    out = []
    for p in agent.persons():
        doc = person_json(p)
        doc["face_images"] = {f: f"/api/faces/{f}.jpg" for f in p.faces if f in crops}
        out.append(doc)
    return {"entities": out}


def entity_doc(agent: Any, entity: str) -> dict[str, Any]:
    person = find_person(agent, entity)
    return {"entity": person_json(person), **agent.entity_detail(person)}


def rename_doc(agent: Any, entity: str, name: str) -> dict[str, Any]:
    target = agent.rename(entity, name)
    return {"entity": person_json(find_person(agent, target))}


def forget_doc(agent: Any, source: str) -> dict[str, Any]:
    from memory.errors import StoreCorrupt

    agent.verify = False  # forget is how a damaged store is repaired: it opens one
    try:
        (source_id,) = resolve_sources(agent, [source])
    except StoreCorrupt:  # a damaged catalog entry: match the id alone
        match = [s for s in agent.store.source_ids() if s.startswith(source)]
        if len(match) != 1:
            raise SettingsError(f"{source}: {'no' if not match else 'several'} indexed source(s) match it "
                                "(give the id of the damaged entry)") from None
        source_id = match[0]
    report = agent.forget(source_id)
    return {"forgotten": source_id, **report.to_json()}


def _screen_source(entry: Any) -> bool:
    return entry.source_id.startswith("screens-") or Path(entry.path).is_dir()


def transcript_doc(agent: Any, source: str, format: str = "json", words: bool = False) -> dict[str, Any]:
    """``format`` json: the timed lines (DESIGN's transcript JSON) and the speaker turns; text /
    srt / vtt / rttm: ``{"source_id", "format", "text", "turns_from"}``."""
    from memory.transcript import Speakers, source_transcript
    from memory.transcript_formats import to_json, to_rttm, to_srt, to_text, to_vtt

    if format not in ("json", "text", "srt", "vtt", "rttm"):
        raise SettingsError(f"format {format!r}: use json, text, srt, vtt or rttm")
    (source_id,) = resolve_sources(agent, [source])
    entry = agent.store.get_source(source_id)
    if _screen_source(entry):
        raise SettingsError(f"{entry.path}: a screen source has no speech to transcribe "
                            f"(ask about what it showed: mmagent ask QUESTION --source {source_id[:16]})")
    transcript = source_transcript(agent.store, entry, Speakers(agent.registry()), agent.settings.store / "perception")
    if format == "json":
        return to_json(transcript, words=words)
    return {"source_id": source_id, "format": format, "turns_from": transcript.turns_from,
            "text": {"text": to_text, "srt": to_srt, "vtt": to_vtt, "rttm": to_rttm}[format](transcript)}


def timeline_doc(agent: Any, source: str) -> dict[str, Any]:
    """One source laid out in time: clips and scenes (their memories), who speaks when, what was
    on screen (OCR lines, captures), who was seen (face tracks) and the keyframes."""
    from memory.store import Scope

    (source_id,) = resolve_sources(agent, [source])
    entry = agent.store.get_source(source_id)
    levels: dict[str, list[dict[str, Any]]] = {"clip": [], "scene": []}
    speech: list[dict[str, Any]] = []
    screen: list[dict[str, Any]] = []
    for r in agent.store.scroll(Scope(source_ids=(source_id,), kind="episodic")):
        if r.level in levels:
            levels[r.level].append({"memory_id": r.id, "start": r.t_start, "end": r.t_end, "text": r.text,
                                    "entity_ids": list(r.entity_ids), "wall_time": r.wall_time})
        if r.level != "clip":
            continue
        for s in r.snippets:
            if s.modality == "speech":
                speech.append({"start": s.start, "end": s.end, "speaker": s.speaker, "text": s.text})
            else:
                screen.append({"start": s.start, "end": s.end, "text": s.text,
                               **({"image": s.image, "image_url": _capture_url(s.image)} if s.image else {})})
    names = _speaker_names(agent)
    for s in speech:
        s["name"] = names.get(s["speaker"] or "")
    faces: list[dict[str, Any]] = []
    keyframes: list[dict[str, Any]] = []
    for r in agent.store.scroll(Scope(source_ids=(source_id,), kind="visual")):
        if r.level == "face":
            faces.append({"start": r.t_start, "end": r.t_end, "entity_ids": list(r.entity_ids), "text": r.text,
                          **({"face_image": f"/api/faces/{e}.jpg" for e in r.entity_ids if e.startswith("face_")})})
        else:
            keyframes.append({"t": r.t_start, "text": r.text, "image_url": _frame_url(source_id, r.t_start)})
    video = not _screen_source(entry)
    for item in levels["clip"] + levels["scene"] + speech + screen + faces:
        item.setdefault("start", 0.0)
    by_time = lambda d: (d.get("start", d.get("t", 0.0)), d.get("end", 0.0))  # noqa: E731
    return {
        "source_id": source_id, "path": entry.path, "duration": entry.duration, "kind": "video" if video else "screen",
        "media_url": f"/api/sources/{source_id}/media" if video else None,
        "clips": sorted(levels["clip"], key=by_time), "scenes": sorted(levels["scene"], key=by_time),
        "speakers": sorted(speech, key=by_time), "screen_text": sorted(screen, key=by_time),
        "faces": sorted(faces, key=by_time), "keyframes": sorted(keyframes, key=by_time),
    }


def _speaker_names(agent: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in agent.persons():
        if p.name:
            for v in p.voices:
                out[v] = p.name
    return out


def _capture_url(image: str) -> str:
    from urllib.parse import quote

    return f"/api/capture?path={quote(image)}"


def _frame_url(source_id: str, t: float) -> str:
    return f"/api/sources/{source_id}/frame?t={t:.3f}"


def source_media(agent: Any, source: str) -> tuple[str, Path]:
    """(source id, file) of an indexed video or audio file; an error for screen sources or a
    file that is gone."""
    (source_id,) = resolve_sources(agent, [source])
    entry = agent.store.get_source(source_id)
    if _screen_source(entry):
        raise SettingsError(f"{entry.path}: a screen source is a folder of captures (see its timeline's images)")
    path = Path(entry.path)
    if not path.is_file():
        raise SettingsError(f"{entry.path}: the indexed file is no longer there")
    return source_id, path


def frame_jpeg(agent: Any, source: str, t: float, max_side: int = 960) -> bytes:
    """The video frame at ``t`` seconds (the first at or after it) as JPEG."""
    import io

    from PIL import Image

    from perception.decode import clip_frames_pyav

    _, path = source_media(agent, source)
    entry = agent.store.get_source(resolve_sources(agent, [source])[0])
    if not 0 <= t <= max(entry.duration, 0.0):
        raise SettingsError(f"t={t}: outside the source (0 to {entry.duration:.1f} s)")
    frames, _, _ = clip_frames_pyav(path, (t, min(t + 1.0, entry.duration + 1.0)), 1.0, max_side)
    if not frames:
        raise SettingsError(f"{entry.path}: no video frame at {t:.1f} s (audio only?)")
    buf = io.BytesIO()
    Image.fromarray(frames[0][1]).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def capture_png(agent: Any, image: str) -> bytes:
    """A screen capture cited by the store (inside one of its screen sources' folders), whole."""
    import io

    from perception.screens import open_capture

    path = Path(image).resolve()
    folders = [Path(s.path).resolve() for s in agent.sources() if _screen_source(s)]
    if not any(path.is_relative_to(f) for f in folders):
        raise SettingsError(f"{image}: not a capture of a screen source in this store")
    buf = io.BytesIO()
    open_capture(path).save(buf, format="PNG")
    return buf.getvalue()

