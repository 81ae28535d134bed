"""The screen suite: a seeded day and a half of screen captures, with questions.

Captures are the real Windows screenshots in ../shared/data/screens/omniparser (Excel, Word,
Teams, OneNote, a Google page, the desktop) plus generated app windows with text (an invoice
in a mail client, two calendar days, a team chat, a code editor), each with a sidecar JSON
(time, app, window title) as a screen recorder writes it. Times are relative to a fixed "now"
(the suite's ``now``), so "yesterday at 3 pm" has one right capture and a distractor today.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

DATA = Path(os.environ.get("MMAGENT_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
NOW = dt.datetime(2026, 11, 24, 18, 0)  # local time; the questions' "today"
W, H = 1280, 800


def _window(app: str, title: str, lines: list[str]) -> Any:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (W, H), (250, 250, 252))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, W, 48), fill=(40, 44, 52))
    draw.text((16, 10), f"{app} - {title}", fill="white", font=ImageFont.load_default(size=24))
    body = ImageFont.load_default(size=30)
    for k, line in enumerate(lines):
        draw.text((40, 100 + k * 56), line, fill=(20, 20, 20), font=body)
    return image


def render(out_dir: Path, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    inv = rng.randrange(1000, 9999)
    amount = rng.randrange(2, 40) * 100
    due = rng.choice(["March 14", "April 2", "May 30", "June 11"])
    t1, t2 = rng.sample(["09:30", "11:00", "14:15", "16:30", "17:45"], 2)
    meeting1, meeting2 = rng.sample(["Design sync", "Budget review", "Hiring panel", "Vendor call"], 2)
    room = rng.choice(["Vega", "Orion", "Lyra"])
    rate = rng.choice(["0.19", "0.21", "0.23", "0.25"])
    folder = out_dir / "captures"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    yesterday, today = NOW - dt.timedelta(days=1), NOW
    shots: list[tuple[dt.datetime, str, str, Any]] = [
        (yesterday.replace(hour=9, minute=10), "Mail", f"Invoice {inv} from Globex",
         _window("Mail", f"Invoice {inv} from Globex", ["From: billing@globex.com", f"Invoice #{inv}",
                                                          f"Amount due: ${amount}", f"Due date: {due}"])),
        (yesterday.replace(hour=9, minute=10, second=2), "Mail", f"Invoice {inv} from Globex", None),  # unchanged
        (yesterday.replace(hour=10, minute=30), "Excel", "Book1 - Excel", DATA / "screens" / "omniparser" / "excel.png"),
        (yesterday.replace(hour=11, minute=45), "Word", "Document1 - Word", DATA / "screens" / "omniparser" / "word.png"),
        (yesterday.replace(hour=15, minute=0), "Calendar", "Yesterday",
         _window("Calendar", "Yesterday", [f"{t1} {meeting1} with Priya", f"Room {room}"])),
        (yesterday.replace(hour=17, minute=20), "Chat", "Team chat",
         _window("Chat", "Team chat", ["Priya: the deploy is done", "Marco: great, thanks"])),
        (today.replace(hour=8, minute=55), "Microsoft Teams", "Microsoft Teams", DATA / "screens" / "omniparser" / "teams.png"),
        (today.replace(hour=9, minute=0), "Calendar", "Today",
         _window("Calendar", "Today", [f"{t2} {meeting2}", "Room Atlas"])),
        (today.replace(hour=10, minute=15), "Code", "tax.py - Visual Studio Code",
         _window("Code", "tax.py - Visual Studio Code", ["def compute_tax(amount):", f"    rate = {rate}",
                                                        "    return amount * rate"])),
        (today.replace(hour=11, minute=0), "Chrome", "Google", DATA / "screens" / "omniparser" / "google_page.png"),
        (today.replace(hour=11, minute=30), "OneNote", "Notes", DATA / "screens" / "omniparser" / "onenote.png"),
    ]
    names: dict[str, str] = {}
    previous = None
    for k, (when, app, title, content) in enumerate(shots):
        name = f"{k:04d}_{app.lower().replace(' ', '_')}.png"
        path = folder / name
        if content is None:
            shutil.copyfile(previous, path)  # type: ignore[arg-type]
        elif isinstance(content, Path):
            if not content.is_file():
                raise SystemExit(f"real screenshot not found: {content}")
            shutil.copyfile(content, path)
        else:
            content.save(path)
        previous = path
        (folder / f"{path.stem}.json").write_text(json.dumps({"time": when.timestamp(), "app": app, "window": title}))
        names.setdefault(app + "|" + title, name)
    mail, teams = names[f"Mail|Invoice {inv} from Globex"], names["Microsoft Teams|Microsoft Teams"]
    questions = [
        {"id": "where_invoice", "competency": "accurate_retrieval", "question": f"Where did I see invoice {inv}?",
         "answers": [], "files": [mail], "check": "evidence"},
        {"id": "amount", "competency": "accurate_retrieval", "question": "What was the amount due on the Globex invoice?",
         "answers": [str(amount)], "files": [mail]},
        {"id": "calendar_yesterday", "competency": "time", "question": "What was the meeting time in the calendar yesterday at 3 pm?",
         "answers": [t1], "wrong": [t2], "files": [names["Calendar|Yesterday"]]},
        {"id": "calendar_today", "competency": "time", "question": "Which meeting is in the calendar today?",
         "answers": [meeting2.split()[0]], "wrong": [meeting1.split()[0]], "files": [names["Calendar|Today"]]},
        {"id": "chat", "competency": "person", "question": "Who said the deploy is done?", "answers": ["priya"],
         "files": [names["Chat|Team chat"]]},
        {"id": "code", "competency": "accurate_retrieval", "question": "What is the tax rate in compute_tax?",
         "answers": [rate], "files": [names["Code|tax.py - Visual Studio Code"]]},
        {"id": "teams", "competency": "accurate_retrieval", "question": "When did I have Microsoft Teams open?",
         "answers": [], "files": [teams], "check": "evidence"},
        {"id": "none_vpn", "competency": "unanswerable", "question": "What was the VPN password?", "answers": [],
         "check": "abstain"},
        {"id": "none_initech", "competency": "unanswerable", "question": "What was the total of the Initech invoice?",
         "answers": [], "check": "abstain"},
    ]
    truth = {"suite": "screen", "seed": seed, "now": NOW.timestamp(), "folder": "captures", "captures": len(shots),
             "questions": questions}
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth
