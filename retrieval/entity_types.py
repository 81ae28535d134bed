"""Answer types named by the question's noun, read from the entity glossary spaCy ships.

"Which company …", "what song …", "which language …", "what airport …": the noun a "what / which"
determines names a kind of thing, and spaCy's own description of its entity labels
(``spacy.explain("ORG")`` = "Companies, agencies, institutions, etc.") says which label holds
things of that kind. The categories a description lists (its plural nouns, not the ones it
excludes: "(not services)", "Non-GPE") map back to the label; a noun two descriptions list is left
out. Person, time, place and number questions have their own rows (retrieval/kinds.py); this reads
the other labels only, and only answers when the evidence holds an entity of that label — "which
document will Priya send" finds no law in "Priya will send the revised contract" and falls through
to the phrase that fills the question's gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from memory import nlp

if TYPE_CHECKING:
    from retrieval.question import Question
    from retrieval.spans import Found, Piece

# labels other rows answer (who / when / where / how many) or that name no kind of thing
_OWN_ROWS = frozenset({"PERSON", "DATE", "TIME", "GPE", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"})


@lru_cache(maxsize=1)
def categories() -> dict[str, str]:
    """Noun lemma → entity label, from the glossary of the pipeline's own labels."""
    import spacy

    found: dict[str, set[str]] = {}
    for label in nlp.pipeline().get_pipe("ner").labels:
        gloss = spacy.explain(label)
        if label in _OWN_ROWS or not gloss:
            continue
        doc = nlp.parse(gloss)
        for tok in doc:
            excluded = any(a.lower_ in ("not", "non") or a.dep_ == "neg" for a in (*tok.ancestors, *tok.lefts)) or (
                tok.i > 0 and doc[tok.i - 1].lower_ in ("not", "(not", "non", "-"))
            if tok.tag_ in ("NNS", "NNPS") or (tok.pos_ == "NOUN" and len([t for t in doc if t.pos_ == "NOUN"]) == 1):
                if not excluded:
                    found.setdefault(tok.lemma_.lower(), set()).add(label)
    return {noun: next(iter(labels)) for noun, labels in found.items() if len(labels) == 1}


def label_of(q: Question) -> str | None:
    """The entity label the question's determined noun names ("which company" → ORG), or None."""
    if q.kind != "what" or not q.gap.focus_head:
        return None
    return categories().get(q.gap.focus_head)


def by_label(q: Question, pieces: Sequence[Piece]) -> Found | None:
    """An entity of the label the question's noun names, in the best sentence or line, that the
    question does not already say."""
    from retrieval.spans import Found, title_and_lines

    label = label_of(q)
    if label is None:
        return None
    asked = q.text.lower()
    for i, piece in enumerate(pieces):
        title, lines = title_and_lines(piece)
        for line in [*lines, title] if title else lines:
            for s in nlp.typed_spans(line):
                if s.label == label and s.text.lower() not in asked:
                    where = "line" if piece.modality == "screen" else "sentence"
                    return Found(s.text, i, line, f"the {label} in the best {where} ('{q.gap.focus_head}' is one)")
    return None
