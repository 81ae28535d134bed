"""Captioners on real media: the composed (model-free) default, and Qwen2.5-VL through
transformers without torchvision, on a tiny random-weight model built here from a config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.base import CaptionRequest, ImageArray
from models.caption_prompt import caption_prompt, parse_sentences, sample_evenly, shorten
from models.errors import ModelLoadError
from tests.conftest import DATA, GRID, need

SCREENS = DATA / "screens" / "omniparser"


def screenshot(name: str) -> ImageArray:
    return np.asarray(Image.open(need(SCREENS / name)).convert("RGB"))


def grid_frames(name: str, count: int) -> tuple[tuple[ImageArray, ...], tuple[float, ...]]:
    """``count`` evenly spread frames of a GRID clip, with their times."""
    import av

    with av.open(str(need(GRID / name))) as container:
        decoded = [(f.to_ndarray(format="rgb24"), float(f.time or 0.0)) for f in container.decode(video=0)]
    picked = [decoded[i] for i in sample_evenly(len(decoded), count)]
    return tuple(f for f, _ in picked), tuple(t for _, t in picked)


# -- shared text helpers ----------------------------------------------------------------------


def test_helpers_sample_shorten_and_parse() -> None:
    assert sample_evenly(10, 3) == [0, 4, 9] and sample_evenly(2, 5) == [0, 1] and sample_evenly(7, 1) == [3]
    assert shorten("one  two\nthree", 50) == "one two three"
    assert shorten("alpha beta gamma delta", 14) == "alpha beta…" and len(shorten("x" * 40, 10)) == 10
    reply = "- face_0 opens Excel. voice_0 says: 'hi.' \n\n2. The total is 120.00!\nface_0 opens excel."
    assert parse_sentences(reply) == ["face_0 opens Excel.", "voice_0 says: 'hi.'", "The total is 120.00!"]


# -- composed --------------------------------------------------------------------------------


def test_composed_caption_names_people_by_label_and_quotes_signals() -> None:
    import models

    captioner = models.create("captioner", "composed", max_screen_lines=3, max_quote=40)
    excel = screenshot("excel.png")
    long_turn = "and then we will go through every single row of the invoice sheet together"
    request = CaptionRequest(
        start=12.0,
        end=15.0,
        frames=(excel, excel),
        times=(12.0, 14.0),
        speech=(("voice_0", "lay blue at f two now"), ("", long_turn), ("voice_1", "  ")),
        faces=("face_0", "face_1"),
        screen_text=("Invoice #4471", "Total 120.00", "Invoice #4471", "Due 2024-05-01", "Paid"),
        window="Excel - Book1",
    )
    assert captioner.caption(request) == [
        "face_0 and face_1 on screen.",
        "voice_0 says: 'lay blue at f two now'.",
        "Someone says: 'and then we will go through every…'",
        "Window: Excel - Book1.",
        "Screen shows: 'Invoice #4471'; 'Total 120.00'; 'Due 2024-05-01'; ….",
    ]
    few = CaptionRequest(0.0, 1.0, faces=("face_2",), screen_text=("Inbox",), window="Outlook - Inbox")
    empty = CaptionRequest(0.0, 1.0, frames=(excel,), times=(0.0,))  # frames alone: nothing to say
    assert captioner.caption_batch([few, empty, CaptionRequest(0.0, 1.0)]) == [
        ["face_2 on screen.", "Window: Outlook - Inbox.", "Screen shows: 'Inbox'."],
        [],
        [],
    ]


def test_composed_caps_labels_and_turns() -> None:
    from models.caption_composed import ComposedCaptioner

    captioner = ComposedCaptioner(max_faces=2, max_turns=1)
    request = CaptionRequest(
        0.0,
        3.0,
        faces=("face_0", "face_1", "face_2", "face_3"),
        speech=(("voice_0", "a"), ("voice_1", "b"), ("voice_0", "c")),
    )
    assert captioner.caption(request) == [
        "face_0, face_1 and 2 more on screen.",
        "voice_0 says: 'a'.",
        "2 more speech turns follow.",
    ]


def test_prompt_lists_labels_transcript_and_screen_text() -> None:
    frames, times = grid_frames("bbaf2n.mpg", 3)
    request = CaptionRequest(
        0.0, 3.0, frames=frames, times=times, speech=(("voice_0", "bin blue at f two now"),),
        faces=("face_0",), screen_text=("Invoice #4471",), window="Outlook - Inbox",
    )
    prompt = caption_prompt(request, [0, 2])
    assert f"The 2 images above are frames of it in time order (at {times[0]:.1f}, {times[2]:.1f} s)." in prompt
    lines = prompt.splitlines()
    for line in ("Faces seen: face_0.", 'voice_0: "bin blue at f two now"', "Window: Outlook - Inbox", "Invoice #4471"):
        assert line in lines
    assert "ONLY by these labels (face_0, voice_0)" in prompt


# -- Qwen2.5-VL ------------------------------------------------------------------------------

SPECIAL = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"
]
MIN_PIXELS, MAX_PIXELS = 56 * 56, 112 * 112


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_qwen_vl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Qwen2.5-VL (2 layers, hidden 64) with a BPE tokenizer trained here."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2TokenizerFast

    from models.caption_qwen_vl import CHATML_VL_TEMPLATE

    folder = tmp_path_factory.mktemp("tiny-qwen-vl")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(need(DATA / "SOURCES.md").read_text().splitlines(), trainer)
    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
        additional_special_tokens=SPECIAL[1:],
    )
    tokenizer.chat_template = CHATML_VL_TEMPLATE
    tokenizer.save_pretrained(folder)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL}
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
            "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},  # sums to head_dim / 2
            "tie_word_embeddings": True, "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
            "window_size": 56, "fullatt_block_indexes": [1],
        },
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    model = Qwen2_5_VLForConditionalGeneration(config)
    with torch.no_grad():  # wider than the default init, so greedy output is not one repeated token
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, 0.3)
    model.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps({
            "image_processor_type": "Qwen2VLImageProcessor", "min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS,
            "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
            "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
        })
    )
    return folder


@pytest.fixture(scope="module")
def clip_requests() -> list[CaptionRequest]:
    frames, times = grid_frames("bbaf2n.mpg", 4)
    talking = CaptionRequest(
        0.0, 3.0, frames=frames, times=times, speech=(("voice_0", "bin blue at f two now"),), faces=("face_0",)
    )
    screen = CaptionRequest(
        10.0, 12.0, frames=(screenshot("excel.png"),), times=(10.0,),
        screen_text=("Invoice #4471", "Total 120.00"), window="Excel - Book1",
    )
    return [talking, screen]


def test_qwen_vl_inputs_expand_one_pad_token_per_merged_patch(
    tiny_qwen_vl: Path, clip_requests: list[CaptionRequest]
) -> None:
    from models.caption_qwen_vl import QwenVLCaptioner

    captioner = QwenVLCaptioner(str(tiny_qwen_vl), max_frames=3)
    inputs = captioner.build_inputs(clip_requests)
    tokenizer = captioner._tokenizer
    pad_id, start_id = (tokenizer.convert_tokens_to_ids(t) for t in ("<|image_pad|>", "<|vision_start|>"))
    grids = inputs["image_grid_thw"]
    assert grids.shape == (4, 3)  # 3 sampled frames, then 1 screenshot
    assert all(int(t) == 1 and h * w * 14 * 14 <= MAX_PIXELS for t, h, w in grids.tolist())
    assert inputs["pixel_values"].shape == (int(grids.prod(dim=1).sum()), 3 * 2 * 14 * 14)
    per_request = [grids[:3], grids[3:]]
    rows, masks = inputs["input_ids"].tolist(), inputs["attention_mask"].tolist()
    for row, mask, request_grids in zip(rows, masks, per_request):
        runs, run = [], 0
        for previous, token in zip([None, *row], row):
            if token == pad_id:
                assert run or previous == start_id  # each run follows <|vision_start|>
                run += 1
            elif run:
                runs.append(run)
                run = 0
        assert runs == [int(t * h * w) // 4 for t, h, w in request_grids.tolist()]
        assert mask == sorted(mask)  # left padding: zeros, then ones
    assert 0 in inputs["attention_mask"][1]  # the screenshot prompt is the shorter one


def test_qwen_vl_inputs_equal_the_official_processors(
    tiny_qwen_vl: Path, clip_requests: list[CaptionRequest]
) -> None:
    """Cross-check against Qwen2_5_VLProcessor itself. It cannot be built normally without
    torchvision (its video processor); a bare stand-in fills that slot and is never called."""
    import torch
    import transformers
    from transformers import Qwen2_5_VLProcessor

    from models.caption_prompt import CAPTION_SYSTEM
    from models.caption_qwen_vl import QwenVLCaptioner

    captioner = QwenVLCaptioner(str(tiny_qwen_vl), max_frames=2, max_pixels=None)
    mine = captioner.build_inputs(clip_requests)
    tokenizer, image_processor = captioner._tokenizer, captioner._image_processor
    processor = Qwen2_5_VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=object.__new__(transformers.BaseVideoProcessor),
        chat_template=tokenizer.chat_template,
    )
    texts, images = [], []
    for request in clip_requests:
        picked = sample_evenly(len(request.frames), 2)
        content = [{"type": "image"} for _ in picked]
        content.append({"type": "text", "text": caption_prompt(request, picked)})
        messages = [{"role": "system", "content": CAPTION_SYSTEM}, {"role": "user", "content": content}]
        texts.append(processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        images += [request.frames[i] for i in picked]
    tokenizer.padding_side = "left"
    reference = processor(
        text=texts, images=images, padding=True, return_tensors="pt",
        images_kwargs={"min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS},
    )
    for key in ("input_ids", "attention_mask", "pixel_values", "image_grid_thw"):
        assert torch.equal(mine[key], reference[key]), key


def test_qwen_vl_captions_real_frames_greedily_and_loads_lazily(
    tiny_qwen_vl: Path, clip_requests: list[CaptionRequest]
) -> None:
    import models

    captioner = models.create("captioner", "qwen-vl", model=str(tiny_qwen_vl), max_new_tokens=10, max_frames=2)
    assert captioner._model is None and captioner.model_id == tiny_qwen_vl.name
    captions = captioner.caption_batch([*clip_requests, CaptionRequest(5.0, 6.0)])
    assert captioner._model is not None
    assert len(captions) == 3 and captions[2] == []  # an empty request never reaches the model
    assert all(isinstance(s, str) and s for caption in captions for s in caption)
    assert any(captions[:2])  # random weights still say something
    assert not any("<|" in s for caption in captions for s in caption)
    assert captioner.caption_batch(clip_requests) == captions[:2]  # greedy
    assert [captioner.caption(r) for r in clip_requests] == captions[:2]  # left padding changes nothing


def test_qwen_vl_missing_folder_is_a_load_error(tmp_path: Path) -> None:
    from models.caption_qwen_vl import QwenVLCaptioner

    captioner = QwenVLCaptioner(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelLoadError, match="no Qwen-VL model folder"):
        captioner.caption(CaptionRequest(0.0, 1.0, faces=("face_0",)))


@pytest.fixture(scope="module")
def tiny_qwen3_vl(tiny_qwen_vl: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Qwen3-VL (16 px patches, deepstack) sharing the tokenizer above; its
    pixel bounds only in a ``size`` dict, as Qwen3-VL ships them."""
    import torch
    from transformers import AutoTokenizer, Qwen3VLConfig, Qwen3VLForConditionalGeneration

    folder = tmp_path_factory.mktemp("tiny-qwen3-vl")
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen_vl)
    tokenizer.save_pretrained(folder)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL}
    config = Qwen3VLConfig(
        text_config={
            "vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 4096,
            "rope_scaling": {"rope_type": "default", "mrope_section": [4, 2, 2], "mrope_interleaved": True},
            "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
            "num_position_embeddings": 64, "deepstack_visual_indexes": [0],
        },
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = Qwen3VLForConditionalGeneration(config)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0.0, 0.3)
    model.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps({
            "image_processor_type": "Qwen2VLImageProcessorFast",
            "size": {"shortest_edge": 64 * 64, "longest_edge": 128 * 128},
            "patch_size": 16, "temporal_patch_size": 2, "merge_size": 2,
            "image_mean": [0.5] * 3, "image_std": [0.5] * 3,
        })
    )
    return folder


def test_qwen3_vl_goes_through_the_same_path(tiny_qwen3_vl: Path, clip_requests: list[CaptionRequest]) -> None:
    from models.caption_qwen_vl import QwenVLCaptioner

    captioner = QwenVLCaptioner(str(tiny_qwen3_vl), max_new_tokens=8, max_frames=2)
    inputs = captioner.build_inputs(clip_requests)
    assert type(captioner._model).__name__ == "Qwen3VLForConditionalGeneration"
    grids = inputs["image_grid_thw"]
    assert all(h * w * 16 * 16 <= 128 * 128 for _, h, w in grids.tolist())  # the size dict's bound holds
    assert inputs["pixel_values"].shape == (int(grids.prod(dim=1).sum()), 3 * 2 * 16 * 16)
    pad_id = captioner._tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert int((inputs["input_ids"] == pad_id).sum()) == int(grids.prod(dim=1).sum()) // 4
    captions = captioner.caption_batch(clip_requests)
    assert len(captions) == 2 and all(isinstance(s, str) for caption in captions for s in caption)
    assert [captioner.caption(r) for r in clip_requests] == captions
