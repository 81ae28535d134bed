"""A clip's frames by timestamp (``perception.decode``): the floor-rate samples plus the frames at
scene cuts, with PyAV (a seek to the key frame before the clip, then forward) or decord's random
access (optional backend)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.base import ImageArray
from perception.decode_base import Span, _container_offset, _decoded, _open
from perception.errors import CorruptMedia


def sample_times(span: Span, interval: float) -> list[float]:
    start, end = span
    count = max(1, math.ceil((end - start) / interval - 1e-9))
    return [round(start + k * interval, 3) for k in range(count)]


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
