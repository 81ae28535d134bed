"""Hallucination loops are kept once; real repetition of a word or two is not a loop."""

from __future__ import annotations

from models.asr_faster_whisper import drop_loops
from models.base import Segment, Word


def _segments(*texts: str) -> list[Segment]:
    out, t = [], 0.0
    for text in texts:
        words = []
        for token in text.split():
            words.append(Word(round(t, 3), round(t + 0.3, 3), token, 0.9))
            t += 0.4
        out.append(Segment(words[0].start, words[-1].end, text, tuple(words)))
        t += 0.5
    return out


def _text(segments: list[Segment]) -> list[str]:
    return [s.text for s in segments]


def test_a_greeting_repeated_across_segments_is_kept_once() -> None:
    looped = _segments("Hi there.", "Hi there.", "Hi there.", "Hi there.", "Hi there.", "Hi there.", "How are you?")
    assert _text(drop_loops(looped)) == ["Hi there.", "How are you?"]


def test_a_phrase_looping_inside_one_segment_is_kept_once() -> None:
    (seg,) = drop_loops(_segments("thank you for watching thank you for watching thank you for watching"))
    assert seg.text == "thank you for watching"
    assert seg.end < 2.0


def test_one_word_said_four_times_is_a_loop_but_three_or_two_are_speech() -> None:
    assert _text(drop_loops(_segments("no no no no no"))) == ["no"]
    for text in ("no, no, no.", "very very good", "I said it. I said it."):
        assert _text(drop_loops(_segments(text))) == [text]


def test_repeats_apart_from_each_other_are_not_a_loop() -> None:
    segs = _segments("ask not", "what your country", "ask not", "what you can do", "ask not")
    assert drop_loops(segs) == segs


def test_a_phrase_looping_with_a_stray_word_between_its_returns_is_kept_once() -> None:
    # heard by tiny.en at a joint of two speech regions (the crossing recording, bench.asr_wer)
    looped = _segments("to eat the world is do do to eat the world is do do to eat the world is do to eat the world is do bin blue")
    (seg,) = drop_loops(looped)
    assert seg.text == "to eat the world is do bin blue"
    for text in ("paul allen owns an island paul allen owns a yacht paul allen owns the seahawks",
                 "one two three four x one two three four y z one two three four"):
        assert _text(drop_loops(_segments(text))) == [text]
