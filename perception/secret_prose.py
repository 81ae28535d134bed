"""A password said or written in prose, for ``perception.secrets``: "the admin password is now
swordfish", "my PIN is 4471", "use hunter2 as the password": no label and colon, so the value is
read from the parse (memory/nlp.py): a secret noun with its value as the attribute of a copula,
the object a verb takes "as" / "for" it, the target of a change ("changed the password to ..."),
or an apposition ("the database password, hunter2, ..."). The value must be a value: not a
description ("strong", "case-sensitive": an adjective of the lexicon), a measure ("12
characters"), a noun phrase with a determiner or possessor ("the same", "your birthday"), a
pronoun, an address, or a marker already placed (``perception.secrets`` leaves those alone).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Token

# the nouns that name a secret; "key" / "code" / "phrase" / "token" only with a word that makes
# them one ("secret key", "door code", "seed phrase"); a cheap test before any parse
_SECRET_NOUNS = frozenset({"password", "passwd", "pwd", "passcode", "passphrase", "passkey", "pin", "pincode"})
_QUALIFIED = frozenset({"key", "code", "phrase", "token"})
_QUALIFIERS = frozenset({"secret", "security", "access", "verification", "recovery", "backup", "door", "seed",
                         "pin", "unlock", "alarm"})
_SECRET_WORD = re.compile(
    r"(?<![A-Za-z])(?:pass(?:words?|wds?|codes?|phrases?|keys?)|pwds?|pins?|pincodes?"
    rf"|(?:{'|'.join(sorted(_QUALIFIERS))})[ -](?:{'|'.join(sorted(_QUALIFIED))})s?)(?![A-Za-z])",
    re.IGNORECASE,
)
_NOT_VALUE_POS = frozenset({"PRON", "DET", "ADP", "CCONJ", "SCONJ", "PART", "INTJ", "AUX", "SPACE"})
_DESCRIBED_BY = frozenset({"det", "poss", "predet", "nummod", "quantmod"})  # "the same", "your birthday"


def _is_secret_noun(tok: Token) -> bool:
    if tok.pos_ not in ("NOUN", "PROPN"):
        return False
    word = tok.lower_
    if word in _SECRET_NOUNS or tok.lemma_.lower() in _SECRET_NOUNS:
        return True
    return tok.lemma_.lower() in _QUALIFIED and any(
        c.dep_ in ("amod", "compound") and c.lower_ in _QUALIFIERS for c in tok.children)


def _candidates(secret: Token) -> list[Token]:
    """The tokens the parse gives as the value of a secret noun (checked later by ``_is_value``)."""
    head, out = secret.head, []
    if secret.dep_ in ("nsubj", "nsubjpass"):  # "the PIN is 4471", "the PIN was changed to 0912"
        out += [c for c in head.children if c.dep_ in ("attr", "acomp") and c.i > secret.i]
    if secret.dep_ in ("nsubjpass", "dobj"):  # "changed the password to hunter2" (not "sent it to Ann": a dative)
        out += [g for c in head.children if c.dep_ == "prep" and c.lower_ == "to"
                for g in c.children if g.dep_ == "pobj"]
    if secret.dep_ == "pobj" and head.lower_ in ("as", "for") and head.head.pos_ == "VERB" and secret.tag_ in ("NN", "NNP"):
        # "use hunter2 as the password", "enter 4471 as your PIN" (one password: not "for passwords")
        verb = head.head
        out += [c for c in verb.children if c.dep_ in ("dobj", "npadvmod") and c.i < head.i]
    # "the database password, hunter2, ..." (not a list: "Username; Password; URL")
    out += [c for c in secret.children
            if c.dep_ == "appos" and all(t.text == "," for t in secret.doc[secret.i + 1:c.left_edge.i])]
    # a label and its value with no verb nor colon: the value right after one password ("the wifi
    # password hunter2 works", "PIN code 4471"); not "Demo Passwords - KeePassXC", "Password; URL"
    # (a list), "PIN 2 of 3" (a step of a form)
    labelled = [c for c in secret.children if c.i > secret.i]
    if secret.tag_ in ("NN", "NNP") and secret.i + 1 < len(secret.doc):
        after = secret.doc[secret.i + 1]
        if secret.dep_ == "compound" and head.i == after.i and not _words(head):
            out.append(head)
        if secret.dep_ == "ROOT" and not any(c.dep_ == "prep" for c in labelled):
            out += [c for c in labelled if c.dep_ in ("npadvmod", "appos", "nummod", "dep") and c.left_edge.i == after.i]
    return out


def _words(tok: Token) -> bool:
    from memory.nlp import in_lexicon

    return in_lexicon(tok.lower_) or in_lexicon(tok.lemma_)


def _is_value(tok: Token) -> bool:
    """A token that names a secret's value rather than describing the secret."""
    from memory.nlp import in_lexicon

    if tok.pos_ in _NOT_VALUE_POS or tok.like_url or tok.like_email:
        return False
    if not any(ch.isalnum() for ch in tok.text):  # "=", a quote (the parse calls them nouns at times)
        return False
    if tok.pos_ == "VERB" and _words(tok):  # "the password is hashed"
        return False
    if tok.pos_ == "ADJ" and (in_lexicon(tok.lower_, "adj") or in_lexicon(tok.lemma_, "adj")):
        return False  # "strong", "expired", "case-sensitive" describe; "swordfish" (tagged ADJ) names
    described = [c for c in tok.children if c.dep_ in _DESCRIBED_BY]
    if tok.pos_ == "NUM":  # "four four seven one": the digits said one by one
        described = [c for c in described if c.dep_ != "nummod"]
    return not described


def _value_span(tok: Token, secret: Token) -> tuple[int, int]:
    """Characters of the value: its left dependents ("correct horse battery staple", "blue-falcon-42";
    never the secret noun itself, "Wi-Fi password swordfish42") and the tokens written against it
    ("P@ss" "w0rd"), not a sentence's closing punctuation."""
    doc, end = tok.doc, tok.i
    start = tok.left_edge.i if secret.i > tok.i else max(tok.left_edge.i, secret.i + 1)
    while end + 1 < len(doc) and not doc[end].whitespace_:
        nxt = doc[end + 1]
        if nxt.is_punct and (nxt.whitespace_ or end + 2 == len(doc) or doc[end + 2].is_punct):
            break  # "hunter2." / "hunter2, then": the sentence's punctuation
        end += 1
    return doc[start].idx, doc[end].idx + len(doc[end].text)


def prose_password_spans(text: str) -> set[tuple[int, int]]:
    """Character spans of the values of the secrets ``text`` names in prose (no parse when it
    names none)."""
    if not _SECRET_WORD.search(text):
        return set()
    from memory.nlp import parse

    spans: set[tuple[int, int]] = set()
    for tok in parse(text):
        if _is_secret_noun(tok):
            spans.update(_value_span(v, tok) for v in _candidates(tok) if _is_value(v))
    return spans
