"""Whisper's generated tokens read into segments and words, for the transformers backend
(``models.asr_transformers_whisper``): segments between timestamp tokens (one per window without
them), words at leading spaces (each character piece for languages written without spaces), a
word's probability the mean of its tokens', word times from the aligned token times, or spread
over the segment by length in characters. Special tokens never reach the text."""

from __future__ import annotations

from typing import Any

from models.base import Segment, Word

__all__ = ["WhisperReader", "text_limit"]


class WhisperReader:
    """Turns one generated sequence into segments and words (times relative to its window)."""

    def __init__(
        self,
        tokenizer: Any,
        special: set[int],
        timestamp_begin: int | None,
        text_limit: int,
        precision: float,
        words_split_on_spaces: bool,
    ) -> None:
        self.tokenizer = tokenizer
        self.special = special
        self.timestamp_begin = timestamp_begin
        self.text_limit = text_limit if timestamp_begin is None else min(text_limit, timestamp_begin)
        self.precision = precision
        self.split_on_spaces = words_split_on_spaces

    def _decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False))

    def segments(
        self,
        ids: list[int],
        first: int,
        probs: list[float],
        times: list[float] | None,
        duration: float,
    ) -> list[Segment]:
        """``ids`` is the whole sequence (prompt included, as ``times`` and ``probs`` are indexed);
        generation starts at ``first``."""
        out: list[Segment] = []
        for start, end, positions in self._split(ids, first):
            text = self._decode([ids[p] for p in positions]).strip()
            if not text:
                continue
            seg_start = _clamp(start * self.precision if start is not None else (out[-1].end if out else 0.0), duration)
            seg_end = max(_clamp(end * self.precision if end is not None else duration, duration), seg_start)
            if out:
                seg_start = max(seg_start, out[-1].start)
                seg_end = max(seg_end, seg_start)
            pieces = self._words(ids, positions)
            if times is not None:
                words = []
                for word, pos in pieces:
                    after = pos[-1] + 1
                    w_start = _clamp(times[pos[0]], duration)
                    w_end = _clamp(times[after] if after < len(times) else times[pos[-1]], duration)
                    if words:
                        w_start = max(w_start, words[-1].start)
                    words.append(Word(w_start, max(w_end, w_start), word, _mean(probs, pos)))
                if words:
                    seg_start, seg_end = words[0].start, max(words[-1].end, words[0].start)
                    if out and seg_start < out[-1].start:
                        seg_start = out[-1].start
                        words = [_not_before(w, seg_start) for w in words]
                        seg_end = max(seg_end, seg_start)
            else:
                words = _spread(pieces, probs, seg_start, seg_end)
            out.append(Segment(seg_start, seg_end, text, tuple(words)))
        return out

    def _split(self, ids: list[int], first: int) -> list[tuple[int | None, int | None, list[int]]]:
        """(start timestamp, end timestamp, positions of text tokens) per segment, in timestamp
        units; None where the model gave no timestamp there."""
        segments: list[tuple[int | None, int | None, list[int]]] = []
        current: list[int] = []
        start: int | None = None
        for pos in range(first, len(ids)):
            token = ids[pos]
            if self.timestamp_begin is not None and token >= self.timestamp_begin:
                stamp = token - self.timestamp_begin
                if current:
                    segments.append((start, stamp, current))
                    current = []
                start = stamp
            elif token < self.text_limit and token not in self.special:
                current.append(pos)
        if current:
            segments.append((start, None, current))
        return segments

    def _words(self, ids: list[int], positions: list[int]) -> list[tuple[str, list[int]]]:
        """Group token positions into words: first into pieces that decode to whole characters
        (a character's UTF-8 bytes can span tokens), then pieces into words at leading spaces."""
        tokens = [ids[p] for p in positions]
        full = self._decode(tokens)
        pieces: list[tuple[str, list[int]]] = []
        current: list[int] = []
        offset = 0
        for i, _token in enumerate(tokens):
            current.append(i)
            text = self._decode([tokens[j] for j in current])
            bad = text.find("\ufffd")
            if bad < 0 or full[offset + bad : offset + bad + 1] == "\ufffd":
                pieces.append((text, current))
                offset += len(text)
                current = []
        if current:
            pieces.append((self._decode([tokens[j] for j in current]), current))
        words: list[tuple[str, list[int]]] = []
        for text, idx in pieces:
            if self.split_on_spaces:
                joins = not text[:1].isspace()  # no leading space: the rest of a word, or punctuation
            else:
                joins = not text.strip()  # every character piece is a word; bare spaces join one
            if words and joins:
                words[-1] = (words[-1][0] + text, words[-1][1] + idx)
            else:
                words.append((text, idx))
        return [(text.strip(), [positions[i] for i in idx]) for text, idx in words if text.strip()]


def text_limit(tokenizer: Any, vocab_size: int) -> int:
    """Ids from here up are not text: past the tokenizer or the model's vocabulary, or Whisper's
    timestamp tokens (which follow <|notimestamps|>, even where the generation config lacks it)."""
    limit = min(len(tokenizer), vocab_size)
    no_timestamps = tokenizer.get_vocab().get("<|notimestamps|>")
    return min(limit, no_timestamps + 1) if no_timestamps is not None else limit


def _clamp(t: float, duration: float) -> float:
    return min(max(float(t), 0.0), duration)


def _mean(probs: list[float], positions: list[int]) -> float:
    return float(sum(probs[p] for p in positions) / len(positions))


def _not_before(word: Word, t: float) -> Word:
    start = max(word.start, t)
    return Word(start, max(word.end, start), word.text, word.probability)


def _spread(pieces: list[tuple[str, list[int]]], probs: list[float], start: float, end: float) -> list[Word]:
    """Words laid over [start, end] in proportion to their length (no alignment heads)."""
    total = sum(len(text) for text, _ in pieces)
    words, t = [], start
    for text, pos in pieces:
        step = (end - start) * len(text) / total if total else 0.0
        words.append(Word(t, min(t + step, end), text, _mean(probs, pos)))
        t = min(t + step, end)
    return words
