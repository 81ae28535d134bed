"""One screen capture as the app shows it (its picture and sidecar), and the text helpers of
the result lists."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

DROPPED = "picture dropped by retention"


@dataclass(frozen=True)
class CaptureInfo:
    """One capture as the app shows it."""

    path: Path  # the picture (NAME.webp); may be gone (retention)
    time: float  # epoch seconds
    app: str | None = None
    window: str | None = None
    text: str = ""  # what the recorder read (redacted)
    image_kept: bool = True
    redacted: tuple[str, ...] = ()
    patch: Mapping[str, Any] | None = None  # the picture holds only changed rows: {"base", "top", "width", "height"}

    @property
    def title(self) -> str:
        return " — ".join(x for x in (self.app, self.window) if x) or "unknown window"


def read_capture(path: Path) -> CaptureInfo:
    """A capture from its picture path (NAME.webp) and its sidecar NAME.json, either may be gone
    (the sidecar is read by perception.capture, as the indexer reads it: the same times)."""
    from dataclasses import asdict

    from perception.capture import read_sidecar

    path = Path(path)
    sidecar = path.with_suffix(".json")
    record = read_sidecar(sidecar)
    kept = path.is_file()
    when = record.time if record is not None else None
    if when is None:
        when = path.stat().st_mtime if kept else (sidecar.stat().st_mtime if sidecar.is_file() else 0.0)
    text = "\n".join(line[0] for line in record.ocr) if record is not None and record.ocr else ""
    if record is None:
        return CaptureInfo(path, when, image_kept=kept)
    patch = asdict(record.patch) if record.patch is not None else None
    return CaptureInfo(path, when, record.app, record.window, text, kept, record.redacted, patch)


def snippet(text: str, query: str, width: int = 180) -> str:
    """The part of ``text`` around the first word of ``query`` it holds, on one line."""
    flat = " ".join(text.split())
    low = flat.lower()
    hits = [low.find(w) for w in re.findall(r"\w+", query.lower()) if len(w) > 2 or w.isdigit()]
    pos = min((h for h in hits if h >= 0), default=0)
    start = max(0, pos - width // 3)
    if start:  # begin at a word
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < pos else start
    out = flat[start:start + width]
    return ("…" if start else "") + out + ("…" if start + width < len(flat) else "")


def fmt_span(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def evidence_line(e: Mapping[str, Any]) -> str:
    """Where and when a piece of evidence is, for a list: a capture's time, app and window; a
    video's file and time span."""
    if e.get("wall_time") is not None:
        when = datetime.fromtimestamp(float(e["wall_time"])).strftime("%Y-%m-%d %H:%M:%S")
        where = " — ".join(x for x in (e.get("app"), e.get("window")) if x)
        if not where:
            where = Path(e["image"]).name if e.get("image") else Path(str(e.get("path", ""))).name
        return f"{when} · {where}" + (f" ({DROPPED})" if e.get("dropped") or not e.get("image") else "")
    return f"{e.get('path', '')} · {fmt_span(float(e.get('start', 0.0)))}–{fmt_span(float(e.get('end', 0.0)))}"
