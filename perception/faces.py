"""Faces on screen per clip: detect on the sampled frames, keep good ones, track, embed sparingly.

Quality filter: detector score, face size and sharpness (variance of the Laplacian of the crop).
Tracking: a face whose box overlaps (IoU) a track's last box is that track, and is embedded again
only every ``reembed_after`` seconds — the same face is not re-embedded on every frame. A track's
embedding is the mean of its embedded samples; its best crop is saved for visual memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from models.base import Face, FaceEncoder, FloatArray, ImageArray
from perception.records import FaceTrack


@dataclass(frozen=True)
class FaceOptions:
    min_size: int = 40  # pixels, on the sampled frame
    min_score: float = 0.3  # HOG detector score: low-confidence detections are mostly not faces
    min_sharpness: float = 20.0  # variance of the Laplacian of the grey crop
    track_iou: float = 0.3
    reembed_after: float = 10.0  # seconds
    max_embeddings: int = 3  # per track and clip: dlib's ResNet costs ~0.1 s a face on one CPU core
    merge_distance: float = 0.5  # tracks of one clip this close (and never on screen together) are one face
    save_crops: bool = True


@dataclass
class _Track:
    label: str
    start: float
    end: float
    box: tuple[int, int, int, int]
    best: tuple[float, tuple[int, int, int, int], float, ImageArray]  # quality, box, score, crop
    embeddings: list[FloatArray] = field(default_factory=list)
    last_embedded: float = -1e9
    times: list[float] = field(default_factory=list)

    @property
    def sightings(self) -> int:
        return len(self.times)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def sharpness(crop: ImageArray) -> float:
    if crop.size == 0:
        return 0.0
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def face_tracks(
    frames: list[tuple[float, ImageArray]], encoder: FaceEncoder, options: FaceOptions,
    cache_dir: Path | None = None, clip_index: int = 0,
) -> tuple[FaceTrack, ...]:
    tracks: list[_Track] = []
    for t, image in frames:
        good: list[tuple[Face, float, ImageArray]] = []
        for face in encoder.detect_batch([image])[0]:
            x0, y0, x1, y1 = face.box
            crop = image[y0:y1, x0:x1]
            sharp = sharpness(crop)
            if min(x1 - x0, y1 - y0) >= options.min_size and face.score >= options.min_score and sharp >= options.min_sharpness:
                good.append((face, sharp, crop))
        to_embed: list[tuple[_Track, tuple[int, int, int, int]]] = []
        taken: set[int] = set()
        for face, sharp, crop in sorted(good, key=lambda g: -g[0].score):
            candidates = [(k, _iou(face.box, tr.box)) for k, tr in enumerate(tracks) if k not in taken]
            k, overlap = max(candidates, key=lambda c: c[1], default=(-1, 0.0))
            if k >= 0 and overlap >= options.track_iou:
                track = tracks[k]
            else:
                track = _Track(f"f{len(tracks)}", t, t, face.box, (-1.0, face.box, 0.0, crop))
                tracks.append(track)
                k = len(tracks) - 1
            taken.add(k)
            track.end, track.box = t, face.box
            track.times.append(t)
            quality = face.score + min(face.box[2] - face.box[0], 200) / 100 + min(sharp, 500) / 500
            if quality > track.best[0]:
                track.best = (quality, face.box, face.score, crop.copy())
            if t - track.last_embedded >= options.reembed_after and len(track.embeddings) < options.max_embeddings:
                to_embed.append((track, face.box))
                track.last_embedded = t
        if to_embed:
            vectors = encoder.embed_faces(image, [box for _, box in to_embed])
            for (track, _box), vec in zip(to_embed, vectors):
                track.embeddings.append(vec)
    out = []
    for track in _merge(tracks, options.merge_distance):
        mean = np.mean(track.embeddings, axis=0)
        crop_path = _save_crop(track, cache_dir, clip_index) if options.save_crops and cache_dir else None
        out.append(FaceTrack(
            track.label, track.start, track.end, track.best[1], track.best[2], track.sightings,
            tuple(round(float(x), 5) for x in mean), crop_path,
        ))
    return tuple(out)


def _merge(tracks: list[_Track], distance: float) -> list[_Track]:
    """A face lost by the tracker (it moved fast, turned, was hidden) comes back as a new track:
    join tracks whose embeddings match and that were never seen in the same frame."""
    kept: list[_Track] = []
    for track in sorted(tracks, key=lambda tr: tr.start):
        mean = np.mean(track.embeddings, axis=0)
        for other in kept:
            apart = not set(track.times) & set(other.times)
            if apart and float(np.linalg.norm(np.mean(other.embeddings, axis=0) - mean)) < distance:
                other.embeddings.extend(track.embeddings)
                other.start, other.end = min(other.start, track.start), max(other.end, track.end)
                other.times = sorted(other.times + track.times)
                if track.best[0] > other.best[0]:
                    other.best = track.best
                break
        else:
            kept.append(track)
    for k, track in enumerate(kept):
        track.label = f"f{k}"
    return kept


def _save_crop(track: _Track, cache_dir: Path, clip_index: int) -> str:
    rel = f"faces/{clip_index:05d}_{track.label}.jpg"
    (cache_dir / "faces").mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(cache_dir / rel), cv2.cvtColor(track.best[3], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return rel
