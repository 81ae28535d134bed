"""What the audio and frame readers of ``perception.decode`` share: opening a file (a one-line
error for what is not media), the packets of a stream decoded with damaged ones skipped (and the
stretch they left out recorded once), and the container's start time."""

from __future__ import annotations

from pathlib import Path

from perception.errors import CorruptMedia, NotMedia

Span = tuple[float, float]


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
