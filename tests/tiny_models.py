"""Tiny random-weight CLIP / SigLIP / SigLIP2 checkpoints, built offline for tests.

Each builder writes a complete model folder (``config.json``, safetensors weights, tokenizer
files, ``preprocessor_config.json`` for the slow image processor) with ``save_pretrained``, so
the backends load it through their real code path. Weights are random (seeded): the vectors are
well-formed but carry no meaning. Nothing is downloaded.

Tokenizers are trained here with the ``tokenizers`` library on a small fixed corpus:

* CLIP: a byte-level BPE vocabulary laid out like the real one (256 byte symbols, the same with
  ``</w>``, one token per merge, then ``<|startoftext|>`` / ``<|endoftext|>``), written as
  ``vocab.json`` + ``merges.txt`` and saved through ``CLIPTokenizerFast`` (which also writes
  ``tokenizer.json``).
* SigLIP: the real ``SiglipTokenizer`` is sentencepiece-only (no fast class exists) and the
  ``sentencepiece`` package is not a dependency, so a Unigram tokenizer with the same behaviour
  (lower-casing, ``▁`` word marks, ``</s>`` appended, ``</s>`` as padding) is saved as a
  ``PreTrainedTokenizerFast``; ``AutoTokenizer`` loads it from ``tokenizer.json``.
* SigLIP2: the real checkpoints ship a Gemma fast tokenizer (``tokenizer.json``); the same
  Unigram tokenizer is saved as ``GemmaTokenizerFast``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

# Enough words for BPE / Unigram training to produce a few hundred tokens.
_CORPUS = (
    "bin blue at f two now. place red by a nine again. lay white with z zero please. "
    "set green in q four soon. a photo of a cat. a photo of a dog. a person talking to the camera. "
    "a screenshot of a spreadsheet in excel with rows and columns of numbers. "
    "a word document with a heading and paragraphs of text. a chat window in microsoft teams. "
    "a web page with search results. the windows desktop with icons and a taskbar. "
    "file home insert draw page layout formulas data review view help autosave. "
    "the invoice is due on friday. payment of the bill is due friday. a cat sat on the mat."
)
_SEED = 0


def _corpus_lines() -> list[str]:
    return [s.strip() for s in _CORPUS.split(".") if s.strip()] * 4


def _seeded() -> None:
    import torch

    torch.manual_seed(_SEED)


def _clip_tokenizer(max_length: int) -> Any:
    """Train a small byte-level BPE, lay it out as a CLIP vocabulary, return a CLIPTokenizerFast."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import CLIPTokenizerFast
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    bpe = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    bpe.normalizer = normalizers.Lowercase()
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=400, end_of_word_suffix="</w>", show_progress=False, initial_alphabet=[]
    )
    bpe.train_from_iterator(_corpus_lines(), trainer)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in json.loads(bpe.to_str())["model"]["merges"]]
    # the corpus is lower-case ASCII, whose byte symbols are the characters themselves
    base = list(bytes_to_unicode().values())
    tokens = base + [b + "</w>" for b in base] + ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        (src / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
        (src / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        tokenizer = CLIPTokenizerFast(
            vocab_file=str(src / "vocab.json"), merges_file=str(src / "merges.txt"), model_max_length=max_length
        )
    return tokenizer


def _unigram_tokenizer(cls_name: str, max_length: int, **extra: Any) -> Any:
    """A SigLIP-like Unigram tokenizer (lower-case, ``▁`` word marks, ``</s>`` appended)."""
    import transformers
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    specials = ["<pad>", "</s>", "<unk>"]
    uni = Tokenizer(models.Unigram())
    uni.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    uni.pre_tokenizer = pre_tokenizers.Metaspace()
    uni.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=300, special_tokens=specials, unk_token="<unk>", show_progress=False
    )
    uni.train_from_iterator(_corpus_lines(), trainer)
    eos = uni.token_to_id("</s>")
    uni.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", eos)]
    )
    cls = getattr(transformers, cls_name)
    return cls(
        tokenizer_object=uni,
        unk_token="<unk>",
        eos_token="</s>",
        pad_token="</s>",
        model_max_length=max_length,
        **extra,
    )


def build_tiny_clip(folder: str | Path) -> Path:
    """Write a tiny random CLIP (projection_dim 16, 32x32 images, patch 8) into ``folder``."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    max_length = 16
    tokenizer = _clip_tokenizer(max_length)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": max_length,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    _seeded()
    CLIPModel(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(out)
    return out


def _siglip_text(tokenizer: Any, max_length: int) -> dict[str, Any]:
    """The tiny text tower SigLIP and SigLIP2 share."""
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "max_position_embeddings": max_length,
        "projection_size": 32,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }


def build_tiny_siglip(folder: str | Path) -> Path:
    """Write a tiny random SigLIP (dim 32, 32x32 images, patch 8, 16 text tokens) into ``folder``."""
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    max_length = 16
    tokenizer = _unigram_tokenizer("PreTrainedTokenizerFast", max_length)
    config = SiglipConfig(
        text_config=_siglip_text(tokenizer, max_length),
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
    )
    _seeded()
    SiglipModel(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    SiglipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(out)
    return out


def build_tiny_siglip2(folder: str | Path) -> Path:
    """Write a tiny random SigLIP2 (NaFlex: at most 16 patches of 8 px, dim 32) into ``folder``."""
    from transformers import Siglip2Config, Siglip2ImageProcessor, Siglip2Model

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    max_length = 16
    tokenizer = _unigram_tokenizer(
        "GemmaTokenizerFast", max_length, bos_token=None, add_bos_token=False, add_eos_token=True
    )
    config = Siglip2Config(
        text_config=_siglip_text(tokenizer, max_length),
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_patches": 16,
            "patch_size": 8,
        },
    )
    _seeded()
    Siglip2Model(config).eval().save_pretrained(out)
    tokenizer.save_pretrained(out)
    Siglip2ImageProcessor(patch_size=8, max_num_patches=16).save_pretrained(out)
    return out
