"""Prompts are package data, one file per purpose, rendered strictly (a missing value raises)."""

from __future__ import annotations

from importlib import resources
from string import Template


def render(name: str, **values: str) -> str:
    text = resources.files("retrieval").joinpath("prompts", f"{name}.txt").read_text()
    return Template(text).substitute(**values).strip()
