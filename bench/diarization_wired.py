"""Diarization as the product does it: each reference recording indexed through the CLI (the
default settings: CAM++ voice segments per clip over the speech pyannote's segmentation-3.0
hears, less its overlapped speech, clustered over the source by the reduce stage, overlaps given
the speakers around them), its speakers read back through the CLI twice:

- **turns**: ``mmagent transcript --format rttm``, the speaker turns the index keeps (speech with
  or without words): the headline figure;
- **words**: ``mmagent transcript --format json --words``, each run of one voice's words joined
  across pauses under ``JOIN`` seconds (what the figure was before turns were kept: speech the
  ASR heard no word in is missed).

    .venv/bin/python -m bench.diarization_wired [--only NAME] [--clip-seconds S]

Per recording: the speakers found against the reference's, the DER (``bench.der``, 0.25 s collar,
within the UEM) of both, and the map-stage cost of the voice segments (the ``diarize`` stage:
seconds per minute of audio, next to the GE2E turns' ``voices`` stage). ``MMAGENT_DIARIZE=0``
gives the pipeline without a diarizer (each clip-local GE2E turn matched to a voice entity
alone), for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile

from apps.cli import main as cli
from bench.der import DER, Turn, der, jer, read_rttm, read_uem
from bench.diarization import RECORDINGS, REFERENCE

JOIN = 1.0  # seconds: one voice's words closer than this are one turn


def _run(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli(list(argv))
    if code != 0:
        raise RuntimeError(f"mmagent {' '.join(argv)} exited {code}")
    return out.getvalue()


def turns_of(doc: dict) -> list[Turn]:  # type: ignore[type-arg]
    """Runs of one voice's words, joined across pauses under ``JOIN``."""
    turns: list[Turn] = []
    for seg in doc["segments"]:
        for w in seg.get("words", []):
            who = seg["voice"]
            if turns and turns[-1][2] == who and w["start"] - turns[-1][1] < JOIN:
                turns[-1] = (turns[-1][0], max(turns[-1][1], w["end"]), who)
            else:
                turns.append((w["start"], w["end"], who))
    return turns


def rttm_turns(text: str) -> list[Turn]:
    """(start, end, speaker) of each SPEAKER line of an RTTM document."""
    turns: list[Turn] = []
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            turns.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return turns


def index(name: str, clip_seconds: float | None = None) -> tuple[dict, list[Turn], list[Turn]]:  # type: ignore[type-arg]
    """One reference recording through the CLI: (index report, RTTM turns, word-run turns)."""
    wav = REFERENCE / f"{name}.wav"
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--clip-seconds", str(clip_seconds)] if clip_seconds else []
        indexed = json.loads(_run("index", str(wav), "--store", tmp, "--json", *extra))["sources"][0]
        rttm = _run("transcript", str(wav), "--store", tmp, "--format", "rttm")
        doc = json.loads(_run("transcript", str(wav), "--store", tmp, "--format", "json", "--words"))
    return indexed, rttm_turns(rttm), turns_of(doc)


def score(name: str, turns: list[Turn]) -> DER:
    uem = REFERENCE / f"{name}.uem"
    return der(read_rttm(REFERENCE / f"{name}.rttm"), turns, read_uem(uem) if uem.exists() else None)


def jaccard(name: str, turns: list[Turn]) -> float:
    uem = REFERENCE / f"{name}.uem"
    return jer(read_rttm(REFERENCE / f"{name}.rttm"), turns, read_uem(uem) if uem.exists() else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="one recording")
    parser.add_argument("--clip-seconds", type=float, default=None, help="clip length (default: the setting's)")
    args = parser.parse_args()
    names = [n for n in RECORDINGS if args.only in (None, n)]
    rates: dict[str, list[float]] = {"turns": [], "words": []}
    jers: list[float] = []
    right = {"turns": 0, "words": 0}
    minutes = diarize_s = voices_s = 0.0
    print(f"{'recording':26s} {'spk ref/est':>11s} {'DER':>6s} {'miss':>6s} {'FA':>6s} {'conf':>6s}  "
          f"{'JER':>6s}  {'words: est':>10s} {'DER':>6s} {'miss':>6s}  diarize s")
    for name in names:
        indexed, turns, words = index(name, args.clip_seconds)
        stages = indexed["perception"]["stage_seconds"]
        s, w = score(name, turns), score(name, words)
        jers.append(jaccard(name, turns))
        for key, d in (("turns", s), ("words", w)):
            rates[key].append(d.rate)
            right[key] += d.ref_speakers == d.est_speakers
        minutes += indexed["duration"] / 60
        diarize_s += stages.get("diarize", 0.0)
        voices_s += stages.get("voices", 0.0)
        t, tw = max(s.total, 1e-9), max(w.total, 1e-9)
        print(f"{name:26s} {s.ref_speakers:>5d}/{s.est_speakers:<5d} {s.rate:6.1%} {s.missed / t:6.1%} "
              f"{s.false_alarm / t:6.1%} {s.confusion / t:6.1%} {jers[-1]:6.1%}  {w.est_speakers:>10d} {w.rate:6.1%} {w.missed / tw:6.1%}"
              f"  {stages.get('diarize', 0.0):.2f}", flush=True)
    n = len(names)
    print(f"mean DER, turns (rttm): {sum(rates['turns']) / n:.1%} (JER {sum(jers) / n:.1%}), speakers right on {right['turns']} of {n}; "
          f"words' runs (json --words): {sum(rates['words']) / n:.1%}, right on {right['words']} of {n}")
    print(f"map-stage cost per audio minute: diarize (VAD + CAM++ segments) {diarize_s / max(minutes, 1e-9):.2f} s, "
          f"voices (GE2E turns) {voices_s / max(minutes, 1e-9):.2f} s ({minutes:.1f} min of audio)")


if __name__ == "__main__":
    main()
