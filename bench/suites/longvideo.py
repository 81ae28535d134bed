"""The long-video memory suite: a seeded generator of a video and its questions.

The video is built from real media in ../shared/data (GRID talking faces and their transcripts,
the Hamilton clip) and generated segments: slides with text (Pillow), lines spoken by two
synthetic speakers who introduce themselves (espeak-ng: "Dana", a man's voice, and "Priya", a
woman's), silence. Story events (facts said or shown, a fact that changes, a reminder repeated,
two topics in order, a person's job, ...) are spread over the length asked for; real footage
fills the time between them. The same ``(minutes, seed)`` gives the same video and questions.

Every question records its competency (MemoryAgentBench's four plus M3-Bench's person and
cross-modal types, multi-hop, unanswerable), acceptable answers (and wrong ones that must not
appear), the time spans of its evidence, and an optional ``before`` (time-causal).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

WIDTH, HEIGHT, FPS = 360, 288, 10
RATE = 16000
SPEAKERS = {"Dana": "en-us", "Priya": "en-us+f3"}  # espeak voices the voice encoder tells apart
DATA = Path(os.environ.get("MMAGENT_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")

ROOMS = ["Orion", "Vega", "Lyra", "Atlas", "Juniper", "Cedar", "Willow", "Falcon"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
GARAGES = ["north", "south", "east", "west"]
JOBS = ["data engineer", "nurse", "architect", "pilot", "chemist", "teacher"]
CITIES = ["Lisbon", "Oslo", "Denver", "Nairobi", "Osaka", "Quito"]
TOPICS = [("the audit", "audit"), ("the hiring plan", "hiring"), ("the warehouse move", "warehouse"),
          ("the new logo", "logo"), ("the travel policy", "travel")]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@dataclass
class Segment:
    kind: str  # "line" (slide + speech) | "slide" (silent) | "grid" | "hamilton" | "silence"
    start: float = 0.0
    end: float = 0.0
    speech: str = ""
    speaker: str | None = None  # a synthetic speaker's name, or "grid:<file>" / "hamilton"
    screen: list[str] = field(default_factory=list)
    file: str | None = None
    tag: str = ""  # which story event it belongs to


@dataclass
class Question:
    id: str
    competency: str
    question: str
    answers: list[str]  # any of these, normalised, in the answer; empty: unanswerable
    evidence: list[list[float]]  # [start, end] spans of the evidence
    wrong: list[str] = field(default_factory=list)  # none of these may appear
    check: str = "contains"  # "contains" | "evidence" (the first evidence must overlap a span) | "abstain"
    before: float | None = None
    tags: list[str] = field(default_factory=list)  # the events its evidence is in


def _grid_clips() -> list[tuple[Path, str]]:
    grid = DATA / "video" / "grid"
    table = dict(line.split("\t") for line in (grid / "transcripts_from_filenames.tsv").read_text().splitlines() if "\t" in line)
    return [(grid / name, text.strip()) for name, text in sorted(table.items()) if (grid / name).is_file()]


def plan(minutes: float, seed: int) -> tuple[list[Segment], list[Question]]:
    """The segments in order (times not yet known) and the questions (spans filled by render)."""
    rng = random.Random(seed)
    code = [rng.randrange(10) for _ in range(4)]
    room, floor = rng.choice(ROOMS), rng.randrange(2, 9)
    day1, day2 = rng.sample(DAYS, 2)
    garage, level = rng.choice(GARAGES), rng.randrange(1, 6)
    job, city = rng.choice(JOBS), rng.choice(CITIES)
    (first_topic, first_word), (second_topic, second_word) = rng.sample(TOPICS, 2)
    reminders = rng.randrange(2, 5)
    intern = rng.choice(["Tomas", "Keiko", "Amara", "Lars"])

    def line(tag: str, who: str, speech: str, *screen: str) -> Segment:
        return Segment("line", speech=speech, speaker=who, screen=list(screen), tag=tag)

    spoken_code = " ".join(NUMBER_WORDS[d] for d in code)
    events: list[Segment] = [
        line("intro_dana", "Dana", "Good morning everyone, I am Dana.", "Weekly team meeting"),
        line("intro_priya", "Priya", "Hello, my name is Priya.", "Introductions"),
        line("job", "Priya", f"I work as a {job} here.", "About me"),
        line("code", "Dana", f"The access code for the lab is {spoken_code}.", "Lab access"),
        Segment("slide", screen=["Room booking", f"Meeting room: {room}", f"Floor {floor}"], tag="room"),
        line("launch_old", "Dana", f"The product launch is on {day1}.", "Launch"),
        line("intern", "Dana", f"Our new intern is called {intern}. {intern} will handle the backups.", "Team news"),
        line("first_topic", "Dana", f"Let us start with {first_topic}.", first_topic.capitalize()),
        line("server", "Priya", f"The server in {city} is down again.", "Incidents"),
        line("parking", "Priya", "Visitors should check the parking options.", "Parking", f"{garage.capitalize()} garage, level {level}"),
        line("second_topic", "Dana", f"Next is {second_topic}.", second_topic.capitalize()),
        line("launch_new", "Priya", f"Update: the product launch has moved to {day2}.", "Launch update"),
    ]
    for k in range(reminders):
        events.append(line(f"reminder_{k}", "Dana", "Reminder: please submit your timesheet.", "Reminder"))
    # the order the story must keep; reminders go anywhere after the intros
    fixed = events[: len(events) - reminders]
    order = fixed[:3] + sorted(fixed[3:], key=lambda s: rng.random())
    # keep causal pairs in order: launch_old before launch_new, first_topic before second_topic
    for a, b in (("launch_old", "launch_new"), ("first_topic", "second_topic")):
        ia, ib = next(i for i, s in enumerate(order) if s.tag == a), next(i for i, s in enumerate(order) if s.tag == b)
        if ia > ib:
            order[ia], order[ib] = order[ib], order[ia]
    for seg in events[len(events) - reminders:]:
        order.insert(rng.randrange(3, len(order) + 1), seg)

    # filler: real footage and silence between the events, to the length asked for
    grid = _grid_clips()
    hamilton = DATA / "faces" / "face_recognition" / "short_hamilton_clip.mp4"
    story_seconds = 4.5 * len(order)
    filler_seconds = max(0.0, minutes * 60 - story_seconds)
    fill: list[list[Segment]] = [[] for _ in range(len(order) + 1)]
    t = 0.0
    while t < filler_seconds:
        slot = rng.randrange(1, len(order) + 1)
        r = rng.random()
        if r < 0.8 and grid:
            for path, text in rng.sample(grid, min(len(grid), rng.randrange(2, 6))):
                fill[slot].append(Segment("grid", speech=text, speaker=f"grid:{path.name}", file=str(path)))
                t += 3.0
        elif r < 0.9 and hamilton.is_file():
            fill[slot].append(Segment("hamilton", speaker="hamilton", file=str(hamilton)))
            t += 10.0
        else:
            seconds = rng.choice([2.0, 4.0])
            fill[slot].append(Segment("silence", end=seconds))
            t += seconds
    segments: list[Segment] = list(fill[0])
    for seg, after in zip(order, fill[1:]):
        segments.append(seg)
        segments.extend(after)

    questions = [
        Question("code", "accurate_retrieval", "What is the access code for the lab?", ["".join(map(str, code))], [], tags=["code"]),
        Question("room", "accurate_retrieval", "Which meeting room was booked?", [room.lower()], [], tags=["room"]),
        Question("intern", "test_time_learning", "Who will handle the backups?", [intern.lower()], [], tags=["intern"]),
        Question("launch_now", "conflict_resolution", "When is the product launch?", [day2.lower()], [], wrong=[day1.lower()], tags=["launch_new"]),
        Question("launch_then", "conflict_resolution", "When was the product launch before it changed?", [day1.lower()], [], tags=["launch_old"]),
        Question("timesheet", "long_range", "How many times was the timesheet mentioned?", [str(reminders)], [],
                 tags=[f"reminder_{k}" for k in range(reminders)]),
        Question("order", "long_range", f"Which was discussed first, {first_topic} or {second_topic}?", [first_word], [],
                 wrong=[second_word], check="evidence", tags=["first_topic"]),
        # a summary of a part: right when it names both topics of the agenda (its evidence: both moments)
        Question("summary", "long_range", "Summarise the agenda topics that were discussed.", [first_word, second_word], [],
                 check="all", tags=["first_topic", "second_topic"]),
        Question("shown", "cross_modal", "What was on screen when parking was mentioned?", [garage], [], tags=["parking"]),
        Question("who", "person", "Who said the server was down?", ["priya"], [], tags=["server"]),
        Question("hop", "multi_hop", "What is the job of the person who said the server was down?", [job], [], tags=["job"]),
        Question("none_colour", "unanswerable", "What is the CEO's favourite colour?", [], [], check="abstain"),
        Question("none_tokyo", "unanswerable", "What was the budget of the Tokyo office?", [], [], check="abstain"),
    ]
    # real speech: a GRID sentence said once (when was it said?)
    said_once = [s for s in segments if s.kind == "grid"]
    if said_once:
        counts: dict[str, int] = {}
        for s in said_once:
            counts[s.speech] = counts.get(s.speech, 0) + 1
        unique = [s for s in said_once if counts[s.speech] == 1]
        if unique:
            pick = rng.choice(unique)
            pick.tag = "grid_once"
            questions.append(Question("grid_once", "accurate_retrieval", f"When did someone say '{pick.speech}'?", [], [],
                                      check="evidence", tags=["grid_once"]))
    # time-causal: as of just before the change, the launch was on day1
    questions.append(Question("launch_asof", "conflict_resolution", "When is the product launch?", [day1.lower()], [],
                              wrong=[day2.lower()], tags=["launch_old"]))
    return segments, questions


def _slide(lines: Sequence[str]) -> npt.NDArray[np.uint8]:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, HEIGHT), (245, 247, 250))
    draw = ImageDraw.Draw(image)
    if lines:
        draw.rectangle((0, 0, WIDTH, HEIGHT // 5), fill=(32, 64, 128))
        draw.text((14, HEIGHT // 20), lines[0], fill="white", font=ImageFont.load_default(size=HEIGHT // 10))
        body = ImageFont.load_default(size=HEIGHT // 13)
        for k, text in enumerate(lines[1:]):
            draw.text((16, HEIGHT // 4 + k * HEIGHT // 7), text, fill=(20, 20, 20), font=body)
    return np.asarray(image)


def _resample(frames: list[npt.NDArray[np.uint8]], src_fps: float, seconds: float) -> list[npt.NDArray[np.uint8]]:
    n = max(1, int(round(seconds * FPS)))
    return [frames[min(len(frames) - 1, int(k * src_fps / FPS))] for k in range(n)]


def render(out_dir: Path, minutes: float, seed: int) -> dict[str, Any]:
    """Write ``video.mp4`` and ``truth.json`` into ``out_dir``; returns the truth."""
    import av

    from mmagent.samples import _decode, _Writer, speak

    segments, questions = plan(minutes, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / "video.mp4"
    writer = _Writer(video, WIDTH, HEIGHT, FPS)
    t = 0.0
    blank = np.full((HEIGHT, WIDTH, 3), 16, np.uint8)
    try:
        for seg in segments:
            if seg.kind in ("line", "slide"):
                audio = speak(seg.speech, SPEAKERS[seg.speaker or "Dana"]) if seg.speech else np.zeros(0, np.float32)
                audio = np.concatenate([np.zeros(RATE // 2, np.float32), audio, np.zeros(RATE, np.float32)])
                seconds = max(len(audio) / RATE, 4.0)
                frames = [_slide(seg.screen)] * int(round(seconds * FPS))
            elif seg.kind == "silence":
                seconds = seg.end
                frames, audio = [blank] * int(round(seconds * FPS)), np.zeros(0, np.float32)
            else:
                with av.open(str(seg.file)) as c:
                    src_fps = float(c.streams.video[0].average_rate or 25)
                raw, audio = _decode(Path(str(seg.file)), WIDTH, HEIGHT, int(round(src_fps)))
                seconds = len(raw) / src_fps
                frames = _resample(raw, src_fps, seconds)
            from mmagent.samples import _emit

            length = _emit(writer, frames, audio)
            seg.start, seg.end = round(t, 3), round(t + length, 3)
            t += length
    finally:
        writer.close()
    spans = {}
    for seg in segments:
        if seg.tag:
            spans[seg.tag] = [seg.start, seg.end]
    for q in questions:
        q.evidence = [spans[tag] for tag in q.tags if tag in spans]
        if q.id == "launch_asof":
            q.before = spans["launch_new"][0]
    truth = {
        "suite": "longvideo", "minutes": minutes, "seed": seed, "duration": round(t, 3), "video": video.name,
        "speakers": SPEAKERS, "segments": [asdict(s) for s in segments], "questions": [asdict(q) for q in questions],
    }
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth
