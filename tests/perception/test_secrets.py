"""Redaction of the map stage's records (perception/secrets.py): speech segments keep their
word timing with the spoken secret replaced by one marker word; OCR lines line by line."""

from __future__ import annotations

from models.base import Segment, Word
from perception.records import OcrLine
from perception.secrets import redact_ocr, redact_segment, redact_segments


def spoken(text: str) -> Segment:
    words = tuple(Word(float(k), k + 0.8, w, 0.9) for k, w in enumerate(text.split()))
    return Segment(0.0, words[-1].end, text, words)


def test_a_spoken_card_number_becomes_one_marker_word_over_its_time() -> None:
    seg = redact_segment(spoken("sure my card is 4111 1111 1111 1111 thanks"))
    assert seg.text == "sure my card is [REDACTED:card] thanks"
    assert [w.text for w in seg.words] == ["sure", "my", "card", "is", "[REDACTED:card]", "thanks"]
    marker = seg.words[4]
    assert (marker.start, marker.end) == (4.0, 7.8)  # the four number words' span


def test_keys_and_passwords_in_speech_and_the_rest_kept() -> None:
    seg = redact_segment(spoken("the password: hunter22 is set"))
    assert "hunter22" not in seg.text and "hunter22" not in " ".join(w.text for w in seg.words)
    assert seg.words[0].text == "the" and seg.words[-1].text == "[REDACTED:password]"
    seg = redact_segment(spoken("paste AKIAIOSFODNN7EXAMPLE into the form"))
    assert [w.text for w in seg.words] == ["paste", "[REDACTED:api_key]", "into", "the", "form"]


def test_near_misses_are_left_alone() -> None:
    for text in ("call me at 4111 tomorrow", "the invoice 4471 is due", "order 1234 5678 9012 3456 shipped"):
        seg = spoken(text)
        assert redact_segments([seg]) == (seg,)  # no checksum, no secret: the same object, untouched


def test_ocr_lines_are_redacted_one_by_one_with_their_boxes() -> None:
    box = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    lines = (OcrLine(1.0, "Card: 4111 1111 1111 1111", 0.9, box), OcrLine(1.0, "Invoice 4471", 0.95, box))
    out = redact_ocr(lines)
    assert out[0] == OcrLine(1.0, "Card: [REDACTED:card]", 0.9, box) and out[1] is lines[1]
