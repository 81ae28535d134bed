"""Decoding by timestamp with PyAV (FFmpeg in the wheel); decord as an optional frame backend.

Each clip is decoded on its own (a seek, then a short forward read): memory stays bounded by one
clip whatever the length of the source, and any split of the clips over processes or machines
decodes exactly the same samples.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.base import FloatArray, ImageArray
from perception.decode_base import Span, _container_offset, _decoded, _open, take_damaged
from perception.decode_frames import (
    FRAME_BACKENDS, SceneOptions, clip_frames_decord, clip_frames_pyav, sample_times,
)
from perception.errors import CorruptMedia, EmptyMedia, MediaNotFound, NotMedia

# the frame readers (perception.decode_frames) and the damaged-stretch record
# (perception.decode_base) are imported from here as they always were
__all__ = [
    "FRAME_BACKENDS", "ClipMedia", "MediaInfo", "SceneOptions", "Span", "clip_audio", "clip_frames_decord",
    "clip_frames_pyav", "clip_spans", "probe", "sample_times", "source_id_for", "take_damaged",
]

SAMPLE_RATE = 16000
# FFmpeg demuxers that read single images, not videos
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe", "gif"}


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration: float
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0

def source_id_for(path: str | Path) -> str:
    """Content hash of the file: the same bytes are the same source wherever they live."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

def probe(path: str | Path) -> MediaInfo:
    """Check that ``path`` is a readable video or audio file and read its basic facts."""
    p = Path(path)
    if not p.exists():
        raise MediaNotFound(p, "no such file")
    if p.is_dir():
        raise NotMedia(p, "is a folder, not a video file")
    if p.stat().st_size == 0:
        raise EmptyMedia(p, "file is empty (0 bytes)")
    with _open(p) as container:
        if container.format.name in _IMAGE_FORMATS:
            raise NotMedia(p, "is a still image, not a video")
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None and audio is None:
            raise NotMedia(p, "has no video or audio stream")
        duration = _duration(container)
        if duration <= 0:
            raise EmptyMedia(p, "contains no decodable video or audio")
        fps = float(video.average_rate) if video is not None and video.average_rate else 0.0
        return MediaInfo(
            str(p),
            duration,
            video is not None,
            audio is not None,
            video.codec_context.width if video is not None else 0,
            video.codec_context.height if video is not None else 0,
            fps,
        )


def _duration(container) -> float:  # type: ignore[no-untyped-def]
    if container.duration and container.duration > 0:
        return float(container.duration) / 1_000_000
    best = 0.0
    for stream in container.streams:
        if stream.duration and stream.time_base:
            best = max(best, float(stream.duration * stream.time_base))
    if best > 0:
        return best
    # no header duration (some raw streams): read packet times, no decoding
    for packet in container.demux():
        if packet.pts is not None and packet.time_base:
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            best = max(best, end)
    return best


def clip_spans(duration: float, clip_seconds: float) -> list[Span]:
    """Cut ``[0, duration]`` into clips of ``clip_seconds``; a tail under 1 s joins the previous."""
    n = max(1, math.ceil(duration / clip_seconds - 1e-9))
    spans = [(i * clip_seconds, min((i + 1) * clip_seconds, duration)) for i in range(n)]
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < 1.0:
        spans[-2] = (spans[-2][0], spans[-1][1])
        spans.pop()
    return [(round(a, 3), round(b, 3)) for a, b in spans]

@dataclass
class ClipMedia:
    """What one clip decodes to. ``audio`` covers ``[audio_t0, audio_t0 + len / 16000)``;
    ``frames`` are (time, RGB image) in time order: the floor-rate samples plus the frames at
    scene cuts (their times in ``cuts``); ``until`` is how far the streams decoded (seconds)."""

    audio: FloatArray | None  # None: not decoded (no signal needed it)
    audio_t0: float
    frames: list[tuple[float, ImageArray]]
    cuts: frozenset[float]
    until: float
def clip_audio(path: Path, span: Span, pad: float) -> tuple[FloatArray, float, float]:
    """16 kHz mono float32 covering ``[start - pad, end + pad]`` (from 0 at the start), its start
    time, and how far the audio decoded. Each clip is decoded on its own (a seek, then a short
    read), so its samples do not depend on which clips were decoded before it: any split of the
    clips over processes or machines gives the same audio."""
    lo_t, hi_t = max(0.0, span[0] - pad), span[1] + pad
    with _open(path) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32), lo_t, 0.0
        stream = container.streams.audio[0]
        offset = _container_offset(container)
        seek_t = lo_t - 1.0  # a second of run-in: the decoder and resampler settle before lo_t
        if seek_t > 0 and stream.time_base:
            container.seek(int((seek_t + offset) / stream.time_base), stream=stream, backward=True)
        audio, until = _read_audio(path, container, stream, offset, lo_t, hi_t, seeked=seek_t > 0)
    if audio is None:  # the seek landed after the clip (an imprecise index): read from the start
        with _open(path) as container:
            stream = container.streams.audio[0]
            audio, until = _read_audio(path, container, stream, _container_offset(container), lo_t, hi_t, False)
        assert audio is not None
    return audio, lo_t, until


def _read_audio(  # type: ignore[no-untyped-def]
    path: Path, container, stream, offset: float, lo_t: float, hi_t: float, seeked: bool
) -> tuple[FloatArray | None, float]:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    lo, hi = int(lo_t * SAMPLE_RATE), int(hi_t * SAMPLE_RATE)
    chunks: list[FloatArray] = []
    first: int | None = None  # global sample index of chunks[0][0]
    total = 0
    try:
        for frame, after_gap in _decoded(path, container, stream, offset, "audio"):
            at = int(round(((frame.time - offset) if frame.time is not None else 0.0) * SAMPLE_RATE))
            if first is None:
                if seeked:
                    if at > lo:
                        return None, 0.0
                    first = total = at
                else:  # from the start: audio that begins late is padded with silence
                    first, total = 0, max(0, at)
                    if at > 0:
                        chunks.append(np.zeros(at, dtype=np.float32))
            elif after_gap and frame.time is not None and at > total:
                # a damaged packet was skipped: silence in its place keeps every later sample at its time
                chunks.append(np.zeros(at - total, dtype=np.float32))
                total = at
            for out in resampler.resample(frame):
                samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                chunks.append(samples)
                total += len(samples)
            if total >= hi:
                break
        else:
            for out in resampler.resample(None):
                samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                chunks.append(samples)
                total += len(samples)
    except av.error.FFmpegError as exc:
        raise CorruptMedia(
            path, f"truncated or damaged: audio decoding failed near {total / SAMPLE_RATE:.1f} s ({exc.strerror or exc})"
        ) from None
    if first is None:
        return np.zeros(0, dtype=np.float32), 0.0
    buf = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    # full scale, as 16-bit PCM (what whisper and faster-whisper decode to) holds it: a stereo
    # track's downmix can reach 1.41, and the ASR's log-mel features are not blind to the level
    out = np.clip(buf[max(0, lo - first) : max(0, hi - first)], -1.0, 1.0)
    return out.astype(np.float32, copy=False), total / SAMPLE_RATE
