"""The bundled SmolLM2-135M GGUF through transformers, dequantised once into a cache."""

import time

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

    began = time.perf_counter()
    again = models.create("llm", "transformers", cache_dir=str(tmp_path))
    assert again.generate(question, max_new_tokens=32) == reply  # greedy: same answer
    assert again._dequantised_dir() == cached[0]
    assert time.perf_counter() - began < 60  # sanity bound, not a benchmark: no second dequantise
