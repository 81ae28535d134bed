"""The transformers image embedder on tiny random-weight CLIP / SigLIP / SigLIP2 models built
offline (tests/tiny_models.py), fed real screenshots and real video frames.

Random weights carry no meaning, so these tests check form and mechanics (shapes, dtype, unit
norms, determinism, batching, input conversion, lazy loading, errors), never similarity rankings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import models
from models.errors import ModelLoadError
from models.image_embed_transformers import TransformersImageEmbedder
from tests.conftest import DATA, GRID, need
from tests.tiny_models import build_tiny_clip, build_tiny_siglip, build_tiny_siglip2

BUILDERS: dict[str, Callable[[Path], Path]] = {
    "clip": build_tiny_clip,
    "siglip": build_tiny_siglip,
    "siglip2": build_tiny_siglip2,
}
DIMS = {"clip": 16, "siglip": 32, "siglip2": 32}
SLOW_PROCESSORS = {"clip": "CLIPImageProcessor", "siglip": "SiglipImageProcessor", "siglip2": "Siglip2ImageProcessor"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_image_models")
    return {family: build(root / f"tiny-{family}") for family, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def screens() -> list[np.ndarray]:
    folder = DATA / "screens" / "omniparser"
    return [np.asarray(Image.open(need(folder / f"{n}.png")).convert("RGB")) for n in ("excel", "word", "teams")]


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """The 10th frame of two GRID clips (360x288 faces)."""
    import av

    out = []
    for name in ("bbaf2n.mpg", "lrwp9a.mpg"):
        with av.open(str(need(GRID / name))) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i == 10:
                    out.append(frame.to_ndarray(format="rgb24"))
                    break
    return out


@pytest.fixture(scope="module")
def images(screens: list[np.ndarray], frames: list[np.ndarray]) -> list[np.ndarray]:
    return screens + frames


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def embedder(request: pytest.FixtureRequest, tiny_dirs: dict[str, Path]) -> TransformersImageEmbedder:
    """One loaded embedder per family, batch_size 2 (smaller than the inputs used below)."""
    e = models.create("image_embedder", "transformers", model=str(tiny_dirs[request.param]), batch_size=2)
    e.ensure_loaded()
    return e


def unit_rows(v: np.ndarray) -> bool:
    return bool(np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5))


# -- loading and capabilities ----------------------------------------------------------------


def test_registered() -> None:
    assert "transformers" in models.available("image_embedder")


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_weights_load_lazily(family: str, tiny_dirs: dict[str, Path], images: list[np.ndarray]) -> None:
    e = TransformersImageEmbedder(str(tiny_dirs[family]))
    assert e._model is None
    # capabilities read the config only
    assert e.dim == DIMS[family]
    assert e.model_id == f"{family}:tiny-{family}"
    assert e._model is None
    assert e.embed_images([]).shape == (0, DIMS[family])
    assert e.embed_texts([]).shape == (0, DIMS[family])
    assert e._model is None
    v = e.embed_images(images[:1])
    assert e._model is not None and v.shape == (1, DIMS[family])


def test_uses_slow_processor_and_tokenizer_length(embedder: TransformersImageEmbedder) -> None:
    """No torchvision: the PIL/numpy image processor of the family, never a *Fast one."""
    assert type(embedder._processor).__name__ == SLOW_PROCESSORS[embedder.family]
    assert embedder._max_length == 16  # the tiny text towers hold 16 positions


# -- images ----------------------------------------------------------------------------------


def test_images_shape_dtype_norm(embedder: TransformersImageEmbedder, images: list[np.ndarray]) -> None:
    v = embedder.embed_images(images)
    assert v.shape == (len(images), embedder.dim) and v.dtype == np.float32
    assert np.isfinite(v).all() and unit_rows(v)


def test_batches_match_one_by_one(embedder: TransformersImageEmbedder, images: list[np.ndarray]) -> None:
    batched = embedder.embed_images(images)  # 5 images in chunks of 2, 2, 1
    single = np.concatenate([embedder.embed_images([image]) for image in images])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_deterministic_and_distinct(embedder: TransformersImageEmbedder, images: list[np.ndarray]) -> None:
    excel, word, _teams, face_a, face_b = images
    first = embedder.embed_images([excel, face_a])
    again = embedder.embed_images([excel, face_a])
    np.testing.assert_array_equal(first, again)
    twice = embedder.embed_images([word, word])
    np.testing.assert_allclose(twice[0], twice[1], atol=1e-6)
    v = embedder.embed_images([excel, word, face_a, face_b])
    for i in range(len(v)):
        for j in range(i + 1, len(v)):
            assert float(v[i] @ v[j]) < 1.0 - 1e-6, (i, j)


def test_gray_and_rgba_are_converted(embedder: TransformersImageEmbedder, screens: list[np.ndarray]) -> None:
    rgb = screens[1]
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, dtype=np.uint8)])
    v = embedder.embed_images([gray, gray[:, :, None], np.stack([gray] * 3, axis=-1), rgba, rgb])
    assert v.shape == (5, embedder.dim) and unit_rows(v)
    np.testing.assert_allclose(v[0], v[2], atol=1e-6)  # gray == gray repeated to RGB
    np.testing.assert_allclose(v[1], v[2], atol=1e-6)  # (H, W, 1) too
    np.testing.assert_allclose(v[3], v[4], atol=1e-6)  # alpha is dropped


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((32, 32, 3), dtype=np.float32), "uint8"),
        (np.zeros((32, 32, 2), dtype=np.uint8), "shape"),
        (np.zeros((2, 32, 32, 3), dtype=np.uint8), "shape"),
        (np.zeros((0, 32, 3), dtype=np.uint8), "empty"),
    ],
)
def test_bad_images_rejected_before_loading(tiny_dirs: dict[str, Path], bad: np.ndarray, message: str) -> None:
    e = TransformersImageEmbedder(str(tiny_dirs["clip"]))
    with pytest.raises(ValueError, match=message):
        e.embed_images([bad])
    assert e._model is None


# -- texts -----------------------------------------------------------------------------------


def test_texts_share_the_image_space(embedder: TransformersImageEmbedder, images: list[np.ndarray]) -> None:
    texts = ["a screenshot of a spreadsheet", "a person talking to the camera", "", "lay white with z zero please"]
    t = embedder.embed_texts(texts)
    assert t.shape == (len(texts), embedder.dim) and t.dtype == np.float32
    assert np.isfinite(t).all() and unit_rows(t)
    sims = embedder.embed_images(images) @ t.T
    assert sims.shape == (len(images), len(texts)) and np.all(np.abs(sims) <= 1.0 + 1e-5)
    np.testing.assert_array_equal(t, embedder.embed_texts(texts))
    single = np.concatenate([embedder.embed_texts([text]) for text in texts])
    np.testing.assert_allclose(t, single, atol=1e-5)
    assert float(t[0] @ t[1]) < 1.0 - 1e-6


def test_long_texts_are_truncated(embedder: TransformersImageEmbedder) -> None:
    long = " ".join(["the invoice is due on friday"] * 40)  # far beyond 16 positions
    t = embedder.embed_texts([long, long + " and more words after the cut"])
    assert t.shape == (2, embedder.dim) and unit_rows(t)
    np.testing.assert_allclose(t[0], t[1], atol=1e-6)  # same first 16 tokens, same vector


def test_bfloat16_gives_float32_unit_rows(tiny_dirs: dict[str, Path], screens: list[np.ndarray]) -> None:
    e = TransformersImageEmbedder(str(tiny_dirs["siglip"]), dtype="bf16", batch_size=2)
    v = e.embed_images(screens)
    t = e.embed_texts(["a chat window"])
    assert e.dtype == "bfloat16" and v.dtype == np.float32 and t.dtype == np.float32
    assert v.shape == (3, 32) and unit_rows(v) and unit_rows(t)


# -- errors ----------------------------------------------------------------------------------


def one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def test_missing_folder(tmp_path: Path, screens: list[np.ndarray]) -> None:
    e = TransformersImageEmbedder(str(tmp_path / "nowhere"))
    with pytest.raises(ModelLoadError) as error:
        e.embed_images(screens[:1])
    assert "nowhere" in one_line(error)
    with pytest.raises(ModelLoadError):
        _ = e.dim


def test_folder_without_config(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(ModelLoadError, match="config.json") as error:
        TransformersImageEmbedder(str(tmp_path)).embed_texts(["x"])
    one_line(error)


def test_unreadable_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError) as error:
        TransformersImageEmbedder(str(tmp_path)).ensure_loaded()
    one_line(error)


def test_unsupported_model_type(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelLoadError, match="bert") as error:
        _ = TransformersImageEmbedder(str(tmp_path)).dim
    one_line(error)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="dtype"):
        TransformersImageEmbedder("x", dtype="int8")
    with pytest.raises(ValueError, match="batch_size"):
        TransformersImageEmbedder("x", batch_size=0)
    with pytest.raises(TypeError, match="sequence"):
        TransformersImageEmbedder("x").embed_texts("one string")  # type: ignore[arg-type]
