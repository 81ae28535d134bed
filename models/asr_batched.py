"""The faster-whisper backend's batched decoding (``FasterWhisperASR`` inherits it): a batch of
chunks through the encoder and a greedy decoder, the chunks the greedy pass doubts decoded again
with a beam, then the words of the kept texts only aligned to the audio."""

from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)

# a chunk the greedy pass doubts (its mean token log-probability under DOUBT_LOGPROB, or text that
# compresses as a loop does) is decoded again with beam search of RETRY_BEAM, whisper's own
# default decoding; the rest keep the greedy pass (beam 5 everywhere costs 10-40 % more ASR time)
DOUBT_LOGPROB = -0.4
RETRY_BEAM = 5

Batch = list[tuple[Any, dict[str, Any], int, float]]  # features, metadata, audio, shift


class BatchedDecoding:
    """Needs ``device``, ``doubt_logprob``, ``retry_beam``, ``_fixed_language`` and ``_tokenizer``."""

    device: str
    doubt_logprob: float | None
    retry_beam: int

    def _fixed_language(self, model: Any) -> str | None:
        raise NotImplementedError

    def _tokenizer(self, model: Any, language: str) -> Any:
        raise NotImplementedError

    def _decoded(self, model: Any, features: Any, batch: Batch, options: Any) -> list[list[dict[str, Any]]]:
        """A batch's chunks decoded (greedy, the doubtful ones again with a beam: ``_retried``),
        then the words of the texts kept aligned (``_words``): a text the beam replaces, or a
        beam text that loses, is never aligned."""
        results, rows = self._forward(model, features, [j[1] for j in batch], options)
        results = self._retried(model, features, rows, batch, results, options)
        return self._words(model, features, rows, batch, results, options)

    def _generate_segment_batched(
        self, model: Any, features: Any, options: Any, rows: Any = None
    ) -> tuple[Any, Any, list[str], list[dict[str, Any]]]:
        """``BatchedInferencePipeline.generate_segment_batched`` (faster-whisper 1.2.1), but on a
        CPU each chunk goes through the encoder on its own: with one thread the encoder's cost
        per second of audio grows with the batch (≈ +35% at 8 chunks, measured), while the
        decoder's falls with it. With no fixed language, each chunk's is detected from its
        encoder output (one decoder step) and the chunk decoded in it. The outputs are decoded
        together. ``rows``: the chunks' encoder output from an earlier pass (a CPU's array), not
        computed again. Returns the encoder output (and its rows as an array on a CPU), the chunks'
        languages and the outputs."""
        import ctranslate2
        import numpy as np

        if rows is not None:
            encoder_output = ctranslate2.StorageView.from_array(rows)
        elif self.device == "cpu":
            rows = np.concatenate([np.asarray(model.encode(features[i : i + 1])) for i in range(len(features))])
            encoder_output = ctranslate2.StorageView.from_array(rows)
        else:
            encoder_output = model.encode(features)
        fixed = self._fixed_language(model)
        if fixed is None:
            languages = [found[0][0][2:-2] for found in model.model.detect_language(encoder_output)]
        else:
            languages = [fixed] * len(features)
        prompts = [
            list(model.get_prompt(self._tokenizer(model, lang), [], without_timestamps=options.without_timestamps))
            for lang in languages
        ]
        most = model.max_length if options.max_new_tokens is None else len(prompts[0]) + options.max_new_tokens
        results = model.model.generate(
            encoder_output,
            prompts,
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
        return encoder_output, rows, languages, output

    def _forward(self, model: Any, features: Any, metadata: list[dict[str, Any]], options: Any,
                 rows: Any = None) -> tuple[list[list[dict[str, Any]]], Any]:
        """``BatchedInferencePipeline.forward`` (faster-whisper 1.2.1) on ``_generate_segment_batched``,
        without the words (``_words`` adds them to the texts kept). Returns each chunk's pieces
        (each with its language and ``size``, its frames) and the encoder's output: its rows on a
        CPU (an array, which ``rows`` takes back), else the device's own output."""
        from faster_whisper.transcribe import get_compression_ratio

        encoded, rows, languages, outputs = self._generate_segment_batched(model, features, options, rows)
        tokenizer = self._tokenizer(model, languages[0])  # timestamps and text decode alike in every language
        segmented: list[list[dict[str, Any]]] = []
        for meta, output, language in zip(metadata, outputs, languages):
            size = int(math.ceil(meta["duration"]) * model.frames_per_second)
            subsegments, _seek, _single = model._split_segments_by_timestamps(
                tokenizer=tokenizer, tokens=output["tokens"], time_offset=meta["offset"],
                segment_size=size, segment_duration=meta["duration"], seek=0,
            )
            segmented.append([
                dict(text=(text := tokenizer.decode(sub["tokens"])), avg_logprob=output["avg_logprob"],
                     no_speech_prob=output["no_speech_prob"], tokens=sub["tokens"], start=sub["start"], end=sub["end"],
                     compression_ratio=get_compression_ratio(text), seek=int(meta["offset"] * model.frames_per_second),
                     language=language, size=size)
                for sub in subsegments
            ])
        return segmented, rows if rows is not None else encoded

    def _words(self, model: Any, features: Any, rows: Any, batch: Batch, results: list[list[dict[str, Any]]],
               options: Any) -> list[list[dict[str, Any]]]:
        """The kept texts of a batch with their words' times (faster-whisper's
        ``add_word_timestamps``, the texts of each language with its tokenizer, in batch order,
        the last speech carried from chunk to chunk from the batch's start, as its pipeline does),
        from the batch's encoder output ``rows`` (a part of it on a device: encoded again)."""
        kept = [i for i, result in enumerate(results) if result]
        if not kept:
            return results
        languages = [results[i][0]["language"] for i in kept]
        for language in dict.fromkeys(languages):
            picked = [kept[k] for k, lang in enumerate(languages) if lang == language]
            part = _encoder_rows(model, features, rows, picked)
            model.add_word_timestamps(
                [results[i] for i in picked], self._tokenizer(model, language), part,
                [results[i][0]["size"] for i in picked],
                options.prepend_punctuations, options.append_punctuations, batch[0][1]["offset"],
            )
        return results

    def _doubtful(self, result: list[dict[str, Any]], options: Any) -> bool:
        """Whether a chunk's greedy text is worth a beam search: the model's mean token
        log-probability under ``doubt_logprob``, or text that compresses as a loop does (whisper's
        own fallback criteria, with a stricter log-probability)."""
        return any(p["avg_logprob"] < self.doubt_logprob or p["compression_ratio"] > options.compression_ratio_threshold
                   for p in result)

    def _retried(self, model: Any, features: Any, rows: Any, batch: Batch,
                 results: list[list[dict[str, Any]]], options: Any) -> list[list[dict[str, Any]]]:
        """``results`` with the doubtful chunks of a batch decoded again with ``retry_beam``, padded
        as in their batch (from the same encoder output: ``rows``, when a CPU's), so a chunk's
        words depend only on its batch (the same however the run is split). As in whisper's
        fallback, the beam's text is kept when it is not doubtful itself, else when the model
        finds it at least as likely as the greedy text."""
        if self.doubt_logprob is None or options.beam_size >= self.retry_beam:
            return results
        redo = [i for i, result in enumerate(results) if result and self._doubtful(result, options)]
        if not redo:
            return results
        from dataclasses import replace as _replace

        beam = _replace(options, beam_size=self.retry_beam)
        again, _ = self._forward(model, features[redo], [batch[i][1] for i in redo], beam,
                                 rows[redo] if _is_array(rows) else None)
        out = list(results)
        for i, result in zip(redo, again):
            if result and (not self._doubtful(result, options) or result[0]["avg_logprob"] >= results[i][0]["avg_logprob"]):
                out[i] = result
        log.debug("chunks decoded again with beam %d: %d of %d, kept %d", self.retry_beam, len(redo), len(results),
                  sum(out[i] is not results[i] for i in redo))
        return out


def _is_array(rows: Any) -> bool:
    """Whether ``rows`` is a CPU's encoder output as an array (else a device's, or None)."""
    import numpy as np

    return isinstance(rows, np.ndarray)


def _encoder_rows(model: Any, features: Any, rows: Any, picked: list[int]) -> Any:
    """The encoder output of the ``picked`` chunks of a batch whose output is ``rows``."""
    import ctranslate2

    if _is_array(rows):
        return ctranslate2.StorageView.from_array(rows[picked])
    if rows is not None and len(picked) == len(features):
        return rows
    return model.encode(features[picked])
