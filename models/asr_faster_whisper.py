"""ASR backend: faster-whisper (CTranslate2). Default weights: the bundled tiny.en model."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.asr_batched import DOUBT_LOGPROB, RETRY_BEAM, BatchedDecoding
from models.asr_chunks import (
    BUCKET, MIN_WINDOW, _even_chunks, _joined, _norm, _restored, _segments, _shift, _TimeMap, _token_budget, drop_loops,
)
from models.asr_models import model_name, resolve
from models.base import ASR, FloatArray, Segment, Word
from models.errors import ModelLoadError, ModelNotInstalled
from models.intervals import minus

log = logging.getLogger(__name__)


# speech found by VAD with no word within GAP_MARGIN seconds for MIN_GAP seconds was dropped
GAP_MARGIN = 0.4
MIN_GAP = 1.5
# seconds: between two speech regions joined in a chunk, a pause VAD cut out of at least
# PAUSE_FROM (a sentence break: VAD's regions already hold 0.4 s of padding each side) is kept,
# up to PAUSE of it; shorter ones are glued as VAD left them. Glued with no pause, tiny.en drops
# words at the joint ("Americans, [ask] not"); kept everywhere or longer, it drops others
# (measured over 0.1-1.0 s and 0-1.2 s in bench.asr_wer, the AMI and synthetic meetings' tests)
PAUSE = 0.2
PAUSE_FROM = 0.8


class FasterWhisperASR(BatchedDecoding, ASR):
    def __init__(
        self,
        model_path: str | None = None,
        device: str = "cpu",
        compute_type: str | None = None,
        threads: int = 0,
        beam_size: int = 1,
        language: str | None = "auto",
        vad: bool = True,
        batch_size: int = 16,
        chunk_seconds: float = 24.0,
        pause: float = PAUSE,
        pause_from: float = PAUSE_FROM,
        doubt_logprob: float | None = DOUBT_LOGPROB,
        retry_beam: int = RETRY_BEAM,
    ) -> None:
        """``model_path``: a model name (``tiny.en``, the default; ``base``, multilingual) or a
        folder. ``language``: "auto" (each chunk of speech in the language the model detects in
        it; English on an English-only model), or a code ("en", "de") to force one.
        ``batch_size`` > 1: the speech VAD finds goes through the model in batches of chunks.
        ``doubt_logprob``: a chunk decoded with a smaller beam than ``retry_beam`` whose mean
        token log-probability is under it (or whose text compresses like a loop) is decoded again
        with ``retry_beam``; None: never."""
        self.name = model_name(model_path)
        self._model_arg = model_path
        self._path: Path | None = None
        self.device = device
        self.compute_type = compute_type or ("int8" if device == "cpu" else "float16")
        self.threads = threads
        self.beam_size = beam_size
        self.language = language
        self.vad = vad
        self.batch_size = batch_size
        self.chunk_seconds = float(chunk_seconds)
        self.pause = float(pause)
        self.pause_from = float(pause_from)
        self.doubt_logprob = doubt_logprob
        self.retry_beam = int(retry_beam)
        self._options: Any = None
        self.model_id = "faster-whisper:" + self.name + ("" if language in (None, "auto") else f":{language}")
        self._tokenizers: dict[str, Any] = {}
        self._model: Any = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = resolve(self._model_arg)
        return self._path

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
        """All audios' speech goes through the model together (chunks of several clips share a
        batch), then each audio's dropped speech and repeated sentences are redone on their own."""
        model = self._load()
        if not self._packs(model):
            return [self._transcribe(audio, repair=True) for audio in audios]
        regions = [self._speech_regions(a) for a in audios]
        first = self._packed_pass(model, audios, regions)
        return [drop_loops(self._unmissed(model, a, self._fill_gaps(a, self._repair_loops(a, segs), r), r))
                for a, segs, r in zip(audios, first, regions)]

    def _packs(self, model: Any) -> bool:
        """Whether speech goes through ``_packed_pass``: batched, with VAD."""
        return self.batch_size > 1 and self.vad

    def _fixed_language(self, model: Any) -> str | None:
        """The language every chunk is decoded in, or None: detected chunk by chunk."""
        if self.language not in (None, "auto"):
            return self.language
        return None if model.model.is_multilingual else "en"

    def _tokenizer(self, model: Any, language: str) -> Any:
        if language not in self._tokenizers:
            from faster_whisper.tokenizer import Tokenizer

            self._tokenizers[language] = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language)
        return self._tokenizers[language]

    def _transcribe(self, audio: FloatArray, repair: bool) -> list[Segment]:
        if len(audio) < self.sample_rate // 10:
            return []
        model = self._load()
        regions = None
        if self._packs(model):
            regions = self._speech_regions(audio)
            out = self._packed_pass(model, [audio], [regions])[0]
        else:
            out = self._sequential_pass(model, audio)
        if repair:
            out = self._unmissed(model, audio, self._fill_gaps(audio, self._repair_loops(audio, out), regions), regions)
        return out

    def _unmissed(self, model: Any, audio: FloatArray, segments: list[Segment],
                  regions: list[dict[str, int]] | None) -> list[Segment]:
        """``segments`` with the singing and speech over music VAD did not hear (models/asr_music.py)."""
        if not self.vad:
            return segments
        from models.asr_music import missed_speech

        heard = regions if regions is not None else self._speech_regions(audio)
        found = missed_speech(model, audio, heard, self.sample_rate, self._fixed_language(model), _segments, _shift)
        return sorted(segments + found, key=lambda s: s.start) if found else segments

    def _speech_regions(self, audio: FloatArray) -> list[dict[str, int]]:
        """Silero VAD, once per audio: the speech the model hears, in chunks of at most
        ``chunk_seconds``; also what ``_fill_gaps`` checks the words against."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        if len(audio) < self.sample_rate // 10:
            return []
        options = VadOptions(max_speech_duration_s=self.chunk_seconds, min_silence_duration_ms=160)
        return list(get_speech_timestamps(audio, options))

    def _sequential_pass(self, model: Any, audio: FloatArray) -> list[Segment]:
        """One window at a time, with whisper's temperature fallback on doubtful windows."""
        segments, info = model.transcribe(
            audio,
            language=self._fixed_language(model),
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=self.vad,
            condition_on_previous_text=False,
        )
        return _segments(segments, info.language)

    def _packed_pass(
        self, model: Any, audios: Sequence[FloatArray], regions: Sequence[list[dict[str, int]]]
    ) -> list[list[Segment]]:
        """The speech VAD found in every audio, cut into chunks of at most ``chunk_seconds`` of
        about equal length, goes through the model ``batch_size`` chunks at a time — chunks of
        different audios share a batch. Each chunk is encoded padded to the longest chunk of its
        batch (chunks of similar length are batched together), not to whisper's 30 s window (the
        encoder's cost follows its input length), and decoded with timestamp tokens, which keeps
        tiny.en from stopping after the first sentence of a chunk.

        The chunks are laid end to end on one timeline (each audio starts on a whole second after
        the previous one's speech), as faster-whisper's pipeline lays out one long audio, so its
        word-timing heuristics see what they expect; times are mapped back to each audio."""
        import numpy as np
        from faster_whisper.audio import pad_or_trim

        options = self._decoding(model)
        fps = model.frames_per_second
        jobs: list[tuple[Any, dict[str, Any], int, float]] = []  # features, metadata, audio, shift
        maps: list[Any] = []
        base = 0.0
        for k, (audio, speech) in enumerate(zip(audios, regions)):
            maps.append(_TimeMap(self.sample_rate))
            spoken = 0.0
            for chunk, meta in _even_chunks(audio, speech, self.chunk_seconds, self.sample_rate, self.pause, self.pause_from):
                features = model.feature_extractor(chunk)[..., :-1]
                jobs.append((features, {**meta, "offset": meta["offset"] + base}, k, base))
                maps[-1].add(round((meta["offset"] + base) * self.sample_rate), meta["pieces"])
                spoken = meta["offset"] + meta["duration"]
            base = float(math.ceil(base + spoken + 1.0))

        out: list[list[Segment]] = [[] for _ in audios]
        # chunks of about the same length share a batch, padded to its longest (whole seconds, a
        # little silence after the speech): the encoder's cost follows its input's length, and a
        # 23 s chunk would make a batch of 12 s ones cost twice. The batches depend only on the
        # chunks (an ASR group's, in order), so every run pads the same way.
        buckets: dict[int, list[tuple[Any, dict[str, Any], int, float]]] = {}
        for job in jobs:
            buckets.setdefault(math.ceil((job[1]["duration"] + 0.5) / BUCKET), []).append(job)
        batches = [b[i : i + self.batch_size] for _, b in sorted(buckets.items()) for i in range(0, len(b), self.batch_size)]
        for batch in batches:
            options.max_new_tokens = _token_budget(self.chunk_seconds)
            longest = max(j[1]["duration"] for j in batch)
            frames = int(min(self.chunk_seconds, max(MIN_WINDOW, math.ceil(longest + 0.5))) * fps)
            features = np.stack([pad_or_trim(j[0], frames) for j in batch])
            results = self._decoded(model, features, batch, options)
            for (_x, _m, k, _base), result in zip(batch, results):
                for piece in result:
                    if piece["compression_ratio"] > options.compression_ratio_threshold:
                        continue  # a loop ("pin back. Pin back. ..."): left to _fill_gaps, which redoes it carefully
                    if piece["no_speech_prob"] > options.no_speech_threshold and piece["avg_logprob"] < options.log_prob_threshold:
                        continue  # whisper's silence rule: text the model doubts, over what it takes for non-speech
                    seg = _restored(piece, maps[k])
                    if seg is not None:
                        out[k].append(seg)
        return [sorted(segs, key=lambda s: s.start) for segs in out]

    def _decoding(self, model: Any) -> Any:
        """The options of faster-whisper's batched pipeline (1.2.1) with its defaults, but
        timestamp tokens on and greedy / beam as configured."""
        if self._options is None:
            from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

            tokenizer = self._tokenizer(model, self._fixed_language(model) or "en")
            options = TranscriptionOptions(
                beam_size=self.beam_size, best_of=5, patience=1, length_penalty=1, repetition_penalty=1,
                no_repeat_ngram_size=0, log_prob_threshold=-1.0, no_speech_threshold=0.6,
                compression_ratio_threshold=2.4, condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
                temperatures=[0.0], initial_prompt=None, prefix=None, suppress_blank=True,
                suppress_tokens=get_suppressed_tokens(tokenizer, [-1]), without_timestamps=False,
                max_initial_timestamp=0.0, word_timestamps=True,
                prepend_punctuations="\"'“¿([{-", append_punctuations="\"'.。,，!！?？:：”)]}、",
                multilingual=False, max_new_tokens=None, clip_timestamps="0",
                hallucination_silence_threshold=None, hotwords=None,
            )
            self._options = options
        return self._options

    def _fill_gaps(
        self, audio: FloatArray, segments: list[Segment], regions: list[dict[str, int]] | None = None
    ) -> list[Segment]:
        """Small whisper models sometimes stop early in a window and drop the rest of its speech
        (seen on clips that start mid-sentence), or loop (a chunk whose text compresses too
        well is dropped by ``_packed_pass``). Speech that VAD finds and no word covers is
        transcribed again on its own."""
        if not self.vad:
            return segments
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        rate = self.sample_rate
        covered = sorted(
            (w.start - GAP_MARGIN, w.end + GAP_MARGIN)
            for s in segments
            for w in (s.words or (Word(s.start, s.end, s.text),))
        )
        if regions is None:
            regions = list(get_speech_timestamps(audio, VadOptions()))
        speech = [(r["start"] / rate, r["end"] / rate) for r in _joined(regions, int(0.5 * rate))]
        gaps = minus(speech, covered, MIN_GAP)
        log.debug("re-transcribing speech no word covers: %s", gaps)
        if not gaps:
            return segments
        added = []
        model = self._load()
        spans = [(max(0.0, lo - 0.2), min(len(audio) / rate, hi + 0.2)) for lo, hi in gaps]
        pieces = [audio[int(lo * rate) : int(hi * rate)] for lo, hi in spans]
        # first the cheap way, all gaps in one batch (alone, a piece is often heard right); what
        # still comes back empty goes one window at a time with temperature fallback
        again = self._packed_pass(model, pieces, [self._speech_regions(p) for p in pieces]) if self._packs(model) else [[] for _ in pieces]
        for (lo, _hi), piece, heard in zip(spans, pieces, again):
            found = heard or self._sequential_pass(model, piece)
            added.extend(_shift(s, lo) for s in found)
        return sorted(segments + added, key=lambda s: s.start)

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
