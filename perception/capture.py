"""The capture record: what the screen recorder saves beside each picture (``NAME.json`` beside
``NAME.webp``), typed and versioned. The recorder writes it with :func:`write_capture`; the
indexer (``perception/screens.py``) and the app (``apps/desktop/``) read it with
:func:`read_sidecar` only — one reading of times (a time without a zone is UTC), one check of types.

A sidecar may also come from elsewhere (a user's ``{"time", "app", "window"}`` beside a
screenshot); a field of a wrong type is dropped with a warning naming the file, never raised.

Writes are atomic: the picture and the sidecar are written to hidden temporary files in the same
folder and fsynced, then the sidecar is renamed into place, then the picture, then the folder is
fsynced. A recorder killed at any moment leaves either a whole capture or hidden leftovers
(``.NAME.webp.tmp``, ``.NAME.json.tmp``): a reader never sees half a picture or half a sidecar;
:func:`unfinished` names the leftovers (the indexer warns about them) and :func:`finish_writes`
(the recorder, when it starts) completes a capture whose sidecar was placed — its picture was
whole and fsynced before that — and removes the rest.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SIDECAR_VERSION = 1
OcrLines = tuple[tuple[str, float, tuple[tuple[float, float], ...]], ...]  # (text, score, box) each
# wall-clock times a capture can have: 1970 to 2200 (a larger number is no time: 1e308, NaN, inf)
LATEST = 7258118400.0
_LEFTOVER = re.compile(r"^\.(?P<stem>.+)\.(?P<kind>webp|json)\.tmp$")


@dataclass(frozen=True)
class Skipped:
    """A file not used as it is, and why (a one-line warning naming it)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Patch:
    """The picture holds only the rows that changed: they go at ``top`` of ``base`` (a picture
    of the same folder, ``width`` x ``height``)."""

    base: str
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class CaptureSidecar:
    time: float | None  # seconds since the epoch, UTC; None: the sidecar gives no usable time
    app: str | None = None
    window: str | None = None
    ocr: OcrLines | None = None  # the lines the recorder read (redacted); None: not read when saved
    monitor: int | None = None
    redacted: tuple[str, ...] = ()  # kinds of secret replaced in the text
    blacked_out: int = 0  # secret boxes blacked out in the picture
    read: str | None = None  # "full" | "band": what the recorder's OCR read of this capture
    patch: Patch | None = None
    schema_version: int = SIDECAR_VERSION  # 0: written before the record had a version
    dropped: tuple[str, ...] = ()  # fields present in the file but unusable (their type or value)

    @property
    def recorded(self) -> bool:
        """A screen recorder's capture: a time and the text it read (its picture may be gone)."""
        return self.time is not None and self.ocr is not None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"schema_version": self.schema_version, "time": self.time, "app": self.app,
                               "window": self.window, "monitor": self.monitor}
        if self.ocr is not None:
            doc["ocr"] = [{"text": t, "score": s, "box": [[x, y] for x, y in box]} for t, s, box in self.ocr]
        doc.update({"redacted": list(self.redacted), "blacked_out": self.blacked_out, "read": self.read})
        if self.patch is not None:
            doc["patch"] = {"base": self.patch.base, "top": self.patch.top, "width": self.patch.width,
                            "height": self.patch.height}
        return doc

    @classmethod
    def from_json(cls, doc: object, path: Path, warn: list[Skipped] | None = None) -> CaptureSidecar | None:
        """The record of a decoded sidecar; None (with a warning) when it is not a JSON object.
        Each field of a wrong type or impossible value is dropped; the drop is warned about
        for the fields a user's sidecar has (time, app, window), the recorder's own are
        recorded in ``dropped``."""
        if not isinstance(doc, dict):
            _warn(warn, path, f"sidecar is a JSON {type(doc).__name__}, not an object: ignored")
            return None
        dropped, problems = [], []
        time = parse_time(doc.get("time"))
        if doc.get("time") is not None and time is None:
            dropped.append("time")
            problems.append(f"'time' {_show(doc['time'])} is not a time")
        text: dict[str, str | None] = {}
        for key in ("app", "window"):
            value = doc.get(key)
            if value is not None and not isinstance(value, str):
                dropped.append(key)
                problems.append(f"'{key}' is {type(value).__name__}, not text")
                value = None
            text[key] = value
        if problems:
            _warn(warn, path, f"sidecar field {'; '.join(problems)}: ignored")
        ocr = read_lines(doc.get("ocr"))
        if "ocr" in doc and ocr is None:
            dropped.append("ocr")
        patch = _patch(doc.get("patch"))
        if doc.get("patch") is not None and patch is None:
            dropped.append("patch")
        monitor = doc.get("monitor")
        redacted = doc.get("redacted")
        blacked = doc.get("blacked_out")
        version = doc.get("schema_version", 0)
        return cls(
            time, text["app"], text["window"], ocr,
            monitor=monitor if isinstance(monitor, int) and not isinstance(monitor, bool) else None,
            redacted=tuple(r for r in redacted if isinstance(r, str)) if isinstance(redacted, list) else (),
            blacked_out=blacked if isinstance(blacked, int) and not isinstance(blacked, bool) and blacked >= 0 else 0,
            read=doc["read"] if isinstance(doc.get("read"), str) else None,
            patch=patch,
            schema_version=version if isinstance(version, int) and not isinstance(version, bool) else 0,
            dropped=tuple(dropped),
        )


def _warn(warn: list[Skipped] | None, path: Path, reason: str) -> None:
    if warn is not None:
        warn.append(Skipped(path, reason))


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_time(value: object) -> float | None:
    """Epoch seconds (or milliseconds) or ISO 8601 (no zone: UTC), as epoch seconds; None for
    anything else, including numbers that are no time of a screenshot (NaN, infinite, before
    1970, after 2200)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        t = float(value) / (1000.0 if value > 1e11 else 1.0)
        return t if 0.0 <= t <= LATEST else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        try:
            t = parsed.timestamp()
        except (OverflowError, OSError, ValueError):
            return None
        return t if 0.0 <= t <= LATEST else None
    return None


def read_lines(value: object) -> OcrLines | None:
    """OCR lines a recorder saved with the capture (``[{"text", "score", "box"}]``), or None
    when any of them is not one."""
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            return None
        try:
            box = tuple((float(p[0]), float(p[1])) for p in item.get("box") or ())
            score = float(item.get("score", 1.0))
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        if not math.isfinite(score) or not all(math.isfinite(v) for pt in box for v in pt):
            return None
        out.append((item["text"], score, box))
    return tuple(out)


def _patch(value: object) -> Patch | None:
    if not isinstance(value, dict):
        return None
    base, numbers = value.get("base"), [value.get(k) for k in ("top", "width", "height")]
    if not isinstance(base, str) or not base or "/" in base or "\\" in base or base in (".", ".."):
        return None  # a picture of the same folder, nothing else
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        return None
    top, width, height = numbers
    assert isinstance(top, int) and isinstance(width, int) and isinstance(height, int)
    return Patch(base, top, width, height) if width and height else None


def read_json(path: Path) -> Any:
    """A sidecar's JSON; ValueError for anything that is not (bad bytes, too deep a nesting)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc.reason}") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_sidecar(path: Path, warn: list[Skipped] | None = None) -> CaptureSidecar | None:
    """The sidecar at ``path`` (``NAME.json``), or None when there is none or it cannot be used
    (with a warning naming the file: not JSON, not an object)."""
    try:
        doc = read_json(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _warn(warn, path, f"unreadable sidecar JSON ({str(exc)[:80]}): ignored, other times used")
        return None
    return CaptureSidecar.from_json(doc, path, warn)


# -- atomic writes ------------------------------------------------------------------------------


def _crash_point(name: str) -> None:
    """Where a test kills the recorder mid-write (``MMAGENT_CRASH_AT=capture:<step>``)."""
    if os.environ.get("MMAGENT_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        half = len(data) // 2
        fh.write(data[:half])
        fh.flush()
        _crash_point("capture:mid-file")  # a half file on disk
        fh.write(data[half:])
        fh.flush()
        os.fsync(fh.fileno())


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_capture(folder: Path, stem: str, picture: bytes, suffix: str, sidecar: CaptureSidecar) -> Path:
    """Save one capture (``stem + suffix`` and ``stem.json``) so that no reader ever sees half of
    it (see the module's docstring); returns the picture's path."""
    final_picture, final_sidecar = folder / f"{stem}{suffix}", folder / f"{stem}.json"
    tmp_picture, tmp_sidecar = folder / f".{stem}{suffix}.tmp", folder / f".{stem}.json.tmp"
    _write_synced(tmp_picture, picture)
    _crash_point("capture:picture-written")
    _write_synced(tmp_sidecar, json.dumps(sidecar.to_json()).encode())
    _crash_point("capture:both-written")
    os.replace(tmp_sidecar, final_sidecar)
    _crash_point("capture:sidecar-placed")
    os.replace(tmp_picture, final_picture)
    _sync_folder(folder)
    return final_picture


def unfinished(folder: Path) -> dict[str, list[Path]]:
    """Leftovers of interrupted capture writes in ``folder``, by capture name (its stem)."""
    out: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()) if folder.is_dir() else ():
        if m := _LEFTOVER.match(p.name):
            out.setdefault(m["stem"], []).append(p)
    return out


def finish_writes(folder: Path) -> tuple[int, int]:
    """The recorder's start: each capture whose sidecar was placed gets its picture (whole: it
    was fsynced before the sidecar was renamed); every other leftover is removed. Returns
    (finished, removed)."""
    finished = removed = 0
    for stem, leftovers in unfinished(folder).items():
        for p in leftovers:
            final = p.with_name(p.name[1:-len(".tmp")])
            if final.suffix != ".json" and (folder / f"{stem}.json").is_file() and not final.exists():
                os.replace(p, final)
                finished += 1
            else:
                p.unlink(missing_ok=True)
                removed += 1
    if finished or removed:
        _sync_folder(folder)
    return finished, removed
