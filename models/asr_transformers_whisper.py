"""ASR backend: Whisper through transformers (``WhisperForConditionalGeneration``), for batched
GPU decoding. No bundled weights: ``model`` is a local model folder (``config.json``,
``generation_config.json``, weights, tokenizer and ``preprocessor_config.json``) or a hub id
(which needs hub access).

How audio is decoded:

* Every input is cut into windows of at most 30 s (the pipeline's clips of up to 32 s give two).
  A cut falls at the quietest 20 ms within the last 10 s before the 30 s mark, so it rarely splits
  a word. Windows of all inputs are decoded together, ``batch_size`` at a time, each batch
  through one ``generate`` call (the feature extractor pads every window to 30 s of features);
  times are then shifted by each window's offset. Decoding is greedy (``beam_size=1``) or beam
  search at temperature 0, with no sampling fallback and no skipping on thresholds: the same
  audio gives the same result alone or in a batch (up to floating-point noise, which can differ
  between batch sizes on a GPU).
* Segments come from Whisper's timestamp tokens (``<|t0|> text <|t1|>``) when the generation
  config has ``no_timestamps_token_id``; otherwise each window is one segment.
* Word times come from cross-attention DTW (``return_token_timestamps=True``) when the
  generation config lists ``alignment_heads`` (the openai/whisper-* checkpoints do): a word spans
  from its first token's time to the time of the token after its last, as transformers' ASR
  pipeline does; the segment then spans its words. Without alignment heads the words
  are spread over their segment in proportion to their length in characters, an estimate only.
* Words are the decoded pieces split at leading spaces (punctuation stays on its word); for
  languages written without spaces (zh, ja, th, lo, my, yue) each character piece is a word.
  A word's ``probability`` is the mean probability of its tokens under the decoder's (processed)
  scores. Special tokens (start, language, task, timestamps, end) never reach the text. The
  generated tokens are read into segments and words by ``models.whisper_tokens``.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.base import ASR, FloatArray, Segment, Word
from models.errors import ModelLoadError, ModelNotInstalled
from models.whisper_tokens import WhisperReader, text_limit

WINDOW_S = 30.0  # Whisper's receptive field
MIN_WINDOW_S = 20.0  # a long input's cut is sought between this and WINDOW_S
_NO_SPACE_LANGUAGES = {"zh", "ja", "th", "lo", "my", "yue"}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _looks_like_path(source: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything else that does not exist is a missing folder."""
    return (
        source.startswith((".", "~", "/"))
        or "\\" in source
        or source.count("/") > 1
        or os.path.isabs(source)
    )


def split_windows(audio: FloatArray, sample_rate: int = 16000) -> list[tuple[int, int]]:
    """(start, end) sample spans of at most WINDOW_S covering ``audio``; each cut at the quietest
    20 ms frame between MIN_WINDOW_S and WINDOW_S after the previous one."""
    n = len(audio)
    longest, shortest, frame = int(WINDOW_S * sample_rate), int(MIN_WINDOW_S * sample_rate), sample_rate // 50
    spans, start = [], 0
    while n - start > longest:
        lo = start + shortest
        count = (longest - shortest) // frame
        energy = np.square(audio[lo : lo + count * frame].reshape(count, frame)).sum(axis=1)
        cut = lo + int(np.argmin(energy)) * frame + frame // 2
        spans.append((start, cut))
        start = cut
    spans.append((start, n))
    return spans


class TransformersWhisperASR(ASR):
    def __init__(
        self,
        model: str,
        device: str = "cpu",
        dtype: str | None = None,
        batch_size: int = 8,
        language: str | None = "en",
        beam_size: int = 1,
        threads: int = 0,
    ) -> None:
        """``dtype``: float16 (default on cuda), bfloat16 or float32 (default on CPU).
        ``language=None`` lets a multilingual model detect it per window; English-only models
        ignore it."""
        self.source = str(model)
        self.device = device
        self.dtype = dtype or ("float16" if device.startswith("cuda") else "float32")
        self.batch_size = max(1, int(batch_size))
        self.language = language
        self.beam_size = max(1, int(beam_size))
        self.threads = threads
        self.model_id = "transformers-whisper:" + Path(self.source.rstrip("/\\")).name
        self._model: Any = None
        self._processor: Any = None
        self._generation: Any = None
        self._reader: Any = None
        self._timestamps = self._aligned = self._multilingual = False
        self._prompt_groups: list[set[Any]] = []

    # -- loading -----------------------------------------------------------------------------

    def _load(self) -> tuple[Any, Any]:
        if self._model is not None:
            return self._model, self._processor
        try:
            import torch
            from transformers import WhisperForConditionalGeneration, WhisperProcessor
        except ImportError:
            raise ModelNotInstalled("transformers", "asr") from None
        if self.threads:
            torch.set_num_threads(self.threads)
        path = Path(self.source).expanduser()
        if path.exists():
            if not (path / "config.json").is_file():
                raise ModelLoadError(f"no Whisper model at {path} (config.json missing)")
            location, kwargs = str(path), {"local_files_only": True}
        elif _looks_like_path(self.source):
            raise ModelLoadError(f"no Whisper model folder at {path}")
        else:  # a hub id: only works where the user allowed hub access
            location, kwargs = self.source, {}
        try:
            processor = WhisperProcessor.from_pretrained(location, **kwargs)
            model = WhisperForConditionalGeneration.from_pretrained(
                location, dtype=getattr(torch, self.dtype), **kwargs
            )
        except Exception as exc:  # noqa: BLE001 - missing files, bad configs, unreadable weights
            raise ModelLoadError(f"cannot load Whisper model {location}: {_one_line(exc)}") from exc
        gen = self._generation = self._generation_config(model.generation_config)
        self._timestamps = getattr(gen, "no_timestamps_token_id", None) is not None
        self._aligned = bool(getattr(gen, "alignment_heads", None))
        self._multilingual = getattr(gen, "is_multilingual", None) is not False and bool(
            getattr(gen, "lang_to_id", None)
        )
        # the decoder prompt transformers builds: <|startoftranscript|> [language] [task] [<|notimestamps|>]
        self._prompt_groups = [
            set((getattr(gen, "lang_to_id", None) or {}).values()),
            set((getattr(gen, "task_to_id", None) or {}).values()),
            set() if self._timestamps else {getattr(gen, "no_timestamps_token_id", None)},
        ]
        tokenizer = processor.tokenizer
        self._reader = WhisperReader(
            tokenizer=tokenizer,
            special=set(tokenizer.all_special_ids) | {gen.eos_token_id, gen.pad_token_id},
            timestamp_begin=gen.no_timestamps_token_id + 1 if self._timestamps else None,
            text_limit=text_limit(tokenizer, model.config.vocab_size),
            precision=processor.feature_extractor.chunk_length / model.config.max_source_positions,
            words_split_on_spaces=self.language not in _NO_SPACE_LANGUAGES,
        )
        self._model = model.to(self.device).eval()
        self._processor = processor
        return self._model, self._processor

    def ensure_loaded(self) -> None:
        self._load()

    @staticmethod
    def _generation_config(base: Any) -> Any:
        """The model's generation config for single-pass windows: no sampling fallback and no
        skipping on thresholds (each window is decoded once, deterministically)."""
        config = copy.deepcopy(base)
        for name in ("no_speech_threshold", "logprob_threshold", "compression_ratio_threshold"):
            setattr(config, name, None)
        config.condition_on_prev_tokens = False
        config.do_sample = False
        return config

    # -- transcription -----------------------------------------------------------------------

    def transcribe_batch(self, audios: Sequence[FloatArray]) -> list[list[Segment]]:
        results: list[list[Segment]] = [[] for _ in audios]
        windows: list[tuple[int, float, FloatArray]] = []  # (input index, offset s, samples)
        min_len = self.sample_rate // 10
        for i, audio in enumerate(audios):
            samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
            if len(samples) < min_len:
                continue
            for a, b in split_windows(samples, self.sample_rate):
                if b - a >= min_len:
                    windows.append((i, a / self.sample_rate, samples[a:b]))
        if not windows:
            return results
        self._load()
        for k in range(0, len(windows), self.batch_size):
            chunk = windows[k : k + self.batch_size]
            decoded = self._decode([w for _i, _off, w in chunk])
            for (i, offset, _w), segments in zip(chunk, decoded, strict=True):
                results[i].extend(_shift(s, offset) for s in segments)
        return results

    def _decode(self, windows: list[FloatArray]) -> list[list[Segment]]:
        """One ``generate`` call for up to ``batch_size`` windows of at most 30 s each."""
        import torch

        model, processor = self._model, self._processor
        features = processor.feature_extractor(  # log-mel on the model's device (torch STFT)
            windows,
            sampling_rate=self.sample_rate,
            return_tensors="pt",
            return_attention_mask=True,
            device=self.device,
        )
        kwargs: dict[str, Any] = {
            "generation_config": self._generation,
            "return_dict_in_generate": True,
            "output_scores": True,
            "force_unique_generate_call": True,
            "return_timestamps": self._timestamps,
            "num_beams": self.beam_size,
        }
        if self._aligned:
            kwargs["return_token_timestamps"] = True
            kwargs["attention_mask"] = features["attention_mask"].to(self.device)
        if self._multilingual:
            kwargs["language"] = self.language
            kwargs["task"] = "transcribe"
        inputs = features["input_features"].to(self.device, dtype=getattr(torch, self.dtype))
        with torch.inference_mode(), warnings.catch_warnings():
            # transformers 4.57 passes a tensor of per-window frame counts to np.repeat when the
            # windows differ in length; numpy 2 handles it through a deprecated fallback that warns
            warnings.filterwarnings(
                "ignore", message=r"__array_wrap__ must accept context", category=DeprecationWarning
            )
            out = model.generate(inputs, **kwargs)
            sequences = out["sequences"]
            length = sequences.shape[1]
            prompts = [self._prompt_length(row) for row in sequences.tolist()]
            steps = len(out["scores"])
            positions = torch.tensor(
                [[min(n + k, length - 1) for k in range(steps)] for n in prompts], device=sequences.device
            )
            chosen = sequences.gather(1, positions)
            # the probability of each generated token under the decoder's (processed) scores
            probs = [
                (s.float().gather(1, chosen[:, k : k + 1]).squeeze(1) - s.float().logsumexp(-1)).exp()
                for k, s in enumerate(out["scores"])
            ]
            probs = torch.stack(probs, dim=1).cpu() if probs else torch.ones(len(windows), 0)
            token_times = out["token_timestamps"].float().cpu() if self._aligned else None

        results = []
        for b, window in enumerate(windows):
            ids = sequences[b].tolist()
            n = prompts[b]
            token_probs = [1.0] * len(ids)
            token_probs[n : n + steps] = probs[b, : max(0, len(ids) - n)].tolist()
            times = token_times[b].tolist() if token_times is not None else None
            if times is not None and len(times) < len(ids):  # never shorter in practice; be safe
                times += [times[-1] if times else 0.0] * (len(ids) - len(times))
            results.append(self._reader.segments(ids, n, token_probs, times, len(window) / self.sample_rate))
        return results

    def _prompt_length(self, ids: list[int]) -> int:
        n = 1  # <|startoftranscript|>
        for group in self._prompt_groups:
            if n < len(ids) and ids[n] in group:
                n += 1
        return n


def _shift(seg: Segment, dt: float) -> Segment:
    words = tuple(
        Word(round(w.start + dt, 3), round(w.end + dt, 3), w.text, w.probability) for w in seg.words
    )
    return Segment(round(seg.start + dt, 3), round(seg.end + dt, 3), seg.text, words)
