"""The GE2E voice encoder and speaker turns on real two-speaker and one-speaker speech."""

import numpy as np
import pytest

from perception.voices import speaker_turns
from tests.conftest import DATA, need


def load(path, channel=None):  # type: ignore[no-untyped-def]
    import av

    with av.open(str(need(path))) as c:
        layout = "stereo" if channel is not None else "mono"
        r = av.AudioResampler(format="fltp", layout=layout, rate=16000)
        audio = np.concatenate([o.to_ndarray() for f in c.decode(audio=0) for o in r.resample(f)], axis=1)
    return audio[channel if channel is not None else 0].astype(np.float32)


@pytest.fixture(scope="module")
def voice():  # type: ignore[no-untyped-def]
    import models

    return models.create("voice_encoder", "resemblyzer")


STEREO = DATA / "speech" / "faster-whisper" / "stereo_diarization.wav"


def test_same_speaker_is_closer_than_another(voice) -> None:  # type: ignore[no-untyped-def]
    jfk = load(DATA / "speech" / "jfk.flac")
    left, right = load(STEREO, 0), load(STEREO, 1)
    e = voice.embed_batch([jfk[: 16000 * 5], jfk[16000 * 5 :], left, right, np.zeros(100, np.float32),
                           np.zeros(0, np.float32)])
    assert e.shape == (6, 256) and np.allclose(np.linalg.norm(e[:4], axis=1), 1.0, atol=1e-4)
    assert not e[4].any() and not e[5].any()  # too short (or empty) to hold a voice
    assert e[0] @ e[1] > 0.75  # JFK, first half vs second half
    assert e[0] @ e[2] < 0.6 and e[0] @ e[3] < 0.6 and e[2] @ e[3] < 0.7


def test_mel_front_end_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    from models.voice_resemblyzer import mel_frames

    wav = load(DATA / "speech" / "jfk.flac")[:16000]
    ref = librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160, n_mels=40)
    assert np.allclose(mel_frames(wav), ref.T, rtol=1e-3, atol=1e-4)


def test_two_people_in_one_clip_are_two_voices(asr, voice) -> None:  # type: ignore[no-untyped-def]
    left, right = load(STEREO, 0), load(STEREO, 1)
    audio = np.concatenate([left, right, left])  # A, B, A again
    turns = speaker_turns(asr.transcribe(audio), audio, 0.0, voice)
    assert [t.voice for t in turns] == ["v0", "v1", "v0"]
    assert "wizard" in turns[0].text and "horizon" in turns[1].text
    assert turns[1].start > turns[0].end and len(turns[1].embedding) == 256


def test_one_speaker_stays_one_voice(asr, voice) -> None:  # type: ignore[no-untyped-def]
    jfk = load(DATA / "speech" / "jfk.flac")
    turns = speaker_turns(asr.transcribe(jfk), jfk, 0.0, voice)
    assert {t.voice for t in turns} == {"v0"}
    assert "country" in " ".join(t.text for t in turns)
