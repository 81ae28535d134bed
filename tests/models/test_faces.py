"""dlib faces on the reference photos and the Hamilton clip (Lin-Manuel Miranda performs in it)."""

import numpy as np
import pytest
from PIL import Image

from perception.faces import FaceOptions, face_tracks
from tests.conftest import DATA, need

FACES = DATA / "faces" / "face_recognition"


@pytest.fixture(scope="module")
def faces():  # type: ignore[no-untyped-def]
    import models

    return models.create("face_encoder", "dlib", min_face=40)  # the performer's face is small


def photo(name: str):  # type: ignore[no-untyped-def]
    return np.asarray(Image.open(need(FACES / name)).convert("RGB"))


def embed_one(faces, name: str):  # type: ignore[no-untyped-def]
    image = photo(name)
    found = faces.detect_batch([image])[0]
    assert len(found) == 1, name
    return faces.embed_faces(image, [found[0].box])[0]


def test_reference_photos_are_different_people(faces) -> None:  # type: ignore[no-untyped-def]
    names = ["lin-manuel-miranda.png", "obama.jpg", "biden.jpg", "alex-lacamoire.png"]
    vectors = [embed_one(faces, n) for n in names]
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            assert np.linalg.norm(vectors[i] - vectors[j]) > faces.same_person, (names[i], names[j])


def test_two_people_photo_has_two_faces(faces) -> None:  # type: ignore[no-untyped-def]
    assert len(faces.detect_batch([photo("two_people.jpg")])[0]) == 2


def test_performer_is_tracked_and_matches_his_photo(faces, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import av

    with av.open(str(need(FACES / "short_hamilton_clip.mp4"))) as c:
        frames = [(round(float(f.time), 3), f.to_ndarray(format="rgb24")) for i, f in enumerate(c.decode(video=0)) if i % 30 == 0]
    calls = []
    real_embed = faces.embed_faces

    def counting(image, boxes):  # type: ignore[no-untyped-def]
        calls.append(len(boxes))
        return real_embed(image, boxes)

    faces.embed_faces = counting
    try:
        tracks = face_tracks(frames, faces, FaceOptions(), tmp_path, 0)
    finally:
        faces.embed_faces = real_embed
    lin = embed_one(faces, "lin-manuel-miranda.png")
    matches = [t for t in tracks if np.linalg.norm(np.asarray(t.embedding) - lin) < faces.same_person]
    assert matches, [(t.track, t.sightings) for t in tracks]
    main = max(matches, key=lambda t: t.sightings)
    assert main.sightings >= 4 and main.end - main.start >= 3.0
    assert sum(calls) < sum(t.sightings for t in tracks)  # tracked faces are not re-embedded every frame
    assert main.crop and (tmp_path / main.crop).is_file()
    others = [t for t in tracks if t not in matches]
    assert all(np.linalg.norm(np.asarray(t.embedding) - lin) > 0.6 for t in others)


def test_the_onnx_resnet_gives_dlibs_own_descriptors(faces) -> None:  # type: ignore[no-untyped-def]
    """The face ResNet is run from dlib's .dat by onnxruntime and by torch (models.face_resnet):
    on every face of the reference photos both give what dlib's compute_face_descriptor gives."""
    import dlib

    from models.face_dlib import ENCODER, LANDMARKS, bundled_dat_dir
    from models.face_resnet import FaceResNet

    need(FACES)  # the reference photos in ../shared/data
    folder = bundled_dat_dir()
    predictor = dlib.shape_predictor(str(folder / LANDMARKS))
    reference = dlib.face_recognition_model_v1(str(folder / ENCODER))
    backends = [FaceResNet(folder / ENCODER), FaceResNet(folder / ENCODER, backend="torch")]
    compared = 0
    for path in sorted(FACES.glob("*.jp*g")) + sorted(FACES.glob("*.png")):
        image = photo(path.name)
        boxes = [f.box for f in faces.detect_batch([image])[0]]
        if not boxes:
            continue
        shapes = [predictor(image, dlib.rectangle(*map(int, b))) for b in boxes]
        want = np.array([reference.compute_face_descriptor(image, s) for s in shapes], dtype=np.float32)
        for net in backends:
            got = net.embed_faces(image, shapes)
            assert got.shape == want.shape
            assert float(np.abs(got - want).max()) < 1e-4, path.name
        assert np.allclose(faces.embed_faces(image, boxes), want, atol=1e-4)  # the encoder the pipeline uses
        compared += len(boxes)
    assert compared >= 6


def test_a_file_that_is_not_the_face_resnet_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import models
    from models.errors import ModelLoadError
    from models.face_dlib import ENCODER, LANDMARKS, bundled_dat_dir

    folder = tmp_path / "dats"
    folder.mkdir()
    (folder / LANDMARKS).write_bytes((bundled_dat_dir() / LANDMARKS).read_bytes())
    (folder / ENCODER).write_bytes((bundled_dat_dir() / ENCODER).read_bytes()[:5000])
    broken = models.create("face_encoder", "dlib", model_dir=str(folder))
    with pytest.raises(ModelLoadError, match="cannot load the face encoder"):
        broken.embed_faces(photo("obama.jpg"), [(0, 0, 50, 50)])


def test_the_cached_frontal_detector_is_dlibs_own(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The detector saved in the cache folder (models.face_dlib.frontal_detector) finds the same
    boxes with the same scores as the one dlib builds, on the reference photos and on GRID
    frames, upsampled or not; a damaged cached file is rebuilt."""
    import dlib

    from models.face_dlib import frontal_detector
    from perception.decode import clip_frames_pyav
    from tests.conftest import GRID

    monkeypatch.setenv("MMAGENT_CACHE", str(tmp_path))
    built = frontal_detector(dlib)  # first use: built by dlib, saved
    saved = list((tmp_path / "models").glob("dlib-*-frontal-face-detector.svm"))
    assert len(saved) == 1 and not list((tmp_path / "models").glob(".*.tmp"))
    cached = frontal_detector(dlib)  # read back from the file
    reference = dlib.get_frontal_face_detector()
    images = [photo(p.name) for p in sorted(FACES.glob("*.jp*g"))[:4]]
    clip = sorted(need(GRID).glob("*.mpg"))[0]
    images += [im for _, im in clip_frames_pyav(clip, (0.0, 3.0), 1.0, 1280)[0]]
    found = 0
    for image in images:
        grey = np.ascontiguousarray(image.mean(axis=2).astype(np.uint8))
        for upsample in (0, 1):
            want = reference.run(grey, upsample, 0.0)
            for detector in (built, cached):
                rects, scores, kinds = detector.run(grey, upsample, 0.0)
                assert [(r.left(), r.top(), r.right(), r.bottom()) for r in rects] == [
                    (r.left(), r.top(), r.right(), r.bottom()) for r in want[0]]
                assert list(scores) == list(want[1]) and list(kinds) == list(want[2])
            found += len(want[0])
    assert found >= 6
    saved[0].write_bytes(b"not a detector")
    rebuilt = frontal_detector(dlib)
    assert len(rebuilt.run(images[0], 0, 0.0)[0]) == len(reference.run(images[0], 0, 0.0)[0])
    assert saved[0].stat().st_size > 100_000
