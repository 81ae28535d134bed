"""Faces on screen per clip: detect on the sampled frames, keep good ones, track, embed sparingly.

Quality filter: detector score, face size and sharpness (variance of the Laplacian of the crop).
Tracking: a face whose box overlaps (IoU) a track's last box is that track, and is embedded again
only every ``reembed_after`` seconds — the same face is not re-embedded on every frame. A scene
cut ends every track (two people filmed in the same framing, one after the other, are not one
track); tracks of the same face on both sides of a cut are joined again by their embeddings. A track's
embedding is the mean of its embedded samples; its best crop is saved for visual memory.
Detection (HOG, most of the time) is skipped on a frame in which no tile of the picture changed
since the last detection, within the same shot: that frame has the faces found there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from models.base import Face, FaceEncoder, FloatArray, ImageArray
from perception.keyframes import ChangeOptions, changed_fraction, frame_signature
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
    split_at_cuts: bool = True  # a scene cut ends every track: the next shot's face at the same place is someone new
    # a face whose crop no longer looks like the track's crop when it was last embedded (normalised
    # 24x24 grey correlation below this; GRID: the same face >= 0.76, the next speaker <= 0.65) is
    # embedded again, at most every ``recheck_every`` seconds: another identity at the same place
    # starts a new track
    recheck_below: float = 0.7
    recheck_every: float = 2.0
    split_distance: float = 0.6  # a new embedding this far from its track's mean is someone else (dlib's rule)
    max_gap: float = 2.5  # seconds a track may go unseen (a turned head, a missed detection) and continue
    # a frame in which no tile of the picture changed since the last detection (no cut between,
    # ``perception.keyframes``' tiles and threshold) has the faces found there: the detector (HOG,
    # most of this stage's time) runs again at the latest ``redetect_after`` seconds later
    reuse_unchanged: bool = True
    redetect_after: float = 6.0


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
    thumb: FloatArray | None = None  # the last sighting's normalised grey crop
    ref: FloatArray | None = None  # the normalised grey crop when it was last embedded
    prev: tuple[Any, ...] = ()  # (end, box, thumb, best) before the last sighting

    @property
    def sightings(self) -> int:
        return len(self.times)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def _crop_thumb(crop: ImageArray) -> FloatArray:
    grey = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), (24, 24), interpolation=cv2.INTER_AREA).astype(np.float32)
    grey -= grey.mean()
    return grey / max(float(np.linalg.norm(grey)), 1e-6)


def sharpness(crop: ImageArray) -> float:
    if crop.size == 0:
        return 0.0
    return float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def face_tracks(
    frames: list[tuple[float, ImageArray]], encoder: FaceEncoder, options: FaceOptions,
    cache_dir: Path | None = None, clip_index: int = 0, cuts: frozenset[float] = frozenset(),
) -> tuple[FaceTrack, ...]:
    tracks: list[_Track] = []
    ended: set[int] = set()  # tracks a scene cut closed, or not seen on the previous frame
    detected: tuple[float, Any, list[Face]] | None = None  # the last detection: time, signature, faces
    for t, image in frames:
        # a face unseen for a while is a new track when it comes back (joined again by its embedding
        # in _merge): the same place on screen may now show someone else
        ended |= {k for k, tr in enumerate(tracks) if t - tr.end > options.max_gap}
        if options.split_at_cuts:
            ended |= {k for k, tr in enumerate(tracks) if any(tr.end < c <= t for c in cuts)}
        good: list[tuple[Face, float, ImageArray]] = []
        sig = frame_signature(image) if options.reuse_unchanged else None
        if detected is not None and sig is not None and _unchanged(detected[0], detected[1], t, sig, cuts, options):
            found = detected[2]
        else:
            found = encoder.detect_batch([image])[0]
            detected = (t, sig, found)
        for face in found:
            x0, y0, x1, y1 = face.box
            crop = image[y0:y1, x0:x1]
            sharp = sharpness(crop)
            if min(x1 - x0, y1 - y0) >= options.min_size and face.score >= options.min_score and sharp >= options.min_sharpness:
                good.append((face, sharp, crop))
        to_embed: list[tuple[_Track, tuple[int, int, int, int], bool]] = []  # (track, box, verify)
        taken: set[int] = set()
        for face, sharp, crop in sorted(good, key=lambda g: -g[0].score):
            candidates = [(k, _iou(face.box, tr.box)) for k, tr in enumerate(tracks) if k not in taken | ended]
            k, overlap = max(candidates, key=lambda c: c[1], default=(-1, 0.0))
            thumb = _crop_thumb(crop)
            verify = False
            if k >= 0 and overlap >= options.track_iou:
                track = tracks[k]
                ref = track.ref
                verify = (
                    ref is not None and bool(track.embeddings) and t - track.last_embedded >= options.recheck_every
                    and float(thumb.ravel() @ ref.ravel()) < options.recheck_below
                )
            else:
                track = _Track(f"f{len(tracks)}", t, t, face.box, (-1.0, face.box, 0.0, crop))
                tracks.append(track)
                k = len(tracks) - 1
            taken.add(k)
            due = t - track.last_embedded >= options.reembed_after and len(track.embeddings) < options.max_embeddings
            if verify or due:
                to_embed.append((track, face.box, verify))
            _sight(track, t, face, sharp, crop, thumb)
        if to_embed:
            vectors = encoder.embed_faces(image, [box for _, box, _ in to_embed])
            for (track, box, _), vec in zip(to_embed, vectors):
                if track.embeddings and float(np.linalg.norm(np.mean(track.embeddings, axis=0) - vec)) >= options.split_distance:
                    # someone else where the track's face was: this sighting starts a new track
                    _unsight(track, t)
                    crop = image[box[1]:box[3], box[0]:box[2]]
                    new = _Track(f"f{len(tracks)}", t, t, box, (-1.0, box, track.best[2], crop.copy()))
                    tracks.append(new)
                    _sight(new, t, None, sharpness(crop), crop, _crop_thumb(crop))
                    track = new
                track.embeddings.append(vec)
                track.last_embedded = t
                track.ref = track.thumb
    out = []
    for track in _merge(tracks, options.merge_distance):
        mean = np.mean(track.embeddings, axis=0)
        crop_path = _save_crop(track, cache_dir, clip_index) if options.save_crops and cache_dir else None
        out.append(FaceTrack(
            track.label, track.start, track.end, track.best[1], track.best[2], track.sightings,
            tuple(round(float(x), 5) for x in mean), crop_path, tuple(round(t, 3) for t in sorted(track.times)),
        ))
    return tuple(out)


def _unchanged(t0: float, sig0: Any, t: float, sig: Any, cuts: frozenset[float], options: FaceOptions) -> bool:
    """Whether the picture at ``t`` is the one last searched at ``t0``: no cut between, not too
    long ago, no tile changed."""
    if t - t0 > options.redetect_after or any(t0 < c <= t for c in cuts):
        return False
    return changed_fraction(sig, sig0, _TILES) == 0.0


_TILES = ChangeOptions()


def _sight(track: _Track, t: float, face: Face | None, sharp: float, crop: ImageArray, thumb: FloatArray) -> None:
    """Add a sighting at ``t`` (``face`` None: the box and score are the track's own)."""
    if face is not None:
        track.box = face.box
    score = face.score if face is not None else track.best[2]
    track.prev = (track.end, track.box, track.thumb, track.best)
    track.end = t
    track.times.append(t)
    track.thumb = thumb
    quality = score + min(track.box[2] - track.box[0], 200) / 100 + min(sharp, 500) / 500
    if quality > track.best[0]:
        track.best = (quality, track.box, score, crop.copy())


def _unsight(track: _Track, t: float) -> None:
    """Take back the sighting at ``t`` (it was someone else)."""
    track.times.remove(t)
    track.end, track.box, track.thumb, track.best = track.prev


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
