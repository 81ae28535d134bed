import importlib.util
import shutil

import numpy as np
import pytest

from perception.decode import (
    SceneOptions,
    clip_audio,
    clip_frames_decord,
    clip_frames_pyav,
    clip_spans,
    probe,
    sample_times,
    source_id_for,
)
from perception.errors import CorruptMedia, EmptyMedia, MediaNotFound, NotMedia
from tests.conftest import DATA, GRID, need


def test_clip_spans_cover_the_source_exactly() -> None:
    assert clip_spans(65.0, 30) == [(0, 30), (30, 60), (60, 65)]
    assert clip_spans(60.4, 30) == [(0, 30), (30, 60.4)]  # a tail under 1 s joins the last clip
    assert clip_spans(3.0, 30) == [(0, 3.0)]
    assert sample_times((30.0, 35.0), 2.0) == [30.0, 32.0, 34.0]


def test_probe_grid_clip() -> None:
    info = probe(need(GRID / "bbaf2n.mpg"))
    assert info.has_video and info.has_audio
    assert (info.width, info.height) == (360, 288)
    assert info.duration == pytest.approx(3.0, abs=0.1)


def test_source_id_is_a_content_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = need(GRID / "bbaf2n.mpg")
    copy = tmp_path / "renamed.mpg"
    shutil.copy(src, copy)
    assert source_id_for(src) == source_id_for(copy)
    assert source_id_for(src) != source_id_for(GRID / "brbk7n.mpg")


def test_audio_and_frames_per_clip(grid_video) -> None:  # type: ignore[no-untyped-def]
    path, _truth = grid_video
    info = probe(path)
    spans = clip_spans(info.duration, 10)
    assert len(spans) == 4
    first, t0, _ = clip_audio(path, spans[0], 1.0)
    assert t0 == 0.0 and len(first) == pytest.approx(11 * 16000, abs=1600)
    second, t1, _ = clip_audio(path, spans[1], 1.0)
    assert t1 == 9.0 and len(second) == pytest.approx(12 * 16000, abs=1600)
    _last, _t, until = clip_audio(path, spans[-1], 1.0)
    assert until == pytest.approx(info.duration, abs=0.2)
    frames = [clip_frames_pyav(path, span, 2.0, 1280)[0] for span in spans]
    assert [len(f) for f in frames] == [5, 5, 5, 2]
    times = [t for clip in frames for t, _ in clip]
    assert times[:3] == pytest.approx([0.0, 2.0, 4.0], abs=0.05)
    assert frames[0][0][1].shape == (288, 360, 3)


def test_a_clip_decodes_the_same_alone_or_after_the_others(grid_video) -> None:  # type: ignore[no-untyped-def]
    """Each clip seeks and reads on its own: what it decodes does not depend on the split."""
    path, _ = grid_video
    span = clip_spans(probe(path).duration, 10)[2]
    a, _, _ = clip_audio(path, span, 1.0)
    b, _, _ = clip_audio(path, span, 1.0)
    assert np.array_equal(a, b)
    # the seek lands on the right samples: the same stretch cut from a read from the start
    whole, _, _ = clip_audio(path, (0.0, span[1]), 0.0)
    lo = int((span[0] - 1.0) * 16000)
    piece = whole[lo : lo + len(a)]
    n = min(len(a), len(piece))
    assert np.abs(a[: n] - piece[: n]).mean() < 1e-3


def test_scene_cuts_add_keyframes_between_floor_samples(grid_video) -> None:  # type: ignore[no-untyped-def]
    """The GRID clips are joined end to end: every join (each 3 s) is a cut in the picture."""
    path, truth = grid_video
    span = (0.0, 10.0)
    floor, no_cuts, _ = clip_frames_pyav(path, span, 5.0, 1280, None)
    frames, cuts, _ = clip_frames_pyav(path, span, 5.0, 1280, SceneOptions(step=0.5, cut=12.0))
    assert [t for t, _ in floor] == pytest.approx([0.0, 5.0], abs=0.05) and not no_cuts
    joins = [start for _, start, _ in truth if 0 < start < 10]
    assert cuts, "no scene cut found at the joins"
    for cut in cuts:  # each cut is on a join (exact cuts, the default) or within a check step after it
        assert any(-0.02 <= cut - j <= 0.55 for j in joins), (cut, joins)
    assert sorted(t for t, _ in frames) == [t for t, _ in frames]
    # each cut adds its own frame and the last frame before it (unless a floor sample is either)
    added = {t for t, _ in frames} - {t for t, _ in floor}
    assert cuts <= added | {t for t, _ in floor} and len(added) <= 2 * len(cuts)


def test_exact_cuts_land_on_the_join_with_the_last_frame_before(grid_video) -> None:  # type: ignore[no-untyped-def]
    """A cut is placed on the new shot's first frame, and the old shot's last frame is kept too;
    without ``exact`` the cut stays on the check after the join."""
    path, truth = grid_video
    span = (0.0, 10.0)
    joins = [start for _, start, _ in truth if 0 < start < 10]
    frame = 1 / 25
    frames, cuts, _ = clip_frames_pyav(path, span, 5.0, 1280, SceneOptions(step=0.5, cut=12.0))
    times = [t for t, _ in frames]
    assert sorted(cuts) == [pytest.approx(j, abs=frame / 2) for j in joins]
    for cut in cuts:
        k = times.index(cut)
        assert times[k - 1] == pytest.approx(cut - frame, abs=frame / 2)  # the old shot's last frame
        # the two frames are two different pictures, the one before the cut the same shot as before
        assert np.abs(frames[k][1].astype(int) - frames[k - 1][1].astype(int)).mean() > 12
    assert times == sorted(set(times))
    late, late_cuts, _ = clip_frames_pyav(path, span, 5.0, 1280, SceneOptions(step=0.5, cut=12.0, exact=False))
    assert all(any(0 <= cut - j <= 0.55 for j in joins) for cut in late_cuts)  # on the check at or after the join
    assert {t for t, _ in late} == set(late_cuts) | {0.0, 5.0}  # and no frame of the old shot added


def test_a_cut_at_the_clip_edge_gives_the_clip_its_last_frame(grid_video) -> None:  # type: ignore[no-untyped-def]
    """A clip that ends on a join has no cut of its own, but its shot's last frame is a keyframe;
    a clip that ends inside a shot gets no frame beyond its floor samples."""
    path, truth = grid_video
    join = truth[1][1]
    scene = SceneOptions(step=0.5, cut=12.0)
    edge, edge_cuts, _ = clip_frames_pyav(path, (0.0, join), 2.0, 1280, scene)
    assert not edge_cuts
    assert [t for t, _ in edge][-1] == pytest.approx(join - 1 / 25, abs=0.02)
    inside, inside_cuts, _ = clip_frames_pyav(path, (0.0, join - 0.5), 2.0, 1280, scene)
    assert not inside_cuts and [t for t, _ in inside] == pytest.approx([0.0, 2.0], abs=0.05)
    if importlib.util.find_spec("decord") is not None:
        again, again_cuts, _ = clip_frames_decord(path, (0.0, join), 2.0, 1280, scene)
        assert not again_cuts and [t for t, _ in again] == [pytest.approx(t, abs=0.045) for t, _ in edge]


def test_decord_backend_gives_the_same_frames(grid_video) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("decord")
    path, _ = grid_video
    span = clip_spans(probe(path).duration, 10)[1]
    scene = SceneOptions(step=0.5, cut=12.0)
    a, cuts_a, _ = clip_frames_pyav(path, span, 2.0, 1280, scene)
    b, cuts_b, _ = clip_frames_decord(path, span, 2.0, 1280, scene)
    assert [t for t, _ in a] == [pytest.approx(t, abs=0.045) for t, _ in b]
    assert len(cuts_a) == len(cuts_b)
    for (_, ia), (_, ib) in zip(a, b):
        assert np.abs(ia.astype(int) - ib.astype(int)).mean() < 8  # same picture, codec rounding aside


def test_hamilton_clip_has_audio_and_video() -> None:
    info = probe(need(DATA / "faces" / "face_recognition" / "short_hamilton_clip.mp4"))
    assert info.has_audio and info.has_video and info.duration == pytest.approx(10.0, abs=0.1)


def _write(path, data: bytes):  # type: ignore[no-untyped-def]
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, error, reason",
    [
        (lambda d: d / "missing.mp4", MediaNotFound, "no such file"),
        (lambda d: _write(d / "empty.mp4", b""), EmptyMedia, "empty"),
        (lambda d: _write(d / "notes.mp4", b"meeting notes\n"), NotMedia, "not a video"),
        (lambda d: shutil.copy(DATA / "screens" / "omniparser" / "word.png", d / "shot.mp4"), NotMedia, "still image"),
        (lambda d: d, NotMedia, "folder"),
    ],
)
def test_bad_inputs_are_named_errors(tmp_path, make, error, reason) -> None:  # type: ignore[no-untyped-def]
    need(DATA)
    path = make(tmp_path)
    with pytest.raises(error, match=reason) as info:
        probe(path)
    assert str(path) in str(info.value)


def test_truncated_mp4_without_index_is_corrupt(grid_video, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, _ = grid_video
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[:2000])
    with pytest.raises((CorruptMedia, NotMedia)):
        probe(cut)
