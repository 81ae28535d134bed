"""What a clip's signals were made with: the map stage's options and signal versions, and one
fingerprint per signal (the models and options that produce it, chained through the signals it
depends on; nothing else, no source files), so a changed setting recomputes only what it affects."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from models.base import ASR, OCR, Captioner, FaceEncoder, ImageEmbedder, VoiceEncoder
from perception import layout
from perception.decode import SceneOptions
from perception.diarize_options import DiarizeOptions
from perception.faces import FaceOptions
from perception.keyframes import ChangeOptions
from perception.records import SCHEMA_VERSION
from perception.secrets import REDACTION_VERSION
from perception.speech import CutOptions
from perception.video_text import VIDEO_TEXT_VERSION
from perception.voices import VoiceOptions

SPEECH_VERSION = 9  # 9: only the kept text of a chunk is aligned to words (asr8; a chunk's first-word trim follows the kept text before it); 8: chunks the greedy pass doubts (mean log-probability under -0.4) decoded again with beam 5; 7: words heard over music are marked (Segment.sound); 2: each ASR group heard as one stretch between cuts at pauses; 3: silence rule, loops kept once; 4: audio clipped to full scale as 16-bit PCM holds it; 5: 0.2 s of a pause of 0.8 s or more kept between speech regions joined in an ASR chunk, loops with stray words; 6: singing and speech over music VAD missed
KEYFRAMES_VERSION = 2  # 2: the last frame before a scene cut is read (with exact cuts, SceneOptions.exact)
FACES_VERSION = 3  # 3: a frame with no tile changed since the last detection reuses its faces; 2: tracks keep their sighting times
TURNS_VERSION = 2  # 2: with a diarizer, a clip's turns come from its own voice segments (no GE2E windows)
DIARIZE_VERSION = 4  # 1: the voice segments' own changes (the encoder and its options are hashed apart); 2: over the VAD's speech, not the ASR's words; 3: over the segmentation model's speech less its overlaps, which are kept; 4: with the segmentation model, each of its windows' local speakers embedded (pyannote's recipe)
SIGNALS = ("speech", "turns", "voice_segments", "keyframes", "faces", "visual", "captions")

@dataclass(frozen=True)
class PerceptionOptions:
    clip_seconds: float = 30.0
    asr_group: int = 4  # consecutive clips whose speech is transcribed together (see Perceiver.groups)
    keyframe_interval: float = 2.0  # the floor rate; scene cuts add keyframes between
    asr_pad: float = 1.0  # seconds of audio either side of a clip for its speaker turns
    ocr: bool = True
    frame_max_side: int = 1280
    save_keyframes: bool = True
    keyframe_jpeg_side: int = 640
    decoder: str = "pyav"
    scene: SceneOptions | None = field(default_factory=SceneOptions)
    distinct_tiles: float = 0.25  # a keyframe is kept (saved, embedded) when this share of tiles changed
    caption_frames: int = 4  # keyframes given to a captioner that looks at images
    change: ChangeOptions = field(default_factory=ChangeOptions)
    voices: VoiceOptions = field(default_factory=VoiceOptions)
    diarize: DiarizeOptions | None = None  # None: the diarizer's calibrated options (``options_for``)
    cuts: CutOptions = field(default_factory=CutOptions)  # where one ASR group's audio ends and the next one's starts
    faces: FaceOptions = field(default_factory=FaceOptions)


def digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def signal_fingerprints(
    options: PerceptionOptions, asr: ASR, ocr: OCR | None, voice: VoiceEncoder | None, face: FaceEncoder | None,
    image: ImageEmbedder | None, captioner: Captioner | None, diarizer: VoiceEncoder | None, segmenter: Any,
    diarize_options: DiarizeOptions | None, diarized_turns: bool,
) -> dict[str, str]:
    """One fingerprint per signal the given models compute (``ocr`` None when OCR is off;
    ``diarized_turns``: the turns read from the voice segments)."""
    o = options
    base = (SCHEMA_VERSION, o.clip_seconds)
    fps = {"speech": digest(base, "speech", SPEECH_VERSION, REDACTION_VERSION, asr.model_id, o.asr_group, asdict(o.cuts))}
    frames = digest(base, "frames", o.keyframe_interval, o.frame_max_side, asdict(o.scene) if o.scene else None)
    fps["keyframes"] = digest(
        frames, "keyframes", KEYFRAMES_VERSION, REDACTION_VERSION, layout.LAYOUT_VERSION, VIDEO_TEXT_VERSION, ocr.model_id if ocr else None, asdict(o.change), o.distinct_tiles,
        o.save_keyframes, o.keyframe_jpeg_side,
    )
    if diarizer is not None and diarize_options is not None:
        fps["voice_segments"] = digest(
            fps["speech"], "voice_segments", DIARIZE_VERSION, diarizer.model_id,
            asdict(diarize_options), segmenter.model_id if segmenter is not None else "silero-vad",
        )
    if voice is not None and diarized_turns:
        fps["turns"] = digest(fps["voice_segments"], "turns", TURNS_VERSION)
    elif voice is not None:
        fps["turns"] = digest(fps["speech"], "turns", voice.model_id, asdict(o.voices))
    if face is not None:
        fps["faces"] = digest(frames, "faces", FACES_VERSION, face.model_id, asdict(o.faces))
    if image is not None:
        fps["visual"] = digest(fps["keyframes"], "visual", image.model_id)
    if captioner is not None:
        # captions read the turns, not the voice segments (with a diarizer the turns do)
        shown = sorted((k, v) for k, v in fps.items() if k != "voice_segments")
        fps["captions"] = digest(shown, "captions", captioner.model_id, o.caption_frames)
    return fps
