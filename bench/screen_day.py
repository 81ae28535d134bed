"""Storage and indexing for a scripted 8-hour working day of screen capture, on this machine.

    .venv/bin/python -m bench.screen_day [--hours 8] [--seed 0] [--ocr oracle|real]

A seeded script drives the real recorder (apps/screen_recorder.py: change detection, the
same-window gap, redaction, WebP + sidecar) tick by tick on a simulated clock, every 2 s from
09:00: typing in an editor and a mail, reading a web page (scrolling), a team chat, a spreadsheet
and a video call (the real OmniParser screenshots of Excel, Teams, Word, a Google page, with
live edits drawn on them), a private browser window (excluded), a lunch break with a locked
screen. Then the day folder is indexed into a fresh store (the real embedder), and one more
capture is added and indexed the way the background indexer does late in the day.

Reported: captures grabbed / stored / deferred / excluded, bytes on disk (pictures, sidecars,
the store), the projection per month (22 working days), the time to index the day, and the
time of one background indexing pass at the end of the day (what a new change waits for).

``--ocr oracle`` (default): the text each capture shows is what the script drew (the real
screenshots' text read once by the real OCR and cached), so an 8-hour day runs in minutes;
``--ocr real`` reads every stored capture with the real OCR (about 1.3 CPU-s each here).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(os.environ.get("MMAGENT_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
W, H = 1920, 1080
START = time.mktime((2026, 11, 23, 9, 0, 0, 0, 0, -1))  # a Monday, 09:00 local time


def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


class Scene:
    """One app window: a base picture (blank or a real screenshot) and lines of text drawn on it."""

    def __init__(self, app: str, title: str, base: str | None, rng: random.Random) -> None:
        self.app, self.title, self.rng = app, title, rng
        self.base = base
        self.lines: list[str] = []
        self.scroll = 0
        self.version = 0

    def change(self, kind: str) -> None:
        words = ["invoice", "budget", "release", "customer", "schedule", "report", "review", "deploy", "meeting",
                 "estimate", "contract", "draft", "ticket", "migration", "forecast", "Globex", "Initech", "Vega"]
        if kind == "type" and self.lines:
            self.lines[-1] += " " + self.rng.choice(words)
            if len(self.lines[-1]) > 70:
                self.lines.append(f"{self.rng.randrange(100, 9999)} {self.rng.choice(words)}")
        elif kind == "line" or not self.lines:
            self.lines.append(f"{self.rng.choice(words).capitalize()} {self.rng.randrange(10, 9999)} "
                              f"{self.rng.choice(words)} {self.rng.choice(words)}")
        elif kind == "scroll":
            self.scroll += 1
        self.lines = self.lines[-14:]
        self.version += 1

    def render(self, base_images: dict[str, Any]) -> tuple[np.ndarray, list[tuple[str, tuple]]]:
        from PIL import Image, ImageDraw

        if self.base:
            image = base_images[self.base].copy()
        else:
            image = Image.new("RGB", (W, H), (250, 250, 252))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, W, 40), fill=(40, 44, 52))
        draw.text((16, 8), f"{self.app} - {self.title}", fill="white", font=_font(22))
        drawn = [(f"{self.app} - {self.title}", (16, 8, 700, 32))]
        top = 120 if not self.base else 640
        if self.base:
            draw.rectangle((30, top - 10, 1200, top + 14 * 30), fill=(255, 255, 255))
        for k, line in enumerate(self.lines[-(14 if not self.base else 12):]):
            y = top + k * (60 if not self.base else 30)
            text = f"{line}" if not self.scroll else f"{line} (p{self.scroll})"
            draw.text((40, y), text, fill=(20, 20, 20), font=_font(30 if not self.base else 22))
            drawn.append((text, (40, y, 40 + 16 * len(text), y + 34)))
        return np.asarray(image), drawn


ACTIVITIES = [  # app, title, base screenshot, changes per tick: (kind, probability)
    ("Code", "billing.py - Visual Studio Code", None, [("type", 0.45), ("line", 0.05), ("scroll", 0.01)], 3),
    ("Mail", "Re: contract renewal - Mail", None, [("type", 0.4), ("line", 0.04)], 2),
    ("Firefox", "Release notes - Mozilla Firefox", "google_page.png", [("scroll", 0.06)], 2),
    ("Chat", "#team - Chat", None, [("line", 0.05)], 2),
    ("Excel", "Forecast.xlsx - Excel", "excel.png", [("type", 0.15), ("line", 0.03)], 2),
    ("Word", "Proposal.docx - Word", "word.png", [("type", 0.35), ("line", 0.04)], 1),
    ("Teams", "Weekly sync - Microsoft Teams", "teams.png", [("line", 0.5)], 1),  # a call: tiles change all the time
    ("Firefox", "Bank - Mozilla Firefox Private Browsing", None, [("scroll", 0.05)], 0),  # excluded (weight set below)
]


class Oracle:
    """The text of the frame on screen, as the OCR reads it: the lines the script drew, plus the
    real OCR's reading of the real screenshot underneath (read once, cached)."""

    def __init__(self, real: Any, base_images: dict[str, Any]) -> None:
        self.real = real
        self.base_text: dict[str, list[Any]] = {}
        self.base_images = base_images
        self.current: tuple[str | None, list[tuple[str, tuple]]] = (None, [])

    def read(self, image: np.ndarray) -> list[Any]:
        from models.base import TextBox

        base, drawn = self.current
        boxes = []
        if base:
            if base not in self.base_text:
                self.base_text[base] = self.real.read(np.asarray(self.base_images[base]))
            boxes += [b for b in self.base_text[base] if min(p[1] for p in b.box) < 630]
        for text, (x0, y0, x1, y1) in drawn:
            boxes.append(TextBox(text, 0.97, ((x0, y0), (x1, y0), (x1, y1), (x0, y1))))
        return boxes


def script_day(rng: random.Random, hours: float) -> list[tuple[float, int]]:
    """(start offset in seconds, activity index) segments; -1 is the locked screen at lunch."""
    segments, t, end = [], 0.0, hours * 3600
    weights = [w for *_, w in ACTIVITIES]
    weights[-1] = 0.15  # a private window now and then
    while t < end:
        if 3 * 3600 <= t < 3.75 * 3600:  # lunch, 12:00 - 12:45: the screen is locked
            segments.append((t, -1))
            t = 3.75 * 3600
            continue
        if 6 * 3600 <= t < 6.5 * 3600 and not any(a == len(ACTIVITIES) - 1 for _, a in segments):
            segments.append((t, len(ACTIVITIES) - 1))  # 15:00: some private browsing, never stored
            t += 8 * 60
            continue
        segments.append((t, rng.choices(range(len(ACTIVITIES)), weights)[0]))
        t += rng.uniform(3, 25) * 60
    return segments


def main() -> None:
    from apps.screen_state import RecorderSettings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ocr", choices=["oracle", "real"], default="oracle")
    parser.add_argument("--quality", type=int, default=RecorderSettings.quality)
    parser.add_argument("--max-side", type=int, default=RecorderSettings.max_side)
    parser.add_argument("--gap", type=float, default=RecorderSettings.same_window_gap)
    parser.add_argument("--keep", type=Path, help="keep the captures and the store here")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "screen_day.json")
    args = parser.parse_args()
    from PIL import Image

    import models
    from apps.screen_recorder import Recorder
    from apps.screen_sources import Window
    from mmagent import MMAgent, Settings

    rng = random.Random(args.seed)
    shots = DATA / "screens" / "omniparser"
    base_images = {}
    for name in {b for _, _, b, _, _ in ACTIVITIES if b}:
        with Image.open(shots / name) as im:
            base_images[name] = im.convert("RGB").resize((W, H))
    work = args.keep or Path(tempfile.mkdtemp(prefix="mmagent-screen-day-"))
    folder = work / "screens"
    if folder.exists():
        shutil.rmtree(folder)
    real_ocr = models.create("ocr", "rapidocr")
    reader = Oracle(real_ocr, base_images) if args.ocr == "oracle" else real_ocr
    frame: list[Any] = [None]
    window: list[Any] = [Window(None, None)]
    class WholeReads(Recorder):  # the oracle knows the whole frame's text, not a band's
        def _read_text(self, image: Any, monitor: int, band: Any) -> Any:
            return super()._read_text(image, monitor, None if isinstance(reader, Oracle) else band)

    settings_r = RecorderSettings(quality=args.quality, max_side=args.max_side, same_window_gap=args.gap)
    recorder = WholeReads(folder, settings_r, grab=lambda: [frame[0]], window=lambda: window[0], ocr=reader)
    folder.mkdir(parents=True)
    segments = script_day(rng, args.hours)
    scenes: dict[int, Scene] = {}
    lock = np.zeros((H, W, 3), np.uint8)
    began = time.perf_counter()
    ticks = int(args.hours * 3600 / 2)
    seg = 0
    for k in range(ticks):
        t = k * 2.0
        while seg + 1 < len(segments) and segments[seg + 1][0] <= t:
            seg += 1
        activity = segments[seg][1]
        if activity < 0:
            frame[0], window[0] = lock, Window("Screensaver", "Locked")
            if isinstance(reader, Oracle):
                reader.current = (None, [])
        else:
            app, title, base, changes, _ = ACTIVITIES[activity]
            scene = scenes.setdefault(activity, Scene(app, title, base, random.Random(rng.random())))
            before = scene.version
            for kind, p in changes:
                if rng.random() < p:
                    scene.change(kind)
            if frame[0] is None or scene.version != before or window[0] != Window(app, title):
                frame[0], drawn = scene.render(base_images)
                if isinstance(reader, Oracle):
                    reader.current = (base, drawn)
            window[0] = Window(app, title)
        recorder.tick(now=START + t)
    record_s = time.perf_counter() - began
    status = asdict(recorder.status)
    (day,) = [d for d in folder.iterdir() if d.is_dir()]
    pictures = sum(p.stat().st_size for p in day.glob("*.webp"))
    sidecars = sum(p.stat().st_size for p in day.glob("*.json"))
    print(f"recorded {args.hours:g} h in {record_s:.0f} s: stored {status['stored']}, deferred {status['deferred']}, "
          f"unchanged {status['unchanged']}, excluded {status['excluded']}", file=sys.stderr)

    store = work / "store"
    if store.exists():
        shutil.rmtree(store)
    settings = Settings.load(store=store, llm="none", workers=1)
    with MMAgent(settings, resident=True) as agent:  # as the recorder's process runs it
        t0 = time.perf_counter()
        first = agent.index(day, name=f"screen {day.name}")
        index_s = time.perf_counter() - t0
        # late in the day: one more capture (a new window), then the pass the background indexer makes
        scene = Scene("Mail", "Invoice 9911 from Globex - Mail", None, random.Random(1))
        scene.lines = ["Invoice 9911 from Globex", "Amount due: $4,200"]
        frame[0], drawn = scene.render(base_images)
        if isinstance(reader, Oracle):
            reader.current = (None, drawn)
        window[0] = Window("Mail", "Invoice 9911 from Globex - Mail")
        t_new = START + ticks * 2.0
        recorder.tick(now=t_new)
        t0 = time.perf_counter()
        again = agent.index(day, name=f"screen {day.name}")
        pass_s = time.perf_counter() - t0
        written = again.reduce.written if again.reduce else None
        hits = agent.search("invoice 9911", limit=3)
        found = bool(hits) and "9911" in hits[0].text
    # Qdrant's files are sparse (count the blocks); its write-ahead log is a bounded ring of segments,
    # not a per-day growth: reported apart, and once in the month
    files = [p for p in store.rglob("*") if p.is_file()]
    wal_bytes = sum(p.stat().st_blocks * 512 for p in files if "wal" in p.relative_to(store).parts)
    store_bytes = sum(p.stat().st_blocks * 512 for p in files) - wal_bytes
    per_day = (pictures + sidecars + store_bytes) * 8 / args.hours  # an 8-hour day
    report = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores", "hours": args.hours,
        "seed": args.seed, "ocr": args.ocr, "interval_s": 2.0, "same_window_gap_s": args.gap,
        "webp_quality": args.quality, "max_side": args.max_side,
        "grabs": status["captured"], "stored": status["stored"], "deferred": status["deferred"],
        "unchanged": status["unchanged"], "excluded": status["excluded"], "redacted": status["redacted"],
        "mb_pictures": round(pictures / 1e6, 1), "mb_sidecars": round(sidecars / 1e6, 1),
        "mb_store": round(store_bytes / 1e6, 1), "mb_store_wal": round(wal_bytes / 1e6, 1), "kb_per_stored_capture": round((pictures + sidecars) / 1e3 / max(1, status["stored"]), 1),
        "mb_per_8h_day": round(per_day / 1e6, 1), "gb_per_month_22_days": round((22 * per_day + wal_bytes) / 1e9, 2),
        "clips": first.clips, "index_day_s": round(index_s, 1),
        "index_pass_end_of_day_s": round(pass_s, 1), "points_rewritten_by_that_pass": written,
        "new_capture_found": found,
        "record_s": round(record_s, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
