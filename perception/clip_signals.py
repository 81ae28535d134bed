"""A clip's signals read from its frames, outside the map stage's bookkeeping: keyframes with OCR
where the content changed and a JPEG of each distinct one, visual embeddings read back from
those JPEGs, the request a captioner gets, and the pictures a cached clip names."""

from __future__ import annotations

import os
from pathlib import Path

import cv2

from models.base import OCR, CaptionRequest, Captioner, ImageArray, ImageEmbedder
from perception.keyframes import ChangeDetector, ChangeOptions, changed_fraction, frame_signature, text_mask
from perception.records import ClipObservation, Keyframe, OcrLine, VisualVector
from perception.secrets import redact_ocr
from perception.video_text import keyframe_lines


def keyframes_of(
    frames: list[tuple[float, ImageArray]], cuts: frozenset[float], cache_dir: Path, clip_index: int, ocr: OCR | None,
    change: ChangeOptions, distinct_tiles: float, jpeg_side: int | None,
) -> tuple[Keyframe, ...]:
    """OCR where the content changed; a JPEG (longest side ``jpeg_side``; None: none saved) of
    every distinct keyframe (the first of the clip, a scene cut, a large change, or one OCR
    read) for visual memory and captions."""
    if not frames:
        return ()
    detector = ChangeDetector(change)  # fresh per clip: clips stay independent
    last_kept = None
    out = []
    for k, (t, image) in enumerate(frames):
        sig = frame_signature(image)
        distinct = last_kept is None or t in cuts or changed_fraction(sig, last_kept, change) >= distinct_tiles
        lines: tuple[OcrLine, ...] = ()
        structured: tuple[str, ...] = ()
        # the last frame before a cut shows how its shot ended (a timecode, a slide's last build):
        # read when anything in it changed since the last read, however small
        ends_shot = k + 1 < len(frames) and frames[k + 1][0] in cuts and detector.changed_since_read(sig)
        read = ocr is not None and (detector.should_read(t, sig) or ends_shot)
        if read:
            assert ocr is not None
            boxes = ocr.read(image)
            h, w = image.shape[:2]
            detector.mark_read(t, sig, text_mask([b.box for b in boxes], w, h))
            lines = redact_ocr(tuple(OcrLine(t, b.text, round(b.score, 4), b.box) for b in boxes))
            structured = keyframe_lines(lines)  # from the redacted lines
        saved = None
        if (distinct or read) and jpeg_side is not None:
            saved = save_jpeg(image, cache_dir, clip_index, t, jpeg_side)
        if distinct:
            last_kept = sig
        out.append(Keyframe(t, read, lines, saved, scene=t in cuts, layout=structured))
    return tuple(out)


def visual_of(keyframes: tuple[Keyframe, ...], cache_dir: Path, image: ImageEmbedder) -> tuple[VisualVector, ...]:
    """Embeddings of the saved keyframes, read back from their JPEGs: the same pixels whether
    they were just written or were cached by an earlier run."""
    saved = [k for k in keyframes if k.image]
    if not saved:
        return ()
    images = [read_rgb(cache_dir / k.image) for k in saved if k.image]
    vectors = image.embed_images(images)
    return tuple(
        VisualVector(k.t, k.image, tuple(round(float(x), 5) for x in v))
        for k, v in zip(saved, vectors)
        if k.image
    )


def save_jpeg(image: ImageArray, cache_dir: Path, clip_index: int, t: float, side: int) -> str:
    rel = f"frames/{clip_index:05d}_{t:09.3f}.jpg"
    target = cache_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    h, w = image.shape[:2]
    if max(h, w) > side:
        scale = side / max(h, w)
        image = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise OSError(f"cannot encode keyframe {rel}")
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data.tobytes())
    os.replace(tmp, target)
    return rel


def missing_files(observation: ClipObservation, cache_dir: Path) -> str | None:
    """The first picture a cached clip names (keyframe JPEGs, face crops) that is not on disk."""
    names = [k.image for k in observation.keyframes if k.image]
    names += [f.crop for f in observation.faces if getattr(f, "crop", None)]
    names += [v.image for v in observation.visual if v.image]
    for name in names:
        if not (cache_dir / name).is_file():
            return name
    return None


def read_rgb(path: Path) -> ImageArray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def caption_request(clip: ClipObservation, cache_dir: Path, captioner: Captioner, max_frames: int) -> CaptionRequest:
    """The clip as a captioner sees it: people as ``face_K`` / ``voice_K`` (clip-local labels)."""
    if clip.turns:
        speech = tuple((f"voice_{t.voice.lstrip('v')}", t.text) for t in clip.turns)
    else:
        speech = tuple(("", s.text) for s in clip.segments)
    faces = tuple(f"face_{f.track.lstrip('f')}" for f in clip.faces)
    windows = [" - ".join(x for x in (k.app, k.window) if x) for k in clip.keyframes if k.app or k.window]
    frames: tuple[ImageArray, ...] = ()
    times: tuple[float, ...] = ()
    if getattr(captioner, "uses_frames", True) and max_frames > 0:
        saved = [k for k in clip.keyframes if k.image]
        if len(saved) > max_frames:
            step = len(saved) / max_frames
            saved = [saved[int(i * step)] for i in range(max_frames)]
        frames = tuple(read_rgb(cache_dir / k.image) for k in saved if k.image)
        times = tuple(k.t for k in saved)
    return CaptionRequest(
        clip.start, clip.end, frames, times, speech, faces, tuple(line.text for line in clip.ocr_lines()),
        windows[0] if windows else "",
    )
