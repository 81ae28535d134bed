"""Settings: built once at the entry point from MMAGENT_* variables, then flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from mmagent.errors import SettingsError


def default_store() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("mmagent")) / "store"


LLM_CHOICES = ("transformers", "openai", "none")  # the language models a question can be answered with

@dataclass(frozen=True)
class Settings:
    store: Path
    clip_seconds: float = 30.0
    keyframe_interval: float = 2.0
    ocr: bool = True
    voices: bool = True  # speaker turns with voice embeddings
    diarize: bool = True  # voices told apart over the whole source (CAM++ segments clustered per source)
    faces: bool = True  # face tracks with face embeddings and crops
    min_face: int = 60  # pixels: smaller faces are not looked for (40: finds smaller ones, 2x the work)
    decoder: str = "pyav"  # or "decord"
    asr: str = "faster-whisper"  # or "openai-whisper" (a .pt checkpoint), "transformers-whisper" (a folder)
    asr_model: str | None = None  # the model for that backend; faster-whisper: tiny.en (the default, English), base (multilingual, language detected) or a folder
    asr_batch: int = 16  # chunks of speech decoded together (clips of an ASR group share batches); 1: one window at a time, the careful way
    embed_model: str | None = None  # a sentence-transformers folder; default: bundled MiniLM
    image_model: str | None = None  # a CLIP / SigLIP folder: visual embeddings of keyframes
    captioner: str = "composed"  # "composed" (from the signals), "qwen-vl", "openai" or "none"
    caption_model: str | None = None  # qwen-vl: a model folder / hub id; openai: the model name
    llm: str = "transformers"  # "openai" (a server at remote_url) or "none": extractive answers only
    llm_model: str | None = None  # a .gguf file, a model folder or a hub id; default: SmolLM2-135M
    remote_url: str | None = None  # an OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI)
    device: str = "auto"  # "auto" (cuda when present), "cpu" or "cuda[:N]"
    dtype: str = "auto"  # auto: bfloat16 / float16 on GPU, float32 on CPU
    batch_size: int = 8  # images / captions per model call
    threads: int = 0  # 0: all cores
    workers: int = 0  # perception processes; 0: one per core (CPU), one per GPU
    ray: str | None = None  # "local" or a Ray cluster address: perception runs as a Ray Data job
    qdrant_url: str | None = None  # a Qdrant server / cluster instead of the embedded store
    collection: str = "mmagent"  # the collection on that server
    face_match: float = 0.5  # dlib distance under which a face is a known face entity
    voice_match: float = 0.80  # GE2E cosine over which a voice is a known voice entity
    link_seconds: float = 1.5  # a voice speaking while one face is alone on screen this long links them
    scene_seconds: float = 300.0  # episodic scene length
    summaries: str = "extractive"  # scene / hour / day summaries: "extractive" or "llm" (the configured LLM)

    _ENV = {
        "store": "MMAGENT_HOME",
        "clip_seconds": "MMAGENT_CLIP_SECONDS",
        "keyframe_interval": "MMAGENT_KEYFRAME_INTERVAL",
        "ocr": "MMAGENT_OCR",
        "voices": "MMAGENT_VOICES",
        "diarize": "MMAGENT_DIARIZE",
        "faces": "MMAGENT_FACES",
        "min_face": "MMAGENT_MIN_FACE",
        "decoder": "MMAGENT_DECODER",
        "asr": "MMAGENT_ASR",
        "asr_model": "MMAGENT_ASR_MODEL",
        "asr_batch": "MMAGENT_ASR_BATCH",
        "image_model": "MMAGENT_IMAGE_MODEL",
        "captioner": "MMAGENT_CAPTIONER",
        "caption_model": "MMAGENT_CAPTION_MODEL",
        "remote_url": "MMAGENT_REMOTE_URL",
        "dtype": "MMAGENT_DTYPE",
        "batch_size": "MMAGENT_BATCH_SIZE",
        "workers": "MMAGENT_WORKERS",
        "ray": "MMAGENT_RAY",
        "embed_model": "MMAGENT_EMBED_MODEL",
        "llm": "MMAGENT_LLM",
        "llm_model": "MMAGENT_LLM_MODEL",
        "device": "MMAGENT_DEVICE",
        "threads": "MMAGENT_THREADS",
        "qdrant_url": "MMAGENT_QDRANT_URL",
        "collection": "MMAGENT_COLLECTION",
        "face_match": "MMAGENT_FACE_MATCH",
        "voice_match": "MMAGENT_VOICE_MATCH",
        "link_seconds": "MMAGENT_LINK_SECONDS",
        "scene_seconds": "MMAGENT_SCENE_SECONDS",
        "summaries": "MMAGENT_SUMMARIES",
    }

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, var in cls._ENV.items():
            if var in env and env[var] != "":
                values[name] = _parse(var, env[var], str(types[name]))
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["store"] = Path(values.get("store") or default_store()).expanduser()
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.clip_seconds <= 0 or self.keyframe_interval <= 0:
            raise SettingsError("clip_seconds and keyframe_interval must be positive")
        if self.decoder not in ("pyav", "decord"):
            raise SettingsError(f"decoder must be 'pyav' or 'decord', not {self.decoder!r}")
        if self.llm not in LLM_CHOICES:
            raise SettingsError(f"MMAGENT_LLM must be 'transformers', 'openai' or 'none', not {self.llm!r}")
        if self.captioner not in ("composed", "qwen-vl", "openai", "none"):
            raise SettingsError(f"MMAGENT_CAPTIONER must be composed, qwen-vl, openai or none, not {self.captioner!r}")
        if "openai" in (self.llm, self.captioner) and not self.remote_url:
            raise SettingsError("an 'openai' backend needs the server's address: MMAGENT_REMOTE_URL=http://host:port/v1")
        if self.captioner == "openai" and not self.caption_model:
            raise SettingsError("the 'openai' captioner needs the model name: MMAGENT_CAPTION_MODEL")
        if self.summaries not in ("extractive", "llm"):
            raise SettingsError(f"MMAGENT_SUMMARIES must be 'extractive' or 'llm', not {self.summaries!r}")
        if self.summaries == "llm" and self.llm == "none":
            raise SettingsError("MMAGENT_SUMMARIES=llm needs a language model (MMAGENT_LLM is 'none')")
        if self.asr not in ("faster-whisper", "openai-whisper", "transformers-whisper"):
            raise SettingsError(f"MMAGENT_ASR must be faster-whisper, openai-whisper or transformers-whisper, not {self.asr!r}")
        if self.asr != "faster-whisper" and not self.asr_model:
            raise SettingsError(f"the {self.asr} backend needs a model: MMAGENT_ASR_MODEL=/path/to/it")
        if self.asr == "faster-whisper":
            from models.asr_models import UnknownModel, model_name

            try:
                model_name(self.asr_model)
            except UnknownModel as exc:
                raise SettingsError(str(exc)) from None
        if self.dtype not in ("auto", "float32", "float16", "bfloat16"):
            raise SettingsError(f"dtype must be auto, float32, float16 or bfloat16, not {self.dtype!r}")
        if self.asr_batch < 1 or self.batch_size < 1 or self.workers < 0:
            raise SettingsError("asr_batch and batch_size must be at least 1, workers at least 0")
        if self.device not in ("cpu", "cuda", "auto") and not self.device.startswith("cuda:"):
            raise SettingsError(f"device must be cpu, cuda[:N] or auto, not {self.device!r}")

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def resolved_threads(self) -> int:
        return self.threads or (os.cpu_count() or 1)

    def resolved_workers(self) -> int:
        """Perception processes: one per core on a CPU (the models scale better across processes
        than across threads), one per GPU otherwise."""
        if self.workers:
            return self.workers
        if self.resolved_device().startswith("cuda"):
            return 1
        return max(1, min(self.resolved_threads(), 8))

    def threads_per_worker(self) -> int:
        """Every runner (in-process, pool, Ray) computes clips with this many threads, so they
        give the same numbers: thread counts change floating-point sums in the models."""
        return max(1, self.resolved_threads() // self.resolved_workers())

    def resolved_dtype(self) -> str | None:
        return None if self.dtype == "auto" else self.dtype

    def reduce_options(self) -> Any:
        from memory.entity_options import EntityOptions
        from memory.reduce import ReduceOptions

        return ReduceOptions(
            EntityOptions(face_match=self.face_match, voice_match=self.voice_match, link_seconds=self.link_seconds),
            scene_seconds=self.scene_seconds,
        )

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _parse(var: str, raw: str, type_name: str) -> Any:
    try:
        if "bool" in type_name:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if "float" in type_name:
            return float(raw)
        if "int" in type_name:
            return int(raw)
        return raw
    except ValueError:
        raise SettingsError(f"{var}={raw!r} is not a valid {type_name}") from None
