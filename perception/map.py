"""The map stage for a video / audio file: each clip → a ClipObservation, cached per clip and signal.

Signals per clip: speech (each ASR group of clips heard as one stretch of audio between cuts at
pauses, so no sentence is cut at a clip edge; each word belongs to the clip holding its midpoint,
see ``perception.speech``), speaker turns (clip-local voices: from the clip's voice segments
with a diarizer, else GE2E windows over the words), voice segments (the clip's
speech as the VAD hears it, with or without words, cut at speaker changes and embedded; with
``local_speakers``, each local speaker of the segmentation model's 10 s windows embedded: the map
stage of ``perception.local_speakers``, whose reduce stage clusters them over the whole source),
keyframes (a floor rate plus scene cuts) with OCR on those whose content changed, face tracks,
visual embeddings of the distinct keyframes, and captions.

Every clip is decoded and computed on its own, so clips can run in any order, in any number of
processes or machines, and a run resumed after a kill gives exactly what an uninterrupted one
gives. Each clip's JSON is written atomically under ``cache_dir`` with one fingerprint per signal
(the models and options that produced it, chained through the signals it depends on:
``perception.map_settings``; the files: ``perception.clip_cache``): a changed setting recomputes
only the signals it affects, and decodes only the streams those need.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from models.base import (
    ASR,
    OCR,
    Captioner,
    FaceEncoder,
    ImageArray,
    ImageEmbedder,
    Segment,
    VoiceEncoder,
)
from perception.clip_cache import CachedClip, read_clip, write_clip
from perception.clip_signals import caption_request, keyframes_of, visual_of
from perception.decode import FRAME_BACKENDS, ClipMedia, MediaInfo, Span, clip_audio, clip_spans
from perception.diarize import clip_speech
from perception.diarize_options import options_for
from perception.errors import CorruptMedia
from perception.faces import face_tracks
from perception.local_speakers import local_speaker_segments
from perception.map_settings import PerceptionOptions, digest, signal_fingerprints
from perception.records import ClipObservation, Keyframe, VisualVector
from perception.secrets import redact_segments
from perception.speech import owned, stretch
from perception.voice_changes import voice_segments
from perception.voices import diarized_turns, speaker_turns


_OPTIONAL_FIELDS = ("turns", "voice_segments", "faces", "visual", "captions")  # signals that are also observation fields
_FRAME_SIGNALS = {"keyframes", "faces"}


ProgressFn = Callable[[int, int], None]


@dataclass
class _Clip:
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


class Perceiver:
    """Runs the signals of one clip with the models it was given (each optional but ASR)."""

    def __init__(
        self,
        options: PerceptionOptions,
        asr: ASR,
        ocr: OCR | None,
        voice: VoiceEncoder | None = None,
        face: FaceEncoder | None = None,
        image: ImageEmbedder | None = None,
        captioner: Captioner | None = None,
        diarizer: VoiceEncoder | None = None,
        segmenter: Any = None,
    ) -> None:
        self.options = options
        self.asr = asr
        self.ocr = ocr if options.ocr else None
        self.voice = voice
        self.face = face
        self.image = image
        self.captioner = captioner
        self.diarizer = diarizer
        self.segmenter = segmenter if diarizer is not None else None  # the diarizer's speech and overlap
        self.diarize_options = (options.diarize or options_for(diarizer)) if diarizer is not None else None
        # with a diarizer, the clip's turns are read from its voice segments: the GE2E windows
        # (``speaker_turns``) run only without one (the reduce stage reads the segments' speakers)
        self.diarized_turns = self.diarize_options is not None
        self.audio_signals = {"speech", "voice_segments"} | (set() if self.diarized_turns else {"turns"})
        self.timings: dict[str, float] = {}  # seconds per stage, summed over the clips computed here
        self.signals = signal_fingerprints(options, asr, self.ocr, voice, face, image, captioner, diarizer, self.segmenter,
                                           self.diarize_options, self.diarized_turns)

    @property
    def fingerprint(self) -> str:
        """One hash of every signal's fingerprint: what the store records per source."""
        return digest(sorted(self.signals.items()))

    def cache_dir(self, root: Path, source_id: str) -> Path:
        """Clips are cut the same way for every setting but ``clip_seconds``: one folder each."""
        return root / source_id / f"clips-{self.options.clip_seconds:g}s"

    # -- the clips of a source ----------------------------------------------------------------

    def spans(self, info: MediaInfo) -> list[Span]:
        return clip_spans(info.duration, self.options.clip_seconds)

    def pending(self, info: MediaInfo, cache_dir: Path) -> list[int]:
        """Clips whose cached result is missing or was made with other settings."""
        return [i for i in range(len(self.spans(info))) if self._load(cache_dir, i, complete=True) is None]

    def observe(
        self, path: Path, info: MediaInfo, source_id: str, cache_dir: Path, on_clip: ProgressFn | None = None
    ) -> Iterator[ClipObservation]:
        """Every clip in order, in this process; cached clips are read, not recomputed."""
        spans = self.spans(info)
        done = 0
        for group in self.groups(range(len(spans))):
            for observation in self.observe_clips(path, info, source_id, [(i, spans[i]) for i in group], cache_dir):
                yield observation
                done += 1
                if on_clip:
                    on_clip(done, len(spans))

    def groups(self, indices: Iterable[int]) -> list[list[int]]:
        """Clips whose speech goes through the ASR together: fixed blocks of ``asr_group``
        consecutive clips (of those in ``indices``), the same however the clips are spread over
        processes or machines, so every way of running gives the same results."""
        size = max(1, self.options.asr_group)
        out: dict[int, list[int]] = {}
        for i in sorted(indices):
            out.setdefault(i // size, []).append(i)
        return list(out.values())

    def load(self, cache_dir: Path, index: int) -> ClipObservation:
        cached = self._load(cache_dir, index, complete=True)
        if cached is None:
            raise FileNotFoundError(f"clip {index} has no complete result under {cache_dir}")
        return cached.observation

    # -- one clip -----------------------------------------------------------------------------

    def needs(self, cache_dir: Path, index: int) -> tuple[bool, bool]:
        """Whether computing this clip needs its audio, its frames."""
        cached = self._load(cache_dir, index, complete=False)
        have = cached.signals if cached else {}
        todo = {name for name, fp in self.signals.items() if have.get(name) != fp}
        return bool(todo & self.audio_signals), bool(todo & _FRAME_SIGNALS)

    def observe_clip(
        self, path: Path, info: MediaInfo, source_id: str, index: int, span: Span, cache_dir: Path,
        media: ClipMedia | None = None,
    ) -> ClipObservation:
        """Compute (or read) one clip; see ``observe_clips``."""
        return self.observe_clips(path, info, source_id, [(index, span)], cache_dir, [media])[0]

    def observe_clips(
        self, path: Path, info: MediaInfo, source_id: str, clips: list[tuple[int, Span]], cache_dir: Path,
        media: list[ClipMedia | None] | None = None,
    ) -> list[ClipObservation]:
        """Compute (or read) clips of one source — a group of ``groups``. Their speech goes through
        the ASR in one call (its batches mix the clips' chunks), then each clip's other signals
        are computed and the clip is written. ``media``: the clips already decoded (by a decoding
        stage upstream), else each is decoded here, only the streams its missing signals need:
        all the audio first (small), the frames one clip at a time."""
        states = [
            self._state(cache_dir, index, span, media[k] if media else None) for k, (index, span) in enumerate(clips)
        ]
        speak = [st for st in states if "speech" in st.todo]
        if speak:
            self._speech(path, info, speak)
        for st in states:
            if st.todo & (self.audio_signals - {"speech"}):
                self._turn_audio(path, st)
        return [self._finish(path, info, source_id, st, cache_dir) for st in states]

    def _turn_audio(self, path: Path, st: _Clip) -> None:
        """The audio the clip's speaker turns are embedded from: the clip's own decode (the one a
        decoding stage upstream gives) when it holds all the clip's words, else the span widened to
        them. Decoded from the same start whichever runner computes the clip, so the turn vectors
        are the same bits in-process, in a pool or on Ray. The frames already decoded are kept."""
        for want in (st.span, _heard_span(st.span, st.segments)):
            if st.media is not None and st.media.audio is not None and _covers(st.media, st.segments):
                return
            with self._timer("decode"):
                heard = decode_clip(path, want, self.options, True, False)
            if st.media is None:
                st.media = heard
            else:
                st.media = replace(st.media, audio=heard.audio, audio_t0=heard.audio_t0, until=max(st.media.until, heard.until))

    def _speech(self, path: Path, info: MediaInfo, speak: list[_Clip]) -> None:
        """The speech of these clips: each ASR group they belong to is heard as one stretch of
        audio between cuts at pauses (``perception.speech``), all stretches in one ASR call;
        each clip keeps the words it owns. A clip of a group whose other clips were cached by an
        earlier, interrupted run gets what an uninterrupted run gives it: the group's stretch
        does not depend on which of its clips are asked for."""
        size = max(1, self.options.asr_group)
        spans = self.spans(info)
        groups = sorted({st.index // size for st in speak})
        heard = []
        for g in groups:
            members = range(g * size, min(len(spans), (g + 1) * size))
            group_span = (spans[members[0]][0], spans[members[-1]][1])
            with self._timer("decode"):
                audio, t0, cuts, until = stretch(path, [spans[i] for i in members], group_span, info.duration, self.options.cuts)
            if members[-1] == len(spans) - 1:
                cuts = (cuts[0], float("inf"))  # the last group owns every word to the end
            heard.append((g, members, audio, t0, cuts))
            for st in speak:
                if st.index in members:  # how far the audio decoded: a truncated file is found out
                    st.until = max(st.until, min(until, st.span[1]))
        audible = [h for h in heard if h[2] is not None and len(h[2])]
        with self._timer("asr"):
            results = self.asr.transcribe_batch([h[2] for h in audible]) if audible else []
        found = {h[0]: (r, h) for h, r in zip(audible, results)}
        for st in speak:
            g = st.index // size
            if g not in found:
                st.segments = ()
                continue
            segments, (_g, members, _audio, t0, cuts) = found[g]
            st.segments = redact_segments(owned(segments, t0, st.span, cuts, st.index == members[0], st.index == members[-1]))

    def _state(self, cache_dir: Path, index: int, span: Span, media: ClipMedia | None) -> _Clip:
        cached = self._load(cache_dir, index, complete=False)
        have = cached.signals if cached else {}
        todo = {name for name, fp in self.signals.items() if have.get(name) != fp}
        old = cached.observation if cached else None
        return _Clip(index, span, cached, todo, old, cached.until if cached else 0.0, media, media is not None)

    def _finish(self, path: Path, info: MediaInfo, source_id: str, st: _Clip, cache_dir: Path) -> ClipObservation:
        if st.cached is not None and not st.todo:
            return self._project(st.cached.observation)
        o, old, todo, index, span = self.options, st.old, st.todo, st.index, st.span
        if todo & _FRAME_SIGNALS and not st.given:
            with self._timer("decode"):
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
            self._check_decoded(path, info, span, until)

        segments = st.segments if "speech" in todo else (old.segments if old else ())
        segs = old.voice_segments if old and "voice_segments" in self.signals else ()
        overlaps = old.overlaps if old and "voice_segments" in self.signals else ()
        if "voice_segments" in todo:
            with self._timer("diarize"):
                assert self.diarizer is not None and self.diarize_options is not None and audio is not None
                rate = self.diarizer.sample_rate
                if self.segmenter is not None and self.diarize_options.local_speakers:
                    segs, overlap = local_speaker_segments(audio, audio_t0, span, self.diarizer, self.segmenter,
                                                           self.diarize_options)
                else:
                    speech, overlap, changes = clip_speech(audio, audio_t0, span, rate, self.diarize_options, self.segmenter)
                    segs = voice_segments(audio, audio_t0, speech, self.diarizer, self.diarize_options, changes)
                overlaps = tuple(overlap)
        turns = old.turns if old and "turns" in self.signals else ()
        if "turns" in todo:
            with self._timer("voices"):
                if self.diarized_turns:
                    assert self.diarize_options is not None
                    turns = diarized_turns(segments, segs, overlaps, span, self.diarize_options)
                else:
                    assert self.voice is not None and audio is not None
                    turns = speaker_turns(segments, audio, audio_t0, self.voice, o.voices)
        if "keyframes" in todo:
            with self._timer("keyframes_ocr"):
                keyframes = self._keyframes(frames, cuts, cache_dir, index)
        else:
            keyframes = old.keyframes if old else ()
        faces = old.faces if old and "faces" in self.signals else ()
        if "faces" in todo:
            with self._timer("faces"):
                assert self.face is not None
                faces = face_tracks(frames, self.face, o.faces, cache_dir, index, cuts)
        visual = old.visual if old and "visual" in self.signals else ()
        if "visual" in todo:
            with self._timer("visual"):
                visual = self._visual(keyframes, cache_dir)
        captions = old.captions if old and "captions" in self.signals else ()
        observation = ClipObservation(
            source_id, index, span[0], span[1], segments, keyframes, self._producer(), turns=turns,
            faces=faces, visual=visual, voice_segments=segs, overlaps=overlaps,
        )
        if "captions" in todo:
            with self._timer("captions"):
                assert self.captioner is not None
                captions = tuple(self.captioner.caption(caption_request(observation, cache_dir, self.captioner, o.caption_frames)))
        observation = ClipObservation(
            source_id, index, span[0], span[1], segments, keyframes, self._producer(), turns=turns,
            faces=faces, visual=visual, captions=captions, voice_segments=segs, overlaps=overlaps,
        )
        write_clip(cache_dir, index, self.signals, until, observation)
        st.media = None  # the frames: a group's clips are not all held at once
        return observation

    def _producer(self) -> dict[str, Any]:
        return {
            "asr": self.asr.model_id,
            "ocr": self.ocr.model_id if self.ocr else None,
            "voice": self.voice.model_id if self.voice and not self.diarized_turns else None,
            "face": self.face.model_id if self.face else None,
            "image": self.image.model_id if self.image else None,
            "captioner": self.captioner.model_id if self.captioner else None,
            "diarizer": self.diarizer.model_id if self.diarizer else None,
            "segmenter": self.segmenter.model_id if self.segmenter is not None else None,
            "perception": self.fingerprint,
        }

    def _check_decoded(self, path: Path, info: MediaInfo, span: Span, until: float) -> None:
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

    def _timer(self, stage: str) -> _Timer:
        return _Timer(self.timings, stage)

    def _load(self, cache_dir: Path, index: int, complete: bool) -> CachedClip | None:
        """The cached clip; with ``complete``, only when every signal matches these settings."""
        cached = read_clip(cache_dir, index)
        if cached is None:
            return None
        if complete:
            if any(cached.signals.get(k) != v for k, v in self.signals.items()):
                return None
            cached.observation = self._project(cached.observation)
        return cached

    def _project(self, observation: ClipObservation) -> ClipObservation:
        """Signals cached by another configuration but not wanted by this one are left out."""
        unwanted = {name: () for name in _OPTIONAL_FIELDS if name not in self.signals}
        if "voice_segments" in unwanted:
            unwanted["overlaps"] = ()
        return replace(observation, **unwanted) if unwanted else observation

    # -- signals -----------------------------------------------------------------------------

    def _keyframes(
        self, frames: list[tuple[float, ImageArray]], cuts: frozenset[float], cache_dir: Path, clip_index: int
    ) -> tuple[Keyframe, ...]:
        o = self.options
        return keyframes_of(frames, cuts, cache_dir, clip_index, self.ocr, o.change, o.distinct_tiles,
                            o.keyframe_jpeg_side if o.save_keyframes else None)

    def _visual(self, keyframes: tuple[Keyframe, ...], cache_dir: Path) -> tuple[VisualVector, ...]:
        assert self.image is not None
        return visual_of(keyframes, cache_dir, self.image)


def _heard_span(span: Span, segments: tuple[Segment, ...]) -> Span:
    """A clip's span widened to its words (a group's cut may give it words just past its edge)."""
    if not segments:
        return span
    return (min(span[0], segments[0].start), max(span[1], segments[-1].end))


def _covers(media: ClipMedia, segments: tuple[Segment, ...]) -> bool:
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


class _Timer:
    def __init__(self, into: dict[str, float], stage: str) -> None:
        self.into, self.stage = into, stage

    def __enter__(self) -> None:
        self.began = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.into[self.stage] = self.into.get(self.stage, 0.0) + time.perf_counter() - self.began

