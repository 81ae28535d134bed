"""Cloze questions: a quoted fragment with an ellipsis asks for the words the ellipsis stands for.

"Who does he address as 'my fellow ...'?", "finish the line '… what your country can do for
you'", "which word goes in 'from fairest creatures we … increase'?": the quoted words are said
(or shown) somewhere; the answer is the words that follow them (a trailing ellipsis), that come
before them (a leading one) or that stand between the two parts (one inside), in that sentence.

- :func:`of` — the question's cloze (the words before and after the gap), or None: only a
  quoted fragment that holds an ellipsis ("...", "…", ". . .") is one; quoted words without an
  ellipsis ("which season is called 'gaudy'") and an ellipsis outside quotes are not.
- :func:`fill` — the gap's words in one text (a spoken sentence, a screen line), or None when the
  text does not hold the fragment. Words match exactly or nearly (ASR and OCR mishear a letter:
  "fellow" / "fellows"); the filled words run to the end of the clause (a comma, a full stop) and
  at most :data:`MAX_WORDS` words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

MAX_WORDS = 8
_ELLIPSIS = re.compile(r"\.\s?\.\s?\.|…")
# a quote: straight or curly, single or double; an apostrophe inside a word ("world's") is no quote mark
_QUOTE = re.compile(r"""(?<!\w)(?P<q>['"‘“])(?P<body>(?:[^'"’”‘“]|['’](?=\w))+?)(?:['"’”])(?!\w)""")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_CLAUSE_END = re.compile(r"[,.;:!?()\"“”]|—|–|\s-\s")


@dataclass(frozen=True)
class Cloze:
    before: tuple[str, ...]  # the quoted words before the gap (lowercase)
    after: tuple[str, ...]  # the quoted words after it
    quote: str  # the fragment as written

    @property
    def query(self) -> str:
        """The fragment's words, to search for."""
        return " ".join((*self.before, *self.after))


def of(text: str) -> Cloze | None:
    for m in _QUOTE.finditer(text):
        body = m.group("body")
        gap = _ELLIPSIS.search(body)
        if gap is None:
            continue
        before = tuple(w.lower() for w in _WORD.findall(body[: gap.start()]))
        after = tuple(w.lower() for w in _WORD.findall(body[gap.end():]))
        if before or after:
            return Cloze(before, after, body.strip())
    return None


def _same(a: str, b: str) -> bool:
    a, b = a.lower().replace("’", "'"), b.lower().replace("’", "'")
    if a == b:
        return True
    return min(len(a), len(b)) >= 4 and SequenceMatcher(None, a, b).ratio() >= 0.8


def _find(words: list[re.Match[str]], part: tuple[str, ...], start: int = 0) -> int | None:
    """The index of the first word of ``part``'s first occurrence in ``words`` from ``start``."""
    n = len(part)
    for i in range(start, len(words) - n + 1):
        if all(_same(words[i + k].group(), part[k]) for k in range(n)):
            return i
    return None


def _clause(text: str, lo: int, hi: int, forward: bool) -> tuple[int, int]:
    """[lo, hi) cut at the first clause boundary from its near end."""
    piece = text[lo:hi]
    marks = list(_CLAUSE_END.finditer(piece))
    if forward:
        first = next((m for m in marks if piece[: m.start()].strip()), None)
        return (lo, lo + first.start()) if first else (lo, hi)
    last = next((m for m in reversed(marks) if piece[m.end():].strip()), None)
    return (lo + last.end(), hi) if last else (lo, hi)


def fill(c: Cloze, text: str) -> str | None:
    """The words of ``text`` the cloze's ellipsis stands for, or None."""
    words = list(_WORD.finditer(text))
    if c.before:
        i = _find(words, c.before)
        if i is None:
            return None
        first = i + len(c.before)
        if c.after:
            j = _find(words, c.after, first + 1)
            if j is None or j - first > MAX_WORDS:
                return None
            return text[words[first].start(): words[j - 1].end()].strip() or None
        if first >= len(words):
            return None
        lo, hi = _clause(text, words[first].start(), len(text), forward=True)
        got = _WORD.findall(text[lo:hi])
        if not got:
            return None
        kept = [m for m in _WORD.finditer(text, lo, hi)][:MAX_WORDS]
        return text[kept[0].start(): kept[-1].end()]
    j = _find(words, c.after)
    if j is None or j == 0:
        return None
    lo, hi = _clause(text, 0, words[j].start(), forward=False)
    kept = [m for m in _WORD.finditer(text, lo, hi)][-MAX_WORDS:]
    if not kept:
        return None
    return text[kept[0].start(): kept[-1].end()]


def best(c: Cloze, texts: list[str]) -> tuple[int, str] | None:
    """The first of ``texts`` (best first) that holds the fragment, and the words of its gap."""
    for i, text in enumerate(texts):
        got = fill(c, text)
        if got:
            return i, got
    return None
