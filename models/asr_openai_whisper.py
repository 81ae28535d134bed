"""ASR backend: the reference openai-whisper package (PyTorch). No bundled weights.

``model`` is a checkpoint file (``.pt`` with ``dims`` and ``model_state_dict``, the format
whisper downloads) or a whisper model name (``tiny.en``, ``small``, ``large-v3``...). A name only
works where its file already lies in the whisper download root (``~/.cache/whisper`` or
``download_root``): this backend never downloads. When the file's name is an official one
(``tiny.en.pt``), whisper's tuned cross-attention alignment heads are set for better word times;
otherwise whisper's default heads (the decoder's upper half) are used.

One audio at a time (openai-whisper does not batch); each array is decoded in 30 s windows with
``condition_on_previous_text=False``, word times from cross-attention DTW.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.base import ASR, FloatArray, Segment, Word
from models.errors import ModelLoadError, ModelNotInstalled

WHISPER_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class OpenAIWhisperASR(ASR):
    def __init__(
        self,
        model: str,
        device: str = "cpu",
        language: str | None = "en",
        word_timestamps: bool = True,
        beam_size: int | None = None,
        temperature: float | Sequence[float] = WHISPER_TEMPERATURES,
        download_root: str | None = None,
        threads: int = 0,
    ) -> None:
        """``language=None`` detects it (multilingual models); ``temperature`` is whisper's
        fallback schedule (a single 0.0 gives plain greedy / beam decoding, deterministic)."""
        self.model = str(model)
        self.device = device
        self.fp16 = device.startswith("cuda")
        self.language = language
        self.word_timestamps = word_timestamps
        self.beam_size = beam_size
        self.temperature = temperature if isinstance(temperature, float | int) else tuple(temperature)
        self.download_root = download_root
        self.threads = threads
        self.model_id = "openai-whisper:" + Path(self.model).name.removesuffix(".pt")
        self._model: Any = None

    # -- loading -----------------------------------------------------------------------------

    def _checkpoint(self, whisper: Any) -> tuple[Path, str | None]:
        """The checkpoint file to read and the official model name it belongs to (if any)."""
        if self.model in whisper._MODELS:  # a name: only a file already downloaded
            root = self.download_root or os.path.join(
                os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "whisper"
            )
            path = Path(root) / os.path.basename(whisper._MODELS[self.model])
            if not path.is_file():
                raise ModelLoadError(
                    f"openai-whisper model '{self.model}' is not downloaded: no {path} "
                    "(this backend never downloads; put the file there or give a .pt path)"
                )
        else:
            path = Path(self.model).expanduser()
            if not path.is_file():
                raise ModelLoadError(f"no openai-whisper checkpoint at {path}")
        stem = path.name.removesuffix(".pt")
        return path, stem if stem in whisper._ALIGNMENT_HEADS else None

    def _load(self) -> Any:
        if self._model is None:
            try:
                import torch
                import whisper
            except ImportError:
                raise ModelNotInstalled("openai-whisper", "asr") from None
            if self.threads:
                torch.set_num_threads(self.threads)
            path, official = self._checkpoint(whisper)
            try:  # a file path never goes near whisper's downloader
                model = whisper.load_model(str(path), device=self.device)
            except Exception as exc:  # noqa: BLE001 - torch.load / state-dict errors vary
                raise ModelLoadError(f"cannot load openai-whisper checkpoint {path}: {_one_line(exc)}") from exc
            if official is not None:
                try:
                    model.set_alignment_heads(whisper._ALIGNMENT_HEADS[official])
                except (RuntimeError, ValueError):  # same name, other dimensions: keep the default heads
                    pass
            with warnings.catch_warnings():  # whisper's get_encoding leaves its vocab file open
                warnings.simplefilter("ignore", ResourceWarning)
                whisper.tokenizer.get_tokenizer(model.is_multilingual, num_languages=model.num_languages)
            self._model = model.eval()
        return self._model

    def ensure_loaded(self) -> None:
        self._load()

    # -- transcription -----------------------------------------------------------------------

    def transcribe_batch(self, audios: Sequence[FloatArray]) -> list[list[Segment]]:
        return [self._transcribe(np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)) for audio in audios]

    def _transcribe(self, audio: FloatArray) -> list[Segment]:
        if len(audio) < self.sample_rate // 10:
            return []
        model = self._load()
        options: dict[str, Any] = {}
        if self.beam_size is not None:
            options["beam_size"] = self.beam_size
        with warnings.catch_warnings():
            # whisper's beam search calls np.argsort on a torch tensor, which numpy 2 only handles
            # through a deprecated fallback that warns
            warnings.filterwarnings(
                "ignore", message=r"__array_wrap__ must accept context", category=DeprecationWarning
            )
            result = model.transcribe(
                audio,
                language=self.language,
                temperature=self.temperature,
                word_timestamps=self.word_timestamps,
                condition_on_previous_text=False,
                fp16=self.fp16,
                verbose=None,
                **options,
            )
        duration = len(audio) / self.sample_rate
        return _segments(result.get("segments", ()), duration)


def _clamp(t: Any, duration: float) -> float:
    return round(min(max(float(t), 0.0), duration), 3)


def _segments(raw: Sequence[dict[str, Any]], duration: float) -> list[Segment]:
    """whisper's result dicts → our records: times clamped into the audio, text stripped, empty
    words and segments dropped, starts never before the previous segment's."""
    out: list[Segment] = []
    floor = 0.0
    for seg in raw:
        text = str(seg.get("text", "")).strip()
        if not text:
            continue
        words = []
        for w in seg.get("words") or ():
            word = str(w["word"]).strip()
            if not word:
                continue
            start = max(_clamp(w["start"], duration), floor)
            end = max(_clamp(w["end"], duration), start)
            words.append(Word(start, end, word, float(w.get("probability", 1.0))))
            floor = start
        start = max(_clamp(seg["start"], duration), out[-1].start if out else 0.0)
        end = max(_clamp(seg["end"], duration), start)
        if words:
            start, end = min(start, words[0].start), max(end, words[-1].end)
        out.append(Segment(start, end, text, tuple(words)))
        floor = max(floor, start)
    return out
