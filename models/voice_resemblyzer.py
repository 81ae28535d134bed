"""Voice embeddings: the GE2E speaker encoder of Resemblyzer (weights ship in the ``resemblyzer``
package, 17 MB, 256-d). The network (3-layer LSTM, linear, ReLU, L2 norm) and its 40-band mel
front end are re-implemented here in torch / numpy, so librosa, numba and webrtcvad (which the
package imports) are never loaded: no 20 s JIT compile per process. Checked against Resemblyzer's
own ``embed_utterance`` on real speech (cosine > 0.999).
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
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial utterance


def bundled_ge2e() -> Path:
    return package_dir("resemblyzer", "resemblyzer==0.1.4", "voice_encoder") / "pretrained.pt"


def _hz_to_mel(f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale (linear below 1 kHz, logarithmic above), as librosa's default."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    mels = f / f_sp
    log = f >= min_log_hz
    mels[log] = min_log_hz / f_sp + np.log(f[log] / min_log_hz) / logstep
    return mels


def _mel_to_hz(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    freqs = f_sp * m
    min_log_mel = min_log_hz / f_sp
    log = m >= min_log_mel
    freqs[log] = min_log_hz * np.exp(logstep * (m[log] - min_log_mel))
    return freqs


@lru_cache(maxsize=1)
def _mel_filters() -> npt.NDArray[np.float32]:
    fft_freqs = np.linspace(0, RATE / 2, 1 + N_FFT // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([RATE / 2]))[0], N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]  # Slaney area normalisation
    return weights.astype(np.float32)


def mel_frames(wav: FloatArray) -> FloatArray:
    """Power mel spectrogram (frames, 40): centred frames, zero padding, periodic Hann window."""
    padded = np.pad(wav.astype(np.float32), N_FFT // 2)
    n = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(padded[idx] * window, n=N_FFT)) ** 2
    return (spectrum @ _mel_filters().T).astype(np.float32)


def normalise_volume(wav: FloatArray, target_dbfs: float = -30.0) -> FloatArray:
    """Raise quiet audio to -30 dBFS (never lower it), as Resemblyzer's preprocessing does."""
    if wav.size == 0:
        return wav
    rms = float(np.mean(wav.astype(np.float64) ** 2))
    if rms <= 0:
        return wav
    change = target_dbfs - 10 * np.log10(rms)
    return wav * (10 ** (change / 20)) if change > 0 else wav


def partial_slices(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> list[slice]:
    """Resemblyzer's split of an utterance into 1.6 s partials (mel-frame slices)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = max(1, int(np.round((RATE / rate) / HOP)))
    steps = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    slices = [slice(i, i + PARTIAL_FRAMES) for i in range(0, steps, step)]
    last = slices[-1]
    coverage = (n_samples - last.start * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices


class ResemblyzerEncoder(VoiceEncoder):
    model_id = "resemblyzer-ge2e"
    dim = 256

    def __init__(self, weights: str | None = None, device: str = "cpu", batch_size: int = 64) -> None:
        self.weights = Path(weights) if weights else None
        self.device = device
        self.batch_size = batch_size
        self._net: Any = None

    def _load(self) -> Any:
        if self._net is None:
            try:
                import torch
                from torch import nn
            except ImportError:
                raise ModelNotInstalled("torch==2.13.0", "voice_encoder") from None
            path = self.weights or bundled_ge2e()
            if not path.is_file():
                raise ModelLoadError(f"no GE2E weights at {path}")

            class GE2E(nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
                    self.linear = nn.Linear(256, 256)

                def forward(self, mels: Any) -> Any:
                    _, (hidden, _) = self.lstm(mels)
                    raw = torch.relu(self.linear(hidden[-1]))
                    return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-9)

            net = GE2E()
            state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
            net.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity")})
            self._net = net.to(self.device).eval()
        return self._net

    def embed_batch(self, audios: Sequence[FloatArray]) -> FloatArray:
        """All partials of all inputs go through the LSTM in batches of ``batch_size``."""
        import torch

        net = self._load()
        out = np.zeros((len(audios), self.dim), dtype=np.float32)
        partials: list[FloatArray] = []
        owner: list[int] = []
        for i, wav in enumerate(audios):
            wav = normalise_volume(wav)
            if len(wav) < HOP * 10:
                continue  # under 0.1 s: no voice to speak of; a zero vector says so
            slices = partial_slices(len(wav))
            need = slices[-1].stop * HOP
            mels = mel_frames(np.pad(wav, (0, max(0, need - len(wav)))))
            partials.extend(mels[s] for s in slices)
            owner.extend([i] * len(slices))
        if not partials:
            return out
        embedded = []
        with torch.inference_mode():
            for k in range(0, len(partials), self.batch_size):
                batch = torch.from_numpy(np.stack(partials[k : k + self.batch_size])).to(self.device)
                embedded.append(net(batch).cpu().numpy())
        vectors = np.concatenate(embedded)
        owners = np.asarray(owner)
        for i in np.unique(owners):
            mean = vectors[owners == i].mean(axis=0)
            out[i] = mean / max(float(np.linalg.norm(mean)), 1e-9)
        return out
