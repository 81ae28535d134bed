"""Fault tests (issue 18). ``cli`` runs ``python -m apps.cli`` in a real subprocess, the way a
user (or a kill) meets it: the rule-based planner, this checkout on the path, and an optional
crash point (``MMAGENT_CRASH_AT``, see ``mmagent/crash.py``) at which the process SIGKILLs itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str, env: Mapping[str, str] | None = None, crash: str | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """Run ``mmagent ARGV`` with ``env`` over the environment; ``crash`` names the kill point (none
    is inherited from the caller's environment); returns the finished process (-9 when killed)."""
    full = dict(os.environ, MMAGENT_LLM="none", PYTHONPATH=str(ROOT))
    full.update(env or {})
    full.pop("MMAGENT_CRASH_AT", None)
    if crash:
        full["MMAGENT_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "apps.cli", *argv], env=full, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
