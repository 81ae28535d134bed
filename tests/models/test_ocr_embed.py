import numpy as np
from PIL import Image

from tests.conftest import DATA, need


def rgb(path):  # type: ignore[no-untyped-def]
    return np.asarray(Image.open(need(path)).convert("RGB"))


def test_ocr_reads_excel_screenshot(ocr) -> None:  # type: ignore[no-untyped-def]
    lines = ocr.read(rgb(DATA / "screens" / "omniparser" / "excel.png"))
    words = {w for line in lines for w in line.text.split()}
    for expected in ("AutoSave", "File", "Home", "Insert", "Formulas", "Data", "Review", "View"):
        assert expected in words
    assert all(0.5 <= line.score <= 1.0 and len(line.box) == 4 for line in lines)


def test_ocr_reads_word_screenshot(ocr) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(line.text for line in ocr.read(rgb(DATA / "screens" / "omniparser" / "word.png")))
    assert "Home" in text and "Insert" in text


def test_ocr_finds_nothing_on_a_blank_image(ocr) -> None:  # type: ignore[no-untyped-def]
    assert ocr.read(np.full((200, 300, 3), 255, dtype=np.uint8)) == []


def test_embedder_is_normalised_and_meaningful(embedder) -> None:  # type: ignore[no-untyped-def]
    v = embedder.embed_batch(["the invoice is due on friday", "payment of the bill is due friday", "a cat sat on the mat"])
    assert v.shape == (3, 384) and embedder.dim == 384
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
