"""Records owned by the perception layer. Plain dataclasses that round-trip through JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from models.base import Segment, Word

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class OcrLine:
    t: float
    text: str
    score: float
    box: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Keyframe:
    """A sampled frame. ``ocr_ran`` says whether OCR looked at it (change detection decides);
    ``image`` is the saved JPEG relative to the clip cache folder, when one was saved."""

    t: float
    ocr_ran: bool
    ocr: tuple[OcrLine, ...] = ()
    image: str | None = None
    app: str | None = None  # screen captures: the application and window title, when known
    window: str | None = None
    scene: bool = False  # taken at a scene cut (between the floor-rate samples)
    layout: tuple[str, ...] = ()  # structured lines read from the OCR boxes (perception/layout.py)


@dataclass(frozen=True)
class SpeakerTurn:
    """Words spoken by one voice; ``voice`` is a clip-local label (v0, v1, ...), ``embedding``
    the voice's vector over the turn's words (for identities across clips: the reduce stage)."""

    start: float
    end: float
    text: str
    voice: str
    embedding: tuple[float, ...]


@dataclass(frozen=True)
class VoiceSegment:
    """The diarizer's map-stage output, clustered into speakers over the whole source: either a
    stretch of speech by one voice (between speaker changes) with the voice's vector over it, or
    (``window`` set) one local speaker of a 10 s segmentation window: where in that window it
    speaks (``runs``, source seconds; ``start`` / ``end`` their extent) and its vector over the
    ``clean`` seconds it speaks alone there; the local speakers of one window (and ``piece``)
    are different people."""

    start: float
    end: float
    embedding: tuple[float, ...]
    window: float | None = None  # the window's start (source seconds): its local speakers are different people
    runs: tuple[tuple[float, float], ...] = ()
    clean: float = 0.0
    piece: float | None = None  # cut at voice changes too: where its stretch between two changes starts

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "embedding": list(self.embedding)}
        if self.window is not None:
            out.update(window=self.window, runs=[list(r) for r in self.runs], clean=self.clean, piece=self.piece)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoiceSegment:
        window = data.get("window")
        return cls(float(data["start"]), float(data["end"]), tuple(float(x) for x in data["embedding"]),
                   None if window is None else float(window),
                   tuple((float(a), float(b)) for a, b in data.get("runs", ())), float(data.get("clean", 0.0)),
                   None if data.get("piece") is None else float(data["piece"]))


@dataclass(frozen=True)
class FaceTrack:
    """One face followed across a clip's sampled frames. ``embedding`` is the mean of the samples
    that were embedded; ``box`` and ``crop`` (a JPEG under the clip cache) are from its best frame."""

    track: str  # clip-local label: f0, f1, ...
    start: float
    end: float
    box: tuple[int, int, int, int]
    score: float
    sightings: int
    embedding: tuple[float, ...]
    crop: str | None = None
    times: tuple[float, ...] = ()  # the sampled frames it was seen on (a joined track has gaps)


@dataclass(frozen=True)
class VisualVector:
    """The visual embedding of a saved keyframe (``image``, relative to the clip cache)."""

    t: float
    image: str
    vector: tuple[float, ...]


@dataclass(frozen=True)
class ClipObservation:
    source_id: str
    clip_index: int
    start: float
    end: float
    segments: tuple[Segment, ...] = ()
    keyframes: tuple[Keyframe, ...] = ()
    producer: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    wall_start: float | None = None  # screen sources: wall-clock time (epoch s) of ``start``
    turns: tuple[SpeakerTurn, ...] = ()  # who spoke which words (when a voice encoder ran)
    faces: tuple[FaceTrack, ...] = ()  # who was on screen (when a face encoder ran)
    visual: tuple[VisualVector, ...] = ()  # keyframe embeddings (when an image embedder ran)
    captions: tuple[str, ...] = ()  # atomic sentences naming people by clip-local labels
    # the speech cut at speaker changes, each piece with its voice vector (when a diarizer ran):
    # clustered over the whole source by the reduce stage, so a voice is one voice across clips
    voice_segments: tuple[VoiceSegment, ...] = ()
    # where the diarizer's segmentation heard two people at once (start, end): the reduce stage
    # gives each stretch a second voice
    overlaps: tuple[tuple[float, float], ...] = ()

    @property
    def transcript(self) -> str:
        return " ".join(s.text for s in self.segments)

    def ocr_lines(self) -> list[OcrLine]:
        """Distinct on-screen lines in order of first appearance."""
        seen: set[str] = set()
        lines = []
        for kf in self.keyframes:
            for line in kf.ocr:
                key = " ".join(line.text.lower().split())
                if key not in seen:
                    seen.add(key)
                    lines.append(line)
        return lines

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClipObservation:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"clip observation schema {data.get('schema_version')} is not {SCHEMA_VERSION}")
        segments = tuple(
            Segment(s["start"], s["end"], s["text"], tuple(Word(**w) for w in s["words"]), s.get("language", ""), s.get("sound", ""))
            for s in data["segments"]
        )
        keyframes = tuple(
            Keyframe(
                k["t"],
                k["ocr_ran"],
                tuple(
                    OcrLine(o["t"], o["text"], o["score"], tuple(tuple(p) for p in o["box"]))
                    for o in k["ocr"]
                ),
                k["image"],
                k.get("app"),
                k.get("window"),
                k.get("scene", False),
                tuple(k.get("layout", ())),
            )
            for k in data["keyframes"]
        )
        return cls(
            data["source_id"],
            data["clip_index"],
            data["start"],
            data["end"],
            segments,
            keyframes,
            data["producer"],
            data["schema_version"],
            data.get("wall_start"),
            tuple(
                SpeakerTurn(t["start"], t["end"], t["text"], t["voice"], tuple(t["embedding"]))
                for t in data.get("turns", ())
            ),
            tuple(
                FaceTrack(f["track"], f["start"], f["end"], tuple(f["box"]), f["score"], f["sightings"],
                          tuple(f["embedding"]), f.get("crop"), tuple(f.get("times", ())))
                for f in data.get("faces", ())
            ),
            tuple(VisualVector(v["t"], v["image"], tuple(v["vector"])) for v in data.get("visual", ())),
            tuple(data.get("captions", ())),
            tuple(VoiceSegment.from_json(v) for v in data.get("voice_segments", ())),
            tuple((float(a), float(b)) for a, b in data.get("overlaps", ())),
        )


FACE_PAD = 1.0  # a face track spans its sightings; it was on screen about a sample step around them


def on_screen(times: Sequence[float], start: float, end: float, pad: float = FACE_PAD) -> list[tuple[float, float]]:
    """When a face track was on screen: around each sighting time, sightings close together
    joined (a track joined across a gap is not on screen in the gap). A track without sighting
    times (made before they were kept) is its whole span."""
    if not times:
        return [(start - pad, end + pad)]
    out: list[list[float]] = []
    for t in sorted(times):
        if out and t - pad <= out[-1][1]:
            out[-1][1] = t + pad
        else:
            out.append([t - pad, t + pad])
    return [(a, b) for a, b in out]
