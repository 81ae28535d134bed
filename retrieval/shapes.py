"""Answers of a fixed shape: "which email address", "what was the URL of ...". The question's
focus noun phrase names the shape (its head, or the compound on "address"); the answer is a span
of that shape (spaCy's ``like_email`` / ``like_url``) on a line of the evidence that shares a word
with the question — the shaped span itself does not count, or every address at gmail.com would
be about "gmail". No such span in the evidence: the address was not shown, and the answer says
so (an app name or another field's value is no email address).
"""

from __future__ import annotations

from collections.abc import Sequence

from memory import nlp
from retrieval.question import Question

# the shapes and the nouns that ask for them: the head of the focus, or its compound on "address"
_HEADS = {"email": "email", "e-mail": "email", "url": "url", "link": "url", "website": "url"}
_ON_ADDRESS = {"email": "email", "e-mail": "email", "mail": "email", "web": "url", "website": "url", "internet": "url"}
_SHAPE_WORDS = {"email", "e-mail", "mail", "address", "url", "link", "website", "web", "internet"}


def asked(q: Question) -> str | None:
    """"email" or "url" when the question asks for a span of that shape, else None."""
    focus = [t for t in nlp.parse(q.gap.focus) if not t.is_punct] if q.gap.focus else []
    if not focus:
        return None
    head = focus[-1].lemma_.lower()
    if head == "mail" and len(focus) >= 2 and focus[-2].lower_ == "e":  # "e-mail"
        return "email"
    if head in _HEADS:
        return _HEADS[head]
    if head == "address":
        for t in focus[:-1]:
            if t.lower_ in _ON_ADDRESS:
                return _ON_ADDRESS[t.lower_]
    return None


def _shaped(tok: object, shape: str) -> bool:
    return bool(getattr(tok, "like_email")) if shape == "email" else bool(getattr(tok, "like_url")) and not getattr(tok, "like_email")


def find(q: Question, pieces: Sequence[object]) -> object | None:
    """The first span of the asked shape on a line about the question (a :class:`spans.Found`),
    an empty Found when a shape is asked and none is shown, or None when no shape is asked."""
    from retrieval.spans import Found, _asked, _lemmas, title_and_lines

    shape = asked(q)
    if shape is None:
        return None
    focus, content = _asked(q)
    about = (focus | content) - _SHAPE_WORDS
    # the capture (or sentence) the question is about: the one sharing most of its words, the
    # shaped spans left out; its best line that holds the shape
    best: tuple[int, int, Found] | None = None
    for i, piece in enumerate(pieces):
        _, lines = title_and_lines(piece)  # type: ignore[arg-type]
        docs = [nlp.parse(line) for line in lines]
        words = lambda d: _lemmas(" ".join(t.text for t in d if not _shaped(t, shape))) & about  # noqa: E731
        shared = len(set().union(*(words(d) for d in docs)) | (_lemmas(title_and_lines(piece)[0]) & about))  # type: ignore[arg-type]
        if not shared or best is not None and shared <= best[0]:
            continue
        held = [(len(words(d)), -k, d) for k, d in enumerate(docs) if any(_shaped(t, shape) for t in d)]
        if held:
            _, k, doc = max(held, key=lambda h: h[:2])
            span = next(t for t in doc if _shaped(t, shape))
            best = (shared, i, Found(span.text.strip(".,;"), i, lines[-k], f"the {shape} in the capture or sentence the question is about"))
        else:
            what = "email address" if shape == "email" else "web address"
            best = (shared, i, Found("", i, lines[0] if lines else "", f"no {what} is shown where the question points"))
    if best is not None:
        return best[2]
    what = "email address" if shape == "email" else "web address"
    return Found("", 0, "", f"no {what} is shown in the evidence")
