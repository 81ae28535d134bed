"""``mmagent transcript`` end to end on real speech (JFK's 11 s, the real CPU default models):
the words and their times, every format parsed back, a rename on every line, the agent's
``read_span`` with the same lines, and the one-line errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from apps.cli import main

JFK = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", text.lower()).split())


@pytest.fixture(scope="module")
def jfk_store(tmp_path_factory, data_dir):  # type: ignore[no-untyped-def]
    store = tmp_path_factory.mktemp("jfk") / "store"
    path = data_dir / "speech" / "jfk.flac"
    assert main(["index", str(path), "--store", str(store), "--json"]) == 0
    return store, path


def transcript(capsys, store: Path, *argv: str) -> str:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "transcript", *argv, "--store", str(store))
    assert code == 0, err
    return out


def test_json_has_the_words_their_times_and_a_stable_voice(capsys, jfk_store) -> None:  # type: ignore[no-untyped-def]
    store, path = jfk_store
    capsys.readouterr()
    doc = json.loads(transcript(capsys, store, str(path), "--format", "json", "--words"))
    assert doc["path"] == str(path.resolve()) and doc["word_times"] is True
    assert 10.9 < doc["duration"] < 11.1
    segments = doc["segments"]
    assert norm(" ".join(s["text"] for s in segments)) == JFK
    words = [w for s in segments for w in s["words"]]
    assert norm(" ".join(w["text"] for w in words)) == JFK
    times = [t for w in words for t in (w["start"], w["end"])]
    assert times == sorted(times) and 0.0 <= times[0] and times[-1] <= doc["duration"]
    for s in segments:
        assert s["start"] == s["words"][0]["start"] and s["end"] == s["words"][-1]["end"]
        assert re.fullmatch(r"voice_\d+", s["speaker"]) and s["voice"] == s["speaker"]
    # the same document by --json, and by an id prefix; without --words, no words
    same = json.loads(transcript(capsys, store, doc["source_id"][:10], "--json"))
    assert [{k: v for k, v in s.items() if k != "words"} for s in segments] == same["segments"]


def srt(doc: str) -> list[tuple[float, float, str]]:
    blocks = [b for b in doc.split("\n\n") if b.strip()]
    out = []
    for n, b in enumerate(blocks, 1):
        m = re.fullmatch(rf"{n}\n(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)\n(.+)", b)
        assert m, b
        x = [int(g) for g in m.groups()[:8]]
        out.append((x[0] * 3600 + x[1] * 60 + x[2] + x[3] / 1000, x[4] * 3600 + x[5] * 60 + x[6] + x[7] / 1000, m[9]))
    return out


def vtt(doc: str) -> list[tuple[float, float, str | None, str]]:
    head, *blocks = doc.split("\n\n")
    assert head == "WEBVTT"
    out = []
    for b in (b for b in blocks if b.strip()):
        m = re.fullmatch(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)\n(?:<v ([^>]+)>)?(.+)", b)
        assert m, b
        x = [int(g) for g in m.groups()[:8]]
        out.append((x[0] * 3600 + x[1] * 60 + x[2] + x[3] / 1000, x[4] * 3600 + x[5] * 60 + x[6] + x[7] / 1000, m[9], m[10]))
    return out


def test_text_srt_and_vtt_carry_the_same_words(capsys, jfk_store) -> None:  # type: ignore[no-untyped-def]
    store, path = jfk_store
    capsys.readouterr()
    text = transcript(capsys, store, str(path))
    lines = text.splitlines()
    assert all(re.fullmatch(r"\[00:00:\d\d\.\d\] voice_\d+: .+", line) for line in lines), text
    assert norm(" ".join(line.split(": ", 1)[1] for line in lines)) == JFK
    cues = srt(transcript(capsys, store, str(path), "--format", "srt"))
    assert len(cues) >= 2  # 11 s of speech: more than one subtitle
    assert norm(" ".join(re.sub(r"^voice_\d+: ", "", c[2]) for c in cues)) == JFK
    for (a, b, _), nxt in zip(cues, cues[1:] + [(11.1, 11.1, "")]):
        assert 0.0 <= a < b <= nxt[0] and b - a <= 7.0
    cues_vtt = vtt(transcript(capsys, store, str(path), "--format", "vtt"))
    assert [(a, b) for a, b, _, _ in cues_vtt] == [(a, b) for a, b, _ in cues]
    assert norm(" ".join(c[3] for c in cues_vtt)) == JFK and all(re.fullmatch(r"voice_\d+", c[2]) for c in cues_vtt)
    assert all(len(c[3]) <= 84 for c in cues_vtt)


def rttm(doc: str) -> list[tuple[str, float, float, str]]:
    """(file, start, end, speaker) of each line; every line has RTTM's 10 blank-separated fields."""
    rows = []
    for line in doc.splitlines():
        f = line.split()
        assert len(f) == 10 and f[0] == "SPEAKER" and f[2] == "1" and f[5] == f[6] == f[8] == f[9] == "<NA>", line
        rows.append((f[1], float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return rows


def test_rttm_and_json_turns_cover_the_speech_with_the_transcript_voice(capsys, jfk_store) -> None:  # type: ignore[no-untyped-def]
    store, path = jfk_store
    capsys.readouterr()
    code, out, err = run(capsys, "transcript", str(path), "--format", "rttm", "--store", str(store))
    assert code == 0 and "no diarized speaker turns" not in err, err
    rows = rttm(out)
    doc = json.loads(transcript(capsys, store, str(path), "--format", "json", "--words"))
    assert doc["turns_from"] == "diarization"
    assert [(r[1], round(r[2], 3), r[3]) for r in rows] == [(t["start"], t["end"], t["speaker"]) for t in doc["turns"]]
    assert {r[0] for r in rows} == {"jfk"} and {r[3] for r in rows} == {s["voice"] for s in doc["segments"]}
    # one speaker, whose turns hold every word (with a little slack at the edges) and no long silence
    words = [w for s in doc["segments"] for w in s["words"]]
    inside = [w for w in words if any(a - 0.3 <= (w["start"] + w["end"]) / 2 <= b + 0.3 for _, a, b, _ in rows)]
    assert len(inside) == len(words), (rows, words)
    assert all(0.0 <= a < b <= doc["duration"] + 1e-3 for _, a, b, _ in rows)
    assert sum(b - a for _, a, b, _ in rows) <= (words[-1]["end"] - words[0]["start"]) + 1.5


def test_without_a_diarizer_the_turns_are_the_words_and_rttm_says_so(capsys, tmp_path, data_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A store whose voices were not diarized (``MMAGENT_DIARIZE=0``, like one indexed before
    turns were kept): the turns come from the words' runs, and RTTM says so in one line."""
    monkeypatch.setenv("MMAGENT_DIARIZE", "0")
    path = data_dir / "speech" / "jfk.flac"
    assert main(["index", str(path), "--store", str(tmp_path / "store")]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, "transcript", str(path), "--format", "rttm", "--store", str(tmp_path / "store"))
    notes = [line for line in err.splitlines() if "no diarized speaker turns" in line]
    assert code == 0 and len(notes) == 1, err
    doc = json.loads(transcript(capsys, tmp_path / "store", str(path), "--json", "--words"))
    assert doc["turns_from"] == "words" and norm(" ".join(s["text"] for s in doc["segments"])) == JFK
    words = [w for s in doc["segments"] for w in s["words"]]
    rows = rttm(out)
    assert rows and rows[0][1] == words[0]["start"] and rows[-1][2] == words[-1]["end"]


def test_a_rename_shows_on_every_line_and_in_read_span(capsys, tmp_path, jfk_store) -> None:  # type: ignore[no-untyped-def]
    store, path = jfk_store
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    doc = json.loads(transcript(capsys, copy, str(path), "--json"))
    voice = doc["segments"][0]["voice"]
    code, _, err = run(capsys, "entities", "rename", voice, "John F. Kennedy", "--store", str(copy))
    assert code == 0, err
    doc = json.loads(transcript(capsys, copy, str(path), "--json"))
    assert {(s["speaker"], s["voice"]) for s in doc["segments"]} == {("John F. Kennedy", voice)}
    assert all(line.startswith("[00:00:") and "] John F. Kennedy: " in line
               for line in transcript(capsys, copy, str(path)).splitlines())
    assert all(c[2] == "John F. Kennedy" for c in vtt(transcript(capsys, copy, str(path), "--format", "vtt")))
    assert all(c[2].startswith("John F. Kennedy: ") for c in srt(transcript(capsys, copy, str(path), "--format", "srt")))
    assert {r[3] for r in rttm(transcript(capsys, copy, str(path), "--format", "rttm"))} == {"John_F._Kennedy"}

    from mmagent import MMAgent, Settings
    from retrieval.tools import MemoryTools

    with MMAgent(Settings.load(env={}, store=copy, workers=1, llm="none")) as agent:
        tools = MemoryTools(agent.store, agent.embedder, agent._people_index(), agent.registry)
        span = tools.call("read_span", {"source": doc["source_id"], "start": 2.0, "end": 6.0})
        said = [i for i in span.items if i.level == "speech"]
        assert said and all(i.text.startswith("John F. Kennedy: ") and voice in i.entity_ids for i in said)
        assert "ask not what your country" in norm(" ".join(i.text for i in said))
        assert all(i.end > 2.0 and i.start < 6.0 for i in said)
        assert span.hits and all(h.record.level == "clip" for h in span.hits)  # the clips, as before
        # the transcript read without the perception cache: the same lines, sentence-timed
        from memory.transcript import Speakers, source_transcript

        entry = agent.store.get_source(doc["source_id"])
        with_words = source_transcript(agent.store, entry, Speakers(agent.registry()), copy / "perception")
        without = source_transcript(agent.store, entry, Speakers(agent.registry()))
    assert [(x.start, x.end, x.speaker, x.text) for x in with_words.lines] == \
        [(x.start, x.end, x.speaker, x.text) for x in without.lines]
    assert with_words.word_times and not without.word_times

    shutil.rmtree(copy / "perception")  # the cache deleted: still a transcript, without words
    doc = json.loads(transcript(capsys, copy, str(path), "--format", "json", "--words"))
    assert doc["word_times"] is False and norm(" ".join(s["text"] for s in doc["segments"])) == JFK
    assert all(s["words"] == [] for s in doc["segments"])
    assert len(srt(transcript(capsys, copy, str(path), "--format", "srt"))) >= 2


def test_errors_are_one_line_and_exit_1(capsys, tmp_path, jfk_store) -> None:  # type: ignore[no-untyped-def]
    import cv2
    import numpy as np

    store, path = jfk_store
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    shots = tmp_path / "shots"
    shots.mkdir()
    image = np.full((120, 480, 3), 255, np.uint8)
    cv2.putText(image, "Invoice 4471", (20, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    cv2.imwrite(str(shots / "shot.png"), image)
    (shots / "shot.json").write_text(json.dumps({"time": "2026-11-20T09:00:00Z", "app": "Mail"}))
    code, _, err = run(capsys, "index", str(shots), "--store", str(copy))
    assert code == 0, err
    for argv, reason in (
        (("nope",), "no indexed source matches it"),
        ((str(shots),), "a screen source has no speech"),
        ((str(path), "--format", "srt", "--words"), "--words"),
        ((str(path), "--format", "vtt", "--json"), "--json"),
    ):
        code, out, err = run(capsys, "transcript", *argv, "--store", str(copy))
        lines = [line for line in err.splitlines() if line.startswith("mmagent: error:")]
        assert code == 1 and out == "" and len(lines) == 1 and reason in lines[0], (argv, err)
    assert str(shots) in run(capsys, "transcript", str(shots), "--store", str(copy))[2]


def test_two_speakers_named_from_their_self_introductions_on_every_line(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two synthetic voices; Priya introduces herself only in her second turn, and her first
    line carries her name too (names are resolved when read, not when said)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    from mmagent.samples import Scene, make_demo_video

    dana, priya = "en-us", "en-us+f3"
    scenes = (
        Scene("Standup", ("Team sync",), "Good morning, I am Dana. The design review is on Monday.", dana),
        Scene("Invoices", ("Invoice #5120 - Globex",), "The invoice number for Globex is fifty one twenty.", priya),
        Scene("Break", ("Lunch",), "Let us break for lunch now. We continue in an hour.", dana),
        Scene("Parking", ("Visitors: north garage",), "My name is Priya. Visitors should park in the north garage.", priya),
    )
    video, store = tmp_path / "standup.mp4", tmp_path / "store"
    script = make_demo_video(video, scenes)
    assert main(["index", str(video), "--store", str(store)]) == 0
    capsys.readouterr()
    doc = json.loads(transcript(capsys, store, str(video), "--json"))
    said = [(s["speaker"], scene) for s in doc["segments"]
            for scene, part in enumerate(script) if part["start"] <= (s["start"] + s["end"]) / 2 < part["end"]]
    assert said == [("Dana", 0), ("Priya", 1), ("Dana", 2), ("Priya", 3)], doc
    assert "invoice number" in doc["segments"][1]["text"].lower()  # before she said her name
    assert len({s["voice"] for s in doc["segments"]}) == 2
    cues = vtt(transcript(capsys, store, str(video), "--format", "vtt"))
    assert [c[2] for c in cues] == ["Dana", "Priya", "Dana", "Priya"]  # a speaker change starts a cue
