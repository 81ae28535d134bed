"""The diarizer's options (``DiarizeOptions``) and their calibrated values per voice encoder."""

from __future__ import annotations

from dataclasses import dataclass

from models.base import VoiceEncoder

Span = tuple[float, float]


@dataclass(frozen=True)
class DiarizeOptions:
    """Defaults for the CAM++ encoder (``models.voice_campplus``); :func:`options_for` gives the
    ones for another encoder. ``hop`` was chosen on the built conversations of ``bench.diarization``
    (clean single-speaker recordings laid end to end: best there were change 0.6, threshold 0.5,
    min_speaker 1.0, DER 1.2 %, but that setting splits meeting speakers: 40.9 % on the reference
    recordings). ``change``, ``threshold`` and ``min_speaker`` are the setting that leave-one-out
    over the 7 reference recordings (AMI, pyAudioAnalysis) chose for 6 of 7 held-out files
    (``python -m bench.diarization --loo``): they are tuned on the reported set, whose honest
    held-out figure is that leave-one-out mean. The VAD settings were not tuned. With the
    segmentation model, the same leave-one-out grid (``--loo``, 2026-12-07) over overlap handling
    (second voice or not, overlap left out of the segments or not) chose the defaults below for
    5 of 7 held-out files (held-out mean 30.8 %, 24.7 % with them on all 7); with its windows every
    5 s (``seg_step``, not in the grid), for all 7 (held-out mean 24.3 %, counts right on 4 of 7); its onsets are pyannote's (0.5), not tuned; its own speaker changes
    (``seg_changes``) were in an earlier grid and never chosen."""

    # map stage
    window: float = 1.5  # seconds of speech per window embedding
    hop: float = 0.75
    change: float = 0.5  # cosine distance between two adjacent windows: a peak above it is a change
    min_segment: float = 1.0  # no two changes closer than this
    max_segment: float = 3.0  # longer runs of one voice are cut into equal pieces
    # reduce stage
    threshold: float = 0.6  # average-linkage cosine distance at which clusters stop merging
    min_duration: float = 1.0  # shorter segments do not vote; they take the nearest cluster
    min_speaker: float = 2.0  # clusters with less speech join their nearest neighbour
    block: int = 2000  # most segments clustered at once (memory O(block^2))
    block_tighten: float = 0.6  # within-block threshold, as a share of ``threshold``
    # diarize(): Silero VAD and the map-stage pieces
    vad_threshold: float = 0.5
    vad_min_silence: float = 0.3  # pauses shorter than this stay inside a speech interval
    vad_pad: float = 0.1
    piece: float = 30.0
    # with a speaker segmentation model (``models.segmentation_pyannote``) in place of the VAD
    # seconds between its 10 s windows: every frame heard by two (2.5, four, cost twice as much: reference
    # recordings 24.9 % mean DER, 3 of 7 counts; 5.0: 24.5 %, 4 of 7; 10.0: 26.8 %, 4 of 7; bench.diarization)
    seg_step: float = 5.0
    speech_onset: float = 0.5  # a frame is speech where P(someone speaks) is above this
    overlap_onset: float = 0.5  # ... and overlapped speech where P(two speak) is
    min_overlap: float = 0.1  # shorter overlaps are dropped
    overlap_clean: bool = True  # overlapped speech is left out of the voice segments (its voices come from with_overlap)
    seg_changes: bool = False  # speaker changes where the segmentation's local speaker changes, not at embedding-distance peaks
    overlap_reach: float = 5.0  # an overlap's second voice: the nearest other speaker within this many seconds
    # pyannote's recipe (with a segmentation model): each window's local speakers embedded and linked.
    # Off: on the reference recordings (``python -m bench.diarization --local --loo``) the best
    # setting on all seven gives 29.2 % (24.9 % for the segments cut at voice changes) and the
    # leave-one-out mean is 42.3 % (30.8 %); the segmentation often hears two people as one local
    # speaker in a window (ami_dev01, pyaa 6 speakers), which no clustering undoes (docs/figures.md)
    local_speakers: bool = False
    local_changes: bool = False  # ... each local speaker cut at the voice changes (``voice_changes``) too
    min_local: float = 0.1  # seconds: a local speaker heard less than this in its window is left out


# per encoder (model_id), chosen the same way as the CAM++ defaults above. GE2E's leave-one-out
# mean over the reference recordings is 40.0 % (speaker count right on 0 of 7), CAM++'s 31.3 % (3 of 7)
CALIBRATED: dict[str, DiarizeOptions] = {
    "campplus-zh-en-common-advanced": DiarizeOptions(),
    "resemblyzer-ge2e": DiarizeOptions(change=0.3, threshold=0.25, min_speaker=2.0),
}


def options_for(encoder: VoiceEncoder) -> DiarizeOptions:
    return CALIBRATED.get(encoder.model_id, DiarizeOptions())

