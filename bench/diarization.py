"""Speaker diarization quality (DER) and speed on real recordings.

    .venv/bin/python -m bench.diarization [--encoder campplus|resemblyzer] [--only NAME] [--calibrate] [--loo]
        [--vad segmentation|silero] [--local] [--reference-only] [--threads N] [--speakers]

Speech (and overlapped speech, which gets a second voice) from pyannote's segmentation-3.0 by
default, as the pipeline does; ``--vad silero`` gives the figures from before it (no overlap).

Two sets, reported apart:
  - **reference recordings** (the headline): the 7 files of ../shared/data/speech/diarization/
    with human speaker turns (5 AMI meeting excerpts of 30 s with overlap, pyAudioAnalysis'
    4- and 6-speaker examples); scored within their UEM where given.
  - **built conversations** (minutes long, used to calibrate ``DiarizeOptions``): utterances of
    real single-speaker recordings (the LibriVox sonnet reading and the auto-editor speaker of
    qa/video-dev/composite.mp4, the English and the German speaker of faster-whisper's
    multilingual.mp3, JFK, both channels of stereo_diarization.wav, hotwords.mp3, GRID clips)
    laid one after another with pauses of known length. A turn is an utterance: the source cut
    at its pauses (>= 0.3 s under -30 dB of the source's loud frames and
    under 10 dB above its noise floor), its silent edges trimmed.

Thresholds: ``--calibrate`` (a grid on the built conversations) and ``--loo`` (leave-one-out over
the reference recordings, the held-out DER of each) print what ``DiarizeOptions`` was chosen from.

DER: bench/der.py (0.25 s collar either side of reference boundaries, overlap counted, optimal
one-to-one mapping). ``--calibrate`` prints a grid of thresholds on the built conversations only.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from typing import Any

from bench.der import DER, Turn, der, jer, read_rttm, read_uem
from models.base import FloatArray, VoiceEncoder
from perception.records import VoiceSegment
from models.segmentation_pyannote import Segmentation
from perception.diarize import diarize, speaker_turns, speaker_turns_of, with_overlap
from perception.diarize_options import DiarizeOptions, Span, options_for
from perception.local_speakers import local_speaker_segments
from perception.speaker_clusters import cluster_segments
from perception.speech_regions import segmented_speech, speech_intervals
from perception.voice_changes import voice_segments

RATE = 16000
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REFERENCE = DATA / "speech" / "diarization"
RECORDINGS = ("ami_dev00", "ami_dev01", "ami_trn04", "ami_trn08", "ami_tst00", "pyaa_diarizationExample",
              "pyaa_diarizationExample2")


def load_audio(path: Path, start: float = 0.0, end: float | None = None, channel: int | None = None) -> FloatArray:
    """16 kHz float32 mono (or one channel of a stereo file), ``start`` to ``end`` seconds."""
    import av

    with av.open(str(path)) as c:
        r = av.AudioResampler(format="fltp", layout="stereo" if channel is not None else "mono", rate=RATE)
        audio = np.concatenate([o.to_ndarray() for f in c.decode(audio=0) for o in r.resample(f)], axis=1)
    wav = audio[channel or 0].astype(np.float32)
    return wav[int(start * RATE) : None if end is None else int(end * RATE)]


@dataclass(frozen=True)
class Recording:
    name: str
    audio: FloatArray
    turns: list[Turn]
    uem: list[tuple[float, float]] | None


def reference_recordings() -> Iterator[Recording]:
    for name in RECORDINGS:
        uem = REFERENCE / f"{name}.uem"
        yield Recording(name, load_audio(REFERENCE / f"{name}.wav"), read_rttm(REFERENCE / f"{name}.rttm"),
                        read_uem(uem) if uem.exists() else None)


def utterances(wav: FloatArray, pause: float = 0.3, floor_db: float = -30.0) -> list[FloatArray]:
    """The source cut at its pauses, silent edges trimmed (20 ms frames)."""
    hop = RATE // 50
    n = len(wav) // hop
    db = 10 * np.log10(np.mean(wav[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = db > max(np.percentile(db, 95) + floor_db, np.percentile(db, 10) + 10.0)  # above any noise floor
    runs: list[list[int]] = []
    for i in np.flatnonzero(loud):
        if runs and i - runs[-1][1] <= pause * 50:
            runs[-1][1] = int(i)
        else:
            runs.append([int(i), int(i)])
    return [wav[a * hop : (b + 1) * hop] for a, b in runs if (b + 1 - a) * hop >= 0.3 * RATE]


def speakers() -> dict[str, list[FloatArray]]:
    """Real single-speaker material, as utterances, by speaker."""
    fw, composite = DATA / "speech" / "faster-whisper", DATA / "qa" / "video-dev" / "composite.mp4"
    multi = load_audio(fw / "multilingual.mp3")
    out = {
        "sonnet": utterances(load_audio(composite, 0.0, 53.3)),
        "editor": utterances(load_audio(composite, 137.32, 155.0)),
        # English first half, German second: another voice (CAM++ cosine 0.3-0.4 across, 0.92 within)
        "multi_en": utterances(multi[: 30 * RATE]),
        "multi_de": utterances(multi[30 * RATE :]),
        "jfk": utterances(load_audio(DATA / "speech" / "jfk.flac")),
        "stereo_l": utterances(load_audio(fw / "stereo_diarization.wav", channel=0)),
        "stereo_r": utterances(load_audio(fw / "stereo_diarization.wav", channel=1)),
        "hotwords": utterances(load_audio(fw / "hotwords.mp3")),
    }
    for clip in sorted((DATA / "video" / "grid").glob("*.mpg")):
        out[f"grid_{clip.stem}"] = [np.concatenate(utterances(load_audio(clip), pause=1.0))]
    return out


def build(name: str, hosts: list[str], guests: list[str], pauses: tuple[float, float], seed: int,
          material: dict[str, list[FloatArray]]) -> Recording:
    """Hosts take turns (one or two utterances each) until their material runs out; each guest
    speaks once, at evenly spread points. Every utterance is used at most once."""
    rng = np.random.default_rng(seed)
    queue = {h: list(material[h]) for h in hosts}
    order: list[tuple[str, FloatArray]] = []
    while any(queue.values()):
        for h in hosts:
            for _ in range(int(rng.integers(1, 3))):
                if queue[h]:
                    order.append((h, queue[h].pop(0)))
    for k, g in enumerate(guests):
        at = int(round((k + 1) * len(order) / (len(guests) + 1))) + k
        order.insert(at, (g, material[g][0]))
    parts: list[FloatArray] = []
    turns: list[Turn] = []
    t = 0.5
    parts.append(np.zeros(int(t * RATE), np.float32))
    for who, wav in order:
        turns.append((round(t, 3), round(t + len(wav) / RATE, 3), who))
        gap = float(rng.uniform(*pauses))
        parts += [wav, np.zeros(int(round(gap * RATE)), np.float32)]
        t += len(wav) / RATE + int(round(gap * RATE)) / RATE
    return Recording(name, np.concatenate(parts), turns, None)


def conversations() -> list[Recording]:
    m = speakers()
    grid = sorted(k for k in m if k.startswith("grid_"))
    return [
        build("conv4_readers", ["sonnet", "multi_en", "editor", "jfk"], [], (0.1, 0.8), 1, m),
        build("conv2_call", ["sonnet", "multi_de"], [], (0.05, 0.4), 2, m),
        build("conv11_guests", ["sonnet", "multi_de"], [*grid[:6], "stereo_l", "stereo_r", "hotwords"],
              (0.2, 1.0), 3, m),
        build("conv6_panel", ["multi_en", "editor", "jfk"], [*grid[6:], "stereo_r"], (0.05, 0.6), 4, m),
    ]


def run(rec: Recording, encoder: VoiceEncoder, options: DiarizeOptions, segmenter: Any = None
        ) -> tuple[DER, float, float]:
    """(DER, JER, seconds taken)."""
    t0 = time.perf_counter()
    est = diarize(rec.audio, RATE, encoder, options, segmenter)
    took = time.perf_counter() - t0
    return der(rec.turns, est, rec.uem), jer(rec.turns, est, rec.uem), took


def speech_of(rec: Recording, options: DiarizeOptions, segmenter: Any
              ) -> tuple[list[tuple[float, float]], list[tuple[float, float]], list[float] | None]:
    """(speech, overlapped speech, speaker changes): the segmentation model's, or Silero VAD's
    (no overlap, no changes)."""
    if segmenter is not None:
        return segmented_speech(rec.audio, segmenter, options)
    return speech_intervals(rec.audio, RATE, options), [], None


def table(title: str, recs: list[Recording], encoder: VoiceEncoder, options: DiarizeOptions, segmenter: Any = None) -> None:
    print(f"\n{title}\n{'recording':26s} {'min':>5s} {'DER':>6s} {'miss':>6s} {'FA':>6s} {'conf':>6s} {'ref':>4s} {'est':>4s} {'JER':>6s}")
    rates, jers, right, seconds, wall = [], [], 0, 0.0, 0.0
    for rec in recs:
        d, j, took = run(rec, encoder, options, segmenter)
        rates.append(d.rate)
        jers.append(j)
        right += d.ref_speakers == d.est_speakers
        seconds += len(rec.audio) / RATE
        wall += took
        print(f"{rec.name:26s} {len(rec.audio) / RATE / 60:5.2f} {d.rate:6.1%} {d.missed / d.total:6.1%} "
              f"{d.false_alarm / d.total:6.1%} {d.confusion / d.total:6.1%} {d.ref_speakers:4d} {d.est_speakers:4d} {j:6.1%}", flush=True)
    print(f"{'mean':26s} {'':5s} {np.mean(rates):6.1%}   JER {np.mean(jers):.1%}; speaker count right on {right} of {len(recs)};"
          f" {wall / (seconds / 60):.1f} s of diarization per minute of audio")


class CachedEncoder(VoiceEncoder):
    """Remembers the vector of every input it embedded (the calibration grid embeds the same
    windows and segments again and again)."""

    def __init__(self, inner: VoiceEncoder) -> None:
        self.inner, self.model_id, self.dim, self.sample_rate = inner, inner.model_id, inner.dim, inner.sample_rate
        self.seen: dict[bytes, FloatArray] = {}

    def embed_batch(self, audios: Sequence[FloatArray]) -> FloatArray:
        keys = [hashlib.sha1(a.tobytes()).digest() + len(a).to_bytes(8, "little") for a in audios]
        todo = {k: a for k, a in zip(keys, audios) if k not in self.seen}
        if todo:
            self.seen.update(zip(todo, self.inner.embed_batch(list(todo.values()))))
        return np.stack([self.seen[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)


class CachedSegmentation(Segmentation):
    """Remembers the output for every window it ran (the grid asks for the same windows again)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[bytes, FloatArray] = {}

    def powerset(self, chunks: FloatArray) -> FloatArray:
        key = hashlib.sha1(np.ascontiguousarray(chunks).tobytes()).digest()
        if key not in self.seen:
            self.seen[key] = super().powerset(chunks)
        return self.seen[key]


def calibrate(recs: list[Recording], encoder: VoiceEncoder, base: DiarizeOptions) -> None:
    """Grid over the map- and reduce-stage thresholds; each distinct window or segment is
    embedded once, whatever the setting."""
    cached = CachedEncoder(encoder)
    speech = {r.name: speech_intervals(r.audio, RATE, base) for r in recs}
    print(f"{'hop':>5s} {'change':>6s} {'thresh':>6s} {'minspk':>6s} {'meanDER':>8s} DER and est/ref speakers each")
    ge2e = encoder.model_id == "resemblyzer-ge2e"  # its cosines are squeezed into 0.5-0.95
    changes = (0.15, 0.2, 0.3) if ge2e else (0.4, 0.5, 0.6)
    thresholds = (0.15, 0.2, 0.25, 0.3) if ge2e else (0.5, 0.6, 0.7, 0.8)
    for hop, change in itertools.product((0.5, 0.75), changes):
        opts = replace(base, hop=hop, change=change)
        segs = {r.name: voice_segments(r.audio, 0.0, speech[r.name], cached, opts) for r in recs}
        for threshold, min_speaker in itertools.product(thresholds, (0.5, 1.0, 2.0)):
            o = replace(opts, threshold=threshold, min_speaker=min_speaker)
            scores = []
            for r in recs:
                labels = cluster_segments(segs[r.name], o)
                est = [(s.start, s.end, lab) for s, lab in zip(segs[r.name], labels)]
                scores.append(der(r.turns, est, r.uem))
            each = " ".join(f"{d.rate:5.1%} {d.est_speakers}/{d.ref_speakers}" for d in scores)
            print(f"{hop:5.2f} {change:6.2f} {threshold:6.2f} {min_speaker:6.1f} {np.mean([d.rate for d in scores]):8.1%}  {each}",
                  flush=True)


def leave_one_out(recs: list[Recording], encoder: VoiceEncoder, base: DiarizeOptions, segmenter: Any = None) -> None:
    """For each recording, the setting with the lowest mean DER on the *other* recordings,
    scored on it: an honest figure for thresholds tuned on the set that is reported. With the
    segmentation model, whether overlapped speech gets a second voice is part of the grid."""
    cached = CachedEncoder(encoder)
    segmenter = CachedSegmentation() if segmenter is not None else None
    grid: list[tuple[DiarizeOptions, dict[str, DER]]] = []
    ge2e = encoder.model_id == "resemblyzer-ge2e"  # its cosines are squeezed into 0.5-0.95
    reaches = (0.0, base.overlap_reach) if segmenter is not None else (0.0,)
    cleans = (False, True) if segmenter is not None else (False,)
    for clean, change in itertools.product(cleans, (0.2, 0.3) if ge2e else (0.5,)):
        opts = replace(base, change=change, overlap_clean=clean)
        speech = {r.name: speech_of(r, opts, segmenter) for r in recs}
        segs = {r.name: voice_segments(r.audio, 0.0, speech[r.name][0], cached, opts) for r in recs}
        thresholds = (0.15, 0.2, 0.25, 0.3) if ge2e else (0.5, 0.6, 0.7, 0.8)
        for threshold, min_speaker, reach in itertools.product(thresholds, (1.0, 2.0, 3.0, 4.0), reaches):
            o = replace(opts, threshold=threshold, min_speaker=min_speaker, overlap_reach=reach)
            scores = {}
            for r in recs:
                turns = speaker_turns(segs[r.name], cluster_segments(segs[r.name], o))
                if reach > 0:
                    turns = with_overlap(turns, speech[r.name][1], reach)
                scores[r.name] = der(r.turns, turns, r.uem)
            grid.append((o, scores))
    print(f"\nleave-one-out over change x threshold x min_speaker\n{'held out':26s} {'DER':>6s} {'ref':>4s} {'est':>4s}  chosen on the others")
    held = []
    for r in recs:
        o, scores = min(grid, key=lambda g: (np.mean([d.rate for n, d in g[1].items() if n != r.name]), -g[0].threshold))
        d = scores[r.name]
        held.append(d)
        print(f"{r.name:26s} {d.rate:6.1%} {d.ref_speakers:4d} {d.est_speakers:4d}  change {o.change} overlap_clean {o.overlap_clean} threshold {o.threshold} "
              f"min_speaker {o.min_speaker} overlap_reach {o.overlap_reach}")
    right = sum(d.ref_speakers == d.est_speakers for d in held)
    print(f"{'mean':26s} {np.mean([d.rate for d in held]):6.1%}  speaker count right on {right} of {len(held)}")
    o, scores = min(grid, key=lambda g: (np.mean([d.rate for d in g[1].values()]), -g[0].threshold))
    print(f"best on all: change {o.change} overlap_clean {o.overlap_clean} threshold {o.threshold} min_speaker {o.min_speaker} overlap_reach {o.overlap_reach}: mean "
          f"{np.mean([d.rate for d in scores.values()]):.1%}")


def local_records(rec: Recording, encoder: VoiceEncoder, segmenter: Any, options: DiarizeOptions
                  ) -> tuple[list[VoiceSegment], list[Span]]:
    """The map stage of pyannote's recipe over ``rec``, clip by clip (``options.piece``) as the
    pipeline does it: (local-speaker records, overlapped speech)."""
    step = int(options.piece * RATE)
    records: list[VoiceSegment] = []
    overlaps: list[Span] = []
    for a in range(0, len(rec.audio), step):
        t0, t1 = a / RATE, min(len(rec.audio), a + step) / RATE
        made, over = local_speaker_segments(rec.audio[a : a + step], t0, (t0, t1), encoder, segmenter, options)
        records += made
        overlaps += over
    return records, overlaps


def leave_one_out_local(recs: list[Recording], encoder: VoiceEncoder, base: DiarizeOptions, segmenter: Any) -> None:
    """Leave-one-out for pyannote's recipe (local speakers per window, linked across windows):
    the grid is the window step x cut at voice changes or not x threshold x min_speaker; each held-out recording is scored with
    the setting best on the other six."""
    cached = CachedEncoder(encoder)
    segmenter = CachedSegmentation()
    grid: list[tuple[DiarizeOptions, dict[str, tuple[DER, float]]]] = []
    for seg_step, changes in itertools.product((1.0, 2.5), (False, True)):
        opts = replace(base, seg_step=seg_step, local_changes=changes)
        made = {r.name: local_records(r, cached, segmenter, opts) for r in recs}
        for threshold, min_speaker in itertools.product((0.4, 0.5, 0.6, 0.7, 0.8), (0.5, 1.0, 2.0, 3.0)):
            o = replace(opts, threshold=threshold, min_speaker=min_speaker)
            scores = {}
            for r in recs:
                turns = speaker_turns_of(*made[r.name], o)[1]
                scores[r.name] = (der(r.turns, turns, r.uem), jer(r.turns, turns, r.uem))
            grid.append((o, scores))
            each = " ".join(f"{d.rate:5.1%} {d.est_speakers}/{d.ref_speakers}" for d, _ in scores.values())
            print(f"seg_step {seg_step} changes {changes} threshold {threshold} min_speaker {min_speaker}: mean "
                  f"{np.mean([d.rate for d, _ in scores.values()]):5.1%}  {each}", flush=True)
    print(f"\nleave-one-out over seg_step x local_changes x threshold x min_speaker\n{'held out':26s} {'DER':>6s} {'JER':>6s} {'ref':>4s} {'est':>4s}  chosen on the others")
    held = []
    for r in recs:
        o, scores = min(grid, key=lambda g: (np.mean([d.rate for n, (d, _) in g[1].items() if n != r.name]), -g[0].threshold))
        d, j = scores[r.name]
        held.append((d, j))
        print(f"{r.name:26s} {d.rate:6.1%} {j:6.1%} {d.ref_speakers:4d} {d.est_speakers:4d}  seg_step {o.seg_step} changes {o.local_changes} "
              f"threshold {o.threshold} min_speaker {o.min_speaker}")
    right = sum(d.ref_speakers == d.est_speakers for d, _ in held)
    print(f"{'mean':26s} {np.mean([d.rate for d, _ in held]):6.1%} {np.mean([j for _, j in held]):6.1%}  "
          f"speaker count right on {right} of {len(held)}")
    o, scores = min(grid, key=lambda g: (np.mean([d.rate for d, _ in g[1].values()]), -g[0].threshold))
    print(f"best on all: seg_step {o.seg_step} changes {o.local_changes} threshold {o.threshold} min_speaker {o.min_speaker}: mean "
          f"{np.mean([d.rate for d, _ in scores.values()]):.1%}")


def segments_of(rec: Recording, encoder: VoiceEncoder, options: DiarizeOptions, segmenter: Any
                ) -> tuple[list[VoiceSegment], list[Span]]:
    """The default path's voice segments of ``rec`` (30 s pieces, as ``diarize`` cuts them) and
    its overlapped speech."""
    speech, overlap, changes = speech_of(rec, options, segmenter)
    step = int(options.piece * RATE)
    segments: list[VoiceSegment] = []
    for a in range(0, len(rec.audio), step):
        t0, t1 = a / RATE, min(len(rec.audio), a + step) / RATE
        inside = [(max(s, t0), min(e, t1)) for s, e in speech if e > t0 and s < t1]
        segments.extend(voice_segments(rec.audio[a : a + step], t0, inside, encoder, options,
                                       changes if options.seg_changes else None))
    return segments, overlap


def speakers_heard(recs: list[Recording], encoder: VoiceEncoder, options: DiarizeOptions, segmenter: Any) -> None:
    """Why a speaker count is wrong: for each reference speaker, its seconds in the reference, in
    overlapped speech, and in the voice segments it has the most of (how many of those vote:
    at least ``min_duration``), the clusters those segments end in, and the cosine distance
    from its segments' mean vector to the nearest cluster holding none of them."""
    from perception.speaker_clusters import normalise

    for rec in recs:
        segs, overlap = segments_of(rec, encoder, options, segmenter)
        labels = np.array(cluster_segments(segs, options))
        x = normalise(np.array([s.embedding for s in segs], dtype=np.float32)) if segs else np.zeros((0, 1))
        dur = np.array([s.end - s.start for s in segs])

        def share(a: float, b: float, who: str) -> float:
            return sum(max(0.0, min(b, e) - max(a, s)) for s, e, k in rec.turns if k == who)

        owner = [max({k for *_, k in rec.turns}, key=lambda k: share(s.start, s.end, k)) for s in segs]
        cents = {int(c): normalise((x[labels == c] * dur[labels == c, None]).sum(0)[None, :])[0] for c in set(labels.tolist())}
        print(f"\n{rec.name}: {len(set(rec_k for *_, rec_k in rec.turns))} speakers, {len(cents)} found; {len(segs)} segments")
        for who in sorted({k for *_, k in rec.turns}):
            mine = [i for i, o in enumerate(owner) if o == who and share(segs[i].start, segs[i].end, who) > 0]
            said = sum(e - s for s, e, k in rec.turns if k == who)
            over = sum(share(a, b, who) for a, b in overlap)
            landed = sorted({int(labels[i]) for i in mine})
            far = ""
            if mine:
                mean = normalise((x[mine] * dur[mine, None]).sum(0)[None, :])[0]
                others = [c for c in cents if c not in landed]
                far = f"  nearest other cluster {min((1 - float(mean @ cents[c]) for c in others), default=float('nan')):.2f}"
            print(f"  {who:12s} said {said:5.1f} s, overlapped {over:4.1f} s; segments {len(mine):2d} "
                  f"({sum(dur[i] for i in mine):4.1f} s, {sum(dur[i] >= options.min_duration for i in mine)} vote) "
                  f"in clusters {landed}{far}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", default="campplus", choices=["campplus", "resemblyzer"])
    parser.add_argument("--only", help="run only the recordings whose name contains this")
    parser.add_argument("--calibrate", action="store_true", help="grid of thresholds on the built conversations")
    parser.add_argument("--loo", action="store_true", help="leave-one-out over the reference recordings")
    parser.add_argument("--vad", default="segmentation", choices=["segmentation", "silero"],
                        help="speech (and overlap) from pyannote's segmentation-3.0, or Silero VAD (no overlap)")
    parser.add_argument("--local", action="store_true",
                        help="pyannote's recipe: the segmentation windows' local speakers embedded and linked "
                             "(DiarizeOptions.local_speakers)")
    parser.add_argument("--reference-only", action="store_true", help="skip the built conversations")
    parser.add_argument("--speakers", action="store_true",
                        help="per reference speaker: seconds said, overlapped, in its voice segments, and where they cluster")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    import models

    torch.set_num_threads(args.threads)
    encoder = models.create("voice_encoder", args.encoder)
    options = replace(options_for(encoder), local_speakers=True) if args.local else options_for(encoder)
    segmenter = Segmentation() if args.vad == "segmentation" else None
    convs = [] if args.reference_only else [r for r in conversations() if not args.only or args.only in r.name]
    if args.calibrate:
        calibrate(convs, encoder, options)
        return
    refs = [r for r in reference_recordings() if not args.only or args.only in r.name]
    if args.speakers:
        speakers_heard(refs + convs, encoder, options, segmenter)
        return
    if args.loo:
        if segmenter is not None and options.local_speakers:
            leave_one_out_local(refs, encoder, options, segmenter)
        else:
            leave_one_out(refs, encoder, options, segmenter)
        return
    print(f"encoder {encoder.model_id}; speech from {args.vad}; {options}")
    if refs:
        table("reference recordings (human turns; the headline figure)", refs, encoder, options, segmenter)
    if convs:
        table("built conversations (real single-speaker utterances; calibration set)", convs, encoder, options, segmenter)


if __name__ == "__main__":
    main()
