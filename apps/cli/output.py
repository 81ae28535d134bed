"""What the commands print: times, the progress bar, evidence, people, a trace step."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any


def fmt_time(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def to_stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class ClipBar:
    """Clips done / total with an ETA on stderr: redrawn in place on a terminal, a line every
    10% otherwise (logs stay readable)."""

    def __init__(self, name: str) -> None:
        self.name, self.began, self.first, self.last_pct = name, time.monotonic(), -1, -10
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.first < 0:  # clips already cached at the start do not count toward the rate
            self.first, self.began = done, time.monotonic()
            if done < total:
                return
        rate = (time.monotonic() - self.began) / max(1, done - self.first)
        eta = fmt_time(rate * (total - done)) if done > self.first else "?"
        width = 24
        bar = "#" * int(width * done / total) + "." * (width - int(width * done / total))
        line = f"{self.name}: [{bar}] {done}/{total} clips, ETA {eta}"
        pct = 100 * done // total
        if self.tty:
            print("\r" + line, end="\n" if done == total else "", file=sys.stderr, flush=True)
        elif pct >= self.last_pct + 10 or done == total:
            self.last_pct = pct
            to_stderr(line)


def trace_line(step: dict[str, Any]) -> str:
    head = f"[{step.pop('type')} {step.pop('round')}]"
    if "items" in step:
        items = step.pop("items")
        rest = " ".join(f"{k}={v}" for k, v in step.items())
        lines = [f"{head} {rest} → {len(items)} new"]
        lines += [f"    {i['kind']}/{i['level']} {i['source_id']} {i['start']:.1f}-{i['end']:.1f}s: {i['text']}" for i in items[:8]]
        return "\n".join(lines)
    if "evidence" in step:
        return f"{head} {step['answer']} ({step['mode']}, {len(step['evidence'])} cited, {step.get('seconds')} s)"
    return f"{head} {json.dumps(step, default=str)}"


def where(e: dict[str, Any]) -> str:
    if e.get("wall_time") is not None:
        when = datetime.fromtimestamp(e["wall_time"]).strftime("%Y-%m-%d %H:%M:%S")
        return f"{e['image'] if e.get('image') else Path(e['path']).name} at {when}"
    return f"{Path(e['path']).name} {fmt_time(e['start'])}-{fmt_time(e['end'])}"


def person_line(p: dict[str, Any]) -> str:
    apps = p["appearances"]
    spans = ", ".join(f"{a['source_id'][:8]} {fmt_time(a['start'])}-{fmt_time(a['end'])}" for a in apps[:6])
    more = f" (+{len(apps) - 6} more)" if len(apps) > 6 else ""
    names = f" {p['name']!r}" if p["name"] else ""
    aliases = [n for n in p["names"] if n != p["name"]]
    alias = f" aka {', '.join(aliases)}" if aliases else ""
    return (f"{p['id']}{names}{alias}  faces: {', '.join(p['faces']) or '-'}  voices: {', '.join(p['voices']) or '-'}  "
            f"seen: {spans}{more}")


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"
