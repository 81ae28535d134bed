"""The map stage for a video / audio file: clips → ClipObservation, cached per clip.

Per clip: speech (ASR over the clip plus ``asr_pad`` seconds either side; each word belongs to
the clip holding its midpoint, so no word is cut or counted twice), keyframes every
``keyframe_interval`` seconds, OCR on those whose content changed. Results are saved as JSON
under ``cache_dir`` keyed by the source hash and this configuration's hash; a re-run, or a run
resumed after a crash, reuses every clip already done. Each clip is computed independently of
the others, so a resumed run gives exactly what an uninterrupted one gives.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2

from models.base import ASR, OCR, FaceEncoder, ImageArray, Segment, VoiceEncoder
from perception.decode import (
    FRAME_BACKENDS,
    MediaInfo,
    _Progress,
    clip_spans,
    iter_clip_audio,
)
from perception.errors import CorruptMedia
from perception.faces import FaceOptions, face_tracks
from perception.keyframes import ChangeDetector, ChangeOptions, signature, text_mask
from perception.records import SCHEMA_VERSION, ClipObservation, Keyframe, OcrLine
from perception.voices import VoiceOptions, speaker_turns

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PerceptionOptions:
    clip_seconds: float = 30.0
    keyframe_interval: float = 2.0
    asr_pad: float = 1.0
    ocr: bool = True
    frame_max_side: int = 1280
    save_keyframes: bool = True
    keyframe_jpeg_side: int = 640
    decoder: str = "pyav"
    change: ChangeOptions = field(default_factory=ChangeOptions)
    voices: VoiceOptions = field(default_factory=VoiceOptions)
    faces: FaceOptions = field(default_factory=FaceOptions)

    def fingerprint(self, *model_ids: str) -> str:
        """Hash of everything that changes the output (the decoder does not)."""
        data = asdict(self)
        data.pop("decoder")
        data["models"] = list(model_ids)
        data["schema_version"] = SCHEMA_VERSION
        blob = json.dumps(data, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


ProgressFn = Callable[[int, int], None]


class Perceiver:
    def __init__(
        self, options: PerceptionOptions, asr: ASR, ocr: OCR | None, voice: VoiceEncoder | None = None,
        face: FaceEncoder | None = None,
    ) -> None:
        self.options = options
        self.asr = asr
        self.ocr = ocr if options.ocr else None
        self.voice = voice
        self.face = face

    @property
    def fingerprint(self) -> str:
        ids = [self.asr.model_id, self.ocr.model_id if self.ocr else "no-ocr"]
        for optional in (self.voice, self.face):  # only when on: stores made without them stay valid
            if optional is not None:
                ids.append(optional.model_id)
        return self.options.fingerprint(*ids)

    def observe(
        self,
        path: Path,
        info: MediaInfo,
        source_id: str,
        cache_dir: Path,
        on_clip: ProgressFn | None = None,
    ) -> Iterator[ClipObservation]:
        opts = self.options
        spans = clip_spans(info.duration, opts.clip_seconds)
        cache_dir.mkdir(parents=True, exist_ok=True)
        cached = [_load_cached(cache_dir / f"clip_{i:05d}.json") for i in range(len(spans))]
        # the fast path needs the marker: a run that failed its truncation check left clips too
        if (cache_dir / "complete.json").is_file() and all(c is not None for c in cached):
            for i, clip in enumerate(cached):
                assert clip is not None
                if on_clip:
                    on_clip(i + 1, len(spans))
                yield clip
            return

        progress = _Progress()
        audio = iter_clip_audio(path, spans, opts.asr_pad, progress)
        frames_backend = FRAME_BACKENDS[opts.decoder]
        frames = frames_backend(path, spans, opts.keyframe_interval, opts.frame_max_side, progress)
        producer = {
            "asr": self.asr.model_id,
            "ocr": self.ocr.model_id if self.ocr else None,
            "perception": self.fingerprint,
            "voice": self.voice.model_id if self.voice else None,
            "face": self.face.model_id if self.face else None,
        }
        for i, (span, (clip_audio, audio_t0), clip_frames) in enumerate(zip(spans, audio, frames)):
            clip = cached[i]
            if clip is None:
                segments = self._speech(clip_audio, audio_t0, span)
                keyframes = self._keyframes(clip_frames, cache_dir, i)
                turns = speaker_turns(segments, clip_audio, audio_t0, self.voice, opts.voices) if self.voice else ()
                faces = face_tracks(clip_frames, self.face, opts.faces, cache_dir, i) if self.face else ()
                clip = ClipObservation(
                    source_id, i, span[0], span[1], segments, keyframes, producer, turns=turns, faces=faces
                )
                _save_atomic(cache_dir / f"clip_{i:05d}.json", clip.to_json())
            if on_clip:
                on_clip(i + 1, len(spans))
            yield clip
        slack = max(2.0, 0.05 * info.duration)
        if progress.until < info.duration - slack:
            raise CorruptMedia(
                path,
                f"truncated or damaged: decodes to {progress.until:.1f} s of the "
                f"{info.duration:.1f} s its header declares",
            )
        _save_atomic(cache_dir / "complete.json", {"decoded_until": round(progress.until, 3)})

    # -- signals -----------------------------------------------------------------------------

    def _speech(self, audio, audio_t0: float, span: tuple[float, float]) -> tuple[Segment, ...]:  # type: ignore[no-untyped-def]
        if len(audio) == 0:
            return ()
        start, end = span
        kept = []
        for seg in self.asr.transcribe(audio):
            words = tuple(
                type(w)(round(w.start + audio_t0, 3), round(w.end + audio_t0, 3), w.text, w.probability)
                for w in seg.words
                if start <= audio_t0 + (w.start + w.end) / 2 < end
            )
            if seg.words:
                if words:
                    text = " ".join(w.text for w in words)
                    kept.append(Segment(words[0].start, words[-1].end, text, words))
            elif start <= audio_t0 + (seg.start + seg.end) / 2 < end:
                kept.append(
                    Segment(round(seg.start + audio_t0, 3), round(seg.end + audio_t0, 3), seg.text)
                )
        return tuple(kept)

    def _keyframes(
        self, frames: list[tuple[float, ImageArray]], cache_dir: Path, clip_index: int
    ) -> tuple[Keyframe, ...]:
        if not frames:
            return ()
        detector = ChangeDetector(self.options.change)  # fresh per clip: clips stay independent
        out = []
        for t, image in frames:
            sig = signature(image)
            if self.ocr is None or not detector.should_read(t, sig):
                out.append(Keyframe(t, False))
                continue
            boxes = self.ocr.read(image)
            h, w = image.shape[:2]
            detector.mark_read(t, sig, text_mask([b.box for b in boxes], w, h))
            lines = tuple(OcrLine(t, b.text, round(b.score, 4), b.box) for b in boxes)
            saved = self._save_jpeg(image, cache_dir, clip_index, t) if self.options.save_keyframes else None
            out.append(Keyframe(t, True, lines, saved))
        return tuple(out)

    def _save_jpeg(self, image: ImageArray, cache_dir: Path, clip_index: int, t: float) -> str:
        rel = f"frames/{clip_index:05d}_{t:09.3f}.jpg"
        target = cache_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        h, w = image.shape[:2]
        side = self.options.keyframe_jpeg_side
        if max(h, w) > side:
            scale = side / max(h, w)
            image = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(target), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
        return rel


def _load_cached(path: Path) -> ClipObservation | None:
    if not path.is_file():
        return None
    try:
        return ClipObservation.from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as exc:  # a partial or older file: recompute it
        log.warning("ignoring unreadable cached clip %s (%s)", path, exc)
        return None


def _save_atomic(path: Path, data: dict) -> None:  # type: ignore[type-arg]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
