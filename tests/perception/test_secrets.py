"""Redaction of the map stage's records (perception/secrets.py): speech segments keep their
word timing with the spoken secret replaced by one marker word; OCR lines line by line."""

from __future__ import annotations

import pytest

from models.base import Segment, Word
from perception.records import OcrLine
from perception.secrets import redact, redact_ocr, redact_segment, redact_segments


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


# ---- a password said or written in prose (no label and colon): read from the parse ----------

PROSE = [  # (text, what stays of it)
    ("the admin password is now swordfish", "the admin password is now [REDACTED:password]"),
    ("my PIN is 4471", "my PIN is [REDACTED:password]"),
    ("use hunter2 as the password", "use [REDACTED:password] as the password"),
    ("Enter 4471 as your PIN.", "Enter [REDACTED:password] as your PIN."),
    ("Okay so the new password will be bluebird99, write it down.",
     "Okay so the new password will be [REDACTED:password], write it down."),
    ("Our VPN passphrase is correct horse battery staple", "Our VPN passphrase is [REDACTED:password]"),
    ("The password for the staging server is Tr0ub4dor&3.", "The password for the staging server is [REDACTED:password]."),
    ("The database password, hunter2, expires soon.", "The database password, [REDACTED:password], expires soon."),
    ("I changed the password to hunter2", "I changed the password to [REDACTED:password]"),
    ("The PIN has been changed to 0912.", "The PIN has been changed to [REDACTED:password]."),
    ("Set the passphrase to blue-falcon-42", "Set the passphrase to [REDACTED:password]"),
    ("my PIN is four four seven one", "my PIN is [REDACTED:password]"),
    ("He told me the PIN was 2580 and then left.", "He told me the PIN was [REDACTED:password] and then left."),
    ("the password, by the way, is swordfish", "the password, by the way, is [REDACTED:password]"),
    ("Your one-time passcode is 551023", "Your one-time passcode is [REDACTED:password]"),
    ("The secret key is 9f8e7d6c.", "The secret key is [REDACTED:password]."),
    ("our door code is 4471", "our door code is [REDACTED:password]"),
    ("Guest Wi-Fi password bluebird99", "Guest Wi-Fi password [REDACTED:password]"),  # a screen's label, no colon
    ("PIN code 4471", "PIN code [REDACTED:password]"),
]


@pytest.mark.parametrize(("text", "kept"), PROSE)
def test_a_password_said_in_prose_is_redacted_and_the_sentence_kept(text: str, kept: str) -> None:
    assert redact(text) == (kept, ["password"])
    assert redact(kept) == (kept, [])  # idempotent: the marker is no value


NOT_A_PASSWORD = [
    "I forgot my password",
    "password reset email sent",
    "the password policy is 12 characters",
    "reset it at example.com/password",
    "the password must be at least 12 characters",
    "the PIN is four digits",
    "Is the password correct?",
    "The password is case-sensitive.",
    "the password is expired",
    "the password is the same as before",
    "the password is your birthday",
    "The password is on the sticky note.",
    "the password is what you set last week",
    "passwords are stored hashed",
    "I sent the password to Alice",  # a recipient (the parse's dative), not a new value
    "I changed the password to a longer one",
    "set the password to expire every 90 days",
    "We use Okta for passwords.",
    "The password reset link expires in an hour.",
    "Drop a pin on the map",
    "the code is in main.py",
    "PIN 2 of 3",
    "What is the password?",
    "Demo Passwords - KeePassXC",  # a window title and a table header of the screens dev set
    "Username; Password; URL",
]


@pytest.mark.parametrize("text", NOT_A_PASSWORD)
def test_prose_about_a_password_without_its_value_is_untouched(text: str) -> None:
    assert redact(text) == (text, [])


def test_a_spoken_password_becomes_a_marker_word_and_the_screen_line_too() -> None:
    seg = redact_segment(spoken("so the admin password is now swordfish okay"))
    assert "swordfish" not in seg.text and all("swordfish" not in w.text for w in seg.words)
    assert [w.text for w in seg.words] == ["so", "the", "admin", "password", "is", "now", "[REDACTED:password]", "okay"]
    assert (seg.words[6].start, seg.words[6].end) == (6.0, 6.8)
    box = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    lines = (OcrLine(1.0, "Reminder: the wifi password is bluebird99", 0.9, box), OcrLine(1.0, "Forgot your password?", 0.9, box))
    out = redact_ocr(lines)
    assert out[0].text == "Reminder: the wifi password is [REDACTED:password]" and out[1] is lines[1]
