"""The value of a clause, for :mod:`memory.claims`: the candidate value tokens of a verb (its
objects, the objects of its prepositions, a date said without one), the words of a value (a date
or time entity grown to the next one: "Thursday at 3 pm"; else its noun phrase without clauses
and leading determiners), its category from spaCy's entity types (``when`` / ``amount`` /
``where``, or "") and its cleaned text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from memory import nlp

if TYPE_CHECKING:
    from spacy.tokens import Token

__all__ = ["AMOUNT_LABELS", "MAX_WORDS", "WHEN_LABELS", "WHERE_LABELS", "clean_value", "contiguous", "ent_label",
           "value_category", "value_tokens", "value_words"]

WHEN_LABELS = frozenset({"DATE", "TIME"})
AMOUNT_LABELS = frozenset({"MONEY", "CARDINAL", "PERCENT", "QUANTITY"})
WHERE_LABELS = frozenset({"GPE", "LOC", "FAC"})
MAX_WORDS = 6  # the longest value (and subject) phrase
_OBJECT_DEPS = ("attr", "dobj", "oprd")


def ent_label(tok: Token) -> str:
    return tok.ent_type_ if tok.ent_iob_ != "O" else ""


def value_words(tok: Token) -> list[Token] | None:
    """The words of a value: its entity (a date or time grown over "at" / "on" / "," to the next one:
    "Thursday at 3 pm"), else its noun phrase without clauses, prepositions and leading determiners."""
    doc = tok.doc
    label = ent_label(tok)
    if label:
        ent = next(e for e in doc.ents if e.start <= tok.i < e.end)
        words = _unqualified(list(ent))
        if ent.start > 0 and doc[ent.start - 1].tag_ == "$":
            words.insert(0, doc[ent.start - 1])  # "$" the entity left out
        if label in WHEN_LABELS:
            k = ent.end
            while k < len(doc):
                if ent_label(doc[k]) in WHEN_LABELS or doc[k].dep_ == "npadvmod" and nlp.when(doc[k].text) is not None:
                    words.append(doc[k])
                    k += 1
                elif doc[k].lower_ in ("at", "on", ",", "of") and k + 1 < len(doc) and ent_label(doc[k + 1]) in WHEN_LABELS:
                    words += [doc[k], doc[k + 1]]
                    k += 2
                else:
                    break
        return words
    if tok.tag_ == "VBN" and tok.dep_ == "pobj" and not list(tok.children):
        return [tok]  # "changed to approved"
    if tok.pos_ not in ("NOUN", "PROPN", "NUM", "ADJ", "X") or tok.pos_ == "ADJ" and not tok.like_num and not _ordinal(tok):
        return None
    words = [t for t in tok.subtree if not any(a.dep_ in ("relcl", "acl", "prep", "punct", "cc", "conj", "appos", "advcl")
                                               and a.i != tok.i and tok in a.ancestors for a in [t, *t.ancestors])]
    nxt = tok.i + 1
    while nxt < len(doc) and doc[nxt].dep_ in ("dep", "ccomp") and doc[nxt].pos_ in ("NOUN", "PROPN") and doc[nxt].head.i == tok.head.i:
        words.append(doc[nxt])  # "is the project lead", parsed as attr "project" + dep "lead"
        nxt += 1
    while words and words[0].dep_ in ("det", "poss", "predet"):
        words.pop(0)
    words = _unqualified(words)
    if not words or len(words) > MAX_WORDS or any(t.pos_ in ("PRON", "VERB", "AUX") for t in words):
        return None
    return words


def _unqualified(words: list[Token]) -> list[Token]:
    """The value without a leading qualifier: "up to 12 dollars", "about 5 %" -> the amount."""
    while len(words) > 1 and words[0].dep_ in ("quantmod", "advmod", "prep", "aux") and not words[0].like_num and words[0].tag_ != "$":
        words = words[1:]
    return words


def _ordinal(tok: Token) -> bool:
    return bool(re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", tok.lower_)) or ent_label(tok) == "ORDINAL"


def value_category(tok: Token, words: list[Token], prep: str, person: bool, passive: bool) -> str:
    label = ent_label(tok)
    if label in WHEN_LABELS:
        return "when"
    if label in AMOUNT_LABELS:
        return "amount"
    if label in WHERE_LABELS:
        return "where"
    if label == "ORDINAL" and tok.pos_ != "ADJ" or _ordinal(tok) and tok.head.pos_ != "NOUN" and len(words) == 1:
        return "when" if nlp.when(f"the {tok.text}") is not None else ""
    if tok.like_num and tok.pos_ == "NUM" or any(c.dep_ == "nummod" and c.i < tok.i for c in tok.children):
        return "amount"  # "120000", "5 people"
    if prep == "at" and tok.pos_ in ("NOUN", "PROPN"):
        return "where"  # "at home", "at the front desk"
    if prep in ("in", "on", "to") and tok.pos_ in ("NOUN", "PROPN") and any(
            c.dep_ in ("amod", "compound", "poss") or c.dep_ == "det" and "Def" in c.morph.get("Definite")
            or c.like_num and c.i > tok.i for c in tok.children):
        return "where"  # "on the third floor", "in room 4", "to the big conference room"
    if tok.pos_ == "PROPN" and (prep == "in" and ent_label(tok) not in ("PERSON", "ORG", "NORP")
                                or prep == "to" and ent_label(tok) not in ("ORG", "NORP") and not person and len(words) <= 2
                                and not (passive and ent_label(tok) == "PERSON")):
        # "is in Rotterdam"; a thing moved "to Rotterdam" (a person reports "to Dana")
        return "where"
    return ""


def value_tokens(verb: Token) -> list[tuple[Token, str]]:
    """Candidate value tokens with their preposition ("" for an object), in sentence order."""
    out: list[tuple[Token, str]] = []
    holders = [verb] + [c for c in verb.children if c.dep_ in ("acomp", "prt", "advmod") and c.i > verb.i]
    for holder in holders:
        for c in holder.children:
            if c.i < verb.i:
                continue
            if c.dep_ in _OBJECT_DEPS or c.dep_ == "npadvmod" and ent_label(c) in WHEN_LABELS:
                out.append((c, ""))
            elif c.dep_ in ("prep", "agent", "dative") and c.i > verb.i:
                for obj in c.children:
                    if obj.dep_ == "pobj":
                        out.append((obj, c.lower_))
    if not out:  # a preposition the parser left without its object ("is due on March 14th")
        for tok in verb.subtree:
            if tok.i > verb.i and ent_label(tok) in (WHEN_LABELS | AMOUNT_LABELS | WHERE_LABELS) and _reaches(tok, verb):
                preps = [a for a in tok.ancestors if a.dep_ == "prep" and a.i > verb.i]
                out.append((tok, preps[0].lower_ if preps else ""))
                break
    out.sort(key=lambda v: v[0].i)
    if any(p in ("to", "until", "till") for _, p in out):
        out = [v for v in out if v[1] != "from"]  # "from Monday to Thursday": the new value
    return out


def _reaches(tok: Token, verb: Token) -> bool:
    """Whether the token hangs off the verb through no other clause."""
    for a in tok.ancestors:
        if a.i == verb.i:
            return True
        if a.pos_ in ("VERB", "AUX") or a.dep_ in ("relcl", "acl", "advcl", "ccomp", "xcomp", "conj"):
            return False
    return False


def clean_value(words: list[Token], category: str) -> str:
    text = words[0].doc[words[0].i: words[-1].i + 1].text if contiguous(words) else " ".join(t.text for t in words)
    text = re.sub(r"\b([ap])\.\s?m\.?(?=\s|$)", r"\1m", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(\d{1,2}(?::\d{2})?)([ap]m)\b", r"\1 \2", text, flags=re.IGNORECASE)
    text = re.sub(r",(?=\s)", "", text)  # "Thursday, 15:00"
    if category in ("when", "amount"):
        text = nlp.digits(text, ordinals=True)  # "in two weeks" -> "in 2 weeks"
    return text.strip(" .,;:!?\"'")


def contiguous(words: list[Token]) -> bool:
    return all(b.i == a.i + 1 for a, b in zip(words, words[1:]))
