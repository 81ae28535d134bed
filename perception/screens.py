"""Screenshot folders as sources: each image is a capture with a wall-clock time and, when known,
the application and window title. Captures go through the same clip / keyframe / OCR path as video
frames, with times in seconds from the first capture and the wall clock kept beside them.

Capture time, in this order: a sidecar ``NAME.json`` (``{"time": ISO-8601 or epoch seconds,
"app": ..., "window": ...}``), the EXIF DateTimeOriginal / DateTime, a date-time or epoch in the
file name (``2024-05-01_14-03-22.png``, ``1714572202.png``), the file's modification time.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from models.base import OCR, ImageArray
from perception.errors import EmptyMedia, MediaNotFound, NotMedia
from perception import layout
from perception.capture import LATEST as _LATEST
from perception.capture import OcrLines, Skipped, read_sidecar, unfinished
from perception.keyframes import ChangeDetector, ChangeOptions, signature, text_mask
from perception.records import ClipObservation, Keyframe, OcrLine
from perception.secrets import redact, redact_ocr

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
_STAMP = re.compile(r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})[T _-]?(\d{2})[-_.:h]?(\d{2})[-_.:m]?(\d{2})")
_EPOCH = re.compile(r"(?<!\d)(1\d{9})(\d{3})?(?!\d)")


@dataclass(frozen=True)
class Capture:
    path: Path
    wall_time: float  # seconds since the epoch, UTC
    time_from: str  # "sidecar" | "exif" | "filename" | "mtime"
    app: str | None = None
    window: str | None = None
    ocr: OcrLines | None = None  # lines a recorder already read
    image_kept: bool = True  # False: retention dropped the picture, its text and times stay


def _exif_time(path: Path) -> float | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            exif = image.getexif()
            raw = exif.get_ifd(0x8769).get(36867) or exif.get(306)  # DateTimeOriginal, DateTime
    except (OSError, UnidentifiedImageError):
        return None
    if not raw:
        return None
    try:
        return datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _name_time(name: str) -> float | None:
    if m := _STAMP.search(name):
        try:
            return datetime(*map(int, m.groups()), tzinfo=timezone.utc).timestamp()  # type: ignore[misc]
        except ValueError:
            return None
    if m := _EPOCH.search(name):
        return int(m.group(1)) + (int(m.group(2)) / 1000 if m.group(2) else 0.0)
    return None


# a picture larger than this many pixels is refused before its pixels are decoded (a
# decompression bomb: a 20000 x 20000 PNG of a few KB decodes to 1.2 GB); 8K by 4K screens pass
MAX_PIXELS = 80_000_000


def _unreadable(path: Path) -> str | None:
    """Why the image cannot be opened (the header is checked, not the pixels), or None."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return f"{width} x {height} pixels, more than a screen ({MAX_PIXELS:,} at most)"
                image.verify()
    except Image.DecompressionBombError:
        return "more pixels than a screen (decompression bomb)"
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, EOFError) as exc:
        return str(exc).split(" '")[0] or type(exc).__name__
    return None


def _not_a_file(path: Path) -> str | None:
    """Why a folder entry named like a picture cannot be read as a file (a link to itself or to
    nothing, a folder, a device), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if path.is_symlink():
            return "a link that leads nowhere (a loop, or its target is gone)"
        return exc.strerror or type(exc).__name__
    import stat

    return None if stat.S_ISREG(mode) else "not a regular file"


def _recorded(path: Path) -> bool:
    sidecar = read_sidecar(path)
    return sidecar is not None and sidecar.recorded


def capture_folders(folder: Path) -> list[Path]:
    """The folders to index as screen sources: the folder itself when it holds screenshots, else
    its sub-folders that do (the recorder writes one folder per day), in name order."""
    def holds(f: Path) -> bool:
        return any(p.suffix.lower() in IMAGE_SUFFIXES or (p.suffix == ".json" and _recorded(p))
                   for p in f.iterdir() if p.is_file())

    if not folder.is_dir() or holds(folder):
        return [folder]
    days = sorted(f for f in folder.iterdir() if f.is_dir() and not f.name.startswith(".") and holds(f))
    return days or [folder]


def list_captures(folder: Path) -> tuple[list[Capture], list[Skipped]]:
    """The folder's screenshots in time order, and the files that could not be used (or whose
    sidecar fields were ignored: a wrong type, a time that is none; or that a recorder stopped
    mid-write left: never read, whole or not)."""
    if not folder.exists():
        raise MediaNotFound(folder, "no such folder")
    captures, skipped = [], []
    files = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in IMAGE_SUFFIXES or p.suffix == ".json":
            if (why := _not_a_file(p)) is None:
                files.append(p)
            elif not p.is_dir():
                skipped.append(Skipped(p, why))
    pending = unfinished(folder) if folder.is_dir() else {}
    for leftovers in pending.values():
        skipped += [Skipped(p, "left by a capture write that did not finish (the recorder was stopped "
                               "mid-write; it completes or removes such files when it starts): ignored")
                    for p in leftovers]
    sidecars = {}
    for p in files:
        if p.suffix == ".json":
            notes: list[Skipped] = []
            sidecars[p] = (read_sidecar(p, notes), notes)
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    # a recorder's capture whose picture retention dropped: its sidecar (time, window, read text) stays
    names = {p.stem for p in images}
    kept = []
    for p, (record, notes) in sidecars.items():
        if p.stem in names or record is None or not record.recorded:
            continue
        if p.stem in pending:  # its picture is not in place yet: the capture is being (or was not) written
            skipped.append(Skipped(p, "its picture is not in place yet (being written, or the recorder was "
                                      "stopped mid-write): left for a later pass"))
            continue
        skipped += notes
        kept.append((p, record))
    if not images and not kept:
        raise NotMedia(folder, f"has no screenshots ({', '.join(sorted(IMAGE_SUFFIXES))})")
    for sidecar, record in kept:
        assert record.time is not None
        captures.append(Capture(sidecar.with_suffix(".webp"), record.time, "sidecar", record.app, record.window,
                                record.ocr, image_kept=False))
    for path in images:
        record, notes = sidecars.get(path.with_suffix(".json"), (None, []))
        skipped += notes
        lines = record.ocr if record is not None and record.recorded else None
        if path.stat().st_size == 0:
            skipped.append(Skipped(path, "empty file"))
            continue
        if lines is None and (problem := _unreadable(path)) is not None:  # a recorder's capture was read when saved
            skipped.append(Skipped(path, f"unreadable image ({problem})"))
            continue
        app = window = None
        wall, source = None, ""
        if record is not None:
            wall, source = record.time, "sidecar"
            app, window = record.app, record.window
        if wall is None:
            wall, source = _exif_time(path), "exif"
        if wall is None:
            wall, source = _name_time(path.name), "filename"
        if wall is None:
            wall, source = _mtime(path), "mtime"
        captures.append(Capture(path, wall, source, app, window, lines))
    if not captures:
        raise EmptyMedia(folder, "none of its screenshots can be read")
    captures.sort(key=lambda c: (c.wall_time, c.path.name))
    return captures, skipped


def _mtime(path: Path) -> float:
    """The file's modification time, within the times a capture can have (a file touched to a
    date beyond them gets the latest)."""
    t = path.stat().st_mtime
    return min(max(t, 0.0), _LATEST) if math.isfinite(t) else 0.0


def folder_source_id(folder: Path) -> str:
    """A screen source is its folder: captures added later update the same source."""
    return "screens-" + hashlib.blake2b(str(folder.resolve()).encode(), digest_size=12).hexdigest()


def screens_source_id(captures: list[Capture]) -> str:
    """Content hash over the captures' bytes and times: the same screenshots, the same hash
    (a folder whose hash changed has new captures: its memories are brought up to date)."""
    digest = hashlib.blake2b(digest_size=16)
    for c in captures:
        # a recorder's capture is its sidecar (what was read, redacted): the same when the picture is dropped
        data = c.path.with_suffix(".json").read_bytes() if c.ocr is not None else c.path.read_bytes()
        digest.update(hashlib.blake2b(data, digest_size=16).digest())
        # whether its picture is there: one dropped by retention, or not yet renamed into place when
        # a pass read the folder, changes what the memories cite
        digest.update(f"{c.wall_time:.3f}{int(c.image_kept)}".encode())
    return digest.hexdigest()


def open_capture(path: Path) -> Any:
    """A capture's picture as a PIL RGB image. A recorder saves a change inside a window as the
    changed rows alone (its sidecar's ``patch``: the whole picture it applies to, and where):
    the two are put together here. Raises OSError when a picture is missing or unreadable."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            if image.mode == "P" and "transparency" in image.info:  # through RGBA: the same colours, no warning
                image = image.convert("RGBA")
            rgb = image.convert("RGB")
        record = read_sidecar(path.with_suffix(".json"))
        if record is not None and record.recorded and "patch" in record.dropped:
            raise OSError(f"{path.name}: its sidecar's patch record is unreadable (the picture holds changed rows only)")
        patch = record.patch if record is not None and record.recorded else None
        if patch is not None:
            with Image.open(path.with_name(patch.base)) as base:
                whole = base.convert("RGB")
            if whole.size != (patch.width, patch.height):
                raise OSError(f"{patch.base} is not the picture {path.name} was saved against")
            whole.paste(rgb, (0, patch.top))
            rgb = whole
    except (UnidentifiedImageError, Image.DecompressionBombError, ValueError) as exc:
        raise OSError(f"{path.name}: {exc}") from None
    return rgb


def load_image(path: Path, max_side: int) -> tuple[ImageArray | None, str]:
    """The image as RGB (shrunk to ``max_side``), or None and why it could not be decoded."""
    try:
        rgb = open_capture(path)
    except OSError as exc:
        return None, str(exc)
    scale = min(1.0, max_side / max(rgb.size))
    if scale < 1.0:
        rgb = rgb.resize((int(rgb.width * scale), int(rgb.height * scale)))
    return np.asarray(rgb), ""


def screen_clips(
    captures: list[Capture], source_id: str, clip_seconds: float, ocr: OCR | None, max_side: int,
    skipped: list[Skipped], change: ChangeOptions = ChangeOptions(max_staleness=0.0),
) -> Iterator[ClipObservation]:
    """One ClipObservation per window of ``clip_seconds`` that holds captures. Any change on a
    screen is worth reading (``max_staleness=0``): a changed cell matters as much as a new slide."""
    if not captures:
        raise ValueError("screen_clips needs at least one capture (list_captures gives none empty)")
    t0 = captures[0].wall_time
    windows: dict[int, list[Capture]] = {}
    for c in captures:
        windows.setdefault(int((c.wall_time - t0) // clip_seconds), []).append(c)
    for index in sorted(windows):
        detector = ChangeDetector(change)
        keyframes = []
        for c in windows[index]:
            t = round(c.wall_time - t0, 3)
            if c.window:  # a title can hold a secret too (a URL with a token, a file named after a key)
                c = replace(c, window=redact(c.window)[0])
            if c.ocr is not None:  # read (and redacted) by the screen recorder: never decoded or read again
                lines = redact_ocr(tuple(OcrLine(t, text, score, box) for text, score, box in c.ocr))
                keyframes.append(Keyframe(t, True, lines, str(c.path) if c.image_kept else None, c.app, c.window,
                                          layout=layout.read(lines).lines()))
                continue
            image, problem = load_image(c.path, max_side)
            if image is None:  # the header was fine (list_captures checked it), the pixels are not
                skipped.append(Skipped(c.path, f"unreadable image ({problem})"))
                continue
            sig = signature(image)
            if ocr is None or not detector.should_read(t, sig):
                keyframes.append(Keyframe(t, False, image=str(c.path), app=c.app, window=c.window))
                continue
            boxes = ocr.read(image)
            h, w = image.shape[:2]
            detector.mark_read(t, sig, text_mask([b.box for b in boxes], w, h))
            lines = redact_ocr(tuple(OcrLine(t, b.text, round(b.score, 4), b.box) for b in boxes))
            # the layout is read from the redacted lines: nothing it renders can hold a secret
            keyframes.append(Keyframe(t, True, lines, str(c.path), c.app, c.window, layout=layout.read(lines, image).lines()))
        start = index * clip_seconds
        end = round(max(start + 1.0, (windows[index][-1].wall_time - t0) + 1.0), 3)
        yield ClipObservation(
            source_id, index, float(start), min(end, start + clip_seconds), keyframes=tuple(keyframes),
            producer={"ocr": ocr.model_id if ocr else None}, wall_start=t0 + start,
        )
