"""Which chunks the faster-whisper backend decodes again with a beam, and which text it keeps:
``FasterWhisperASR._retried`` over a batch's greedy results (its model calls replaced by a
recorder that answers with given beam results, so the choice itself is what is tested; the real
model's figures are in tests/models/test_asr.py and bench.asr_wer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from models.asr_faster_whisper import FasterWhisperASR


@dataclass
class Options:
    beam_size: int = 1
    compression_ratio_threshold: float = 2.4


def piece(text: str, logprob: float, ratio: float = 1.2) -> dict[str, Any]:
    return {"text": text, "avg_logprob": logprob, "compression_ratio": ratio}


class Recorder(FasterWhisperASR):
    """``_forward`` answers with the beam text given per chunk offset and records its calls."""

    def __init__(self, beam: dict[float, list[dict[str, Any]]], **options: Any) -> None:
        super().__init__(**options)
        self.beam, self.calls = beam, []  # type: ignore[var-annotated]

    def _forward(self, model, features, metadata, options, rows=None):  # type: ignore[no-untyped-def]
        self.calls.append((options.beam_size, [m["offset"] for m in metadata], None if rows is None else rows.tolist()))
        return [self.beam[m["offset"]] for m in metadata], rows


def batch(n: int) -> list[tuple[Any, dict[str, Any], int, float]]:
    return [(None, {"offset": float(10 * i), "duration": 8.0}, 0, 0.0) for i in range(n)]


def run(asr: Recorder, greedy: list[list[dict[str, Any]]], options: Options = Options()) -> list[list[dict[str, Any]]]:
    features = np.arange(len(greedy), dtype=np.float32)[:, None]
    rows = np.arange(len(greedy), dtype=np.float32)[:, None] * 100
    return asr._retried(None, features, rows, batch(len(greedy)), greedy, options)


@pytest.mark.parametrize("logprob", [-0.41, -0.6, -0.9, -1.5])
def test_a_chunk_the_greedy_pass_doubts_is_decoded_again_with_beam_five(logprob: float) -> None:
    greedy = [[piece("fair creatures", -0.2)], [piece("thy known bright eyes", logprob)], [piece("ask not", -0.3)]]
    asr = Recorder({10.0: [piece("thine own bright eyes", logprob + 0.05)]})
    out = run(asr, greedy)
    assert asr.calls == [(5, [10.0], [[100.0]])]  # only the doubted chunk, from its own encoder rows
    assert out[1][0]["text"] == "thine own bright eyes" and out[0] is greedy[0] and out[2] is greedy[2]


@pytest.mark.parametrize("logprob", [-0.05, -0.2, -0.39])
def test_a_confident_chunk_is_kept_as_the_greedy_pass_heard_it(logprob: float) -> None:
    greedy = [[piece("ask what you can do", logprob)], [piece("for your country", logprob)]]
    asr = Recorder({})
    assert run(asr, greedy) == greedy and asr.calls == []


def test_text_that_compresses_like_a_loop_is_doubted_even_when_the_model_is_sure() -> None:
    greedy = [[piece("pin back. " * 12, -0.1, ratio=4.0)], [piece("pin back", -0.1, ratio=1.1)]]
    asr = Recorder({0.0: [piece("pin back the curtain", -0.2)]})
    out = run(asr, greedy)
    assert [c[1] for c in asr.calls] == [[0.0]] and out[0][0]["text"] == "pin back the curtain"


def test_a_beam_text_still_doubted_is_kept_only_when_the_model_finds_it_more_likely() -> None:
    greedy = [[piece("the world is due", -0.55)], [piece("by the grave", -0.7)], [piece("hit ye the world", -0.45)]]
    beam = {0.0: [piece("the world is do", -0.6)], 10.0: [piece("by the grave and thee", -0.5)],
            20.0: [piece("pity the world", -0.41)]}
    out = run(Recorder(beam), greedy)
    assert out[0] is greedy[0] and out[1][0]["text"] == "by the grave and thee" and out[2][0]["text"] == "pity the world"


def test_a_beam_text_that_is_no_longer_doubtful_is_kept() -> None:
    greedy = [[piece("churil makes waste", -0.3, ratio=2.6)], [piece("tender churl", -0.45)]]
    beam = {0.0: [piece("tender churl makes waste", -0.35)], 10.0: [piece("tender churl mak'st", -0.38)]}
    out = run(Recorder(beam), greedy)
    assert out[0][0]["text"] == "tender churl makes waste" and out[1][0]["text"] == "tender churl mak'st"


def test_a_chunk_with_no_text_is_not_decoded_again() -> None:
    greedy: list[list[dict[str, Any]]] = [[], [piece("please", -0.1)]]
    asr = Recorder({})
    assert run(asr, greedy) == greedy and asr.calls == []


@pytest.mark.parametrize("options", [{"doubt_logprob": None}, {"beam_size": 5}, {"beam_size": 8}])
def test_no_retry_when_turned_off_or_already_decoded_with_a_wide_beam(options: dict[str, Any]) -> None:
    asr = Recorder({}, **options)
    greedy = [[piece("bin blue at f two now", -1.2)]]
    assert run(asr, greedy, Options(beam_size=asr.beam_size)) == greedy and asr.calls == []


def test_the_words_step_takes_its_chunks_encoder_output_without_encoding_again_when_it_can() -> None:
    """A CPU's rows are sliced; a device's output is reused for the whole batch and encoded again
    only for a part of it (a batch of several languages)."""
    from models.asr_batched import _encoder_rows

    calls: list[Any] = []

    class Model:
        def encode(self, features: Any) -> str:
            calls.append(features.tolist())
            return "encoded again"

    features = np.arange(3, dtype=np.float32)[:, None]
    device = object()
    assert _encoder_rows(Model(), features, device, [0, 1, 2]) is device and calls == []
    assert _encoder_rows(Model(), features, device, [1]) == "encoded again" and calls == [[[1.0]]]
    rows = np.arange(3, dtype=np.float32)[:, None] * 100
    assert np.asarray(_encoder_rows(Model(), features, rows, [0, 2])).tolist() == [[0.0], [200.0]] and len(calls) == 1
