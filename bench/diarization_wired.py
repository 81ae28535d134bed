"""Diarization as the product does it: each reference recording indexed through the CLI (the
default settings: CAM++ voice segments per clip over the ASR's words, clustered over the source
by the reduce stage), its speakers read back from ``mmagent transcript --format json --words``.

    .venv/bin/python -m bench.diarization_wired [--only NAME] [--clip-seconds S]

Per recording: the speakers found against the reference's, the DER (``bench.der``, 0.25 s collar,
within the UEM) of the words' speakers, each run of one voice's words joined across pauses under
``JOIN`` seconds, and the map-stage cost of the voice segments (the ``diarize`` stage: seconds per
minute of audio, next to the GE2E turns' ``voices`` stage). Speech the ASR heard no words in is
missed here, where ``bench.diarization`` (Silero VAD) would find it: that is the gap between the
two DER figures' *missed* parts. ``MMAGENT_DIARIZE=0`` gives the pipeline as it was before
(each clip-local GE2E turn matched to a voice entity alone), for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile

from apps.cli import main as cli
from bench.der import DER, Turn, der, read_rttm, read_uem
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="one recording")
    parser.add_argument("--clip-seconds", type=float, default=None, help="clip length (default: the setting's)")
    args = parser.parse_args()
    names = [n for n in RECORDINGS if args.only in (None, n)]
    rates: list[float] = []
    minutes = diarize_s = voices_s = 0.0
    print(f"{'recording':28s} {'spk ref/est':>11s} {'DER':>6s} {'miss':>6s} {'FA':>6s} {'conf':>6s}  diarize s")
    for name in names:
        wav = REFERENCE / f"{name}.wav"
        with tempfile.TemporaryDirectory() as tmp:
            extra = ["--clip-seconds", str(args.clip_seconds)] if args.clip_seconds else []
            indexed = json.loads(_run("index", str(wav), "--store", tmp, "--json", *extra))["sources"][0]
            doc = json.loads(_run("transcript", str(wav), "--store", tmp, "--format", "json", "--words"))
        stages = indexed["perception"]["stage_seconds"]
        uem = REFERENCE / f"{name}.uem"
        score: DER = der(read_rttm(REFERENCE / f"{name}.rttm"), turns_of(doc), read_uem(uem) if uem.exists() else None)
        rates.append(score.rate)
        minutes += indexed["duration"] / 60
        diarize_s += stages.get("diarize", 0.0)
        voices_s += stages.get("voices", 0.0)
        t = max(score.total, 1e-9)
        print(f"{name:28s} {score.ref_speakers:>5d}/{score.est_speakers:<5d} {score.rate:6.1%} {score.missed / t:6.1%} "
              f"{score.false_alarm / t:6.1%} {score.confusion / t:6.1%}  {stages.get('diarize', 0.0):.2f}")
    print(f"mean DER {sum(rates) / len(rates):.1%} over {len(rates)} recordings; map-stage cost per audio minute: "
          f"diarize (CAM++ segments) {diarize_s / max(minutes, 1e-9):.2f} s, voices (GE2E turns) "
          f"{voices_s / max(minutes, 1e-9):.2f} s ({minutes:.1f} min of audio)")


if __name__ == "__main__":
    main()
