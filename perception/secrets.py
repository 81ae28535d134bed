"""Secrets in any text the project reads (OCR of video frames, screenshots, the screen
recorder's captures; speech): payment cards, API keys, passwords, IBANs, SSNs, private key
blocks, replaced by ``[REDACTED:<kind>]`` before any model or store sees the text. A password
given in prose, with no label and colon ("the admin password is now swordfish", "use hunter2 as
the password"), is read from the sentence's parse (``memory/nlp.py``).

Detectors are tuned for few false positives: a checksum where the format has one (Luhn, mod-97),
known prefixes for keys, and boundaries so a substring of a longer number never matches. Over-
redaction is the lesser evil where a rule must choose (a password label's value runs to the end
of its phrase, not just one word).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from models.base import Segment, Word
from perception.records import OcrLine
from perception.secret_prose import prose_password_spans

# ---- redaction ------------------------------------------------------------------------------

_MARK = "[REDACTED:{}]"
_MARKED = "[REDACTED:"
_MARKER = re.compile(r"\[REDACTED:[a-z_]+\]")

# A replacer gets a match and returns its replacement, or None to keep the match as it is
# (a candidate that fails its checksum).
Replacer = Callable[[re.Match[str]], str | None]


def _mark(kind: str) -> str:
    return _MARK.format(kind)


def _whole(kind: str) -> Replacer:
    """The whole match is the secret (key formats are specific enough to need no check)."""
    return lambda match: _mark(kind)


# Private key blocks: to the END line, or (cut off on screen) through the base64 lines that follow.
# "(?<!-)": a run of dashes is tried once, not from each of its dashes (quadratic on "-----...").
_KEY_BEGIN = r"(?<!-)-{2,}[ \t]*BEGIN[ A-Z0-9]*?PRIVATE KEY(?: BLOCK)?[ \t]*-{2,}"
_KEY_END = r"(?<!-)-{2,}[ \t]*END[ A-Z0-9]*?PRIVATE KEY(?: BLOCK)?[ \t]*-{2,}"
_KEY_BODY = (
    r"[ \t]*(?:[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9+/]{1,15}={1,2}"
    r"|(?:Proc-Type|DEK-Info|Comment|Version):[^\n]*)[ \t\r]*"
)
_TOKEN_END = r"(?![A-Za-z0-9_-])"

_API_KEYS: tuple[str, ...] = (
    # the END is looked for up to the next BEGIN only, so many cut-off blocks stay linear
    rf"{_KEY_BEGIN}(?:(?:(?!{_KEY_BEGIN}).)*?{_KEY_END}|[^\n]*(?:\n(?:[ \t\r]*\n)*{_KEY_BODY}(?=\n|\Z))*)",
    rf"(?<![\w-])eyJ[A-Za-z0-9_-]{{5,}}\.[A-Za-z0-9_-]{{10,}}\.[A-Za-z0-9_-]*{_TOKEN_END}",  # JWT
    rf"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{{20,}}|github_pat_[A-Za-z0-9_]{{22,}}){_TOKEN_END}",
    rf"(?<![\w-])xox[abprs]-[A-Za-z0-9-]{{10,}}{_TOKEN_END}",  # Slack
    rf"(?<![\w-])[spr]k_(?:live|test)_[A-Za-z0-9]{{10,}}{_TOKEN_END}",  # Stripe
    rf"(?<![\w-])AIza[A-Za-z0-9_-]{{35}}{_TOKEN_END}",  # Google
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",  # AWS access key id
    # OpenAI-style (sk-, sk-proj-, sk-ant-...): random mixed case with a digit, so that
    # kebab-case words ("sk-learn-compatible-estimators-v2") never match.
    r"(?<![\w-])sk-(?:proj-|svcacct-|admin-)?"
    r"(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])[A-Za-z0-9_-]{20,}",
)

# IBAN: country, check digits, 11-30 alphanumerics either run together or in groups of four.
_IBAN = re.compile(
    r"(?<!\w)[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?!\w)",
    re.IGNORECASE,
)

# Cards: major-industry digits 2-6 (1 would catch Unix-millisecond timestamps), 13-19 digits run
# together or in the printed groupings 4-4-4-4(-3) and 4-6-5 / 4-6-4, one separator throughout.
# Never inside a longer number: not after a digit, ".", ",", "+", nor after a four-digit group
# and a separator (the tail of a longer grouped number); "exp 12/27 4111 ..." still matches.
_CARD = re.compile(
    r"(?<![\w.,+])(?<![0-9]{4}[ -])"
    r"(?:[2-6][0-9]{12,18}"
    r"|[2-6][0-9]{3}(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{1,4}(?:(?P=s)[0-9]{1,3})?"
    r"|3[0-9]{3}(?P<t>[ -])[0-9]{6}(?P=t)[0-9]{4,5})"
    r"(?![\w]|[.,][0-9])"
)

_SSN = re.compile(r"(?<![\w-])(?!000|666|9)[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![\w-])")

# "password: value" -> the value up to the end of its phrase (two spaces or a tab end it: OCR joins
# neighbouring widgets that way); a quoted value up to its closing quote.
_PASSWORD = re.compile(
    r"(?<![A-Za-z])(?P<label>(?:pass(?:word|wd|code|phrase)|pwd|pin(?: ?code)?)(?![A-Za-z])"
    r"[\"']?\*?[ \t]*[:=][ \t]*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s]+(?: [^\s]+)*)",
    re.IGNORECASE,
)

# What a password field shows: a run of six or more bullets / asterisks standing alone.
_MASKED = re.compile(r"(?<!\S)[●•∙*]{6,}(?!\S)")


def _luhn(digits: str) -> bool:
    """The Luhn checksum every payment card number carries (catches 9 in 10 random numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and _luhn(digits)  # the pattern already required 2-6 first


def _is_iban(compact: str) -> bool:
    """ISO 13616 mod-97 check (catches 96 in 97 random strings of the right shape)."""
    code = compact.upper()
    if not 15 <= len(code) <= 34 or code[2:4] in ("00", "01", "99"):
        return False
    return int("".join(str(int(ch, 36)) for ch in code[4:] + code[:4])) % 97 == 1


def _longest_valid(raw: str, sep: str, valid: Callable[[str], bool], least: int, kind: str) -> str | None:
    """Try the candidate, then without trailing groups: "4111 1111 1111 1111 12/27" ends in an
    expiry month, "BE68 5390 0754 7034 from" in a word, and only the head passes the check."""
    groups = raw.split(sep) if sep else [raw]
    for n in range(len(groups), least - 1, -1):
        head = sep.join(groups[:n])
        if valid(head.replace(sep, "") if sep else head):
            return _mark(kind) + raw[len(head) :]
    return None


def _card(match: re.Match[str]) -> str | None:
    raw = match.group(0)
    sep = match.group("s") or match.group("t") or ""
    groups = raw.count(sep) + 1 if sep else 1
    return _longest_valid(raw, sep, _is_card, max(1, groups - 1), "card")  # drop one group at most


def _iban(match: re.Match[str]) -> str | None:
    raw = match.group(0)
    return _longest_valid(raw, " " if " " in raw else "", _is_iban, 1, "iban")


def _password(match: re.Match[str]) -> str | None:
    """Keep the label (the reader should still see a password was there), blank the value."""
    value = match.group("value")
    quote = value[0] if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0] else ""
    inner = value[1:-1] if quote else value
    if not inner or inner.startswith(_MARKED):
        return None
    return match.group("label") + quote + _mark("password") + quote


def _prose_passwords(text: str, found: list[str]) -> str:
    spans = prose_password_spans(text)
    taken = [(m.start(), m.end()) for m in _MARKER.finditer(text)]  # offsets in the text as parsed
    for a, b in sorted(spans, reverse=True):  # from the end: the offsets before a span stay valid
        if any(a < y and x < b for x, y in taken):
            continue
        text = text[:a] + _mark("password") + text[b:]
        taken.append((a, b))
        if "password" not in found:
            found.append("password")
    return text


# In order: keys first (a password label's value may be a key: it is then an api_key), cards after
# IBANs (an IBAN's digits must not be read as a card number).
_DETECTORS: tuple[tuple[str, re.Pattern[str], Replacer], ...] = (
    *(("api_key", re.compile(p, re.DOTALL), _whole("api_key")) for p in _API_KEYS),
    ("iban", _IBAN, _iban),
    ("card", _CARD, _card),
    ("ssn", _SSN, _whole("ssn")),
    ("password", _PASSWORD, _password),
    ("password", _MASKED, _whole("password")),
)


def _apply(kind: str, pattern: re.Pattern[str], replacer: Replacer, text: str, found: list[str]) -> str:
    """One detector over the text, noting its kind when it replaced anything."""

    def sub(match: re.Match[str]) -> str:
        new = replacer(match)
        if new is None:
            return match.group(0)
        if kind not in found:
            found.append(kind)
        return new

    return pattern.sub(sub, text)


def redact(text: str) -> tuple[str, list[str]]:
    """The text with secrets replaced by ``[REDACTED:<kind>]``, and the kinds found (each once,
    in the order found). Everything else is kept byte for byte.

    Detectors run to a fixed point, so ``redact(redact(t)[0]) == (redact(t)[0], [])``: a secret
    first shielded by a neighbour (a card right after another card) is caught on the next round.
    The loop ends: each change replaces unredacted characters with a marker no detector matches.
    """
    found: list[str] = []
    while True:
        new = text
        for kind, pattern, replacer in _DETECTORS:
            new = _apply(kind, pattern, replacer, new, found)
        new = _prose_passwords(new, found)
        if new == text:
            return text, found
        text = new


_BEGIN_LINE = re.compile(_KEY_BEGIN)
_END_LINE = re.compile(_KEY_END)
_BODY_LINE = re.compile(_KEY_BODY)


def _opens_key(line: str) -> bool:
    """A BEGIN ... PRIVATE KEY line whose block goes on in the following OCR lines."""
    begins = list(_BEGIN_LINE.finditer(line))
    return bool(begins) and not _END_LINE.search(line, begins[-1].end())


def _key_line(line: str) -> tuple[str, list[str], bool] | None:
    """A line inside an open key block: its redaction, kinds, and whether the block is still
    open; None when the line is ordinary text (the block was cut off on screen)."""
    end = _END_LINE.search(line)
    if end:
        rest, kinds = redact(line[end.end() :])
        return _mark("api_key") + rest, ["api_key", *kinds], False
    if not line.strip():
        return line, [], True
    if _BODY_LINE.fullmatch(line):
        return _mark("api_key"), ["api_key"], True
    return None


def redact_lines(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """``redact`` over OCR lines, one output line per input line, and the kinds found in any.

    A private key block spans lines, so its base64 body lines (the secret itself) are blanked
    after a BEGIN line. Other secrets split over two lines are not joined.
    """
    out: list[str] = []
    found: list[str] = []
    in_key = False
    for line in lines:
        inside = _key_line(line) if in_key else None
        if inside is not None:
            new, kinds, in_key = inside
        else:
            new, kinds = redact(line)
            in_key = _opens_key(line)
        out.append(new)
        found.extend(k for k in kinds if k not in found)
    return out, found



# ---- the records of the map stage -------------------------------------------------------------

REDACTION_VERSION = 2  # in the fingerprints of the signals whose text is redacted: a cache from
# before redaction (or from weaker detectors) is recomputed, never served with its secrets
# (2: passwords said in prose)


def redact_ocr(lines: Sequence[OcrLine]) -> tuple[OcrLine, ...]:
    """OCR lines of one image, secrets blanked line by line (a private key's body lines too)."""
    texts, kinds = redact_lines([line.text for line in lines])
    if not kinds:
        return tuple(lines)
    return tuple(line if new == line.text else replace(line, text=new) for line, new in zip(lines, texts))


def redact_segment(segment: Segment) -> Segment:
    """A transcribed segment with its secrets blanked in its text and in its words: the words a
    secret was spoken in become one word (their time span) that says ``[REDACTED:<kind>]``, so a
    transcript or subtitle shows where something was withheld, never what."""
    text, kinds = redact(segment.text)
    if not kinds:
        return segment
    if not segment.words:
        return replace(segment, text=text)
    joined = " ".join(w.text for w in segment.words)
    new, _ = redact(joined)
    spans, pos = [], 0
    for w in segment.words:
        spans.append((pos, pos + len(w.text)))
        pos += len(w.text) + 1
    secret: dict[int, str] = {}  # word index → the markers that replace it (first word of a run)
    for i1, i2, j1, j2 in _changed(joined, new):
        hit = [k for k, (a, b) in enumerate(spans) if a < max(i2, i1 + 1) and b > i1]
        # the markers the region touches (the diff may match "sword" of "swordfish" inside "password")
        markers = " ".join(m.group() for m in _MARKER.finditer(new) if m.start() < max(j2, j1 + 1) and m.end() > j1)
        markers = markers or "[REDACTED]"
        for k in hit:
            secret.setdefault(k, markers)
    words: list[Word] = []
    k = 0
    while k < len(segment.words):
        w = segment.words[k]
        if k not in secret:
            words.append(w)
            k += 1
            continue
        run = k
        while run + 1 < len(segment.words) and run + 1 in secret:
            run += 1
        marks = list(dict.fromkeys(m for i in range(k, run + 1) for m in secret[i].split()))
        words.append(Word(w.start, segment.words[run].end, " ".join(marks), 1.0))
        k = run + 1
    if not secret:  # the segment's text held the secret, its words (spaced otherwise) did not
        return replace(segment, text=text)
    return replace(segment, text=text, words=tuple(words))


def _changed(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """The regions of ``old`` that ``new`` replaced, as (i1, i2, j1, j2); a stray character the
    diff matches inside a marker ("e" of "REDACTED") does not split a region."""
    out: list[list[int]] = []
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        inner = 0 < n < len(ops) - 1 and i2 - i1 < 4
        if tag == "equal" and not (inner and out):
            continue
        if out and out[-1][1] == i1 and out[-1][3] == j1:
            out[-1][1], out[-1][3] = i2, j2
        else:
            out.append([i1, i2, j1, j2])
    return [(a, b, c, d) for a, b, c, d in out]


def redact_segments(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    return tuple(redact_segment(s) for s in segments)
