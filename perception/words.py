"""Words that OCR ran together: "FLOWTHEORY" on an album cover, "SUBSCRIBENOW" on a banner, read
without the space the picture has. Each is split into words with ``wordninja`` (a segmenter
that picks the most probable split by English word frequencies) and the split form is kept
*beside* the line as read, so search and answers find "flow theory" and quotes still say what
was read.

Only a long run of letters in one case is split (all capitals, all small letters, or a capital
then small letters): codes with digits ("AB12CD", "X7R2") and words whose capitals are inside
them (product and brand names such as "KeePassXC", "iPhone", "PostgreSQL") are names as written,
never split; a word the segmenter keeps whole ("INFORMATION") stays as it is, and so does one
it can only cut into scraps (a part of one letter).
"""

from __future__ import annotations

import re
from functools import lru_cache

MIN_LETTERS = 8  # a shorter run is a word, a name or a code as it stands
MIN_PART = 3  # every part of a kept split has at least this many letters (no scraps: "Crea ti vi")
_TOKEN = re.compile(r"\S+")
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")


@lru_cache(maxsize=4096)
def split_word(word: str) -> tuple[str, ...] | None:
    """The words of one run-together token, or None when it is not one."""
    if len(word) < MIN_LETTERS or not word.isalpha() or not word.isascii():
        return None
    if not (word.isupper() or word.islower() or (word[0].isupper() and word[1:].islower())):
        return None  # capitals inside a word: a name as written ("KeePassXC", "iPhone")
    import wordninja

    parts = tuple(wordninja.split(word))
    if len(parts) < 2 or "".join(parts) != word or any(len(p) < MIN_PART for p in parts):
        return None
    return parts


def split_runs(text: str) -> str | None:
    """The line with every run-together token split into words, or None when it holds none."""
    changed = False

    def one(m: re.Match[str]) -> str:
        nonlocal changed
        token = m.group()
        core = _EDGE.sub("", token)
        parts = split_word(core) if core else None
        if parts is None:
            return token
        changed = True
        return token.replace(core, " ".join(parts))

    out = _TOKEN.sub(one, text)
    return out if changed else None
