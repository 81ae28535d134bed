"""Speaker diarization over a whole source, in the map / reduce split of the pipeline.

Map (per clip, parallel, cached): ``perception.voice_changes.voice_segments`` cuts the clip's
speech where the voice changes and embeds each piece. Reduce (whole source):
``perception.speaker_clusters.cluster_segments`` clusters the segments of all clips into speakers
(their number estimated, not given). With ``DiarizeOptions.local_speakers``, pyannote's recipe
(``perception.local_speakers``) in their place. The options: ``perception.diarize_options``.

:func:`diarize` runs both on a whole file: the speech (pyannote's segmentation-3.0 when a
``segmenter`` is given, else Silero VAD, shipped in faster-whisper: ``perception.speech_regions``),
then the map stage on 30 s pieces, then the reduce stage; it is what the tests and
``bench.diarization`` use.

Speech and overlap (map stage): with the segmentation model (``models.segmentation_pyannote``),
speech is where it hears one or more speakers, overlapped speech where it hears two. Overlapped
stretches are left out of the voice segments (a vector of two voices at once joins neither, or
makes a third) and kept apart; after the clustering, :func:`with_overlap` gives each its voices:
the speakers around it, nearest in time first. So the turns hold speech with no words, and two
speakers at once where two speak.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.base import FloatArray, VoiceEncoder
from perception.diarize_options import DiarizeOptions, Span, options_for
from perception.local_speakers import cluster_local, local_speaker_segments, local_turns
from perception.records import VoiceSegment
from perception.speaker_clusters import cluster_segments
from perception.speech_regions import segmented_speech, speech_intervals
from perception.voice_changes import voice_segments


def speaker_turns_of(segments: Sequence[VoiceSegment], overlap: Sequence[Span], options: DiarizeOptions
                     ) -> tuple[list[int], list[tuple[float, float, int]]]:
    """A source's map-stage records (either kind) -> (each one's speaker, the speaker turns)."""
    if segments and segments[0].window is not None:
        labels = cluster_local(segments, options)
        return labels, local_turns(segments, labels, overlap)
    labels = cluster_segments(segments, options)
    return labels, with_overlap(speaker_turns(segments, labels), overlap, options.overlap_reach)


def clip_speech(audio: FloatArray, audio_t0: float, span: Span, rate: int,
                options: DiarizeOptions = DiarizeOptions(), segmenter: Any = None
                ) -> tuple[list[Span], list[Span], list[float] | None]:
    """Speech of one clip for its voice segments, its overlapped speech (none without a
    ``segmenter``) and, with ``options.seg_changes``, the segmentation's speaker changes (else
    None: the voice segments find their own): the segmentation model (else the VAD) over the clip's decoded audio (which
    starts at ``audio_t0`` source seconds and may reach past the clip), kept inside ``span`` so
    neighbouring clips never cover the same time twice. Speech the ASR heard no word in
    (overlap, backchannels) is kept: the speaker turns do not depend on the words."""
    changes: list[float] | None = None
    if segmenter is not None:
        speech, overlap, changes = segmented_speech(audio, segmenter, options)
        changes = [round(c + audio_t0, 3) for c in changes] if options.seg_changes else None
    else:
        speech, overlap = speech_intervals(audio, rate, options), []

    def inside(spans: list[Span]) -> list[Span]:
        out = []
        for a, b in spans:
            a, b = max(a + audio_t0, span[0]), min(b + audio_t0, span[1])
            if b - a > 1e-3:
                out.append((round(a, 3), round(b, 3)))
        return out

    return inside(speech), inside(overlap), changes


def with_overlap(turns: Sequence[tuple[float, float, int]], overlap: Sequence[Span], reach: float
                 ) -> list[tuple[float, float, int]]:
    """Turns with two voices in each overlapped stretch: to each piece of it with one speaker,
    the other speaker whose turn is nearest in time (within ``reach`` seconds); to a piece with
    none (overlap left out of the voice segments), the two nearest — the usual heuristic of
    overlap-aware diarization (Bullock et al., 2020): who overlaps is whoever took or is about to
    take the floor. Each speaker's turns are then joined where they touch or overlap. O(overlaps
    x turns)."""
    out = list(turns)
    bounds = sorted({x for s, e, _ in turns for x in (s, e)})
    for a0, b0 in overlap:
        cuts = [a0, *(x for x in bounds if a0 < x < b0), b0]
        for a, b in zip(cuts[:-1], cuts[1:]):  # pieces with one set of speakers each
            here = {k for s, e, k in turns if s < b and e > a}
            if len(here) >= 2:
                continue
            gap: dict[int, float] = {}  # every other speaker within reach: its nearest turn
            for s, e, k in turns:
                d = max(s - b, a - e, 0.0)
                if k not in here and d < reach:
                    gap[k] = min(d, gap.get(k, d))
            for k in sorted(gap, key=lambda k: (gap[k], k))[: 2 - len(here)]:
                out.append((a, b, k))
    joined: list[tuple[float, float, int]] = []
    for k in sorted({t[2] for t in out}):
        for s, e, _ in sorted(t for t in out if t[2] == k):
            if joined and joined[-1][2] == k and s <= joined[-1][1] + 1e-3:
                joined[-1] = (joined[-1][0], max(joined[-1][1], e), k)
            else:
                joined.append((s, e, k))
    return sorted(joined)


def diarize(
    audio: FloatArray, rate: int, encoder: VoiceEncoder, options: DiarizeOptions | None = None,
    segmenter: Any = None,
) -> list[tuple[float, float, int]]:
    """Who spoke when in a whole file: (start, end, speaker) turns in seconds, in time order;
    with a ``segmenter`` (``models.segmentation_pyannote.Segmentation``), its speech in place of
    the VAD's and a second voice in overlapped speech."""
    if rate != encoder.sample_rate:
        raise ValueError(f"diarize needs {encoder.sample_rate} Hz audio, got {rate} Hz: resample it first")
    options = options or options_for(encoder)
    step = int(options.piece * rate)
    if segmenter is not None and options.local_speakers:
        records: list[VoiceSegment] = []
        overlaps: list[Span] = []
        for a in range(0, len(audio), step):  # as the map stage does it, clip by clip
            t0, t1 = a / rate, min(len(audio), a + step) / rate
            recs, over = local_speaker_segments(audio[a : a + step], t0, (t0, t1), encoder, segmenter, options)
            records += recs
            overlaps += over
        return speaker_turns_of(records, overlaps, options)[1]
    changes: list[float] | None = None
    if segmenter is not None:
        speech, overlap, changes = segmented_speech(audio, segmenter, options)
        changes = changes if options.seg_changes else None
    else:
        speech, overlap = speech_intervals(audio, rate, options), []
    segments: list[VoiceSegment] = []
    for a in range(0, len(audio), step):
        t0, t1 = a / rate, min(len(audio), a + step) / rate
        inside = [(max(s, t0), min(e, t1)) for s, e in speech if e > t0 and s < t1]
        segments.extend(voice_segments(audio[a : a + step], t0, inside, encoder, options, changes))
    turns = speaker_turns(segments, cluster_segments(segments, options))
    return with_overlap(turns, overlap, options.overlap_reach) if overlap else turns


def speaker_turns(segments: Sequence[VoiceSegment], labels: Sequence[int]) -> list[tuple[float, float, int]]:
    """(start, end, speaker) turns in time order: touching segments of one speaker joined."""
    turns: list[tuple[float, float, int]] = []
    for seg, label in sorted(zip(segments, labels), key=lambda p: (p[0].start, p[0].end)):
        if turns and turns[-1][2] == label and seg.start - turns[-1][1] < 1e-3:
            turns[-1] = (turns[-1][0], max(turns[-1][1], seg.end), label)
        else:
            turns.append((seg.start, seg.end, label))
    return turns
