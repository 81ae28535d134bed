"""CAM++ (``models.voice_campplus``) run for inference with its arithmetic rearranged, not changed:
the same vectors (to float rounding, about 1e-5) in less CPU.

- Every batch norm that follows a linear map is folded into it (weights scaled, a bias added), and
  the others become one multiply-add per element (``torch.addcmul``).
- After the 2-D head, the frames are kept time-major, (batch, frames, channels), so each 1x1
  convolution is one matrix product over all the batch's frames (``F.linear``: about 1.4x the
  speed of ``conv1d`` on the same data on one AVX2 core), and each CAM layer's dilated local
  convolution is one product with its three taps side by side, then shifted and summed.
- A dense block writes each layer's 32 new channels into one buffer of the block's final width
  (no growing concatenation: each layer reads its prefix of the buffer).
- Inputs of different lengths, padded at their end, are masked as :func:`models.voice_campplus.forward_padded`
  does it: every step that mixes frames sees zeros past an input's end and averages over the
  input's own frames; with equal lengths, no masks at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SEGMENT = 100  # frames per CAM context segment (3D-Speaker's seg_len)


def _affine(bn: Any) -> tuple[Any, Any]:
    """An inference batch norm as (scale, shift)."""
    scale = bn.running_var.add(bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale.contiguous(), shift.contiguous()


def _fold(weight: Any, bn: Any) -> tuple[Any, Any]:
    """A bias-free linear map followed by ``bn``: one linear map with a bias, (out, in, ...)."""
    scale, shift = _affine(bn)
    return (weight * scale.reshape(-1, *([1] * (weight.dim() - 1)))).contiguous(), shift


class FoldedCAMPPlus:
    """The tensors of a loaded CAM++ network, folded and laid out for :meth:`__call__`."""

    def __init__(self, net: Any) -> None:
        import torch

        with torch.no_grad():
            head = net.head

            def conv(c: Any, bn: Any) -> tuple[Any, Any, tuple[int, int], tuple[int, int]]:
                weight, bias = _fold(c.weight, bn)
                return weight.contiguous(memory_format=torch.channels_last), bias, c.stride, c.padding

            self.stem = conv(head.conv1, head.bn1)
            self.res = [(conv(b.conv1, b.bn1), conv(b.conv2, b.bn2),
                         conv(b.shortcut[0], b.shortcut[1]) if len(b.shortcut) else None)
                        for b in [*head.layer1, *head.layer2]]
            self.squeeze = conv(head.conv2, head.bn2)
            xv = net.xvector
            self.tdnn = _fold(xv.tdnn.linear.weight, xv.tdnn.nonlinear.batchnorm)
            self.blocks: list[tuple[int, list[tuple[Any, ...]], tuple[Any, ...]]] = []
            for i in (1, 2, 3):
                layers = []
                for layer in getattr(xv, f"block{i}"):
                    cam = layer.cam_layer
                    w1, b1 = _fold(layer.linear1.weight[..., 0], layer.nonlinear2.batchnorm)
                    taps = cam.linear_local.weight  # (32, 128, 3): the taps at -d, 0, +d
                    layers.append((*_affine(layer.nonlinear1.batchnorm), w1, b1,
                                   cam.linear1.weight[..., 0].contiguous(), cam.linear1.bias,
                                   cam.linear2.weight[..., 0].contiguous(), cam.linear2.bias,
                                   taps.permute(2, 0, 1).reshape(-1, taps.shape[1]).contiguous(),
                                   cam.linear_local.dilation[0]))
                transit = getattr(xv, f"transit{i}")
                self.blocks.append((layers[0][0].shape[0], layers,
                                    (*_affine(transit.nonlinear.batchnorm), transit.linear.weight[..., 0].contiguous())))
            self.out = _affine(xv.out_nonlinear.batchnorm)
            self.dense = _fold(xv.dense.linear.weight[..., 0], xv.dense.nonlinear.batchnorm)

    def __call__(self, feats: Any, lengths: Sequence[int] | None = None) -> Any:
        """(batch, frames, 80) fbank -> (batch, 192); ``lengths``: each input's own frames when
        they are padded at their end (None: all of them are the batch's length)."""
        import torch
        import torch.nn.functional as F

        batch, frames = feats.shape[0], feats.shape[1]
        padded = lengths is not None and min(lengths) < frames
        lens = torch.as_tensor(list(lengths) if lengths is not None else [frames] * batch, dtype=torch.long)
        m4 = (torch.arange(frames)[None, :] < lens[:, None]).to(feats.dtype)[:, None, None, :] if padded else None

        def masked(x: Any, m: Any) -> Any:
            return x * m if m is not None else x

        def conv(x: Any, c: tuple[Any, Any, tuple[int, int], tuple[int, int]]) -> Any:
            return F.conv2d(x, c[0], c[1], stride=c[2], padding=c[3])

        # the 2-D head channels-last (oneDNN's fast layout for 32-channel 3x3 convolutions)
        x = masked(feats.permute(0, 2, 1).unsqueeze(1), m4).contiguous(memory_format=torch.channels_last)
        x = conv(x, self.stem).relu_()
        for first, second, shortcut in self.res:
            x = masked(x, m4)
            out = conv(masked(conv(x, first).relu_(), m4), second)
            x = (out + (conv(x, shortcut) if shortcut is not None else x)).relu_()
        x = conv(masked(x, m4), self.squeeze).relu_()
        x = x.contiguous().reshape(batch, -1, frames)
        x = F.conv1d(masked(x, m4[:, 0] if m4 is not None else None), self.tdnn[0], self.tdnn[1], stride=2, padding=2)
        x = x.relu_().transpose(1, 2)  # (batch, frames, channels) from here on
        n = x.shape[1]
        lens = (lens - 1) // 2 + 1  # the TDNN's stride 2 (kernel 5, padding 2)
        m = (torch.arange(n)[None, :] < lens[:, None]).to(feats.dtype)[:, :, None] if padded else None
        segs = -(-n // SEGMENT)
        own = lens.to(feats.dtype)[:, None, None]
        per_seg = torch.full((batch, segs, 1), float(SEGMENT), dtype=feats.dtype)
        per_seg[:, -1] = n - SEGMENT * (segs - 1)
        if m is not None:
            per_seg = F.pad(m, (0, 0, 0, segs * SEGMENT - n)).reshape(batch, segs, SEGMENT, 1).sum(2).clamp(min=1.0)
        for width, layers, (t_scale, t_shift, t_weight) in self.blocks:
            buf = x.new_empty(batch, n, width + 32 * len(layers))
            buf[..., :width] = x
            for j, (scale, shift, w1, b1, c1w, c1b, c2w, c2b, taps, d) in enumerate(layers):
                cin = width + 32 * j
                y = masked(F.linear(torch.addcmul(shift, buf[..., :cin], scale).relu_(), w1, b1).relu_(), m)
                # the CAM context (the input's mean plus its 100-frame segment's mean) is one vector
                # per segment: its gate is computed per segment, then spread over the segment's frames
                seg = F.pad(y, (0, 0, 0, segs * SEGMENT - n)).reshape(batch, segs, SEGMENT, -1).sum(2) / per_seg
                context = y.sum(1, keepdim=True) / own + seg
                gate = torch.sigmoid(F.linear(F.linear(context, c1w, c1b).relu_(), c2w, c2b))
                p = F.linear(F.pad(y, (0, 0, d, d)), taps)  # (batch, n + 2d, 3 x 32): each tap's product
                local = p[:, :n, :32] + p[:, d : d + n, 32:64] + p[:, 2 * d : 2 * d + n, 64:]
                buf[..., cin : cin + 32] = local * gate.repeat_interleave(SEGMENT, dim=1)[:, :n]
            x = F.linear(torch.addcmul(t_shift, buf, t_scale).relu_(), t_weight)
        x = masked(torch.addcmul(self.out[1], x, self.out[0]).relu_(), m)
        mean = x.sum(1) / own[..., 0]
        std = torch.sqrt((masked(x - mean[:, None], m) ** 2).sum(1) / (own[..., 0] - 1).clamp(min=1.0))
        return F.linear(torch.cat([mean, std], dim=-1), *self.dense)
