"""The bundled SmolLM2-135M GGUF through transformers, dequantised once into a cache."""

import pytest

from models.base import ChatMessage


def test_smollm2_answers_from_memory_and_caches_weights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import models

    llm = models.create("llm", "transformers", cache_dir=str(tmp_path))
    question = [
        ChatMessage("system", "Answer the question using only the memories. Reply with one short sentence."),
        ChatMessage(
            "user",
            "Memories:\n- Alice parked the car in the north garage on level three.\n"
            "- Bob bought bread at the bakery.\n\nQuestion: Where did Alice park?",
        ),
    ]
    reply = llm.generate(question, max_new_tokens=32)
    assert "garage" in reply.lower()
    cached = list(tmp_path.iterdir())
    assert len(cached) == 1 and (cached[0] / "config.json").is_file()
    assert not any(p.name.startswith(".partial") for p in tmp_path.iterdir())

    written = {p: p.stat().st_mtime_ns for p in cached[0].iterdir()}
    again = models.create("llm", "transformers", cache_dir=str(tmp_path))
    assert again.generate(question, max_new_tokens=32) == reply  # greedy: same answer
    assert again._dequantised_dir() == cached[0]
    assert {p: p.stat().st_mtime_ns for p in cached[0].iterdir()} == written  # read, not dequantised again


def test_the_kept_system_prompt_cache_changes_no_score_and_no_reply() -> None:
    """The system message's KV cache is computed once and reused: every choice scores as a plain
    forward pass over the whole prompt and the choice scores it, and replies stay the same."""
    import torch

    import models

    llm = models.create("llm", "transformers")  # the user's cache: dequantised once there
    system = ChatMessage("system", "You choose the next step to answer a question from memories. Reply with JSON.")
    choices = ['{"tool": "search", "args": {"query": "garage"}}', '{"tool": "answer", "args": {}}']

    def plain(conversation: list[ChatMessage]) -> list[float]:
        model, tok = llm._load()
        messages = [{"role": m.role, "content": m.content} for m in conversation]
        prompt = tok.apply_chat_template(messages, add_generation_prompt=True)
        out = []
        for c in choices:
            ids = tok(c, add_special_tokens=False)["input_ids"]
            with torch.inference_mode():
                logits = model(input_ids=torch.tensor([prompt + ids])).logits[0]
            logp = torch.log_softmax(logits.float(), dim=-1)
            out.append(sum(float(logp[len(prompt) - 1 + k, t]) for k, t in enumerate(ids)) / len(ids))
        return out

    for user in ("Question: where did Alice park?\nNothing searched yet.",
                 "Question: who bought bread?\nBest memories found:\n- Bob bought bread at the bakery."):
        conversation = [system, ChatMessage("user", user)]
        got = llm.score_choices(conversation, choices)
        assert got == pytest.approx(plain(conversation), abs=1e-4)
    assert list(llm._heads) == [system.content]  # one head, kept across questions

    memories = [system, ChatMessage("user", "Memories:\n- Alice parked in the north garage.\n\nQuestion: Where did Alice park?")]
    kept = llm.generate(memories, max_new_tokens=16)  # the head is kept: reused here
    llm._heads.clear()
    model, tok = llm._load()
    encoded = tok.apply_chat_template([{"role": m.role, "content": m.content} for m in memories],
                                      add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        out = model.generate(**encoded, max_new_tokens=16, do_sample=False, pad_token_id=tok.eos_token_id)
    assert kept == tok.decode(out[0][encoded["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def test_one_line_stops_at_the_first_finished_line_and_keeps_its_words() -> None:
    """``generate_line`` stops writing after the first line; greedy decoding gives that line the
    same words as a full reply's first line."""
    import models

    llm = models.create("llm", "transformers")
    conversation = [
        ChatMessage("system", "You are a helpful assistant."),
        ChatMessage("user", "Name three fruits, each on its own line, with one sentence about each."),
    ]
    full = llm.generate(conversation, max_new_tokens=48).strip()
    assert "\n" in full  # the prompt makes the model write several lines
    line = llm.generate_line(conversation, max_new_tokens=48)
    assert line and line == full.splitlines()[0].strip()
