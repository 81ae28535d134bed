"""The openai-whisper and transformers Whisper ASR backends, on tiny random-weight models built
here from configs (nothing is downloaded) and real speech. Random weights say nothing about
accuracy: these tests check what must hold whatever the weights (shapes, times inside the
audio and in order, no special tokens in text, batching equal to one-by-one, lazy loading,
clear errors) and the parsing of Whisper's token layout on crafted sequences."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.base import Segment
from models.errors import ModelLoadError
from tests.conftest import DATA, need

SR = 16000
SPECIALS = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nospeech|>",
    "<|notimestamps|>",
]
MERGES = ["Ġ t", "h e", "Ġt he", "Ġ a", "i n", "Ġ s", "e r", "o u"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# -- real audio --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    from perception.decode import clip_audio

    audio, start, _until = clip_audio(need(DATA / "speech" / "jfk.flac"), (0.0, 11.0), 0.0)
    assert start == 0.0 and 10.5 * SR < len(audio) <= 11.1 * SR and audio.dtype == np.float32
    return audio


def check(segments: list[Segment], duration: float) -> None:
    """What every backend must give, whatever its weights."""
    assert isinstance(segments, list)
    previous = 0.0
    for seg in segments:
        assert isinstance(seg, Segment)
        assert isinstance(seg.text, str) and seg.text == seg.text.strip() and seg.text
        assert "<|" not in seg.text and "|>" not in seg.text
        assert 0.0 <= seg.start <= seg.end <= duration + 0.5
        assert seg.start >= previous  # sorted
        previous = seg.start
        word_start = seg.start
        for w in seg.words:
            assert isinstance(w.text, str) and w.text == w.text.strip() and w.text
            assert "<|" not in w.text
            assert 0.0 <= w.start <= w.end <= duration + 0.5
            assert w.start >= word_start
            word_start = w.start
            assert 0.0 <= w.probability <= 1.0


def as_tuples(segments: list[Segment]) -> list[Any]:
    return [(s.start, s.end, s.text, [(w.start, w.end, w.text) for w in s.words]) for s in segments]


# -- openai-whisper ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whisper_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny English-only whisper, saved the way whisper's own checkpoints are. The
    decoder context is 64 tokens (not 448) so that a window decodes in well under a second."""
    torch = pytest.importorskip("torch")
    whisper_model = pytest.importorskip("whisper.model")
    dims = whisper_model.ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=1,
        n_vocab=51864, n_text_ctx=64, n_text_state=64, n_text_head=2, n_text_layer=1,
    )  # fmt: skip
    torch.manual_seed(0)
    model = whisper_model.Whisper(dims)
    # whisper leaves the decoder's positions uninitialised (torch.empty): real checkpoints fill them
    torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
    path = tmp_path_factory.mktemp("openai-whisper") / "tiny-random.pt"
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


@pytest.fixture(scope="module")
def openai_asr(whisper_checkpoint: Path):  # type: ignore[no-untyped-def]
    import models

    return models.create("asr", "openai-whisper", model=str(whisper_checkpoint), temperature=0.0)


def test_openai_whisper_is_lazy_and_named(whisper_checkpoint: Path) -> None:
    import models
    from models.asr_openai_whisper import OpenAIWhisperASR

    assert {"openai-whisper", "transformers-whisper"} <= set(models.available("asr"))
    asr = models.create("asr", "openai-whisper", model=str(whisper_checkpoint))
    assert isinstance(asr, OpenAIWhisperASR) and asr._model is None
    assert asr.model_id == "openai-whisper:tiny-random" and asr.sample_rate == SR and not asr.fp16
    assert OpenAIWhisperASR("tiny.en").model_id == "openai-whisper:tiny.en"
    assert asr.transcribe(np.zeros(800, dtype=np.float32)) == []  # under 0.1 s: nothing to load
    assert asr._model is None


def test_openai_whisper_transcribes_real_speech(openai_asr, jfk: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    audios = [jfk, jfk[: 3 * SR], jfk[:800]]
    results = openai_asr.transcribe_batch(audios)
    assert openai_asr._model is not None
    assert len(results) == 3 and results[2] == []
    for segments, audio in zip(results, audios):
        check(segments, len(audio) / SR)
    assert results[0] and all(seg.words for seg in results[0])  # word_timestamps=True
    assert openai_asr.transcribe(audios[1]) == results[1]  # temperature 0: deterministic


def test_openai_whisper_name_loads_from_the_download_root(whisper_checkpoint: Path, tmp_path: Path) -> None:
    from models.asr_openai_whisper import OpenAIWhisperASR

    shutil.copy(whisper_checkpoint, tmp_path / "tiny.en.pt")  # where whisper would have put it
    asr = OpenAIWhisperASR("tiny.en", download_root=str(tmp_path))
    asr.ensure_loaded()  # other dimensions than the real tiny.en: its alignment heads are skipped
    assert asr._model is not None and asr._model.dims.n_text_state == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.en.pt"]


def test_openai_whisper_missing_weights_are_clear_errors(tmp_path: Path) -> None:
    from models.asr_openai_whisper import OpenAIWhisperASR

    one_second = np.ones(SR, dtype=np.float32)
    with pytest.raises(ModelLoadError, match="no openai-whisper checkpoint") as err:
        OpenAIWhisperASR(str(tmp_path / "nope.pt")).transcribe(one_second)
    assert "\n" not in str(err.value)
    # a model name loads only from the download root, never from the network
    with pytest.raises(ModelLoadError, match="not downloaded") as err:
        OpenAIWhisperASR("tiny.en", download_root=str(tmp_path)).transcribe(one_second)
    assert "\n" not in str(err.value) and not list(tmp_path.iterdir())
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelLoadError, match="cannot load") as err:
        OpenAIWhisperASR(str(broken)).transcribe(one_second)
    assert "\n" not in str(err.value)


# -- transformers Whisper ----------------------------------------------------------------------


def _build_transformers_whisper(folder: Path) -> None:
    """A random tiny Whisper with a byte-level tokenizer written here: 256 byte tokens, a few
    merges, Whisper's special tokens (<|notimestamps|> last) and the 1501 timestamp tokens.
    The generation config suppresses every byte but letters, space, '.' and ',' so that the
    random model writes word-like text (and the words code has spaces to split on)."""
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    import torch

    folder.mkdir(parents=True)
    byte_chars = bytes_to_unicode()
    vocab = {c: i for i, c in enumerate(byte_chars.values())}
    for merge in MERGES:
        vocab.setdefault(merge.replace(" ", ""), len(vocab))
    for special in SPECIALS:
        vocab[special] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(MERGES) + "\n")
    tokenizer = WhisperTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token="<|endoftext|>",
        bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>",
        additional_special_tokens=SPECIALS[1:],
    )  # fmt: skip
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(1501)])
    ids = {s: tokenizer.convert_tokens_to_ids(s) for s in SPECIALS}
    assert ids["<|notimestamps|>"] == max(tokenizer.all_special_ids)
    assert tokenizer.convert_tokens_to_ids("<|30.00|>") == ids["<|notimestamps|>"] + 1501 == len(tokenizer) - 1
    WhisperProcessor(WhisperFeatureExtractor(), tokenizer).save_pretrained(folder)

    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=64, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_source_positions=1500, max_target_positions=48, decoder_start_token_id=sot,
        eos_token_id=eot, pad_token_id=eot, bos_token_id=eot, suppress_tokens=None, begin_suppress_tokens=None,
    )  # fmt: skip
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config)
    allowed = {byte_chars[b] for b in b"abcdefghijklmnopqrstuvwxyz .,"} | {m.replace(" ", "") for m in MERGES}
    suppress = [i for token, i in vocab.items() if i < eot and token not in allowed]
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot, bos_token_id=eot, max_length=48,
        is_multilingual=True, lang_to_id={"<|en|>": ids["<|en|>"]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], prev_sot_token_id=ids["<|startofprev|>"],
        max_initial_timestamp_index=50, alignment_heads=[[0, 0], [0, 1]],
        begin_suppress_tokens=[vocab[byte_chars[ord(" ")]], eot],
        suppress_tokens=suppress + [ids[s] for s in SPECIALS[1:8]],
    )  # fmt: skip
    model.save_pretrained(folder)


def _variant(base: Path, folder: Path, timestamps: bool) -> Path:
    """The same model without alignment heads (segment timestamps only), or without timestamps."""
    shutil.copytree(base, folder)
    path = folder / "generation_config.json"
    config = json.loads(path.read_text())
    del config["alignment_heads"]
    if not timestamps:
        first = config.pop("no_timestamps_token_id") + 1
        config["suppress_tokens"] += list(range(first, first + 1501))
    path.write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def whisper_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("transformers-whisper")
    _build_transformers_whisper(root / "tiny-random")
    return {
        "aligned": root / "tiny-random",
        "segments": _variant(root / "tiny-random", root / "tiny-random-segments", timestamps=True),
        "plain": _variant(root / "tiny-random", root / "tiny-random-plain", timestamps=False),
    }


@pytest.fixture(scope="module")
def hf_asr(whisper_folders: dict[str, Path]):  # type: ignore[no-untyped-def]
    import models

    return models.create("asr", "transformers-whisper", model=str(whisper_folders["aligned"]), batch_size=4)


def test_transformers_whisper_is_lazy_and_named(whisper_folders: dict[str, Path]) -> None:
    import models
    from models.asr_transformers_whisper import TransformersWhisperASR

    asr = models.create("asr", "transformers-whisper", model=str(whisper_folders["aligned"]))
    assert isinstance(asr, TransformersWhisperASR) and asr._model is None
    assert asr.model_id == "transformers-whisper:tiny-random" and asr.dtype == "float32"
    assert TransformersWhisperASR("x", device="cuda").dtype == "float16"
    assert asr.transcribe_batch([np.zeros(800, dtype=np.float32)]) == [[]]
    assert asr._model is None


def test_transformers_whisper_batches_in_one_generate_call(hf_asr, jfk: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """Three inputs: 32 s (two windows), 3 s and 0.05 s. One generate call decodes all three
    windows; the result equals decoding each input alone."""
    hf_asr.ensure_loaded()
    calls: list[int] = []
    generate = hf_asr._model.generate

    def counting(inputs, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(inputs.shape[0])
        return generate(inputs, **kwargs)

    hf_asr._model.generate = counting
    try:
        audios = [np.tile(jfk, 3)[: 32 * SR], jfk[: 3 * SR], jfk[:800]]
        batch = hf_asr.transcribe_batch(audios)
        assert calls == [3]
        alone = [hf_asr.transcribe(a) for a in audios]
    finally:
        del hf_asr._model.generate
    assert len(batch) == 3 and batch[2] == [] == alone[2]
    for got, one, audio in zip(batch, alone, audios):
        check(got, len(audio) / SR)
        assert as_tuples(got) == as_tuples(one)
        probs = [w.probability for s in got for w in s.words]
        assert probs == pytest.approx([w.probability for s in one for w in s.words], abs=1e-5)
    assert batch[0] and batch[1] and all(seg.words for seg in batch[0] + batch[1])
    assert any(seg.start >= 20.0 for seg in batch[0])  # the second window's times are offset


@pytest.mark.parametrize("variant", ["segments", "plain"])
def test_transformers_whisper_without_alignment_heads_spreads_words(
    whisper_folders: dict[str, Path], jfk: np.ndarray, variant: str
) -> None:
    from models.asr_transformers_whisper import TransformersWhisperASR

    asr = TransformersWhisperASR(str(whisper_folders[variant]))
    audio = jfk[: 3 * SR]
    segments = asr.transcribe(audio)
    check(segments, 3.0)
    assert segments
    if variant == "plain":  # no timestamp tokens: the window is one segment
        assert len(segments) == 1 and (segments[0].start, segments[0].end) == (0.0, 3.0)
    for seg in segments:  # words tile their segment in order
        assert seg.words[0].start == seg.start and seg.words[-1].end == pytest.approx(seg.end, abs=2e-3)
        for a, b in zip(seg.words, seg.words[1:]):
            assert b.start == pytest.approx(a.end, abs=2e-3)


def test_transformers_whisper_reads_timestamps_words_and_split_characters(hf_asr) -> None:  # type: ignore[no-untyped-def]
    """Whisper's layout <|0.00|> hello,<|1.00|><|1.00|> café<|2.00|><|endoftext|>, where 'é' is
    two byte tokens (each alone decodes to U+FFFD)."""
    hf_asr.ensure_loaded()
    tok = hf_asr._processor.tokenizer
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    chars = bytes_to_unicode()

    def text_ids(text: str) -> list[int]:
        return [tok.convert_tokens_to_ids(chars[b]) for b in text.encode()]

    def stamp(t: float) -> int:
        return tok.convert_tokens_to_ids(f"<|{t:.2f}|>")

    head = [tok.convert_tokens_to_ids(s) for s in ("<|startoftranscript|>", "<|en|>", "<|transcribe|>")]
    ids = head + [stamp(0)] + text_ids(" hello,") + [stamp(1), stamp(1)] + text_ids(" café") + [stamp(2)]
    ids += [tok.convert_tokens_to_ids("<|endoftext|>")] * 2
    assert tok.decode(text_ids(" café")[-1:]) == "\ufffd"
    assert hf_asr._prompt_length(ids) == 3
    probs = [0.5] * len(ids)

    spread = hf_asr._reader.segments(ids, 3, probs, None, 5.0)
    assert [(s.start, s.end, s.text) for s in spread] == [(0.0, 1.0, "hello,"), (1.0, 2.0, "café")]
    assert [[w.text for w in s.words] for s in spread] == [["hello,"], ["café"]]
    assert spread[1].words[0].probability == pytest.approx(0.5)

    times = [0.1 * i for i in range(len(ids))]  # token i at 0.1 i s: a word ends where the next token starts
    aligned = hf_asr._reader.segments(ids, 3, probs, times, 5.0)
    hello, cafe = (s.words[0] for s in aligned)
    first = ids.index(text_ids(" hello,")[0])
    assert (hello.start, hello.end) == pytest.approx((0.1 * first, 0.1 * (first + 7)))
    assert cafe.text == "café" and cafe.end == pytest.approx(0.1 * (ids.index(stamp(2))))
    assert [(s.start, s.end) for s in aligned] == [(hello.start, hello.end), (cafe.start, cafe.end)]


def test_split_windows_cut_at_a_quiet_point() -> None:
    from models.asr_transformers_whisper import split_windows

    rng = np.random.default_rng(0)
    audio = rng.normal(0, 0.1, 70 * SR).astype(np.float32)
    audio[int(24.5 * SR) : int(24.6 * SR)] = 0.0  # a pause
    spans = split_windows(audio, SR)
    assert spans[0] == (0, spans[1][0]) and spans[-1][1] == len(audio)
    assert all(a == b for (_, a), (b, _) in zip(spans, spans[1:]))  # contiguous
    assert all(0 < e - s <= 30 * SR for s, e in spans)
    assert 24.5 * SR <= spans[0][1] <= 24.6 * SR
    assert split_windows(audio[: 30 * SR], SR) == [(0, 30 * SR)]


def test_transformers_whisper_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    from models.asr_transformers_whisper import TransformersWhisperASR

    one_second = np.ones(SR, dtype=np.float32)
    with pytest.raises(ModelLoadError, match="no Whisper model folder") as err:
        TransformersWhisperASR(str(tmp_path / "missing")).transcribe(one_second)
    assert "\n" not in str(err.value)
    with pytest.raises(ModelLoadError, match="config.json missing"):
        TransformersWhisperASR(str(tmp_path)).transcribe(one_second)
