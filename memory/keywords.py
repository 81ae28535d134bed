"""Sparse keyword vectors for exact terms (invoice numbers, names, codes).

Text is normalised first so that what is said and what is shown meet: number words become
digits ("seven" → 7), and letter-digit codes keep both forms ("K7" → "K7 K 7"). Weighting is
Qdrant's own BM25 (``qdrant_edge.Bm25``: stemming, stop words), with IDF applied by the store.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
    "eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
}
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CODE = re.compile(r"^([a-z]+)(\d+)$|^(\d+)([a-z]+)$")
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")


_ENTITY_ID = re.compile(r"\b(face|voice|person)_(\d+)\b", re.IGNORECASE)
_JOINED_ID = re.compile(r"^(face|voice|person)\d+$")


def normalise(text: str) -> str:
    """Lowercase word tokens; entity ids stay one token ("person_2" → "person2")."""
    out: list[str] = []
    for token in _TOKEN.findall(_ENTITY_ID.sub(r"\1\2", text).lower()):
        if _JOINED_ID.match(token):  # never split an entity id
            out.append(token)
            continue
        token = _NUMBER_WORDS.get(token, token)
        out.append(token)
        if m := _ORDINAL.match(token):
            out.append(m.group(1))
        elif m := _CODE.match(token):
            out.extend(g for g in m.groups() if g)
    return " ".join(out)


@lru_cache(maxsize=1)
def _bm25() -> Any:
    from qdrant_edge import Bm25, Bm25Config

    return Bm25(Bm25Config(avg_len=60.0))


def document_vector(text: str) -> tuple[list[int], list[float]]:
    vec = _bm25().embed_document(normalise(text))
    return list(vec.indices), list(vec.values)


def query_vector(text: str) -> tuple[list[int], list[float]]:
    vec = _bm25().embed_query(normalise(text))
    return list(vec.indices), list(vec.values)


def terms(text: str) -> set[int]:
    """The set of keyword ids of a text (stemmed, stop words dropped)."""
    return set(query_vector(text)[0])


def trigrams(text: str) -> set[str]:
    """Character trigrams of the normalised text with spaces removed: robust to ASR word splits
    and near-misses ("bin blue" heard as "Bimblue")."""
    joined = normalise(text).replace(" ", "")
    return {joined[i : i + 3] for i in range(len(joined) - 2)}


def fuzzy_similarity(a: str, b: str) -> float:
    """Jaccard similarity of character trigrams, 0..1."""
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0
