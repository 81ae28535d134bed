"""Speech the voice-activity detector does not hear: singing, and speech over music.

Silero VAD is trained on speech against noise; it rejects most singing (on the dev set's 62 s
song it finds 2.7 s of speech) and much speech over a music bed, so a VAD-filtered whisper —
faster-whisper's ``vad_filter=True`` as well as the map stage — transcribes none of it. Whisper
itself hears it: run without VAD over the song, tiny.en gets "I put in 15 hours of work today",
"now we're 17 tomorrow", "a billion dollars".

So stretches that are loud (frame energy above :data:`LOUD_DBFS`) for at least
:data:`MIN_SECONDS` and that VAD left out are decoded too, in pieces of at most
:data:`PIECE_SECONDS` (long pieces of music make small models loop), greedily at temperature 0
(no fallback: a doubtful piece is dropped, not decoded five times), with at most
:data:`TOKENS_PER_SECOND` tokens a second. What comes back is kept only when whisper's own
checks pass — a compression ratio under the loop threshold, not "no speech" with a low
log-probability, a log-probability that is not hopeless, and letters in the text (a "♪" line
is not a sentence). Silence and quiet noise cost nothing: they are never loud.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from models.base import FloatArray, Segment

LOUD_DBFS = -35.0  # frame energy of sound worth hearing (speech is about -30 to -15 dBFS; room noise below -50)
MIN_SECONDS = 3.0  # a loud stretch shorter than this beside VAD's speech is its edge, not missed speech
PIECE_SECONDS = 10.0
FRAME_SECONDS = 0.1
BRIDGE_FRAMES = 5  # quiet frames (0.5 s) inside a loud stretch do not end it: a breath, a beat
TOKENS_PER_SECOND = 4.0  # fast speech is about 3 words a second; a loop runs far past this
COMPRESSION_MAX = 2.4  # whisper's defaults: a loop compresses too well ...
NO_SPEECH_MIN, LOGPROB_SILENT = 0.6, -1.0  # ... "no speech" said with doubt is silence ...
LOGPROB_FLOOR = -1.5  # ... and below this the text is a guess, whatever else it says


def loud_stretches(audio: FloatArray, regions: Sequence[dict[str, int]], rate: int) -> list[tuple[float, float]]:
    """Stretches (seconds) at least :data:`MIN_SECONDS` long where the audio is loud and VAD's
    ``regions`` (sample offsets) found no speech, cut into pieces of at most
    :data:`PIECE_SECONDS` of equal length."""
    frame = int(FRAME_SECONDS * rate)
    n = len(audio) // frame if frame else 0
    if n == 0:
        return []
    rms = np.sqrt(np.mean(np.square(audio[: n * frame].reshape(n, frame), dtype=np.float64), axis=1))
    loud = 20.0 * np.log10(rms + 1e-9) > LOUD_DBFS
    for r in regions:
        loud[r["start"] // frame: -(-r["end"] // frame)] = False
    out: list[tuple[float, float]] = []
    k = 0
    while k < n:
        if not loud[k]:
            k += 1
            continue
        j = k
        while j < n and (loud[j] or loud[j + 1: j + 1 + BRIDGE_FRAMES].any()):
            j += 1
        seconds = (j - k) * FRAME_SECONDS
        if seconds >= MIN_SECONDS:
            parts = int(np.ceil(seconds / PIECE_SECONDS - 1e-9))
            step = (j - k) / parts
            out += [(round((k + p * step) * FRAME_SECONDS, 3), round((k + (p + 1) * step) * FRAME_SECONDS, 3))
                    for p in range(parts)]
        k = j
    return out


def _believable(seg: Any) -> bool:
    if seg.compression_ratio > COMPRESSION_MAX or seg.avg_logprob < LOGPROB_FLOOR:
        return False
    if seg.no_speech_prob > NO_SPEECH_MIN and seg.avg_logprob < LOGPROB_SILENT:
        return False
    return any(ch.isalpha() for ch in seg.text)


def missed_speech(
    model: Any, audio: FloatArray, regions: Sequence[dict[str, int]], rate: int, language: str | None,
    to_segments: Callable[[list[Any], str], list[Segment]], shift: Callable[[Segment, float], Segment],
) -> list[Segment]:
    """Segments heard in the loud stretches VAD left out (times in ``audio``'s seconds).
    ``model`` is a faster-whisper ``WhisperModel``; ``language`` None lets it detect the language
    of each piece; ``to_segments`` turns its segments (and their language) into ours and
    ``shift`` moves one by a number of seconds."""
    out: list[Segment] = []
    for lo, hi in loud_stretches(audio, regions, rate):
        piece = audio[int(lo * rate): int(hi * rate)]
        found, info = model.transcribe(
            piece, language=language, beam_size=1, temperature=0.0, word_timestamps=True, vad_filter=False,
            condition_on_previous_text=False, max_new_tokens=max(8, int((hi - lo) * TOKENS_PER_SECOND)),
        )
        out += [replace(shift(s, lo), sound="music") for s in to_segments([s for s in found if _believable(s)], info.language)]
    return out
