"""The capture folder of the screen recorder (``apps/screen_recorder.py``): one folder per day
(``YYYY-MM-DD``) of WebP pictures with their sidecar JSON. Captures a killed recorder left
half-written are completed or removed (:func:`finish_folder_writes`); the pictures of days past
the retention are deleted, their sidecars kept (:func:`drop_pictures`)."""

from __future__ import annotations

import time
from pathlib import Path

from perception.capture import finish_writes

__all__ = ["drop_pictures", "finish_folder_writes"]


def finish_folder_writes(folder: Path) -> tuple[int, int]:
    """(captures completed, unfinished files removed) over the day folders
    (:func:`perception.capture.finish_writes`: one whose sidecar was placed is completed)."""
    finished = removed = 0
    for day in sorted(folder.iterdir()) if folder.is_dir() else ():
        if day.is_dir():
            done, gone = finish_writes(day)
            finished, removed = finished + done, removed + gone
    return finished, removed


def drop_pictures(folder: Path, days: float, now: float) -> int:
    """Delete the pictures of the day folders that ended ``days`` or more before ``now`` (none
    when ``days`` <= 0); returns how many."""
    if days <= 0 or not folder.is_dir():
        return 0
    limit = now - days * 86400
    dropped = 0
    for day in folder.iterdir():
        try:
            end = time.mktime(time.strptime(day.name, "%Y-%m-%d")) + 86400
        except ValueError:
            continue
        if day.is_dir() and end <= limit:
            for picture in day.glob("*.webp"):
                picture.unlink(missing_ok=True)
                dropped += 1
    return dropped
