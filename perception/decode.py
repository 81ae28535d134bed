"""Decoding by timestamp with PyAV (FFmpeg in the wheel); decord as an optional frame backend.

Audio and frames are produced per clip by streaming generators: one pass over the file, memory
bounded by one clip plus a little context, whatever the length of the source.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.base import FloatArray, ImageArray
from perception.errors import CorruptMedia, EmptyMedia, MediaNotFound, NotMedia

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


Span = tuple[float, float]


def source_id_for(path: str | Path) -> str:
    """Content hash of the file: the same bytes are the same source wherever they live."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _open(path: Path):  # type: ignore[no-untyped-def]
    import av

    try:
        return av.open(str(path))
    except av.error.InvalidDataError:
        with open(path, "rb") as fh:
            head = fh.read(12)
        if head[4:8] == b"ftyp":  # an MP4 / MOV box header: it was one, but it is broken
            raise CorruptMedia(path, "an MP4/MOV file that cannot be read: truncated or damaged") from None
        raise NotMedia(path, "not a video or audio file (FFmpeg found no known format in it)") from None
    except av.error.FFmpegError as exc:
        raise CorruptMedia(path, f"cannot be opened: {exc.strerror or exc}") from None


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


def sample_times(span: Span, interval: float) -> list[float]:
    start, end = span
    count = max(1, math.ceil((end - start) / interval - 1e-9))
    return [round(start + k * interval, 3) for k in range(count)]


class _Progress:
    """How far decoding got, so a truncated file is told apart from a short one."""

    def __init__(self) -> None:
        self.until = 0.0


def _container_offset(container) -> float:  # type: ignore[no-untyped-def]
    return float(container.start_time) / 1_000_000 if container.start_time else 0.0


def iter_clip_audio(
    path: Path, spans: Sequence[Span], pad: float, progress: _Progress
) -> Iterator[tuple[FloatArray, float]]:
    """Per span: 16 kHz mono float32 covering ``[start - pad, end + pad]``, and its start time."""
    import av

    with _open(path) as container:
        if not container.streams.audio:
            for start, _end in spans:
                yield np.zeros(0, dtype=np.float32), start
            return
        stream = container.streams.audio[0]
        offset = _container_offset(container)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[FloatArray] = []
        base = 0  # global sample index of chunks[0][0]
        total = 0  # global sample index one past the last buffered sample
        pending = list(spans)

        def ready(flush: bool) -> Iterator[tuple[FloatArray, float]]:
            nonlocal chunks, base
            while pending:
                start, end = pending[0]
                lo = max(0, int((start - pad) * SAMPLE_RATE))
                hi = int((end + pad) * SAMPLE_RATE)
                if total < hi and not flush:
                    return
                buf = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
                piece = buf[max(0, lo - base) : max(0, hi - base)].copy()
                pending.pop(0)
                keep_from = int((pending[0][0] - pad) * SAMPLE_RATE) if pending else total
                drop = max(0, min(keep_from, total) - base)
                chunks = [buf[drop:]] if drop < len(buf) else []
                base += drop
                yield piece, max(0.0, start - pad)

        first = True
        try:
            for frame in container.decode(stream):
                if first and frame.time is not None:
                    lead = int(round((frame.time - offset) * SAMPLE_RATE))
                    if lead > 0:  # audio starts late: pad with silence to keep times exact
                        chunks.append(np.zeros(lead, dtype=np.float32))
                        total += lead
                    first = False
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    chunks.append(samples)
                    total += len(samples)
                progress.until = max(progress.until, total / SAMPLE_RATE)
                yield from ready(flush=False)
            for out in resampler.resample(None):
                samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                chunks.append(samples)
                total += len(samples)
        except av.error.FFmpegError as exc:
            raise CorruptMedia(
                path, f"truncated or damaged: audio decoding failed near {total / SAMPLE_RATE:.1f} s ({exc.strerror or exc})"
            ) from None
        progress.until = max(progress.until, total / SAMPLE_RATE)
        yield from ready(flush=True)


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def iter_clip_frames_pyav(
    path: Path, spans: Sequence[Span], interval: float, max_side: int, progress: _Progress
) -> Iterator[list[tuple[float, ImageArray]]]:
    """Per span: the frames at ``start + k * interval`` (the first frame at or after each time)."""
    import av

    with _open(path) as container:
        if not container.streams.video:
            for _ in spans:
                yield []
            return
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        offset = _container_offset(container)
        fps = float(stream.average_rate) if stream.average_rate else 25.0
        tolerance = 0.5 / fps
        plan = [sample_times(span, interval) for span in spans]
        span_i, sample_i = 0, 0
        current: list[tuple[float, ImageArray]] = []
        t = 0.0
        try:
            for frame in container.decode(stream):
                t = (frame.time - offset) if frame.time is not None else t + 1.0 / fps
                progress.until = max(progress.until, t + 1.0 / fps)
                taken = False
                while span_i < len(plan) and sample_i < len(plan[span_i]):
                    if t < plan[span_i][sample_i] - tolerance:
                        break
                    if not taken:
                        w, h = _fit(frame.width, frame.height, max_side)
                        image = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
                        current.append((round(max(t, 0.0), 3), image))
                        taken = True
                    sample_i += 1
                    if sample_i == len(plan[span_i]):
                        yield current
                        current, span_i, sample_i = [], span_i + 1, 0
                if span_i == len(plan):
                    # all samples taken: keep demuxing only to learn how far the file decodes
                    continue
        except av.error.FFmpegError as exc:
            raise CorruptMedia(path, f"truncated or damaged: video decoding failed near {t:.1f} s ({exc.strerror or exc})") from None
        while span_i < len(plan):
            yield current
            current, span_i = [], span_i + 1


def iter_clip_frames_decord(
    path: Path, spans: Sequence[Span], interval: float, max_side: int, progress: _Progress
) -> Iterator[list[tuple[float, ImageArray]]]:
    """The same frames through decord's random access (optional backend: ``pip install decord``)."""
    try:
        import decord
    except ImportError:
        from models.errors import ModelNotInstalled

        raise ModelNotInstalled("decord==0.6.0", "decoder") from None
    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0))
    except decord.DECORDError as exc:
        raise CorruptMedia(path, f"decord cannot read it ({exc})") from None
    if len(reader) == 0:
        for _ in spans:
            yield []
        return
    starts = reader.get_frame_timestamp(list(range(len(reader))))[:, 0]
    progress.until = float(reader.get_frame_timestamp(len(reader) - 1)[1])
    h0, w0 = reader[0].shape[:2]
    w, h = _fit(w0, h0, max_side)
    if (w, h) != (w0, h0):
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0), width=w, height=h)
    for span in spans:
        times = sample_times(span, interval)
        index = [min(int(np.searchsorted(starts, t - 1e-3)), len(starts) - 1) for t in times]
        batch = reader.get_batch(index).asnumpy()
        yield [(round(float(starts[i]), 3), batch[k]) for k, i in enumerate(index)]


FRAME_BACKENDS = {"pyav": iter_clip_frames_pyav, "decord": iter_clip_frames_decord}
