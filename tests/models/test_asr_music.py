"""Singing and speech over music, which VAD does not hear: the real song of the video dev set
through the real tiny.en (models/asr_music.py)."""

from __future__ import annotations

import numpy as np
import pytest

from models.asr_music import loud_stretches
from tests.conftest import DATA, need

RATE = 16000


@pytest.fixture(scope="module")
def composite() -> np.ndarray:
    from perception.decode import clip_audio

    path = need(DATA / "qa" / "video-dev" / "composite.mp4")
    return clip_audio(path, (64.32, 126.32), 0.0)[0]  # "The Paul Allen Song", sung over music


def test_speech_vad_hears_is_not_marked_as_music(asr) -> None:  # type: ignore[no-untyped-def]
    """JFK's speech (in the dev set, after the timecode clip) is heard by VAD: none of it is music."""
    from perception.decode import clip_audio

    speech = clip_audio(need(DATA / "qa" / "video-dev" / "composite.mp4"), (183.72, 194.72), 0.0)[0]
    found = asr.transcribe(speech)
    assert "fellow americans" in " ".join(s.text for s in found).lower()
    assert all(s.sound == "" for s in found), found


def test_loud_stretches_skip_speech_silence_and_short_sounds() -> None:
    rng = np.random.default_rng(0)
    loud = (0.1 * rng.standard_normal(RATE * 12)).astype(np.float32)  # about -20 dBFS
    audio = np.concatenate([np.zeros(RATE * 2, np.float32), loud, np.zeros(RATE * 2, np.float32),
                            loud[: RATE * 2], (0.001 * rng.standard_normal(RATE * 5)).astype(np.float32)])
    stretches = loud_stretches(audio, [], RATE)
    # 12 s of sound: two pieces of 6 s; the 2 s sound is too short; silence and -60 dBFS noise are not loud
    assert [(round(a), round(b)) for a, b in stretches] == [(2, 8), (8, 14)]
    # what VAD already heard is not heard twice
    assert loud_stretches(audio, [{"start": 0, "end": RATE * 10}], RATE) == [(10.0, 14.0)]
    assert loud_stretches(np.zeros(RATE * 20, np.float32), [], RATE) == []


def test_a_sung_song_is_transcribed(asr, composite) -> None:  # type: ignore[no-untyped-def]
    """The song's words that name numbers ("15 hours of work today", "17 tomorrow") come back;
    VAD alone hears almost nothing of it."""
    found = asr.transcribe(composite)
    text = " ".join(s.text for s in found).lower()
    assert "15" in text and "17" in text, text
    sung = " ".join(s.text for s in found if s.sound == "music").lower()
    assert "15" in sung and "17" in sung, found  # heard over music, and marked so
    assert "hours" in text and len(text.split()) >= 30, text  # VAD alone: "oh, someday, it's vision pain"
    assert text.count("oh, oh") == 0  # the loop whisper falls into on the chorus is dropped
