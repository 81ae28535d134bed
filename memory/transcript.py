"""Transcripts: what was said in one source, by whom, with word times — as lines, and as
subtitle cues for SRT / WebVTT.

Where each part comes from
    *Sentences and speakers*: the source's clip memories in the store. Each spoken sentence is a
    snippet with its time and the stable voice id (``voice_3``) of who said most of it — the
    attribution the reduce stage made, the one ``ask`` cites.
    *Word times*: the per-clip perception results under the store folder
    (``STORE/perception/<source>/clips-<N>s/clip_NNNNN.json``, written by ``perception.map``):
    the clip a memory was made from is named by its provenance (clip index and perception
    fingerprint); its words are joined to the stored sentences by time, and a word takes its
    sentence's speaker. A clip whose cached result is gone (deleted, perceived elsewhere, made
    by other settings since) keeps its sentence times, without word times.
    *Names*: resolved when the transcript is read, by :class:`Speakers`, from the entities — a
    user's rename, a self-introduction, the name of a face the voice is linked to — so a name
    learned later shows on every line of that voice, earlier ones included. Nothing here writes.

Lines are consecutive sentences of one voice (a new line after a pause of ``LINE_PAUSE`` or
once a line is ``LINE_SECONDS`` long); cues cut a line into subtitle-sized pieces at sentence
ends, clause marks or pauses, never inside a word, so a speaker change always starts a cue.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.catalog import SourceEntry
from memory.entities import EntityRegistry
from memory.persons import Person
from memory.records import MemoryRecord, Snippet
from memory.store import MemoryStore, Scope

log = logging.getLogger(__name__)

LINE_PAUSE = 2.0  # seconds of silence after which the same voice starts a new line
LINE_SECONDS = 60.0  # a line this long ends at its next sentence
CUE_SECONDS = 7.0  # subtitle cues: at most this long ...
CUE_CHARS = 84  # ... and this many characters (two lines of 42)
CUE_PAUSE = 1.0  # a silence this long always ends a cue
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
_CLAUSE_END = re.compile(r"[,;:\-–—][\"')\]]*$")


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}


@dataclass(frozen=True)
class Line:
    """Consecutive words of one voice. ``speaker``: the name where known, else the stable voice
    id, else None (no voice encoder ran); ``voice``: the stable voice id; ``person``: its person
    id; ``words``: empty when the clip's word times are not available (the line keeps its
    sentence times); ``memory_id``: the clip memory its first sentence is cited from."""

    start: float
    end: float
    speaker: str | None
    text: str
    voice: str | None = None
    person: str | None = None
    words: tuple[TimedWord, ...] = ()
    memory_id: str = ""

    def to_json(self, words: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {"start": round(self.start, 3), "end": round(self.end, 3), "speaker": self.speaker,
                               "voice": self.voice, "text": self.text}
        if words:
            doc["words"] = [w.to_json() for w in self.words]
        return doc


@dataclass(frozen=True)
class Cue:
    """One subtitle: a piece of a line, with the times of its first and last word."""

    start: float
    end: float
    speaker: str | None
    text: str


@dataclass(frozen=True)
class Turn:
    """A stretch of one speaker's speech, with or without words (the diarizer's, where the source
    was diarized). ``speaker`` and ``voice`` as in :class:`Line`."""

    start: float
    end: float
    speaker: str | None
    voice: str | None

    def to_json(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "speaker": self.speaker, "voice": self.voice}


@dataclass(frozen=True)
class Transcript:
    source_id: str
    path: str
    duration: float
    lines: tuple[Line, ...]
    turns: tuple[Turn, ...] = ()
    # "diarization": the speaker turns the reduce stage kept (speech heard by the VAD, words or
    # not); "words": none were kept (no diarizer, or a store indexed before they were), so the
    # turns are the runs of one voice's words
    turns_from: str = "words"

    @property
    def word_times(self) -> bool:
        """Whether every line has its words' times (else some are sentence-timed)."""
        return all(line.words for line in self.lines)

    def cues(self, max_seconds: float = CUE_SECONDS, max_chars: int = CUE_CHARS) -> list[Cue]:
        return [cue for line in self.lines for cue in line_cues(line, max_seconds, max_chars)]


# -- speakers: the one place a voice id becomes what a transcript shows -------------------------


class Speakers:
    """Stored voice id → (speaker shown, voice id now, person id): the person's name where one
    is known, else the voice's current id (a voice merged into another shows the other's id)."""

    def __init__(self, registry: EntityRegistry | None) -> None:
        self.registry = registry
        self._people: dict[str, Person] | None = None

    def __call__(self, voice: str | None) -> tuple[str | None, str | None, str | None]:
        if voice is None:
            return None, None, None
        if self.registry is None:
            return voice, voice, None
        if self._people is None:
            self._people = self.registry.person_of()
        root = self.registry.root(voice)
        person = self._people.get(voice) or self._people.get(root)
        if person is None:  # a voice the entities no longer know: its id as stored
            return voice, voice, None
        return person.name or root, root, person.id


# -- lines -------------------------------------------------------------------------------------

WordsOf = Callable[[MemoryRecord], "list[tuple[TimedWord, ...]] | None"]


def transcript_lines(records: Iterable[MemoryRecord], speakers: Speakers, words_of: WordsOf | None = None,
                     keep: Callable[[Snippet], bool] | None = None) -> list[Line]:
    """The lines of clip memories (any order). ``words_of(record)``: the words of each of the
    record's speech snippets, or None when not known; ``keep``: which snippets to use (a span)."""
    pieces: list[tuple[Snippet, tuple[TimedWord, ...], str]] = []
    for record in sorted(records, key=lambda r: r.t_start):
        speech = [s for s in record.snippets if s.modality == "speech"]
        words = words_of(record) if words_of is not None and speech else None
        for k, snip in enumerate(speech):
            if keep is None or keep(snip):
                pieces.append((snip, words[k] if words is not None else (), record.id))
    lines: list[Line] = []
    for snip, words, memory_id in sorted(pieces, key=lambda p: p[0].start):
        speaker, voice, person = speakers(snip.speaker)
        last = lines[-1] if lines else None
        if (last is not None and last.voice == voice and last.speaker == speaker
                and snip.start - last.end < LINE_PAUSE and last.end - last.start < LINE_SECONDS):
            lines[-1] = Line(last.start, max(last.end, snip.end), speaker, f"{last.text} {snip.text.strip()}",
                             voice, person, last.words + words if last.words and words else (), last.memory_id)
        else:
            lines.append(Line(snip.start, snip.end, speaker, snip.text.strip(), voice, person, words, memory_id))
    return lines


def source_transcript(store: MemoryStore, entry: SourceEntry, speakers: Speakers,
                      perception: Path | None = None) -> Transcript:
    """The transcript of an indexed source. ``perception``: the folder of per-clip perception
    results (``STORE/perception``), for word times; without it, lines have sentence times."""
    records = list(store.scroll(Scope(source_ids=(entry.source_id,), kind="episodic", level="clip")))
    cache = _ClipCache(perception / entry.source_id) if perception is not None else None
    lines = transcript_lines(records, speakers, cache.words_of if cache is not None else None)
    if cache is not None and cache.missing:
        log.warning("%s: %d clip(s) have no cached perception result with these memories' settings: "
                    "their lines have sentence times, without word times", entry.path, cache.missing)
    turns = diarized_turns(speakers, entry.source_id)
    if turns:
        return Transcript(entry.source_id, entry.path, entry.duration, tuple(lines), tuple(turns), "diarization")
    return Transcript(entry.source_id, entry.path, entry.duration, tuple(lines), tuple(word_turns(lines)), "words")


# -- speaker turns -----------------------------------------------------------------------------

TURN_JOIN = 1.0  # seconds: turns derived from words join one voice's words closer than this


def diarized_turns(speakers: Speakers, source_id: str) -> list[Turn]:
    """The speaker turns the reduce stage kept for a source (per voice entity), named and merged
    as :class:`Speakers` resolves them now: a rename or a merge shows on every turn."""
    registry = speakers.registry
    if registry is None:
        return []
    raw = sorted((a, b, *speakers(e.id)[:2]) for e in registry.entities.values() for a, b in e.turns.get(source_id, ()))
    turns: list[Turn] = []
    last: dict[tuple[str | None, str | None], int] = {}  # each speaker's latest turn
    for a, b, speaker, voice in raw:
        k = last.get((speaker, voice))
        if k is not None and a - turns[k].end < 1e-3:  # voices merged since: their touching turns are one
            turns[k] = Turn(turns[k].start, max(turns[k].end, b), speaker, voice)
        else:
            last[(speaker, voice)] = len(turns)
            turns.append(Turn(a, b, speaker, voice))
    return turns


def word_turns(lines: Sequence[Line], join: float = TURN_JOIN) -> list[Turn]:
    """Turns where no diarized ones were kept: runs of one voice's words (a line's own times
    where its words' are not known), joined across pauses under ``join`` seconds."""
    turns: list[Turn] = []
    for line in lines:
        for a, b in ([(w.start, w.end) for w in line.words] or [(line.start, line.end)]):
            last = turns[-1] if turns else None
            if last is not None and last.voice == line.voice and last.speaker == line.speaker and a - last.end < join:
                turns[-1] = Turn(last.start, max(last.end, b), line.speaker, line.voice)
            else:
                turns.append(Turn(a, b, line.speaker, line.voice))
    return turns


class _ClipCache:
    """The words of clip memories, from the per-clip perception results they were made from."""

    def __init__(self, folder: Path) -> None:
        self.folders = sorted(folder.glob("clips-*s")) if folder.is_dir() else []
        self.missing = 0

    def words_of(self, record: MemoryRecord) -> list[tuple[TimedWord, ...]] | None:
        speech = [s for s in record.snippets if s.modality == "speech"]
        words = self._words(record)
        joined = join_words(speech, words) if words is not None else None
        if joined is None:
            self.missing += 1
        return joined

    def _words(self, record: MemoryRecord) -> list[TimedWord] | None:
        index, made_by = record.provenance.get("clip_index"), record.provenance.get("perception")
        if not isinstance(index, int) or made_by is None:
            return None
        for folder in self.folders:
            path = folder / f"clip_{index:05d}.json"
            try:
                observation = json.loads(path.read_text())["observation"]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not there, or a partial file: another folder, else sentence times
            if observation.get("producer", {}).get("perception") != made_by:
                continue  # recomputed with other settings since these memories were made
            return [TimedWord(float(w["start"]), float(w["end"]), str(w["text"]).strip())
                    for seg in observation.get("segments", ()) for w in seg.get("words", ())]
        return None


def join_words(snippets: Sequence[Snippet], words: Sequence[TimedWord]) -> list[tuple[TimedWord, ...]] | None:
    """Each sentence's words: a sentence was made of consecutive words, from its first word's
    start to its last word's end, its text their texts joined by spaces. None when the words do
    not make the stored sentences (then the clip keeps its sentence times)."""
    out: list[tuple[TimedWord, ...]] = []
    k = 0
    for snip in snippets:
        while k < len(words) and words[k].start < snip.start - 1e-3:
            k += 1
        text = snip.text.strip()
        taken: list[TimedWord] = []
        while k < len(words) and _chars(taken) < len(text):
            taken.append(words[k])
            k += 1
        if not taken or " ".join(w.text for w in taken) != text or abs(taken[-1].end - snip.end) > 1e-3:
            return None
        out.append(tuple(taken))
    return out


# -- cues --------------------------------------------------------------------------------------


def line_cues(line: Line, max_seconds: float = CUE_SECONDS, max_chars: int = CUE_CHARS) -> list[Cue]:
    """A line cut into cues of at most ``max_seconds`` and ``max_chars`` (a single longer word is
    a cue of its own), never inside a word. A silence of ``CUE_PAUSE`` always cuts; otherwise
    the cuts are chosen together (fewest bad cuts, then fewest cues): a sentence end is the best
    place, then a clause mark, and a pause makes any place better. Without word times, the
    words are spread over the sentence time by their length (the cue times are approximate)."""
    words = list(line.words) or _spread(line)
    chunks: list[list[TimedWord]] = []
    for k, word in enumerate(words):
        if not chunks or word.start - words[k - 1].end >= CUE_PAUSE:
            chunks.append([])
        chunks[-1].append(word)
    return [Cue(piece[0].start, max(piece[-1].end, piece[0].start), line.speaker, " ".join(w.text for w in piece))
            for chunk in chunks for piece in _cut(chunk, max_seconds, max_chars)]


def _cut(words: Sequence[TimedWord], max_seconds: float, max_chars: int) -> list[Sequence[TimedWord]]:
    """The cheapest way to cut ``words`` into cues that fit (dynamic programming over the cut
    points: ``best[j]`` is the cost of cueing ``words[:j]``)."""
    n = len(words)
    best = [0.0] + [float("inf")] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        cut = _cut_cost(words, j)
        for i in range(j - 1, -1, -1):
            fits = words[j - 1].end - words[i].start <= max_seconds and _chars(words[i:j]) <= max_chars
            if not fits and i < j - 1:
                break  # a longer cue fits no better
            short = 1.5 if _chars(words[i:j]) < 16 and (i, j) != (0, n) else 0.0
            cost = best[i] + cut + 1.0 + short
            if cost < best[j]:
                best[j], back[j] = cost, i
    pieces: list[Sequence[TimedWord]] = []
    j = n
    while j > 0:
        pieces.append(words[back[j] : j])
        j = back[j]
    return pieces[::-1]


def _cut_cost(words: Sequence[TimedWord], j: int) -> float:
    """The cost of a cue ending after ``words[j - 1]``: nothing at the end or a sentence end, 1
    at a clause mark, 3 mid-phrase; a pause before the next word takes up to 2 off."""
    if j == len(words):
        return 0.0
    last = words[j - 1].text
    cost = 0.0 if _SENTENCE_END.search(last) else 1.0 if _CLAUSE_END.search(last) else 3.0
    pause = max(words[j].start - words[j - 1].end, 0.0)
    return max(cost - 4.0 * min(pause, 0.5), 0.0)


def _chars(words: Sequence[TimedWord]) -> int:
    return sum(len(w.text) for w in words) + max(len(words) - 1, 0)


def _spread(line: Line) -> list[TimedWord]:
    """Words of a line without word times, spread over its time by their length."""
    tokens = line.text.split()
    total = sum(len(t) + 1 for t in tokens) or 1
    out, at = [], 0
    span = max(line.end - line.start, 0.0)
    for t in tokens:
        a = line.start + span * at / total
        at += len(t) + 1
        out.append(TimedWord(a, line.start + span * (at - 1) / total, t))
    return out
