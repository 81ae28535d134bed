"""The text detector's input normalised in float32 (models/ocr_rapidocr.py) is bit for bit what
RapidOCR's own float64 normalisation gives, for every pixel value and on real frames."""

import numpy as np
from PIL import Image

from tests.conftest import DATA, need


def test_float32_normalisation_equals_the_librarys_for_every_pixel_value(ocr) -> None:  # type: ignore[no-untyped-def]
    ocr._load()  # installs the float32 normalisation
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    ours = DetPreProcess.normalize
    assert getattr(ours, "float32", False)
    pre = DetPreProcess(960, "max")
    values = np.arange(256, dtype=np.uint8)
    every = np.stack([*np.meshgrid(values, values, indexing="ij"), values[::-1][:, None].repeat(256, 1)], axis=-1)
    library = ours.library(pre, every).astype(np.float32)
    got = ours(pre, every)
    assert got.dtype == np.float32 and got.tobytes() == library.tobytes()


def test_the_detectors_input_and_the_text_read_are_unchanged_on_real_frames(ocr) -> None:  # type: ignore[no-untyped-def]
    ocr._load()
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    ours = DetPreProcess.normalize
    image = np.asarray(Image.open(need(DATA / "screens" / "omniparser" / "excel.png")).convert("RGB"))
    pre = DetPreProcess(1500, "max")
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    with_ours = pre(bgr)
    DetPreProcess.normalize = ours.library
    try:
        with_library = pre(bgr)
        library_lines = ocr.read(image)
    finally:
        DetPreProcess.normalize = ours
    assert with_ours.dtype == with_library.dtype == np.float32
    assert with_ours.tobytes() == with_library.tobytes()
    assert ocr.read(image) == library_lines and any(line.text == "AutoSave" for line in library_lines)
