"""Decoding by timestamp with PyAV (FFmpeg in the wheel); decord as an optional frame backend.

Each clip is decoded on its own (a seek, then a short forward read): memory stays bounded by one
clip whatever the length of the source, and any split of the clips over processes or machines
decodes exactly the same samples.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import numpy as np
import numpy.typing as npt

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


def _decoded(path: Path, container, stream, offset: float, what: str):  # type: ignore[no-untyped-def]
    """The stream's frames, packet by packet: a packet whose data is damaged (a few flipped bytes)
    is skipped, not the whole file; the stretch it left out is logged once per file and time range.
    Yields (frame, whether damaged data was skipped just before it)."""
    import av

    lost: float | None = None  # where the damaged stretch began
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            if lost is None:
                lost = (float(packet.pts * packet.time_base) - offset) if packet.pts is not None and packet.time_base else -1.0
            continue
        for frame in frames:
            after_gap = lost is not None
            if lost is not None:
                resumed = (frame.time - offset) if frame.time is not None else lost
                _skipped(path, what, lost, resumed)
                lost = None
            yield frame, after_gap
    if lost is not None:
        _skipped(path, what, lost, None)


_WARNED: set[tuple[str, str, float]] = set()
_DAMAGED: list[tuple[str, str]] = []  # (file, what was skipped) since the last take_damaged()


def _skipped(path: Path, what: str, start: float, end: float | None) -> None:
    """Record (and log) the time range a file's damaged data left out, once each: the map stage
    hands these to ``index``, which warns with them (see :func:`take_damaged`)."""
    import logging

    key = (str(path), what, round(start, 1))
    if key in _WARNED:
        return
    _WARNED.add(key)
    if end is not None and end < start:  # frames come out of order (B-frames): the range either way
        start, end = end, start
    where = f"{max(start, 0.0):.1f}-{end:.1f} s" if end is not None else f"{max(start, 0.0):.1f} s to the end"
    reason = f"damaged {what} data at {where}: that stretch skipped, the rest indexed"
    _DAMAGED.append((str(path), reason))
    logging.getLogger(__name__).info("%s: %s", path, reason)


def take_damaged() -> list[tuple[str, str]]:
    """The (file, reason) of every damaged stretch skipped in this process since the last call."""
    out = list(_DAMAGED)
    _DAMAGED.clear()
    return out


def _container_offset(container) -> float:  # type: ignore[no-untyped-def]
    return float(container.start_time) / 1_000_000 if container.start_time else 0.0


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


@dataclass(frozen=True)
class SceneOptions:
    """Scene cuts between the floor-rate samples: a small grey thumbnail every ``step`` seconds;
    a mean change of ``cut`` (0-255) or more from the previous one means a cut lies between them.

    With ``exact`` the cut is placed on its own frame: the frame between the two checks that
    changed most from the one before it (a hard cut's first frame; a dissolve's steepest step).
    That frame and the one before it — the last of the old shot — are both keyframes: what a
    shot shows as it starts and as it ends (a burned-in timecode, a slide's last build) is read
    there, not up to ``step`` seconds later or earlier. The first frame after a clip's end is
    checked too, so a cut at a clip's edge still gives the clip the last frame of its shot."""

    step: float = 1.0
    cut: float = 30.0
    exact: bool = True


def _thumb(image: ImageArray) -> npt.NDArray[np.float32]:
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    return cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)


def _plan(span: Span, interval: float, scene: SceneOptions | None) -> tuple[list[float], list[float]]:
    floor = sample_times(span, interval)
    checks = sample_times(span, scene.step) if scene else []
    return floor, checks


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def clip_frames_pyav(
    path: Path, span: Span, interval: float, max_side: int, scene: SceneOptions | None = None
) -> tuple[list[tuple[float, ImageArray]], frozenset[float], float]:
    """The frames of one clip at ``start + k * interval`` (the first frame at or after each time)
    plus the frames at scene cuts; their times; how far the video decoded. Decoded on its own:
    a seek to the key frame before the clip, then forward."""
    import av

    with _open(path) as container:
        if not container.streams.video:
            return [], frozenset(), 0.0
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        offset = _container_offset(container)
        fps = float(stream.average_rate) if stream.average_rate else 25.0
        if span[0] > 0 and stream.time_base:
            container.seek(int((span[0] + offset) / stream.time_base), stream=stream, backward=True)
            got = _read_frames(path, container, stream, offset, fps, span, interval, max_side, scene, True)
            if got is not None:
                return got
        container.seek(0)
        got = _read_frames(path, container, stream, offset, fps, span, interval, max_side, scene, False)
        assert got is not None
        return got


def _read_frames(  # type: ignore[no-untyped-def]
    path: Path, container, stream, offset: float, fps: float, span: Span, interval: float,
    max_side: int, scene: SceneOptions | None, seeked: bool,
) -> tuple[list[tuple[float, ImageArray]], frozenset[float], float] | None:
    import av

    tolerance = 0.5 / fps
    floor, checks = _plan(span, interval, scene)
    exact = scene is not None and scene.exact
    fi = ci = 0
    out: list[tuple[float, ImageArray]] = []
    cuts: set[float] = set()
    last_thumb = None
    shot: list[tuple[float, Any]] = []  # exact cuts: the last check's frame and every frame since
    t = until = 0.0
    started = False

    def image_of(frame) -> ImageArray:  # type: ignore[no-untyped-def]
        w, h = _fit(frame.width, frame.height, max_side)
        return frame.reformat(width=w, height=h, format="rgb24").to_ndarray()

    try:
        for frame, _ in _decoded(path, container, stream, offset, "video"):
            t = (frame.time - offset) if frame.time is not None else t + 1.0 / fps
            if not started:
                if seeked and t > span[0] + tolerance:
                    return None  # the seek overshot the clip's start
                started = True
            until = max(until, t + 1.0 / fps)
            at = round(max(t, 0.0), 3)
            if t >= span[1] - tolerance and fi == len(floor) and ci == len(checks):
                if exact and shot and last_thumb is not None:  # a cut at the clip's edge
                    image = image_of(frame)
                    if float(np.abs(_thumb(image) - last_thumb).mean()) >= scene.cut:  # type: ignore[union-attr]
                        found, cut = _cut_frames([(tt, image_of(f)) for tt, f in shot] + [(at, image)], span[1] - tolerance)
                        out += found
                        cuts.update(cut)
                break
            due_floor = fi < len(floor) and t >= floor[fi] - tolerance
            due_check = ci < len(checks) and t >= checks[ci] - tolerance
            if not (due_floor or due_check):
                if exact and shot:
                    shot.append((at, frame))
                continue
            image = image_of(frame)
            taken = False
            if due_check:
                thumb = _thumb(image)
                if last_thumb is not None and scene is not None and float(np.abs(thumb - last_thumb).mean()) >= scene.cut:
                    if exact:
                        found, cut = _cut_frames([(tt, image_of(f)) for tt, f in shot] + [(at, image)], span[1])
                        out += found
                        cuts.update(cut)
                        taken = at in cut
                    else:
                        cuts.add(at)
                        out.append((at, image))
                        taken = True
                last_thumb = thumb
                shot = [(at, frame)] if exact else []
                while ci < len(checks) and t >= checks[ci] - tolerance:
                    ci += 1
            elif exact and shot:
                shot.append((at, frame))
            if due_floor:
                if not taken:
                    out.append((at, image))
                while fi < len(floor) and t >= floor[fi] - tolerance:
                    fi += 1
    except av.error.FFmpegError as exc:
        raise CorruptMedia(path, f"truncated or damaged: video decoding failed near {t:.1f} s ({exc.strerror or exc})") from None
    return _in_order(out), frozenset(cuts), until


def _cut_frames(shot: list[tuple[float, ImageArray]], end: float) -> tuple[list[tuple[float, ImageArray]], set[float]]:
    """The cut in ``shot`` (a check's frame, the frames after it, and the next check's, which
    differs): the frame that changed most from the one before it, and that one before it — the
    last frame of the old shot. A frame at or after ``end`` belongs to the next clip and is left
    out. Returns the frames and the cut's time (none when the cut is the next clip's first frame)."""
    thumbs = [_thumb(image) for _, image in shot]
    steps = [float(np.abs(b - a).mean()) for a, b in zip(thumbs, thumbs[1:])]
    k = 1 + int(np.argmax(steps))
    found = [shot[k - 1]]
    cut: set[float] = set()
    if shot[k][0] < end:
        found.append(shot[k])
        cut.add(shot[k][0])
    return found, cut


def _in_order(frames: list[tuple[float, ImageArray]]) -> list[tuple[float, ImageArray]]:
    """Frames sorted by time, one per time (a cut's frames may also be floor-rate samples)."""
    seen: dict[float, ImageArray] = {}
    for at, image in frames:
        seen.setdefault(at, image)
    return sorted(seen.items(), key=lambda x: x[0])


def clip_frames_decord(
    path: Path, span: Span, interval: float, max_side: int, scene: SceneOptions | None = None
) -> tuple[list[tuple[float, ImageArray]], frozenset[float], float]:
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
        return [], frozenset(), 0.0
    starts = reader.get_frame_timestamp(list(range(len(reader))))[:, 0]
    until = float(reader.get_frame_timestamp(len(reader) - 1)[1])
    h0, w0 = reader[0].shape[:2]
    w, h = _fit(w0, h0, max_side)
    if (w, h) != (w0, h0):
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0), width=w, height=h)
    floor, checks = _plan(span, interval, scene)

    def first_at(times: list[float]) -> list[int]:
        return [min(int(np.searchsorted(starts, t - 1e-3)), len(starts) - 1) for t in times]

    picked = {i: False for i in first_at(floor)}
    last_thumb = None
    if scene is not None and checks:
        check_index = sorted(set(first_at(checks)))
        end = int(np.searchsorted(starts, span[1] - 0.5 / _rate(starts)))  # the next clip's first frame
        edge = [end] if scene.exact and end < len(starts) and end > check_index[-1] else []
        images = reader.get_batch(check_index + edge).asnumpy()
        by_index = dict(zip(check_index + edge, images))
        previous = None
        for i in check_index + edge:
            thumb = _thumb(by_index[i])
            if last_thumb is not None and previous is not None and float(np.abs(thumb - last_thumb).mean()) >= scene.cut:
                if scene.exact:  # the frame that changed most since the last check, and the one before it
                    between = list(range(previous, i + 1))
                    thumbs = [_thumb(im) for im in reader.get_batch(between).asnumpy()]
                    k = 1 + int(np.argmax([float(np.abs(b - a).mean()) for a, b in zip(thumbs, thumbs[1:])]))
                    picked.setdefault(between[k - 1], False)
                    if between[k] < end:
                        picked[between[k]] = True
                elif i < end:
                    picked[i] = True
            last_thumb, previous = thumb, i
    order = sorted(picked)
    batch = reader.get_batch(order).asnumpy()
    frames = [(round(float(starts[i]), 3), batch[k]) for k, i in enumerate(order)]
    cuts = frozenset(round(float(starts[i]), 3) for i in order if picked[i])
    return frames, cuts, until


def _rate(starts: npt.NDArray[np.float64]) -> float:
    """Frames per second from the frames' start times."""
    return float((len(starts) - 1) / (starts[-1] - starts[0])) if len(starts) > 1 and starts[-1] > starts[0] else 25.0


FRAME_BACKENDS = {"pyav": clip_frames_pyav, "decord": clip_frames_decord}
