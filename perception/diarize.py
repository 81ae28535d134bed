"""Speaker diarization over a whole source, in the map / reduce split of the pipeline.

Map (per clip, parallel, cached): :func:`voice_segments` cuts the clip's speech where the voice
changes and embeds each piece. Inside every speech interval, 1.5 s windows every 0.75 s are
embedded; at each point the cosine distance between the two windows that meet there (one ending,
one starting) is a change score, and its peaks above ``DiarizeOptions.change`` (at least
``min_segment`` apart) are speaker changes. Homogeneous runs longer than ``max_segment`` are cut
into equal pieces, so that the clustering sees several votes and a missed change stays local. Each
piece is embedded over its own audio.

Reduce (whole source): :func:`cluster_segments` clusters the segments of all clips by
agglomerative clustering (average linkage, cosine distance, stop at ``threshold``), so the number
of speakers is estimated, not given. Segments under ``min_duration`` do not vote: they, and all
others, then take their nearest duration-weighted cluster centroid; clusters with less than
``min_speaker`` seconds of speech join their nearest neighbour (when some speaker has that much:
in a short file where none has, the clusters stay as found). Scale: at most ``block`` segments
are clustered at once. Beyond that, consecutive blocks are clustered with a tighter threshold
(``block_tighten`` x ``threshold``) into sub-clusters whose centroids are clustered in turn, the
same way, until one block holds them all; memory stays O(block^2), never O(n^2).

:func:`diarize` runs both on a whole file: the speech (pyannote's segmentation-3.0 when a
``segmenter`` is given, else Silero VAD, shipped in faster-whisper), then the map stage on 30 s
pieces, then the reduce stage; it is what the tests and ``bench.diarization`` use.

Speech and overlap (map stage): with the segmentation model (``models.segmentation_pyannote``),
speech is where it hears one or more speakers, overlapped speech where it hears two. Overlapped
stretches are left out of the voice segments (a vector of two voices at once joins neither, or
makes a third) and kept apart; after the clustering, :func:`with_overlap` gives each its voices:
the speakers around it, nearest in time first. So the turns hold speech with no words, and two
speakers at once where two speak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from models.base import FloatArray, VoiceEncoder
from models.intervals import minus
from perception.records import VoiceSegment

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


def _normalise(x: FloatArray) -> FloatArray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _change_points(starts: npt.NDArray[np.float64], emb: FloatArray, options: DiarizeOptions) -> list[float]:
    """Peaks of the distance between windows that meet, strongest first, ``min_segment`` apart."""
    m = max(1, int(round(options.window / options.hop)))  # window k ends where window k + m starts
    if len(starts) <= m:
        return []
    left, right = emb[:-m], emb[m:]
    valid = left.any(axis=1) & right.any(axis=1)
    dist = np.where(valid, 1.0 - np.sum(left * right, axis=1), 0.0)
    points = starts[m:]
    chosen: list[float] = []
    for i in np.argsort(-dist, kind="stable"):
        if dist[i] < options.change:
            break
        if all(abs(points[i] - c) >= options.min_segment for c in chosen):
            chosen.append(float(points[i]))
    return sorted(chosen)


def _cut(audio: FloatArray, t0: float, rate: int, start: float, end: float) -> FloatArray:
    return audio[max(0, int(round((start - t0) * rate))) : max(0, int(round((end - t0) * rate)))]


def voice_changes(audio: FloatArray, audio_t0: float, spans: Sequence[Span], encoder: VoiceEncoder,
                  options: DiarizeOptions) -> list[list[float]]:
    """The voice changes inside each of ``spans`` (source seconds, sorted, inside the audio):
    ``window`` s embeddings every ``hop`` s, every window of every span in one batch; the peaks
    of the distance between windows that meet (:func:`_change_points`)."""
    rate = encoder.sample_rate
    owners: list[int] = []
    starts: list[float] = []
    for k, (a, b) in enumerate(spans):
        n = int(np.floor((b - a - options.window) / options.hop + 1e-9)) + 1 if b - a >= 2 * options.window else 0
        starts.extend(a + options.hop * np.arange(n))
        owners.extend([k] * n)
    if not starts:
        return [[] for _ in spans]
    win = encoder.embed_batch([_cut(audio, audio_t0, rate, s, s + options.window) for s in starts])
    out: list[list[float]] = []
    for k in range(len(spans)):
        mine = np.flatnonzero(np.asarray(owners) == k)
        out.append(_change_points(np.asarray(starts)[mine], win[mine], options) if len(mine) else [])
    return out


def voice_segments(
    audio: FloatArray, audio_t0: float, speech: Sequence[Span], encoder: VoiceEncoder,
    options: DiarizeOptions = DiarizeOptions(), changes: Sequence[float] | None = None,
) -> tuple[VoiceSegment, ...]:
    """Map stage: ``audio`` (16 kHz mono float32) starts at ``audio_t0`` source seconds; ``speech``
    holds (start, end) speech intervals in source seconds (VAD, or ASR words). Returns the speech
    cut at speaker changes, each piece embedded over its own audio, in time order. ``changes``
    (source seconds, from the segmentation model): the speaker changes, in place of the peaks of
    the distance between adjacent window embeddings."""
    rate = encoder.sample_rate
    t_end = audio_t0 + len(audio) / rate
    spans = sorted((max(a, audio_t0), min(b, t_end)) for a, b in speech)
    spans = [(a, b) for a, b in spans if b - a > 1e-3]
    found = voice_changes(audio, audio_t0, spans, encoder, options) if changes is None else None
    pieces: list[Span] = []
    for k, (a, b) in enumerate(spans):
        cuts = found[k] if found is not None else [c for c in changes or () if a + 0.25 < c < b - 0.25]
        bounds = [a, *cuts, b]
        for s, e in zip(bounds[:-1], bounds[1:]):
            n = max(1, int(np.ceil((e - s) / options.max_segment - 1e-9)))
            edges = np.linspace(s, e, n + 1)
            pieces.extend((float(x), float(y)) for x, y in zip(edges[:-1], edges[1:]))
    if not pieces:
        return ()
    emb = encoder.embed_batch([_cut(audio, audio_t0, rate, s, e) for s, e in pieces])
    return tuple(
        VoiceSegment(round(s, 3), round(e, 3), tuple(round(float(x), 5) for x in v)) for (s, e), v in zip(pieces, emb)
    )


def _ahc(x: FloatArray, threshold: float, groups: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.int64]:
    """Average-linkage clustering on cosine distance; labels 0..k-1. ``groups``: two vectors of
    one group (the local speakers of one window) are different people: their distance is the
    largest there is (2), so a cluster holding both has to be far apart on average."""
    if len(x) == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    dist = np.clip(1.0 - x @ x.T, 0.0, 2.0)
    if groups is not None:
        dist[(groups[:, None] == groups[None, :]) & ~np.eye(len(x), dtype=bool)] = 2.0
    condensed = dist[np.triu_indices(len(x), 1)]
    labels = fcluster(linkage(condensed, method="average"), t=threshold, criterion="distance")
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def _voters(valid: npt.NDArray[np.bool_], seconds: npt.NDArray[np.float64], options: DiarizeOptions) -> npt.NDArray[np.int64]:
    """The segments that shape the clusters: embedded ones of at least ``min_duration`` (all the
    embedded ones when none is that long)."""
    voters = np.flatnonzero(valid & (seconds >= options.min_duration))
    return voters if len(voters) else np.flatnonzero(valid)


def _centroids(x: FloatArray, w: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], k: int) -> FloatArray:
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels, x * w[:, None])
    return _normalise(sums).astype(np.float32)


def _cluster(x: FloatArray, w: npt.NDArray[np.float64], options: DiarizeOptions,
             groups: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.int64]:
    """Labels for unit vectors ``x`` weighted by ``w``, at most ``block`` clustered at once;
    ``groups`` as :func:`_ahc` (within a block; the blocks' centroids have none)."""
    if len(x) <= options.block:
        return _ahc(x, options.threshold, groups)
    for share in (options.block_tighten, 1.0):
        sub = np.zeros(len(x), dtype=np.int64)
        offset = 0
        for a in range(0, len(x), options.block):
            part = _ahc(x[a : a + options.block], options.threshold * share,
                        None if groups is None else groups[a : a + options.block])
            sub[a : a + options.block] = part + offset
            offset += int(part.max()) + 1
        if offset < len(x):
            cw = np.bincount(sub, weights=w, minlength=offset)
            return _cluster(_centroids(x, w, sub, offset), cw, options)[sub]
    return sub  # no two segments of any block are alike: as many voices as segments


def cluster_segments(segments: Sequence[VoiceSegment], options: DiarizeOptions = DiarizeOptions()) -> list[int]:
    """Reduce stage: one speaker label per segment, numbered by first appearance (0 = the first
    voice heard). Deterministic: the same segments give the same labels."""
    n = len(segments)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (segments[i].start, segments[i].end, i))
    x = _normalise(np.array([segments[i].embedding for i in order], dtype=np.float32))
    dur = np.array([segments[i].end - segments[i].start for i in order], dtype=np.float64)
    valid = x.any(axis=1)
    if not valid.any():
        return [0] * n
    voters = _voters(valid, dur, options)
    labels = _cluster(x[voters], dur[voters], options)
    k = int(labels.max()) + 1
    cent = _centroids(x[voters], dur[voters], labels, k)
    # every valid segment takes its nearest centroid; then small clusters join their nearest one
    assign = np.argmax(x @ cent.T, axis=1)
    while True:
        mass = np.bincount(assign[valid], weights=dur[valid], minlength=len(cent))
        alive = np.flatnonzero(mass > 0)
        small = [c for c in alive if mass[c] < options.min_speaker]
        if not small or len(alive) <= 1 or mass[alive].max() < options.min_speaker:
            break  # a short file where no speaker has min_speaker of speech: nobody to join, they stay apart
        c = min(small, key=lambda c: (mass[c], c))
        others = [o for o in alive if o != c]
        target = others[int(np.argmax(cent[others] @ cent[c]))]
        cent[target] = _normalise((cent[target] * mass[target] + cent[c] * mass[c])[None, :])[0]
        cent[c] = 0.0
        assign[assign == c] = target
    # segments too short to embed take the label of the nearest embedded one in time
    mids = (np.array([segments[i].start for i in order]) + np.array([segments[i].end for i in order])) / 2
    have = np.flatnonzero(valid)
    for i in np.flatnonzero(~valid):
        assign[i] = assign[have[int(np.argmin(np.abs(mids[have] - mids[i])))]]
    renumber: dict[int, int] = {}
    out = [0] * n
    for pos, i in enumerate(order):
        out[i] = renumber.setdefault(int(assign[pos]), len(renumber))
    return out


def speech_intervals(audio: FloatArray, rate: int, options: DiarizeOptions = DiarizeOptions()) -> list[Span]:
    """Silero VAD (the ONNX model that ships in faster-whisper): speech (start, end) in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(threshold=options.vad_threshold, min_silence_duration_ms=int(options.vad_min_silence * 1000),
                     speech_pad_ms=int(options.vad_pad * 1000))
    return [(s["start"] / rate, s["end"] / rate) for s in get_speech_timestamps(audio, vad, sampling_rate=rate)]


def _runs(mask: npt.NDArray[np.bool_], times: npt.NDArray[np.float64], half: float, min_gap: float,
          min_length: float) -> list[Span]:
    """Stretches where ``mask`` holds (frames centred at ``times``, ``half`` s either side), gaps
    under ``min_gap`` closed, stretches under ``min_length`` dropped."""
    out: list[list[float]] = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):
        start, end = float(times[a] - half), float(times[b - 1] + half)
        if out and start - out[-1][1] < min_gap:
            out[-1][1] = end
        else:
            out.append([start, end])
    return [(max(a, 0.0), b) for a, b in out if b - a >= min_length]


def segmented_speech(audio: FloatArray, segmenter: Any, options: DiarizeOptions = DiarizeOptions(),
                     windows: Any = None) -> tuple[list[Span], list[Span], list[float]]:
    """(speech, overlapped speech, speaker changes) in seconds from the start of ``audio``, by
    the speaker segmentation model: where one or more people speak, where two do at once, and
    where the one voice speaking changes."""
    from models.segmentation_pyannote import FRAME_STEP, speaker_count

    p_speech, p_overlap, changes = speaker_count(segmenter, audio, options.seg_step, windows=windows)
    times = (np.arange(len(p_speech)) + 0.5) * FRAME_STEP
    speech = _runs(p_speech > options.speech_onset, times, FRAME_STEP / 2, options.vad_min_silence, 0.1)
    overlap = _runs(p_overlap > options.overlap_onset, times, FRAME_STEP / 2, 0.1, options.min_overlap)
    end = len(audio) / 16000
    speech = [(a, min(b, end)) for a, b in speech]
    overlap = [(a, min(b, end)) for a, b in overlap]
    if options.overlap_clean:
        speech = minus(speech, overlap, 0.1)
    return speech, overlap, changes


def local_speaker_segments(audio: FloatArray, audio_t0: float, span: Span, encoder: VoiceEncoder, segmenter: Any,
                           options: DiarizeOptions = DiarizeOptions()) -> tuple[tuple[VoiceSegment, ...], list[Span]]:
    """Map stage, pyannote's recipe (``pyannote.audio``'s SpeakerDiarization: segmentation,
    embeddings per local speaker, clustering, reconstruction): the segmentation model's 10 s
    windows over ``audio`` (which starts at ``audio_t0`` source seconds) each hear up to three
    local speakers; each one becomes a record (``VoiceSegment`` with ``window``) of where it speaks
    in its window (inside ``span`` and the speech the windows together hear) and its vector over
    the audio where it speaks alone (all of its frames when it never does for ``min_duration``).
    Returns the records and the overlapped speech (source seconds, inside ``span``)."""
    from models.segmentation_pyannote import FRAME_STEP, RATE, local_speakers, powerset_windows

    windows = powerset_windows(segmenter, audio, options.seg_step)
    speech, overlap, _ = segmented_speech(audio, segmenter, replace(options, overlap_clean=False), windows)
    starts, probs = windows
    active = local_speakers(probs)
    clean = active & (active.sum(axis=2, keepdims=True) == 1)
    frames = active.shape[1]
    hop = int(round(FRAME_STEP * RATE))
    lo, hi = span[0] - audio_t0, min(span[1] - audio_t0, len(audio) / RATE)
    cuts = np.zeros(0)
    if options.local_changes:  # voice changes in the speech one voice speaks (audio seconds)
        single = [(a, b) for a, b in minus(speech, overlap, 0.1) if b > lo and a < hi]
        single = [(max(a, lo), min(b, hi)) for a, b in single]
        found = voice_changes(audio, 0.0, single, encoder, options)
        cuts = np.array(sorted(c for each in found for c in each))
    records: list[tuple[float, float | None, tuple[Span, ...], float]] = []
    wavs: list[FloatArray] = []
    for s, act_w, clean_w in zip(starts, active, clean):
        t0 = s / RATE
        times = t0 + (np.arange(frames) + 0.5) * FRAME_STEP
        allowed = (times >= lo) & (times < hi) & _inside(times, speech)
        piece_of = np.searchsorted(cuts, times)  # between which two voice changes each frame lies
        for j in range(act_w.shape[1]):
            whole = act_w[:, j] & allowed
            for p in np.unique(piece_of[whole]) if len(cuts) else [None]:
                act = whole & (piece_of == p) if p is not None else whole
                if act.sum() * FRAME_STEP < options.min_local:
                    continue
                runs = tuple((round(max(a, lo) + audio_t0, 3), round(min(b, hi) + audio_t0, 3))
                             for a, b in _runs(act, times, FRAME_STEP / 2, 0.0, 0.0))
                use = clean_w[:, j] & act
                alone = float(use.sum() * FRAME_STEP)
                if alone < options.min_duration:  # too little alone to vote: its vector over all its frames
                    use = act
                edges = np.flatnonzero(np.diff(np.concatenate([[0], use.astype(np.int8), [0]])))
                wav = np.concatenate([audio[s + a * hop : s + b * hop] for a, b in zip(edges[::2], edges[1::2])])
                piece = None if p is None else round(float(cuts[p - 1]) + audio_t0, 3) if p > 0 else round(t0 + audio_t0, 3)
                records.append((round(t0 + audio_t0, 3), piece, runs, round(alone, 3)))
                wavs.append(wav)
    emb = encoder.embed_batch(wavs) if wavs else np.zeros((0, encoder.dim), np.float32)
    out = tuple(
        VoiceSegment(runs[0][0], runs[-1][1], tuple(round(float(x), 5) for x in v), window, runs, seconds, piece)
        for (window, piece, runs, seconds), v in zip(records, emb)
    )
    kept = [(round(max(a, lo) + audio_t0, 3), round(min(b, hi) + audio_t0, 3)) for a, b in overlap if min(b, hi) > max(a, lo)]
    return out, kept


def _inside(times: npt.NDArray[np.float64], spans: Sequence[Span]) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(times), dtype=bool)
    for a, b in spans:
        out |= (times >= a) & (times < b)
    return out


def cluster_local(records: Sequence[VoiceSegment], options: DiarizeOptions = DiarizeOptions()) -> list[int]:
    """Reduce stage of pyannote's recipe: one speaker label per local-speaker record (numbered by
    first appearance). The records that speak alone for ``min_duration`` vote (agglomerative
    clustering, as :func:`cluster_segments`, weighted by those seconds; two local speakers of one
    window at the largest distance, a soft cannot-link); then every record takes a cluster, the
    local speakers of one window different clusters (the best one-to-one assignment per window,
    Hungarian, as pyannote's constrained assignment); clusters with less than ``min_speaker`` seconds of speech
    (the union of their runs) join their nearest neighbour when some speaker has that much."""
    from scipy.optimize import linear_sum_assignment

    n = len(records)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (records[i].start, records[i].end, i))
    recs = [records[i] for i in order]
    x = _normalise(np.array([r.embedding for r in recs], dtype=np.float32))
    seconds = np.array([r.clean for r in recs], dtype=np.float64)
    valid = x.any(axis=1)
    if not valid.any():
        return [0] * n
    voters = _voters(valid, seconds, options)
    keys = [(r.window, r.piece) if r.window is not None else (-1.0 - i, None) for i, r in enumerate(recs)]
    ids: dict[tuple[float, float | None], int] = {}
    windows = np.array([ids.setdefault(k, len(ids)) for k in keys], dtype=np.float64)  # one id per group
    labels = _cluster(x[voters], seconds[voters], options, windows[voters])
    cent = _centroids(x[voters], seconds[voters], labels, int(labels.max()) + 1)
    assign = np.full(n, -1, dtype=np.int64)
    groups: dict[float, list[int]] = {}
    for i in np.flatnonzero(valid):
        groups.setdefault(float(windows[i]), []).append(int(i))

    def constrained(members: list[int], alive: npt.NDArray[np.int64]) -> None:
        sim = x[members] @ cent[alive].T
        rows, cols = linear_sum_assignment(-sim)
        for r, c in zip(rows, cols):
            assign[members[r]] = alive[c]
        for r in set(range(len(members))) - set(rows.tolist()):  # more local speakers than clusters
            assign[members[r]] = alive[int(np.argmax(sim[r]))]

    everyone = np.arange(len(cent))
    for members in groups.values():
        constrained(members, everyone)
    while True:
        alive = np.unique(assign[valid])
        mass = {int(c): _length([run for i in np.flatnonzero(assign == c) for run in recs[i].runs]) for c in alive}
        small = [c for c in alive if mass[int(c)] < options.min_speaker]
        if not small or len(alive) <= 1 or max(mass.values()) < options.min_speaker:
            break  # a short file where no speaker has min_speaker of speech: they stay apart
        c = min(small, key=lambda c: (mass[int(c)], c))
        others = np.array([o for o in alive if o != c])
        target = int(others[int(np.argmax(cent[others] @ cent[c]))])
        cent[target] = _normalise((cent[target] * mass[target] + cent[c] * mass[int(c)])[None, :])[0]
        cent[c] = 0.0
        for members in groups.values():  # the clusters left, one-to-one again in each window
            if any(assign[i] == c for i in members):
                constrained(members, others)
    mids = np.array([(r.start + r.end) / 2 for r in recs])
    have = np.flatnonzero(valid)
    for i in np.flatnonzero(~valid):  # too short to embed: the label of the nearest one in time
        assign[i] = assign[have[int(np.argmin(np.abs(mids[have] - mids[i])))]]
    renumber: dict[int, int] = {}
    out = [0] * n
    for pos, i in enumerate(order):
        out[i] = renumber.setdefault(int(assign[pos]), len(renumber))
    return out


def _length(spans: Sequence[Span]) -> float:
    """Seconds covered by the union of ``spans``."""
    total, end = 0.0, -np.inf
    for a, b in sorted(spans):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def local_turns(records: Sequence[VoiceSegment], labels: Sequence[int], overlap: Sequence[Span],
                chunk: int = 200_000) -> list[tuple[float, float, int]]:
    """Reconstruction: each frame (``FRAME_STEP``) where some record speaks gets its speakers
    from the windows that hold it: as many as speak there (two in ``overlap``, else one), those
    whose local speakers are active there in most windows (ties: the lower label). Returns
    (start, end, speaker) turns in time order, each speaker's touching frames joined. Frames are
    counted ``chunk`` at a time (about an hour), so memory is O(chunk x speakers) whatever the
    length of the source."""
    from models.segmentation_pyannote import FRAME_STEP

    if not records:
        return []
    t0 = min(r.start for r in records)
    n = int(np.ceil((max(r.end for r in records) - t0) / FRAME_STEP)) + 1
    k = max(labels) + 1
    spans = [(int(round((a - t0) / FRAME_STEP)), int(round((b - t0) / FRAME_STEP)), label)
             for rec, label in zip(records, labels) for a, b in rec.runs]
    two = [(int(round((a - t0) / FRAME_STEP)), int(round((b - t0) / FRAME_STEP))) for a, b in overlap]
    turns: list[tuple[float, float, int]] = []
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        votes = np.zeros((c1 - c0, k), dtype=np.float32)
        for a, b, label in spans:
            if b > c0 and a < c1:
                votes[max(a, c0) - c0 : min(b, c1) - c0, label] += 1.0
        count = (votes.sum(axis=1) > 0).astype(np.int64)
        for a, b in two:
            if b > c0 and a < c1:
                sl = slice(max(a, c0) - c0, min(b, c1) - c0)
                count[sl] = np.where(count[sl] > 0, 2, 0)
        ranked = np.argsort(-votes - np.arange(k)[None, :] * 1e-6, axis=1, kind="stable")
        speaks = np.zeros((c1 - c0, k), dtype=bool)
        for c in range(min(2, k)):
            rows = np.flatnonzero(count > c)
            who = ranked[rows, c]
            ok = votes[rows, who] > 0
            speaks[rows[ok], who[ok]] = True
        times = t0 + (np.arange(c0, c1) + 0.5) * FRAME_STEP
        turns += [(round(a, 3), round(b, 3), label) for label in range(k)
                  for a, b in _runs(speaks[:, label], times, FRAME_STEP / 2, 0.0, 0.0)]
    joined: list[tuple[float, float, int]] = []  # a turn cut at a chunk's edge is one turn
    for label in range(k):
        for a, b, _ in sorted(t for t in turns if t[2] == label):
            if joined and joined[-1][2] == label and a <= joined[-1][1] + 1e-3:
                joined[-1] = (joined[-1][0], max(joined[-1][1], b), label)
            else:
                joined.append((a, b, label))
    return sorted(joined)


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
