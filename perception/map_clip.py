"""One clip of the map stage (:class:`perception.map.Perceiver`): its state on the way through
``observe_clips`` (:class:`ClipState`), its decode (:func:`decode_clip`), and its signals computed
from the decoded media and written to the clip cache (:func:`compute_clip`): voice segments,
speaker turns, keyframes with OCR, face tracks, visual vectors and captions. A clip whose streams
end early is a damaged file (:func:`check_decoded`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.base import ImageArray, Segment
from perception.clip_cache import CachedClip, write_clip
from perception.clip_signals import caption_request, keyframes_of, visual_of
from perception.decode import FRAME_BACKENDS, ClipMedia, MediaInfo, Span, clip_audio
from perception.diarize import clip_speech
from perception.errors import CorruptMedia
from perception.faces import face_tracks
from perception.local_speakers import local_speaker_segments
from perception.map_settings import PerceptionOptions
from perception.records import ClipObservation, Keyframe, VisualVector
from perception.voice_changes import voice_segments
from perception.voices import diarized_turns, speaker_turns

if TYPE_CHECKING:
    from perception.map import Perceiver

__all__ = ["FRAME_SIGNALS", "ClipState", "Timer", "check_decoded", "clip_keyframes", "compute_clip", "covers",
           "decode_clip", "heard_span"]

FRAME_SIGNALS = {"keyframes", "faces"}  # the signals computed from a clip's frames


@dataclass
class ClipState:
    """One clip on its way through ``observe_clips``."""

    index: int
    span: Span
    cached: CachedClip | None
    todo: set[str]
    old: ClipObservation | None
    until: float
    media: ClipMedia | None
    given: bool  # decoded upstream, every stream its signals need
    segments: tuple[Segment, ...] = ()


def compute_clip(p: Perceiver, path: Path, info: MediaInfo, source_id: str, st: ClipState, cache_dir: Path
                 ) -> ClipObservation:
    """Compute the clip's missing signals from its media (decoding its frames when they were not
    given), write the clip to ``cache_dir`` and return its observation."""
    o, old, todo, index, span = p.options, st.old, st.todo, st.index, st.span
    if todo & FRAME_SIGNALS and not st.given:
        with p.timer("decode"):
            framed = decode_clip(path, span, o, False, True)
        audio = st.media.audio if st.media is not None else None
        audio_t0 = st.media.audio_t0 if st.media is not None else span[0]
        until = max(st.media.until if st.media is not None else 0.0, framed.until)
        st.media = ClipMedia(audio, audio_t0, framed.frames, framed.cuts, until)
    media = st.media
    audio, audio_t0 = (media.audio, media.audio_t0) if media is not None else (None, span[0])
    frames = media.frames if media is not None else []
    cuts = media.cuts if media is not None else frozenset()
    until = st.until
    if media is not None:
        until = max(until, media.until)
        check_decoded(path, info, span, until)

    segments = st.segments if "speech" in todo else (old.segments if old else ())
    segs = old.voice_segments if old and "voice_segments" in p.signals else ()
    overlaps = old.overlaps if old and "voice_segments" in p.signals else ()
    if "voice_segments" in todo:
        with p.timer("diarize"):
            assert p.diarizer is not None and p.diarize_options is not None and audio is not None
            rate = p.diarizer.sample_rate
            if p.segmenter is not None and p.diarize_options.local_speakers:
                segs, overlap = local_speaker_segments(audio, audio_t0, span, p.diarizer, p.segmenter,
                                                       p.diarize_options)
            else:
                speech, overlap, changes = clip_speech(audio, audio_t0, span, rate, p.diarize_options, p.segmenter)
                segs = voice_segments(audio, audio_t0, speech, p.diarizer, p.diarize_options, changes)
            overlaps = tuple(overlap)
    turns = old.turns if old and "turns" in p.signals else ()
    if "turns" in todo:
        with p.timer("voices"):
            if p.diarized_turns:
                assert p.diarize_options is not None
                turns = diarized_turns(segments, segs, overlaps, span, p.diarize_options)
            else:
                assert p.voice is not None and audio is not None
                turns = speaker_turns(segments, audio, audio_t0, p.voice, o.voices)
    if "keyframes" in todo:
        with p.timer("keyframes_ocr"):
            keyframes = clip_keyframes(p, frames, cuts, cache_dir, index)
    else:
        keyframes = old.keyframes if old else ()
    faces = old.faces if old and "faces" in p.signals else ()
    if "faces" in todo:
        with p.timer("faces"):
            assert p.face is not None
            faces = face_tracks(frames, p.face, o.faces, cache_dir, index, cuts)
    visual = old.visual if old and "visual" in p.signals else ()
    if "visual" in todo:
        with p.timer("visual"):
            visual = _visual(p, keyframes, cache_dir)
    captions = old.captions if old and "captions" in p.signals else ()
    observation = ClipObservation(
        source_id, index, span[0], span[1], segments, keyframes, p.producer(), turns=turns,
        faces=faces, visual=visual, voice_segments=segs, overlaps=overlaps,
    )
    if "captions" in todo:
        with p.timer("captions"):
            assert p.captioner is not None
            captions = tuple(p.captioner.caption(caption_request(observation, cache_dir, p.captioner, o.caption_frames)))
    observation = ClipObservation(
        source_id, index, span[0], span[1], segments, keyframes, p.producer(), turns=turns,
        faces=faces, visual=visual, captions=captions, voice_segments=segs, overlaps=overlaps,
    )
    write_clip(cache_dir, index, p.signals, until, observation)
    st.media = None  # the frames: a group's clips are not all held at once
    return observation


def check_decoded(path: Path, info: MediaInfo, span: Span, until: float) -> None:
    """A clip whose streams end early means the file is cut short or damaged there."""
    if span[1] >= info.duration - 1e-6:  # the last clip: the header may overstate a little
        expected, slack = info.duration, max(2.0, 0.05 * info.duration)
    else:
        expected, slack = span[1], 2.0
    if until < expected - slack:
        raise CorruptMedia(
            path,
            f"truncated or damaged: decodes to {until:.1f} s of the {info.duration:.1f} s its header declares",
        )


def clip_keyframes(
    p: Perceiver, frames: list[tuple[float, ImageArray]], cuts: frozenset[float], cache_dir: Path, clip_index: int
) -> tuple[Keyframe, ...]:
    """The clip's keyframes (a floor rate plus scene cuts), OCR on those whose content changed."""
    o = p.options
    return keyframes_of(frames, cuts, cache_dir, clip_index, p.ocr, o.change, o.distinct_tiles,
                        o.keyframe_jpeg_side if o.save_keyframes else None)


def _visual(p: Perceiver, keyframes: tuple[Keyframe, ...], cache_dir: Path) -> tuple[VisualVector, ...]:
    assert p.image is not None
    return visual_of(keyframes, cache_dir, p.image)


def heard_span(span: Span, segments: tuple[Segment, ...]) -> Span:
    """A clip's span widened to its words (a group's cut may give it words just past its edge)."""
    if not segments:
        return span
    return (min(span[0], segments[0].start), max(span[1], segments[-1].end))


def covers(media: ClipMedia, segments: tuple[Segment, ...]) -> bool:
    if not segments or media.audio is None:
        return True
    end = media.audio_t0 + len(media.audio) / 16000
    return media.audio_t0 <= segments[0].start and segments[-1].end <= end


def decode_clip(path: Path, span: Span, options: PerceptionOptions, audio: bool, frames: bool) -> ClipMedia:
    """Decode one clip's audio (with the ASR padding) and / or frames (floor rate + scene cuts)."""
    samples, audio_t0, until = clip_audio(path, span, options.asr_pad) if audio else (None, span[0], 0.0)
    images: list[tuple[float, ImageArray]] = []
    cuts: frozenset[float] = frozenset()
    if frames:
        images, cuts, frames_until = FRAME_BACKENDS[options.decoder](
            path, span, options.keyframe_interval, options.frame_max_side, options.scene
        )
        until = max(until, frames_until)
    return ClipMedia(samples, audio_t0, images, cuts, until)


class Timer:
    """Adds the seconds of a ``with`` block to ``into[stage]``."""

    def __init__(self, into: dict[str, float], stage: str) -> None:
        self.into, self.stage = into, stage

    def __enter__(self) -> None:
        self.began = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.into[self.stage] = self.into.get(self.stage, 0.0) + time.perf_counter() - self.began
