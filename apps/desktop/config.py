"""The app's settings (STORE/app.json) and the privacy rules the recorder starts with."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.screen_privacy import DEFAULT_EXCLUDED_APPS, DEFAULT_EXCLUDED_TITLES, PrivacyRules
from mmagent.errors import SettingsError

APP_FILE = "app.json"  # the app's settings, in the store folder
RULES_FILE = "rules.json"  # the privacy rules the recorder starts with, in the capture folder
LLM_CHOICES = ("none", "smollm2")


@dataclass(frozen=True)
class AppConfig:
    """What the settings page edits; saved as STORE/app.json, used when the app starts the recorder."""

    interval: float = 2.0  # seconds between captures
    retention_days: float = 30.0  # pictures older than this are dropped (their text stays); 0 keeps all
    excluded_apps: tuple[str, ...] = DEFAULT_EXCLUDED_APPS
    excluded_titles: tuple[str, ...] = DEFAULT_EXCLUDED_TITLES  # regexes searched in window titles
    redact: bool = True
    llm: str = "smollm2"  # "none", "smollm2" (the bundled default) or a local model path
    index_background: bool = True  # the recorder indexes its captures into the store and serves it

    def __post_init__(self) -> None:
        try:
            interval, retention = float(self.interval), float(self.retention_days)
        except (TypeError, ValueError):
            raise SettingsError("the capture interval and the retention must be numbers") from None
        if not interval > 0:
            raise SettingsError("the capture interval must be more than 0 seconds")
        if not retention >= 0:
            raise SettingsError("the retention must be 0 (keep all) or more days")
        if not isinstance(self.redact, bool) or not isinstance(self.index_background, bool):
            raise SettingsError("redact and index_background must be true or false")
        llm = str(self.llm).strip()
        if llm not in LLM_CHOICES and not Path(llm).expanduser().exists():
            raise SettingsError(f"the language model must be none, smollm2 or a local model path; {llm!r} does not exist")
        object.__setattr__(self, "interval", interval)
        object.__setattr__(self, "retention_days", retention)
        object.__setattr__(self, "llm", llm)
        self.rules()  # a bad app or title pattern fails here, before anything is saved

    def rules(self) -> PrivacyRules:
        try:
            return PrivacyRules(tuple(self.excluded_apps), tuple(self.excluded_titles), self.redact)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    def llm_env(self) -> dict[str, str]:
        """The recorder's (and the local store's) language model, as MMAGENT_* variables (an
        empty value is unset: mmagent.settings ignores it)."""
        if self.llm == "none":
            return {"MMAGENT_LLM": "none", "MMAGENT_LLM_MODEL": ""}
        if self.llm == "smollm2":
            return {"MMAGENT_LLM": "transformers", "MMAGENT_LLM_MODEL": ""}
        return {"MMAGENT_LLM": "transformers", "MMAGENT_LLM_MODEL": str(Path(self.llm).expanduser().resolve())}

    def to_json(self) -> dict[str, Any]:
        return {"interval": self.interval, "retention_days": self.retention_days,
                "excluded_apps": list(self.excluded_apps), "excluded_titles": list(self.excluded_titles),
                "redact": self.redact, "llm": self.llm, "index_background": self.index_background}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppConfig:
        if not isinstance(data, Mapping):
            raise SettingsError(f"{APP_FILE} must hold a JSON object")
        known = {k: data[k] for k in cls().to_json() if k in data}
        for name in ("excluded_apps", "excluded_titles"):
            if name in known:
                value = known[name]
                if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise SettingsError(f"{APP_FILE}: {name} must be a list of strings")
                known[name] = tuple(value)
        return cls(**known)

    @classmethod
    def load(cls, store: Path) -> AppConfig:
        path = Path(store) / APP_FILE
        if not path.is_file():
            return cls()
        try:
            return cls.from_json(json.loads(path.read_text()))
        except ValueError as exc:  # SettingsError is a ValueError too
            raise SettingsError(f"{path}: {exc}") from None

    def save(self, store: Path) -> Path:
        return write_json(Path(store) / APP_FILE, self.to_json())


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
    return path
