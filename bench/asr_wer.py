"""Word error rate of the map stage's speech vs the same ASR model run plainly on the whole file.

    .venv/bin/python -m bench.asr_wer [--only NAME ...] [--model tiny.en|base|FOLDER] [--out FILE]
        [--beam N] [--doubt none|LOGPROB] [--retry-beam N]

For every real recording with a known transcript in ../shared/data, two transcripts are scored
against the reference with the same normaliser (openai-whisper's ``EnglishTextNormalizer``):

- ``plain``: ``faster_whisper.WhisperModel(<same model>).transcribe(whole file, vad_filter=True)``
  with faster-whisper's defaults (beam 5, temperature fallback, previous text as context): the
  model at its best on one long file, as a user would run it by hand;
- ``map``: the map stage as ``mmagent index`` runs it (``Perceiver``, the default options, 30 s
  clips in ASR groups), the words of every clip in time order.

Recordings: jfk, the 11 GRID clips joined (33 s), each channel of faster-whisper's
``stereo_diarization.wav``, the video dev set's composite (its clips with a transcript; the one
with none is left out of both), and ``crossing``: real sentences (the Sonnet reading's lines, JFK,
GRID commands) laid out so that one sentence straddles every 30 s clip edge and every ASR group
edge on purpose. The figure the issue asks for: ``ratio`` = map WER / plain WER ≤ 1.10 (with
both at 0 the ratio is 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RATE = 16000


@dataclass
class Recording:
    name: str
    path: Path
    reference: str
    exclude: tuple[tuple[float, float], ...] = ()  # spans with no reference: their words are not scored


def wer(reference: str, hypothesis: str) -> tuple[float, int, int]:
    """(WER, edits, reference words) after normalising both."""
    ref, hyp = _normalise(reference).split(), _normalise(hypothesis).split()
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    edits = prev[-1]
    return edits / max(1, len(ref)), edits, len(ref)


_NORMALISER: Any = None


def _normalise(text: str) -> str:
    global _NORMALISER
    if _NORMALISER is None:
        from whisper.normalizers import EnglishTextNormalizer

        with warnings.catch_warnings():  # it reads its spelling table with an unclosed open()
            warnings.simplefilter("ignore", ResourceWarning)
            _NORMALISER = EnglishTextNormalizer()
    return str(_NORMALISER(text))


def read_audio(path: Path, channel: int | None = None) -> np.ndarray:
    """16 kHz float32 of a file (mono mix, or one channel)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        layout = "mono" if channel is None else "stereo"
        resampler = av.AudioResampler(format="flt", layout=layout, rate=RATE)
        parts = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1, 1 if channel is None else 2))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1, 1 if channel is None else 2))
    samples = np.concatenate(parts)
    # full scale as 16-bit PCM holds it, like faster-whisper's own decode_audio (and the map stage)
    return np.ascontiguousarray(np.clip(samples[:, 0 if channel is None else channel], -1, 1), dtype=np.float32)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    import wave

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return path


def recordings(work: Path) -> list[Recording]:
    out: list[Recording] = []
    jfk_text = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
    if (DATA / "speech" / "jfk.flac").is_file():
        out.append(Recording("jfk", DATA / "speech" / "jfk.flac", jfk_text))
    grid = DATA / "video" / "grid"
    if grid.is_dir():
        from mmagent.samples import concat_videos

        rows = dict(line.split("\t") for line in (grid / "transcripts_from_filenames.tsv").read_text().splitlines() if line.strip())
        names = sorted(rows)
        video = work / "grid.mp4"
        concat_videos([grid / n for n in names], video)
        out.append(Recording("grid", video, " ".join(rows[n] for n in names)))
    stereo = DATA / "speech" / "faster-whisper" / "stereo_diarization.wav"
    if stereo.is_file():
        texts = ("He began a confused complaint against the wizard, who had vanished behind the curtain on the left.",
                 "The horizon seems extremely distant.")
        for ch, text in enumerate(texts):
            out.append(Recording(f"stereo_{'lr'[ch]}", write_wav(work / f"stereo_{ch}.wav", read_audio(stereo, ch)), text))
    timeline = DATA / "qa" / "video-dev" / "timeline.json"
    if timeline.is_file():
        t = json.loads(timeline.read_text())
        lines = [x["text"] for c in t["clips"] for x in (c.get("transcript") or []) if x["text"].strip() != "1"]
        untold = tuple((c["start"], c["end"]) for c in t["clips"] if not c.get("transcript"))
        # the Sonnet's "1" (its number, read aloud) is dropped from the reference: whisper writes "One."
        out.append(Recording("video-dev", timeline.parent / t["video"], " ".join(lines), untold + ((0.0, 2.68),)))
    crossing = _crossing(work)
    if crossing is not None:
        out.append(crossing)
    return out


def _crossing(work: Path, clip: float = 30.0, total: float = 260.0) -> Recording | None:
    """Real sentences laid out so that one straddles every ``clip`` s edge (every clip edge and
    every ASR group edge), with 0.6 s pauses between the others."""
    timeline = DATA / "qa" / "video-dev" / "timeline.json"
    if not timeline.is_file():
        return None
    t = json.loads(timeline.read_text())
    composite = read_audio(timeline.parent / t["video"])
    pieces: list[tuple[np.ndarray, str]] = []
    for c in t["clips"]:
        if c["id"] in ("c1", "c2", "c4", "c6"):  # spoken, with a reference (the song is sung)
            for x in c["transcript"]:
                if x["text"].strip() == "1":
                    continue
                pieces.append((composite[int(x["start"] * RATE) : int(x["end"] * RATE)], x["text"]))
    out = np.zeros(int(total * RATE), dtype=np.float32)
    refs: list[str] = []
    at, k, edge = 0.5, 0, clip
    while True:
        audio, text = pieces[k % len(pieces)]
        length = len(audio) / RATE
        if at + length > total - 0.5:
            break
        if at + length + 0.6 > edge and at < edge:  # this one would end near or after the edge: centre it on it
            at = max(at, edge - length / 2)
            edge += clip
        out[int(at * RATE) : int(at * RATE) + len(audio)] = audio
        refs.append(text)
        at += length + 0.6
        k += 1
        if at > edge:
            edge += clip
    return Recording("crossing", write_wav(work / "crossing.wav", out[: int(at * RATE)]), " ".join(refs))


def plain(asr_path: Path, recording: Recording, language: str | None = "en") -> tuple[str, float]:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(asr_path), device="cpu", compute_type="int8", cpu_threads=2, local_files_only=True)
    began = time.perf_counter()
    segments, _info = model.transcribe(str(recording.path), vad_filter=True, language=language, word_timestamps=True)
    words = [w for s in segments for w in (s.words or ())]
    return _text(words, recording.exclude), time.perf_counter() - began


def mapped(recording: Recording, store: Path, **asr_options: Any) -> tuple[str, float]:
    import models
    from perception.decode import probe
    from perception.map import Perceiver
    from perception.map_settings import PerceptionOptions

    asr = models.create("asr", "faster-whisper", threads=2, **asr_options)
    perceiver = Perceiver(PerceptionOptions(ocr=False), asr, None)
    info = probe(recording.path)
    began = time.perf_counter()
    observations = list(perceiver.observe(recording.path, info, recording.name, store / recording.name))
    words = [w for o in observations for s in o.segments for w in s.words]
    return _text(words, recording.exclude), time.perf_counter() - began


def _text(words: list[Any], exclude: tuple[tuple[float, float], ...]) -> str:
    kept = [w for w in words if not any(a <= (w.start + w.end) / 2 < b for a, b in exclude)]
    return " ".join((w.word if hasattr(w, "word") else w.text).strip() for w in kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="recording names")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "asr_wer.json")
    parser.add_argument("--show", action="store_true", help="print the transcripts")
    parser.add_argument("--beam", type=int, help="the map stage's beam size (default: the ASR's own)")
    parser.add_argument("--doubt", help="the map stage's doubt_logprob: chunks whose greedy pass is under it are decoded "
                        "again with beam 5 ('none': never; default: the ASR's own)")
    parser.add_argument("--retry-beam", type=int, help="the beam of that second pass (default: the ASR's own)")
    parser.add_argument("--model", default="tiny.en", help="the faster-whisper model of both (a name or a folder); "
                        "the map stage detects the language on a multilingual model, plain is told English")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"real media not found: {DATA}")
    from models.asr_models import resolve

    work = Path(tempfile.mkdtemp(prefix="mmagent-wer-"))
    rows = []
    for rec in recordings(work):
        if args.only and rec.name not in args.only:
            continue
        p_text, p_s = plain(resolve(args.model), rec)
        extra: dict[str, Any] = {"beam_size": args.beam} if args.beam else {}
        if args.doubt:
            extra["doubt_logprob"] = None if args.doubt == "none" else float(args.doubt)
        if args.retry_beam:
            extra["retry_beam"] = args.retry_beam
        m_text, m_s = mapped(rec, work / "cache", model_path=args.model, **extra)
        p_wer, p_e, n = wer(rec.reference, p_text)
        m_wer, m_e, _ = wer(rec.reference, m_text)
        ratio = 1.0 if m_e == p_e else (m_wer / p_wer if p_wer else float("inf"))
        rows.append({"recording": rec.name, "words": n, "plain_wer": round(p_wer, 4), "map_wer": round(m_wer, 4),
                     "ratio": round(ratio, 3), "plain_s": round(p_s, 2), "map_s": round(m_s, 2)})
        print(f"{rec.name:10s} words {n:4d}  plain {p_wer:.3f}  map {m_wer:.3f}  ratio {ratio:.2f}", flush=True)
        if args.show:
            print("  ref :", _normalise(rec.reference))
            print("  plain:", _normalise(p_text))
            print("  map :", _normalise(m_text))
    edits = sum(r["map_wer"] * r["words"] for r in rows), sum(r["plain_wer"] * r["words"] for r in rows)
    words = sum(r["words"] for r in rows)
    summary = {"map_wer": round(edits[0] / max(1, words), 4), "plain_wer": round(edits[1] / max(1, words), 4)}
    print(f"all       words {words:4d}  plain {summary['plain_wer']:.3f}  map {summary['map_wer']:.3f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"model": f"faster-whisper {args.model} int8", "rows": rows, "all": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
