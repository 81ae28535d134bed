"""Privacy for the screen recorder: what is never captured, and what is blanked before storage
(the redaction itself is ``perception.secrets``, applied to every source).

Two layers, both pure functions so the recorder can apply them before anything touches disk:

- ``excluded(rules, app, title)``: whole windows that must be dropped (password managers, private /
  incognito browser windows). Dropping beats redacting there: we cannot know what such a window
  shows, so nothing of it is kept.
- ``redact(text)`` / ``redact_lines(lines)``: secrets inside ordinary windows' OCR text (payment
  cards, API keys, passwords, IBANs, SSNs) replaced by ``[REDACTED:<kind>]``.

Detectors are tuned for few false positives: a checksum where the format has one (Luhn, mod-97),
known prefixes for keys, and boundaries so a substring of a longer number never matches. Over-
redaction is the lesser evil where a rule must choose (a password label's value runs to the end
of its phrase, not just one word). Standard library only.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_RULES", "PrivacyRules", "excluded", "redact", "redact_lines"]

# Password managers and key stores; matched as whole words of the app name, case-insensitively.
DEFAULT_EXCLUDED_APPS: tuple[str, ...] = (
    "1password",
    "bitwarden",
    "keepassxc",
    "keepass",
    "keepassdx",
    "lastpass",
    "dashlane",
    "enpass",
    "keeper",
    "nordpass",
    "roboform",
    "proton pass",
    "passwords",  # macOS Passwords, GNOME "Passwords and Keys"
    "keychain access",
    "seahorse",
    "kwalletmanager",
    "authy",
)

# Private browser windows; regular expressions searched in the window title, case-insensitively.
# The short matches (lookaheads, not ".*") keep the reason from quoting the page's own title.
DEFAULT_EXCLUDED_TITLES: tuple[str, ...] = (
    r"\bprivate browsing\b",  # Firefox ("Mozilla Firefox Private Browsing"), Safari
    r"\bincognito\b",  # Chrome, Chromium ("... - Google Chrome (Incognito)")
    r"\binprivate\b",  # Edge ("[InPrivate] - Microsoft Edge")
    r"\bprivate window\b",  # Brave ("Private Window with Tor"), Opera
    r"[(\[]private[)\]]",  # "(Private)" / "[Private]" title suffixes
    r"\bprivate\b(?=.*\b(?:safari|brave)\b)",  # "New Private Tab - Brave", "Private — Safari"
    r"\b(?:safari|brave)\b(?=.*\bprivate\b)",  # "Safari — Private"
    r"\btor browser\b",  # every Tor Browser window is private
)

_FIELDS = ("excluded_apps", "excluded_titles", "redact")


@dataclass(frozen=True)
class PrivacyRules:
    """What the recorder must never store. Immutable so a running recorder's rules cannot drift."""

    excluded_apps: tuple[str, ...] = DEFAULT_EXCLUDED_APPS
    excluded_titles: tuple[str, ...] = DEFAULT_EXCLUDED_TITLES
    redact: bool = True

    def __post_init__(self) -> None:
        """Validate at construction: a typo in a privacy rule must fail loudly, not match nothing."""
        apps = _strings("excluded_apps", self.excluded_apps)
        titles = _strings("excluded_titles", self.excluded_titles)
        blank = [a for a in apps if not _words(a)]
        if blank:
            raise ValueError(f"excluded_apps: {blank[0]!r} names no app")
        if not isinstance(self.redact, bool):
            raise ValueError(f"redact must be true or false, not {self.redact!r}")
        _title_patterns(titles)  # raises ValueError naming a bad pattern
        object.__setattr__(self, "excluded_apps", apps)
        object.__setattr__(self, "excluded_titles", titles)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PrivacyRules:
        """Rules from a JSON object; missing fields keep their defaults, unknown ones are refused."""
        if not isinstance(data, Mapping):
            raise ValueError(f"privacy rules must be a JSON object, not {type(data).__name__}")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown privacy rule field(s): {', '.join(map(str, unknown))}")
        return cls(**dict(data))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (lists, not tuples) that ``from_json`` turns back into equal rules."""
        return {
            "excluded_apps": list(self.excluded_apps),
            "excluded_titles": list(self.excluded_titles),
            "redact": self.redact,
        }

    def with_(self, **changes: Any) -> PrivacyRules:
        """A copy with some fields changed, validated like a new instance."""
        return dataclasses.replace(self, **changes)


def _strings(name: str, value: object) -> tuple[str, ...]:
    """A tuple of strings; a bare string is refused (it would become a tuple of characters)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be a list of strings, not {type(value).__name__}")
    items = tuple(value)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{name} must hold strings only, found {bad[0]!r}")
    return items


@functools.lru_cache(maxsize=64)
def _title_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """Compiled once per rule set; the recorder checks every window it sees."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as err:
            message = f"invalid excluded_titles pattern {pattern!r}: {err.msg} at position {err.pos}"
            raise ValueError(message) from None
    return tuple(compiled)


def _words(name: str) -> tuple[str, ...]:
    """Case-folded words of an app name: "org.keepassxc.KeePassXC" -> ("org", "keepassxc", "keepassxc")."""
    return tuple(re.findall(r"[^\W_]+", name.casefold()))


def _names_app(rule: str, app: str) -> bool:
    """Whole-word match, so "keeper" drops "Keeper Password Manager" but not "ZooKeeper"."""
    want, have = _words(rule), _words(app)
    return any(have[i : i + len(want)] == want for i in range(len(have) - len(want) + 1))


DEFAULT_RULES = PrivacyRules()


def excluded(rules: PrivacyRules, app: str | None, title: str | None) -> str | None:
    """Why this window's capture must be dropped before storage, or None when it may be kept."""
    if app and any(_names_app(rule, app) for rule in rules.excluded_apps):
        return f"excluded app: {app.strip()}"
    if not title:
        return None
    for pattern in _title_patterns(rules.excluded_titles):
        found = pattern.search(title)
        if found:
            return f"private window: {_clip(found.group(0))}"
    return None


def _clip(text: str, limit: int = 40) -> str:
    """A reason quotes only the rule's match, shortened: it may end up in logs."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# the detectors live with the rest of perception: every source is redacted, not only the recorder's
from perception.secrets import redact, redact_lines  # noqa: E402,F401
