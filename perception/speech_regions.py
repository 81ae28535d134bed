"""Where people speak, for the diarizer: Silero VAD, or the speaker segmentation model's speech,
overlapped speech and speaker changes."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from models.base import FloatArray
from models.intervals import minus
from perception.diarize_options import DiarizeOptions, Span


def speech_intervals(audio: FloatArray, rate: int, options: DiarizeOptions = DiarizeOptions()) -> list[Span]:
    """Silero VAD (the ONNX model that ships in faster-whisper): speech (start, end) in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(threshold=options.vad_threshold, min_silence_duration_ms=int(options.vad_min_silence * 1000),
                     speech_pad_ms=int(options.vad_pad * 1000))
    return [(s["start"] / rate, s["end"] / rate) for s in get_speech_timestamps(audio, vad, sampling_rate=rate)]


def mask_runs(mask: npt.NDArray[np.bool_], times: npt.NDArray[np.float64], half: float, min_gap: float,
          min_length: float) -> list[Span]:
    """Stretches where ``mask`` holds (frames centred at ``times``, ``half`` s either side), gaps
    under ``min_gap`` closed, stretches under ``min_length`` dropped."""
    out: list[list[float]] = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):
        start, end = float(times[a] - half), float(times[b - 1] + half)
        if out and start - out[-1][1] < min_gap:
            out[-1][1] = end
        else:
            out.append([start, end])
    return [(max(a, 0.0), b) for a, b in out if b - a >= min_length]


def segmented_speech(audio: FloatArray, segmenter: Any, options: DiarizeOptions = DiarizeOptions(),
                     windows: Any = None) -> tuple[list[Span], list[Span], list[float]]:
    """(speech, overlapped speech, speaker changes) in seconds from the start of ``audio``, by
    the speaker segmentation model: where one or more people speak, where two do at once, and
    where the one voice speaking changes."""
    from models.segmentation_pyannote import FRAME_STEP, speaker_count

    p_speech, p_overlap, changes = speaker_count(segmenter, audio, options.seg_step, windows=windows)
    times = (np.arange(len(p_speech)) + 0.5) * FRAME_STEP
    speech = mask_runs(p_speech > options.speech_onset, times, FRAME_STEP / 2, options.vad_min_silence, 0.1)
    overlap = mask_runs(p_overlap > options.overlap_onset, times, FRAME_STEP / 2, 0.1, options.min_overlap)
    end = len(audio) / 16000
    speech = [(a, min(b, end)) for a, b in speech]
    overlap = [(a, min(b, end)) for a, b in overlap]
    if options.overlap_clean:
        speech = minus(speech, overlap, 0.1)
    return speech, overlap, changes
