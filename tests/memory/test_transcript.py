"""Transcripts on hand-made words: lines per voice, subtitle cues (their sizes, where they are
cut, never inside a word), names resolved at read time, and SRT / WebVTT that parse back."""

from __future__ import annotations

import re

import numpy as np

from memory.entities import Entity, EntityRegistry
from memory.records import MemoryRecord, Snippet
from memory.transcript import (
    CUE_CHARS,
    CUE_SECONDS,
    Line,
    Speakers,
    TimedWord,
    Transcript,
    join_words,
    line_cues,
    diarized_turns,
    transcript_lines,
    word_turns,
)
from memory.transcript_formats import to_json, to_rttm, to_srt, to_text, to_vtt


def words_of(text: str, start: float = 0.0, step: float = 0.35, pauses: dict[int, float] | None = None) -> list[TimedWord]:
    """Words ``step`` s apart, each lasting 0.3 s; ``pauses``: extra silence before word k."""
    out, t = [], start
    for k, w in enumerate(text.split()):
        t += (pauses or {}).get(k, 0.0)
        out.append(TimedWord(round(t, 3), round(t + 0.3, 3), w))
        t += step
    return out


MONOLOGUE = ("We choose to go to the moon in this decade and do the other things, not because they are easy, "
             "but because they are hard, because that goal will serve to organize and measure the best of our "
             "energies and skills. That challenge is one that we are willing to accept.")


def line_of(words: list[TimedWord], speaker: str | None = "voice_1") -> Line:
    return Line(words[0].start, words[-1].end, speaker, " ".join(w.text for w in words), speaker, None, tuple(words))


def test_a_long_monologue_is_cut_into_subtitle_cues_at_pauses_and_sentence_ends() -> None:
    breath = MONOLOGUE.split().index("goal")
    words = words_of(MONOLOGUE, pauses={breath: 0.5})  # a half-second breath before "goal will serve"
    cues = line_cues(line_of(words))
    assert len(cues) >= 4
    for cue in cues:
        assert cue.end - cue.start <= CUE_SECONDS + 1e-9 and len(cue.text) <= CUE_CHARS, cue
    # never inside a word: the cues are the words, in order, each whole
    assert " ".join(c.text for c in cues).split() == MONOLOGUE.split()
    starts = {w.start for w in words}
    assert all(c.start in starts for c in cues)
    # "because that goal ... skills." is too long for one cue: it is cut at the breath, and
    # the cue ends with the sentence
    ends = [c.text.split()[-1] for c in cues]
    assert ends == ["things,", "that", "skills.", "accept."], [c.text for c in cues]
    without_breath = [c.text.split()[-1] for c in line_cues(line_of(words_of(MONOLOGUE)))]
    assert "that" not in without_breath and "skills." in without_breath
    assert [c.start for c in cues] == sorted(c.start for c in cues)


def test_a_silence_always_ends_a_cue_and_a_giant_word_is_its_own_cue() -> None:
    words = words_of("short one after a long silence", pauses={2: 1.5})
    cues = line_cues(line_of(words))
    assert [c.text for c in cues] == ["short one", "after a long silence"]
    giant = "x" * (CUE_CHARS + 10)
    cues = line_cues(line_of(words_of(f"before {giant} after")))
    assert [c.text for c in cues] == ["before", giant, "after"]


def test_a_line_without_word_times_is_spread_over_its_sentence_time() -> None:
    line = Line(10.0, 25.0, None, MONOLOGUE[:200].strip())
    cues = line_cues(line)
    assert len(cues) >= 2 and cues[0].start == 10.0 and cues[-1].end <= 25.0
    assert all(len(c.text) <= CUE_CHARS and c.end - c.start <= CUE_SECONDS + 1e-9 for c in cues)
    assert " ".join(c.text for c in cues) == line.text


def clip(start: float, said: list[tuple[str, str | None, float]], clip_index: int = 0) -> MemoryRecord:
    """A clip memory whose speech snippets are (text, voice, start): words 0.35 s apart."""
    snippets = []
    for text, voice, t in said:
        ws = words_of(text, t)
        snippets.append(Snippet(ws[0].start, ws[-1].end, text, "speech", speaker=voice))
    return MemoryRecord("episodic", "clip", "src", start, start + 30.0, "clip", snippets=tuple(snippets),
                        provenance={"clip_index": clip_index})


def registry(*voices: str) -> EntityRegistry:
    return EntityRegistry(Entity(v, "voice", f"person_{k + 1}", {"src": [1.0, list(np.eye(4)[k])]}) for k, v in enumerate(voices))


def test_lines_follow_the_voice_and_a_speaker_change_always_starts_a_cue() -> None:
    records = [
        clip(0.0, [("Hello there.", "voice_1", 0.0), ("How are you?", "voice_1", 1.0), ("Fine.", "voice_2", 2.5),
                   ("Good.", "voice_1", 3.0)]),
        clip(30.0, [("Still me after a while.", "voice_1", 38.0)], 1),  # after a pause: a new line
    ]
    lines = transcript_lines(reversed(records), Speakers(registry("voice_1", "voice_2")))
    assert [(line.speaker, line.text) for line in lines] == [
        ("voice_1", "Hello there. How are you?"), ("voice_2", "Fine."), ("voice_1", "Good."),
        ("voice_1", "Still me after a while."),
    ]
    transcript = Transcript("src", "/a.mp4", 60.0, tuple(lines))
    cues = transcript.cues()
    assert [c.speaker for c in cues] == ["voice_1", "voice_2", "voice_1", "voice_1"]  # short lines are not joined
    assert not transcript.word_times  # the lines came without their words
    assert [line.memory_id for line in lines] == [records[0].id] * 3 + [records[1].id]


def test_names_come_from_the_entities_when_read() -> None:
    reg = registry("voice_1", "voice_2", "voice_3")
    records = [clip(0.0, [("I am Tom.", "voice_2", 0.0), ("Hi.", "voice_1", 2.0), ("Again.", "voice_3", 4.0)])]
    before = transcript_lines(records, Speakers(reg))
    assert [line.speaker for line in before] == ["voice_2", "voice_1", "voice_3"]
    reg.rename("voice_2", "Tom")
    reg.entities["voice_3"].merged_into = "voice_1"  # voice_3 turned out to be voice_1
    after = transcript_lines(records, Speakers(reg))
    assert [(line.speaker, line.voice) for line in after] == [("Tom", "voice_2"), ("voice_1", "voice_1")]
    assert after[1].text == "Hi. Again."
    assert [line.speaker for line in transcript_lines(records, Speakers(None))] == ["voice_2", "voice_1", "voice_3"]
    assert [line.speaker for line in transcript_lines([clip(0.0, [("No voices ran.", None, 0.0)])], Speakers(reg))] == [None]


def test_words_join_the_stored_sentences_or_not_at_all() -> None:
    words = words_of("Hello there. How are you?")
    snippets = [Snippet(words[0].start, words[1].end, "Hello there.", "speech"),
                Snippet(words[2].start, words[4].end, "How are you?", "speech")]
    assert join_words(snippets, words) == [tuple(words[:2]), tuple(words[2:])]
    assert join_words(snippets[1:], words) == [tuple(words[2:])]
    other = words_of("Hello there. Who are you?")
    assert join_words(snippets, other) is None  # the cache was recomputed: sentence times it is


def srt_cues(doc: str) -> list[tuple[int, str, str, str]]:
    blocks = [b for b in doc.split("\n\n") if b.strip()]
    out = []
    for b in blocks:
        m = re.fullmatch(r"(\d+)\n(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n(.+)", b, re.S)
        assert m, b
        out.append((int(m[1]), m[2], m[3], m[4]))
    return out


def seconds(stamp: str) -> float:
    h, m, s = stamp.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_formats_carry_the_same_lines_and_parse_back() -> None:
    a = words_of("Fish & chips <tonight>, said Ann.", 3600.0)
    b = words_of("No thanks.", 3603.0)
    transcript = Transcript("src", "/a.mp4", 3700.0, (line_of(a, "Ann"), line_of(b, None)))
    assert to_text(transcript) == "[01:00:00.0] Ann: Fish & chips <tonight>, said Ann.\n[01:00:03.0] No thanks.\n"
    doc = to_json(transcript, words=True)
    assert doc["segments"][0]["words"][0] == {"start": 3600.0, "end": 3600.3, "text": "Fish"}
    assert [s["speaker"] for s in doc["segments"]] == ["Ann", None] and doc["word_times"]
    assert "words" not in to_json(transcript)["segments"][0]
    cues = srt_cues(to_srt(transcript))
    assert [c[0] for c in cues] == [1, 2]
    assert cues[0][1] == "01:00:00,000" and cues[0][3] == "Ann: Fish & chips <tonight>, said Ann."
    assert seconds(cues[1][2]) == 3603.65 and cues[1][3] == "No thanks."
    vtt = to_vtt(transcript)
    assert vtt.startswith("WEBVTT\n\n")
    body = [b for b in vtt.split("\n\n")[1:] if b.strip()]
    assert re.fullmatch(r"01:00:00\.000 --> 01:00:02\.050\n<v Ann>Fish &amp; chips &lt;tonight&gt;, said Ann\.", body[0])
    assert body[1] == "01:00:03.000 --> 01:00:03.650\nNo thanks."


def test_overlapping_speakers_give_cues_that_do_not_overlap() -> None:
    a = words_of("I was saying something", 0.0)
    b = words_of("Sorry to interrupt", 1.0)  # starts before the first speaker's last word ends
    transcript = Transcript("src", "/a.mp4", 10.0, (line_of(a, "voice_1"), line_of(b, "voice_2")))
    cues = srt_cues(to_srt(transcript))
    assert seconds(cues[0][2]) <= seconds(cues[1][1]) and seconds(cues[0][1]) < seconds(cues[0][2])


def rttm_rows(doc: str) -> list[tuple[str, float, float, str]]:
    """(file, start, duration, speaker) of each line; every line has RTTM's 10 fields."""
    rows = []
    for line in doc.splitlines():
        f = line.split(" ")
        assert len(f) == 10 and f[0] == "SPEAKER" and f[2] == "1" and f[5:7] == ["<NA>", "<NA>"] and f[8:] == ["<NA>", "<NA>"], line
        rows.append((f[1], float(f[3]), float(f[4]), f[7]))
    return rows


def test_diarized_turns_keep_speech_without_words_and_follow_renames_and_merges() -> None:
    reg = registry("voice_1", "voice_2", "voice_3")
    # the diarizer's turns, kept per voice and source: speech with no words among them (4.0-5.2)
    for voice, spans in {"voice_1": [(0.0, 2.0), (4.0, 5.2), (9.0, 9.5)], "voice_2": [(2.0, 4.1)],
                         "voice_3": [(5.2, 7.0)]}.items():
        for span in spans:
            reg.add_turn(voice, "src", span)
    reg.add_turn("voice_2", "other", (0.0, 50.0))  # another source's turn is not this one's
    turns = diarized_turns(Speakers(reg), "src")
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (0.0, 2.0, "voice_1"), (2.0, 4.1, "voice_2"), (4.0, 5.2, "voice_1"), (5.2, 7.0, "voice_3"), (9.0, 9.5, "voice_1")]
    reg.rename("voice_2", "Maria Lopez")
    reg.entities["voice_3"].merged_into = "voice_1"  # one voice after all: its touching turns join
    turns = diarized_turns(Speakers(reg), "src")
    assert [(t.start, t.end, t.speaker, t.voice) for t in turns] == [
        (0.0, 2.0, "voice_1", "voice_1"), (2.0, 4.1, "Maria Lopez", "voice_2"), (4.0, 7.0, "voice_1", "voice_1"),
        (9.0, 9.5, "voice_1", "voice_1")]
    transcript = Transcript("src", "/home/me/team call.mp4", 10.0, (), tuple(turns), "diarization")
    rows = rttm_rows(to_rttm(transcript))
    assert rows == [("team_call", 0.0, 2.0, "voice_1"), ("team_call", 2.0, 2.1, "Maria_Lopez"),
                    ("team_call", 4.0, 3.0, "voice_1"), ("team_call", 9.0, 0.5, "voice_1")]
    doc = to_json(transcript)
    assert doc["turns_from"] == "diarization" and doc["segments"] == []
    assert doc["turns"][1] == {"start": 2.0, "end": 4.1, "speaker": "Maria Lopez", "voice": "voice_2"}
    assert {"source_id", "path", "duration", "word_times", "segments"} <= set(doc)  # the old contract holds
    assert diarized_turns(Speakers(reg), "nothing-here") == [] and diarized_turns(Speakers(None), "src") == []
    reg.forget("src")
    assert diarized_turns(Speakers(reg), "src") == []


def test_without_diarized_turns_the_words_make_them() -> None:
    a = words_of("Hello there how are you", 0.0)
    b = words_of("Fine thanks", 2.0)
    c = words_of("Good", 2.7)  # the first voice again, right after
    d = words_of("Later on", 9.0, pauses={1: 1.5})  # a pause over a second inside the line: two turns
    lines = (line_of(a, "voice_1"), line_of(b, "voice_2"), line_of(c, "voice_1"), line_of(d, "voice_1"))
    turns = word_turns(lines)
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (0.0, 1.7, "voice_1"), (2.0, 2.65, "voice_2"), (2.7, 3.0, "voice_1"), (9.0, 9.3, "voice_1"), (10.85, 11.15, "voice_1")]
    untimed = Line(20.0, 24.0, None, "no word times here", None)
    assert [(t.start, t.end, t.speaker) for t in word_turns([untimed])] == [(20.0, 24.0, None)]
    doc = to_rttm(Transcript("src", "/a.wav", 30.0, (untimed,), tuple(word_turns([untimed]))))
    assert rttm_rows(doc) == [("a", 20.0, 4.0, "speaker")]
    assert to_json(Transcript("src", "/a.wav", 30.0, lines, tuple(turns)))["turns_from"] == "words"
