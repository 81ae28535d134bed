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
only the signals it affects, and decodes only the streams those need. One clip's decode and
signals: ``perception.map_clip``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from models.base import (
    ASR,
    OCR,
    Captioner,
    FaceEncoder,
    ImageEmbedder,
    VoiceEncoder,
)
from perception.clip_cache import CachedClip, read_clip
from perception.decode import ClipMedia, MediaInfo, Span, clip_spans
from perception.diarize_options import options_for
from perception.map_clip import FRAME_SIGNALS, ClipState, Timer, compute_clip, covers, decode_clip, heard_span
from perception.map_settings import PerceptionOptions, digest, signal_fingerprints
from perception.records import ClipObservation
from perception.secrets import redact_segments
from perception.speech import owned, stretch

_OPTIONAL_FIELDS = ("turns", "voice_segments", "faces", "visual", "captions")  # signals that are also observation fields


ProgressFn = Callable[[int, int], None]


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
        return bool(todo & self.audio_signals), bool(todo & FRAME_SIGNALS)

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

    def _turn_audio(self, path: Path, st: ClipState) -> None:
        """The audio the clip's speaker turns are embedded from: the clip's own decode (the one a
        decoding stage upstream gives) when it holds all the clip's words, else the span widened to
        them. Decoded from the same start whichever runner computes the clip, so the turn vectors
        are the same bits in-process, in a pool or on Ray. The frames already decoded are kept."""
        for want in (st.span, heard_span(st.span, st.segments)):
            if st.media is not None and st.media.audio is not None and covers(st.media, st.segments):
                return
            with self.timer("decode"):
                heard = decode_clip(path, want, self.options, True, False)
            if st.media is None:
                st.media = heard
            else:
                st.media = replace(st.media, audio=heard.audio, audio_t0=heard.audio_t0, until=max(st.media.until, heard.until))

    def _speech(self, path: Path, info: MediaInfo, speak: list[ClipState]) -> None:
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
            with self.timer("decode"):
                audio, t0, cuts, until = stretch(path, [spans[i] for i in members], group_span, info.duration, self.options.cuts)
            if members[-1] == len(spans) - 1:
                cuts = (cuts[0], float("inf"))  # the last group owns every word to the end
            heard.append((g, members, audio, t0, cuts))
            for st in speak:
                if st.index in members:  # how far the audio decoded: a truncated file is found out
                    st.until = max(st.until, min(until, st.span[1]))
        audible = [h for h in heard if h[2] is not None and len(h[2])]
        with self.timer("asr"):
            results = self.asr.transcribe_batch([h[2] for h in audible]) if audible else []
        found = {h[0]: (r, h) for h, r in zip(audible, results)}
        for st in speak:
            g = st.index // size
            if g not in found:
                st.segments = ()
                continue
            segments, (_g, members, _audio, t0, cuts) = found[g]
            st.segments = redact_segments(owned(segments, t0, st.span, cuts, st.index == members[0], st.index == members[-1]))

    def _state(self, cache_dir: Path, index: int, span: Span, media: ClipMedia | None) -> ClipState:
        cached = self._load(cache_dir, index, complete=False)
        have = cached.signals if cached else {}
        todo = {name for name, fp in self.signals.items() if have.get(name) != fp}
        old = cached.observation if cached else None
        return ClipState(index, span, cached, todo, old, cached.until if cached else 0.0, media, media is not None)

    def _finish(self, path: Path, info: MediaInfo, source_id: str, st: ClipState, cache_dir: Path) -> ClipObservation:
        if st.cached is not None and not st.todo:
            return self._project(st.cached.observation)
        return compute_clip(self, path, info, source_id, st, cache_dir)

    def producer(self) -> dict[str, Any]:
        """The models of the clip observations this perceiver makes, and its fingerprint."""
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

    def timer(self, stage: str) -> Timer:
        """Times a stage into ``timings``."""
        return Timer(self.timings, stage)

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
