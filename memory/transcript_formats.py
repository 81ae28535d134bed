"""A source's transcript (``memory.transcript``) written out: plain text, JSON, NIST RTTM, SubRip
and WebVTT."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from memory.transcript import Cue, Transcript


def _clock(seconds: float, sep: str = ".", digits: int = 3) -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    frac = f"{ms:03d}"[:digits]
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{frac}"


def to_text(transcript: Transcript) -> str:
    """One line per speaker line: ``[00:01:05.2] Tom: ...`` (no name when no voice was told apart)."""
    return "".join(f"[{_clock(line.start, '.', 1)}] {line.speaker + ': ' if line.speaker else ''}{line.text}\n"
                   for line in transcript.lines)


def to_json(transcript: Transcript, words: bool = False) -> dict[str, Any]:
    """``{"source_id", "path", "duration", "word_times", "segments": [{"start", "end", "speaker",
    "voice", "text", "words"?}], "turns": [{"start", "end", "speaker", "voice"}], "turns_from"}``;
    ``words`` (with ``--words``): ``[{"start", "end", "text"}]``, empty for a line whose word times
    are not available; ``turns``: who spoke when, speech without words included (``turns_from``
    "diarization"), or the runs of one voice's words in a store that kept no turns ("words")."""
    return {"source_id": transcript.source_id, "path": transcript.path, "duration": round(transcript.duration, 3),
            "word_times": transcript.word_times, "segments": [line.to_json(words) for line in transcript.lines],
            "turns": [t.to_json() for t in transcript.turns], "turns_from": transcript.turns_from}


def to_rttm(transcript: Transcript) -> str:
    """NIST RTTM, one ``SPEAKER`` line per turn: ``SPEAKER <file> 1 <start> <duration> <NA> <NA>
    <speaker> <NA> <NA>``; the file id is the source's file name without its extension, the
    speaker its name (or voice id), blanks as ``_`` (RTTM fields are blank-separated)."""
    file_id = re.sub(r"\s+", "_", Path(transcript.path).stem.strip()) or transcript.source_id
    out = []
    for t in transcript.turns:
        if t.end - t.start < 1e-3:
            continue
        who = re.sub(r"\s+", "_", (t.speaker or t.voice or "speaker").strip())
        out.append(f"SPEAKER {file_id} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {who} <NA> <NA>\n")
    return "".join(out)


def _timed_cues(transcript: Transcript) -> list[Cue]:
    """Cues in time order that do not overlap (a cue ends when the next begins) and last > 0."""
    cues = sorted(transcript.cues(), key=lambda c: c.start)
    out = []
    for k, cue in enumerate(cues):
        end = cue.end
        if k + 1 < len(cues) and cues[k + 1].start < end:
            end = cues[k + 1].start
        out.append(Cue(cue.start, max(end, cue.start + 0.001), cue.speaker, cue.text))
    return out


def to_srt(transcript: Transcript) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, the speaker before the text."""
    return "".join(f"{n}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.speaker + ': ' if c.speaker else ''}{c.text}\n\n"
                   for n, c in enumerate(_timed_cues(transcript), 1))


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    """WebVTT: the header, cues ``HH:MM:SS.mmm --> HH:MM:SS.mmm``, the speaker as a voice tag."""
    cues = "".join(
        f"{_clock(c.start)} --> {_clock(c.end)}\n{f'<v {_vtt_escape(c.speaker)}>' if c.speaker else ''}{_vtt_escape(c.text)}\n\n"
        for c in _timed_cues(transcript)
    )
    return "WEBVTT\n\n" + cues
