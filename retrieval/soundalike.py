"""Words that sound alike: what ASR heard for a word the question uses ("godly" for "gaudy",
"to borrow" for "tomorrow"). Speech is matched by sound, never screen text.

:func:`like` — two words are the same, or sound alike: the same first and last letter, lengths within two
letters, Metaphone keys (``jellyfish``) at most one edit apart and a Jaro-Winkler similarity of
at least :data:`MIN_SIMILARITY`; words of fewer than four letters only match exactly. :func:`heard`
— the words of a sentence (or two neighbours run together, as ASR splits one word in two) that
sound like a word.
"""

from __future__ import annotations

import re
from functools import lru_cache

MIN_SIMILARITY = 0.75
MIN_LETTERS = 4
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@lru_cache(maxsize=16384)
def like(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    if min(len(a), len(b)) < MIN_LETTERS or a[0] != b[0] or a[-1] != b[-1] or abs(len(a) - len(b)) > 2:
        return False
    import jellyfish

    if jellyfish.levenshtein_distance(jellyfish.metaphone(a), jellyfish.metaphone(b)) > 1:
        return False
    return jellyfish.jaro_winkler_similarity(a, b) >= MIN_SIMILARITY


def heard(word: str, text: str) -> list[str]:
    """The words of ``text`` (one word, or two neighbours run together) that sound like ``word``."""
    words = _WORD.findall(text)
    out = [w for w in words if like(word, w)]
    out += [f"{a} {b}" for a, b in zip(words, words[1:]) if like(word, a + b)]
    return out
