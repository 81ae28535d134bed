"""The map stage on real media: speech per clip with exact word ownership, OCR on change, caching."""

import json

import numpy as np
import pytest

from bench.asr_wer import wer
from perception.decode import probe, source_id_for
from perception.errors import CorruptMedia
from perception.keyframes import ChangeDetector, ChangeOptions, signature
from perception.map import Perceiver
from perception.map_clip import clip_keyframes
from perception.map_settings import PerceptionOptions
from perception.records import ClipObservation


def test_change_detector_reads_only_what_changed() -> None:
    still = np.full((360, 640, 3), 200, dtype=np.uint8)
    slide = still.copy()
    slide[100:140, 50:400] = 0  # a line of "text" appears
    det = ChangeDetector(ChangeOptions(max_staleness=10))
    sig = signature(still)
    assert det.should_read(0.0, sig)
    det.mark_read(0.0, sig, np.zeros((8, 8), dtype=bool))
    assert not det.should_read(2.0, signature(still))  # unchanged: no OCR
    assert not det.should_read(4.0, signature(slide))  # small change, last read is fresh
    assert det.should_read(12.0, signature(slide))  # small change, last read is stale
    assert det.should_read(4.0, signature(255 - still))  # a cut


class _ScriptedOcr:
    """Reads the grey level of a frame's top-left corner as its text: a scripted, deterministic OCR."""

    model_id = "scripted"

    def __init__(self) -> None:
        self.read_at: list[int] = []

    def read(self, image):  # type: ignore[no-untyped-def]
        from models.base import TextBox

        self.read_at.append(int(image[0, 0, 0]))
        return [TextBox(f"level {int(image[0, 0, 0])}", 0.99, ((0, 0), (40, 0), (40, 10), (0, 10)))]


def test_the_last_frame_before_a_cut_is_read_when_anything_in_it_changed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A shot's last frame before a cut is read even when its change is too small for a tile to
    count (a timecode's digits); an unchanged one (a still slide) is not read again."""
    still = np.full((360, 640, 3), 120, dtype=np.uint8)
    ticked = still.copy()
    ticked[:4, :6] = 90  # a few pixels of "digits" change: no tile's mean moves by the threshold
    black = np.zeros_like(still)
    frames = [(0.0, still), (2.0, ticked), (3.96, ticked), (4.0, black)]
    ocr = _ScriptedOcr()
    kf = clip_keyframes(Perceiver(PerceptionOptions(save_keyframes=False), _Exploding(), ocr), frames, frozenset({4.0}), tmp_path, 0)  # type: ignore[arg-type]
    assert [k.ocr_ran for k in kf] == [True, False, True, True]  # 2.0: small change, fresh read; 3.96: ends the shot
    assert [line.text for line in kf[2].ocr] == ["level 90"]
    ocr = _ScriptedOcr()
    same = [(0.0, still), (2.0, still), (3.96, still), (4.0, black)]
    kf = clip_keyframes(Perceiver(PerceptionOptions(save_keyframes=False), _Exploding(), ocr), same, frozenset({4.0}), tmp_path, 0)  # type: ignore[arg-type]
    assert [k.ocr_ran for k in kf] == [True, False, False, True]  # nothing changed before the cut: no second read
    no_cut = [(0.0, still), (2.0, ticked), (3.96, ticked), (4.0, ticked)]
    kf = clip_keyframes(Perceiver(PerceptionOptions(save_keyframes=False), _Exploding(), _ScriptedOcr()), no_cut, frozenset(), tmp_path, 0)  # type: ignore[arg-type]
    assert [k.ocr_ran for k in kf] == [True, False, False, False]  # no cut: the small change waits for staleness


def test_timecodes_are_read_where_the_shot_starts_and_ends(ocr, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The dev set's burned-in timecode clip (viewed by hand: 01:00:00:00 on its first frame at
    137.32 s, 01:00:42:11 on its last at 179.68 s, then black): the cut's frame and the last
    frame before the clip's cut to black are read, not only the 1 s check grid's."""
    from perception.decode import clip_frames_pyav

    from tests.conftest import DATA, need

    video = need(DATA / "qa" / "video-dev" / "composite.mp4")
    options = PerceptionOptions(save_keyframes=False)
    perceiver = Perceiver(options, _Exploding(), ocr)  # type: ignore[arg-type]
    read = {}
    for span in ((120.0, 150.0), (150.0, 180.0)):
        frames, cuts, _ = clip_frames_pyav(video, span, options.keyframe_interval, options.frame_max_side, options.scene)
        for k in clip_keyframes(perceiver, frames, cuts, tmp_path, 0):
            if k.ocr_ran:
                read[k.t] = " ".join(line.text for line in k.ocr)
    assert read[137.32] == "01:00:00:00", read
    assert read[179.68] == "01:00:42:11", read


def test_grid_clips_words_belong_to_one_clip(asr, ocr, grid_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, truth = grid_video
    info = probe(path)
    perceiver = Perceiver(PerceptionOptions(clip_seconds=10), asr, ocr)
    clips = list(perceiver.observe(path, info, source_id_for(path), tmp_path / "cache"))
    assert [(c.start, c.end) for c in clips] == [(0, 10), (10, 20), (20, 30), (30, info.duration)]
    words = [w for c in clips for s in c.segments for w in s.words]
    for c in clips:
        for s in c.segments:
            for w in s.words:
                assert c.start <= (w.start + w.end) / 2 < c.end
    assert all(a.start <= b.start for a, b in zip(words, words[1:]))  # no duplicates across clips
    text = " ".join(c.transcript.lower() for c in clips)
    for phrase in ("place white", "set blue", "please", "again"):
        assert phrase in text
    # every sentence heard, whatever the clip edges: tiny.en's error rate on the whole of GRID
    # is about 0.15 (blue / blew, numbers as digits); a lost sentence would add 0.09
    error, _, _ = wer(" ".join(t for t, _, _ in truth), text)
    assert error < 0.25, (error, text)
    assert all(k.ocr == () for c in clips for k in c.keyframes)  # talking faces: no text on screen
    ocr_reads = sum(k.ocr_ran for c in clips for k in c.keyframes)
    assert ocr_reads < sum(len(c.keyframes) for c in clips)  # change detection skipped some

    # cached: a second run reads the JSON and decodes nothing
    files = sorted((tmp_path / "cache").glob("clip_*.json"))
    assert len(files) == 4
    cached = Perceiver(PerceptionOptions(clip_seconds=10), _Exploding(), ocr)
    assert cached.pending(info, tmp_path / "cache") == []
    again = list(cached.observe(path, info, source_id_for(path), tmp_path / "cache"))
    assert again == clips


def test_interrupted_run_resumes_only_missing_clips(asr, grid_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = grid_video
    info = probe(path)
    opts = PerceptionOptions(clip_seconds=10, ocr=False)
    full = list(Perceiver(opts, asr, None).observe(path, info, "src", tmp_path / "a"))
    # simulate a crash after two clips: copy those two, with the keyframe pictures they name (a
    # clip's JSON is written after its pictures: a cached clip whose pictures are gone is recomputed)
    (tmp_path / "b" / "frames").mkdir(parents=True)
    for i in (0, 1):
        name = f"clip_{i:05d}.json"
        (tmp_path / "b" / name).write_text((tmp_path / "a" / name).read_text())
        for frame in (tmp_path / "a" / "frames").glob(f"{i:05d}_*"):
            (tmp_path / "b" / "frames" / frame.name).write_bytes(frame.read_bytes())
    kept = {i: (tmp_path / "b" / f"clip_{i:05d}.json").stat().st_mtime_ns for i in (0, 1)}
    counting = _Counting(asr)
    resumed = list(Perceiver(opts, counting, None).observe(path, info, "src", tmp_path / "b"))
    assert resumed == full
    # the four clips are one ASR group: clips 2 and 3 are transcribed with 0 and 1 alongside (as
    # in the uninterrupted run), in one call; the finished clips are not written again
    assert counting.calls == 1 and len(full) == 4
    assert kept == {i: (tmp_path / "b" / f"clip_{i:05d}.json").stat().st_mtime_ns for i in (0, 1)}


def test_truncated_faststart_mp4_is_detected(asr, grid_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = grid_video
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    info = probe(cut)  # the header (moov first) still declares the full length
    assert info.duration > 30
    with pytest.raises(CorruptMedia, match="truncated or damaged"):
        list(Perceiver(PerceptionOptions(ocr=False), asr, None).observe(cut, info, "cut", tmp_path / "c"))
    # the clips before the damage are kept for a resume; the damaged one is not
    kept = sorted(p.name for p in (tmp_path / "c").glob("clip_*.json"))
    assert "clip_00001.json" not in kept


def test_demo_video_ocr_and_speech(asr, ocr, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    from mmagent.samples import make_demo_video

    video = tmp_path / "demo.mp4"
    script = make_demo_video(video)
    clips = list(Perceiver(PerceptionOptions(), asr, ocr).observe(video, probe(video), "demo", tmp_path / "c"))
    shown = [line.text for c in clips for line in c.ocr_lines()]
    assert any("4471" in s for s in shown), shown
    assert any("Rotterdam" in s for s in shown), shown
    said = " ".join(c.transcript for c in clips).lower()
    assert "marketing budget" in said and "revised contract" in said
    invoice = next(line for c in clips for line in c.ocr_lines() if "4471" in line.text)
    scene = script[1]
    assert scene["start"] <= invoice.t <= scene["end"]
    saved = [k.image for c in clips for k in c.keyframes if k.image]
    assert saved and all((tmp_path / "c" / s).is_file() for s in saved)
    # the slide's stacked fields are read as pairs of their own, and the layout is kept in the cache
    read = [x for c in clips for k in c.keyframes for x in k.layout]
    assert "Amount: $12,800" in read and "Due: March 14" in read, read
    assert not any(x.startswith("Amount") and "March" in x for x in read)
    again = [ClipObservation.from_json(json.loads(json.dumps(c.to_json()))) for c in clips]
    assert [k.layout for c in again for k in c.keyframes] == [k.layout for c in clips for k in c.keyframes]


class _Exploding:
    model_id = "faster-whisper:tiny.en"
    sample_rate = 16000

    def transcribe(self, audio):  # type: ignore[no-untyped-def]
        raise AssertionError("should have been served from the cache")


class _Counting:
    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.calls = inner, 0
        self.model_id = inner.model_id

    def transcribe_batch(self, audios):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.inner.transcribe_batch(audios)


def test_speaker_turns_are_part_of_the_clip_and_its_cache(asr, grid_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import models
    from perception.records import ClipObservation

    voice = models.create("voice_encoder", "resemblyzer")
    path, _ = grid_video
    info = probe(path)
    perceiver = Perceiver(PerceptionOptions(clip_seconds=10, ocr=False), asr, None, voice)
    clips = list(perceiver.observe(path, info, "grid", tmp_path / "v"))
    first = clips[0]  # four different GRID speakers in 10 s
    assert len({t.voice for t in first.turns}) >= 2
    assert " ".join(t.text for t in first.turns) == " ".join(w.text for s in first.segments for w in s.words)
    assert ClipObservation.from_json(json.loads(json.dumps(first.to_json()))) == first
    assert perceiver.fingerprint != Perceiver(PerceptionOptions(clip_seconds=10, ocr=False), asr, None).fingerprint


def test_faces_are_part_of_the_clip_and_its_cache(asr, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import models
    from perception.records import ClipObservation
    from tests.conftest import DATA, need

    path = need(DATA / "faces" / "face_recognition" / "short_hamilton_clip.mp4")
    face = models.create("face_encoder", "dlib", min_face=40)
    perceiver = Perceiver(PerceptionOptions(keyframe_interval=1.0, ocr=False), asr, None, None, face)
    (clip,) = list(perceiver.observe(path, probe(path), "ham", tmp_path / "f"))
    assert clip.faces and max(f.sightings for f in clip.faces) >= 4
    assert all(len(f.embedding) == 128 and (tmp_path / "f" / f.crop).is_file() for f in clip.faces if f.crop)
    assert ClipObservation.from_json(json.loads(json.dumps(clip.to_json()))) == clip


def test_voice_segments_are_a_signal_of_their_own(asr, grid_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A cache made without the diarizer gains the voice segments alone (no ASR again); they lie
    inside the clip (no time twice), cover its words (found by the segmentation model's speech,
    not from the words), in time order, each with a unit CAM++ vector; they round-trip through JSON."""
    import models
    from models.segmentation_pyannote import Segmentation

    path, _ = grid_video
    info = probe(path)
    opts = PerceptionOptions(clip_seconds=10, ocr=False)
    plain = list(Perceiver(opts, asr, None).observe(path, info, "src", tmp_path / "c"))
    assert all(c.voice_segments == () for c in plain)
    campplus = models.create("voice_encoder", "campplus")
    diarized = Perceiver(opts, _Exploding(), None, diarizer=campplus, segmenter=Segmentation())
    before = Perceiver(opts, asr, None).signals
    assert {k: v for k, v in diarized.signals.items() if k != "voice_segments"} == before  # the others stay cached
    clips = list(diarized.observe(path, info, "src", tmp_path / "c"))
    assert all(c.producer["diarizer"] == campplus.model_id for c in clips)
    assert [c.segments for c in clips] == [c.segments for c in plain]  # speech reused, not heard again
    for clip in clips:
        words = [w for s in clip.segments for w in s.words]
        assert clip.voice_segments, clip.clip_index
        starts = [s.start for s in clip.voice_segments]
        assert starts == sorted(starts)
        assert clip.start - 1e-3 <= clip.voice_segments[0].start and clip.voice_segments[-1].end <= clip.end + 1e-3
        heard = [w for w in words if any(s.start - 0.3 <= (w.start + w.end) / 2 <= s.end + 0.3 for s in clip.voice_segments)]
        assert len(heard) >= 0.9 * len(words), (words, clip.voice_segments)
        for seg in clip.voice_segments:
            assert len(seg.embedding) == 192 and abs(float(np.linalg.norm(seg.embedding)) - 1.0) < 1e-3
    again = list(Perceiver(opts, _Exploding(), None, diarizer=campplus, segmenter=Segmentation()).observe(
        path, info, "src", tmp_path / "c"))
    assert again == clips
