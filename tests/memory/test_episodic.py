import json

from memory.episodic import MUSIC_TEXT, clip_memory, screen_snippets, sound_snippets, speech_snippets
from models.base import Segment, Word
from perception.records import ClipObservation, Keyframe, OcrLine


def kf(t: float, *lines: str) -> Keyframe:
    return Keyframe(t, True, tuple(OcrLine(t, x, 0.9) for x in lines))


def test_screen_lines_of_one_frame_stay_together_until_the_screen_changes() -> None:
    clip = ClipObservation("s", 0, 0.0, 30.0, keyframes=(
        kf(0.0, "Receivables", "Invoice #4471", "Due: March 14"),
        Keyframe(2.0, False),
        kf(10.0, "Receivables", "Invoice #4471", "Due: March 14"),  # same screen: one snippet
        kf(18.0, "Budget", "$120,000"),
    ))
    snips = screen_snippets(clip)
    assert [(s.start, s.end, s.text) for s in snips] == [
        (0.0, 18.0, "Receivables | Invoice #4471 | Due: March 14"),
        (18.0, 30.0, "Budget | $120,000"),
    ]


def test_speech_splits_into_sentences_with_word_times() -> None:
    words = [Word(0.0, 0.4, "Hello"), Word(0.5, 0.9, "there."), Word(1.0, 1.3, "Invoice"), Word(2.5, 2.9, "paid")]
    snips = speech_snippets((Segment(0.0, 2.9, "Hello there. Invoice paid", tuple(words)),))
    assert [(s.start, s.end, s.text) for s in snips] == [(0.0, 0.9, "Hello there."), (1.0, 1.3, "Invoice"), (2.5, 2.9, "paid")]


def test_clip_memory_text_and_silence() -> None:
    empty = ClipObservation("s", 0, 0.0, 30.0, keyframes=(Keyframe(0.0, True),))
    assert clip_memory(empty, "/v.mp4") is None
    clip = ClipObservation("s", 1, 30.0, 60.0, (Segment(31.0, 33.0, "Dana leads the move."),), (kf(30.0, "Rotterdam"),))
    record = clip_memory(clip, "/v.mp4")
    assert record is not None
    assert record.text == "Said: Dana leads the move.\nOn screen: Rotterdam"
    assert (record.t_start, record.t_end, record.level, record.kind) == (30.0, 60.0, "clip", "episodic")
    assert record.id == clip_memory(clip, "/elsewhere.mp4").id  # type: ignore[union-attr]


def test_words_heard_over_music_make_one_stretch_of_music() -> None:
    """Lines the ASR heard over music (Segment.sound) are also one "sound" snippet over their run,
    the moment "while the song played" points at; a long silence or speech VAD heard ends a run,
    and speech alone makes none."""
    sung = [Segment(64.6, 66.8, "Thank you.", sound="music"), Segment(72.6, 76.2, "I put in 15 hours", sound="music"),
            Segment(76.2, 79.5, "now we're 17 tomorrow", sound="music"), Segment(119.9, 121.6, "the plague again", sound="music")]
    said = [Segment(130.3, 133.3, "place white in j three please")]
    music = sound_snippets(sung + said)
    assert [(s.start, s.end, s.modality) for s in music] == [(64.6, 79.5, "sound"), (119.9, 121.6, "sound")]
    assert all(s.text == MUSIC_TEXT for s in music)
    split = sound_snippets([sung[1], Segment(80.0, 81.0, "hello"), Segment(82.0, 84.0, "oh someday", sound="music")])
    assert [(s.start, s.end) for s in split] == [(72.6, 76.2), (82.0, 84.0)]  # speech between: two runs
    assert sound_snippets(said) == []
    clip = ClipObservation("src", 0, 60.0, 90.0, tuple(sung[:3]))
    memory = clip_memory(clip, "song.mp4")
    assert memory is not None and MUSIC_TEXT in memory.text
    assert [s.modality for s in memory.snippets].count("sound") == 1
    assert "Said: Thank you." in memory.text  # the words stay speech too
    again = ClipObservation.from_json(json.loads(json.dumps(clip.to_json())))
    assert [x.sound for x in again.segments] == ["music"] * 3  # the mark survives the perception cache
