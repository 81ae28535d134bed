"""The screen recorder's settings and the status it writes (``status.json``, read by
``apps/screen_control.py``), with this process's memory for it."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

from apps.screen_privacy import DEFAULT_RULES, PrivacyRules


@dataclass(frozen=True)
class RecorderSettings:
    interval: float = 2.0  # seconds between captures
    quality: int = 50  # WebP quality of saved pictures
    max_side: int = 1600  # saved pictures are scaled down to this (their text was read before, at ocr_max_side)
    ocr_max_side: int = 1920  # captures are read (OCR) at up to this size
    patch_most: float = 0.5  # a capture differing from its window's last whole picture in a band up to this
    # fraction of the height is saved as that band (a patch on that picture); larger changes save a whole picture
    tile_threshold: float = 1.5  # mean grey difference (0-255) of a thumbnail tile that counts as a change
    min_free_mb: int = 500  # below this free disk space, capture pauses
    retention_days: float = 30.0  # pictures older than this are dropped (their sidecar text and memories stay); 0 keeps all
    focus_poll: float = 0.25  # seconds between looks at the focused window (a change captures at once)
    stall_after: float = 60.0  # no finished capture round for this long while recording: the loop is restarted
    same_window_gap: float = 20.0  # changes in the same window (typing, scrolling, a video) are stored at most this
    # often; the latest state is never lost (it is compared with the last stored capture and stored once the gap has
    # passed); a new window is stored at once
    rules: PrivacyRules = DEFAULT_RULES


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, RecorderSettings]:
    """The recorder process's command line (``python -m apps.screen_recorder``; apps/screen_control.py
    builds it): its options, and the settings they make."""
    parser = argparse.ArgumentParser(description="mmagent's screen recorder (see mmagent screen)")
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=RecorderSettings.interval)
    parser.add_argument("--seconds", type=float, help="stop after this long (default: until stopped)")
    parser.add_argument("--rules", type=Path, help="privacy rules JSON (excluded apps, title patterns)")
    parser.add_argument("--retention-days", type=float, default=RecorderSettings.retention_days,
                        help="drop pictures older than this many days (their text and memories stay); 0 keeps all")
    parser.add_argument("--gap", type=float, default=RecorderSettings.same_window_gap,
                        help="changes inside the same window are stored at most this often, in seconds (the latest is kept)")
    parser.add_argument("--stall-after", type=float, default=RecorderSettings.stall_after,
                        help="seconds without a capture round while recording before the capture loop is restarted")
    parser.add_argument("--store", type=Path, help="index the captures into this store in the background and serve "
                                                   "it (ask, search) to the CLI and the app over a local socket")
    parser.add_argument("--index-every", type=float, default=15.0, help="seconds between background indexing passes")
    args = parser.parse_args(argv)
    rules = PrivacyRules.from_json(json.loads(args.rules.read_text())) if args.rules else DEFAULT_RULES
    return args, RecorderSettings(interval=args.interval, rules=rules, same_window_gap=args.gap,
                                  retention_days=args.retention_days, stall_after=args.stall_after)


@dataclass
class Status:
    pid: int = 0
    started: float = 0.0
    captured: int = 0  # grabs taken
    unchanged: int = 0  # grabs dropped: the screen had not changed
    deferred: int = 0  # grabs held back: a change in the same window soon after its last stored capture
    excluded: int = 0  # grabs dropped: a private or excluded window
    stored: int = 0  # captures written
    redacted: int = 0  # captures with a secret blacked out
    focus_changes: int = 0  # captures taken at once because the focused window changed
    dropped: int = 0  # pictures deleted by retention (their text and memories stay)
    last_capture: float | None = None  # when the last capture was stored
    last_round: float | None = None  # when the capture loop last finished a round (a grab, or a pause seen)
    stall_after: float = 60.0  # the recorder's setting: readers judge a stall by it too
    stalled: str | None = None  # capture stalled while recording (the loop was restarted), or None
    restarts: int = 0  # capture loops restarted after a stall
    paused: str | None = None  # why capture is paused, or None
    error: str | None = None
    warning: str | None = None  # e.g. the focused window cannot be read here (title rules cannot apply)
    recovered: str | None = None  # what this start found of captures a killed run was saving
    rss_mb: float | None = None  # the recorder process's resident memory (models included), now
    private_mb: float | None = None  # ... of which its own (not shared library pages)
    # the background indexer (apps/screen_indexer.py), when the recorder has a store
    indexing: bool = False
    indexed: int = 0  # captures made searchable
    queue: int = 0  # captures stored, not yet searchable
    lag: float = 0.0  # seconds the oldest capture in the queue has waited
    last_indexed: float | None = None  # when the last indexing pass that indexed anything ended
    last_index_pass: float | None = None  # when the indexer last looked for new captures
    index_seconds: float | None = None  # how long the last indexing pass took
    index_error: str | None = None


def process_rss_mb() -> float | None:
    """This process's resident memory now (Linux /proc; None elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def process_private_mb() -> float | None:
    """The part of it that is this process's own (not the shared libraries' pages: torch's alone
    are a few hundred MB of RSS that any other process using them shares)."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:])
        kb = int(fields["Private_Clean"].split()[0]) + int(fields["Private_Dirty"].split()[0])
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return round(kb / 1024, 1)
