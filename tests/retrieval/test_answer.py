"""Answer composition: grounded LLM replies are kept, unsupported ones are replaced by quotes,
and a question about nothing in memory gets an honest "not found" (real MiniLM, real Qdrant)."""

import pytest

from memory.records import MemoryRecord, Snippet
from memory.store import Scope, open_store
from retrieval.answer import NOT_FOUND, Retriever
from tests.fakes import ScriptedLLM

SNIPPETS = [
    (8.7, 14.6, "Globex has not paid its invoice yet, it is due on March 14th.", "speech"),
    (8.0, 18.0, "Invoice #4471 - Globex", "screen"),
    (40.7, 44.3, "Priya will send the revised contract to Globex by Friday.", "speech"),
    (33.1, 38.0, "Please park in the north garage on level three.", "speech"),
]


@pytest.fixture
def store(tmp_path, embedder):  # type: ignore[no-untyped-def]
    records = []
    for start in (0.0, 30.0):
        snips = tuple(Snippet(a, b, t, m) for a, b, t, m in SNIPPETS if start <= a < start + 30)
        text = " ".join(s.text for s in snips)
        records.append(MemoryRecord("episodic", "clip", "src", start, start + 30, text, "/v/meeting.mp4", snippets=snips))
    with open_store(tmp_path, embedder.model_id, embedder.dim) as s:
        s.upsert(records, embedder.embed_batch([r.text for r in records]))
        yield s


def test_supported_reply_is_kept_with_sentence_level_citations(store, embedder) -> None:  # type: ignore[no-untyped-def]
    llm = ScriptedLLM(["Priya will send it by Friday."])
    answer = Retriever(store, embedder, llm).ask("Who will send the revised contract?")
    assert answer.mode == "llm" and answer.answer == "Priya will send it by Friday."
    top = answer.evidence[0]
    assert (top.start, top.end, top.modality) == (40.7, 44.3, "speech")
    assert top.path == "/v/meeting.mp4" and top.kind == "episodic" and top.memory_id
    assert "revised contract" in llm.seen[0][1].content  # the evidence reached the model


def test_made_up_numbers_are_not_passed_off_as_answers(store, embedder) -> None:  # type: ignore[no-untyped-def]
    llm = ScriptedLLM(["The invoice is due on March 14th, 2023."])  # 2023 is nowhere in memory
    answer = Retriever(store, embedder, llm).ask("When is the Globex invoice due?")
    assert answer.mode == "extractive"
    assert "March 14th" in answer.answer and "2023" not in answer.answer
    assert "not supported" in answer.note


def test_no_llm_quotes_the_evidence_and_says_so(store, embedder) -> None:  # type: ignore[no-untyped-def]
    answer = Retriever(store, embedder, None, llm_unavailable="no language model configured").ask("invoice number?")
    assert answer.mode == "extractive" and "4471" in answer.answer
    assert answer.note == "no language model configured"


def test_question_about_nothing_indexed_is_not_found(store, embedder) -> None:  # type: ignore[no-untyped-def]
    llm = ScriptedLLM([])
    for q in ("What is the capital of France?", "Who won the football match?"):
        answer = Retriever(store, embedder, llm).ask(q)
        assert (answer.answer, answer.evidence, answer.mode) == (NOT_FOUND, (), "not_found")
    assert llm.seen == []  # the model is not even asked


def test_before_hides_later_moments(store, embedder) -> None:  # type: ignore[no-untyped-def]
    answer = Retriever(store, embedder, None).ask("Who will send the revised contract?", Scope(before=30.0))
    assert all(e.start < 30.0 for e in answer.evidence)
    assert not any("Priya" in e.text for e in answer.evidence)


def test_invented_contrasts_are_rejected(store, embedder) -> None:  # type: ignore[no-untyped-def]
    llm = ScriptedLLM(["The contract will be sent by Globex, not by Priya."])
    answer = Retriever(store, embedder, llm).ask("Who will send the revised contract?")
    assert answer.mode == "extractive" and "Priya will send" in answer.answer


def test_when_questions_prefer_snippets_with_dates(embedder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    snips = (
        Snippet(1.0, 4.0, "Globex invoice due soon.", "speech"),
        Snippet(5.0, 8.0, "The Globex invoice is due on March 14th.", "speech"),
    )
    record = MemoryRecord("episodic", "clip", "s", 0.0, 30.0, " ".join(s.text for s in snips), "/v.mp4", snippets=snips)
    with open_store(tmp_path, embedder.model_id, embedder.dim) as s:
        s.upsert([record], embedder.embed_batch([record.text]))
        answer = Retriever(s, embedder, None).ask("When is the Globex invoice due?")
    assert answer.evidence[0].text == "The Globex invoice is due on March 14th."



@pytest.mark.parametrize("typed, verbatim, note", [(True, False, "of a type the evidence does not hold"),
                                                   (False, True, "asks for the recorded words")])
def test_a_quote_the_model_is_not_asked_to_rewrite(store, embedder, typed, verbatim, note) -> None:  # type: ignore[no-untyped-def]
    """No span of the asked type (a name, a time, a number) in the evidence: a model could only
    invent one; "what was said about X": the words are the answer. Both quote, and the model is
    not called."""
    llm = ScriptedLLM([])  # a call would fail: nothing is scripted
    retriever = Retriever(store, embedder, llm)
    question = "Who parks in the north garage?"
    qvec = embedder.embed(question)
    chosen = retriever.rank(question, qvec, store.search(qvec, question, Scope(), 6), None)[:2]
    text, mode, said = retriever.compose(question, chosen, verbatim=verbatim, typed=typed)
    assert mode == "extractive" and note in said and not llm.seen
    assert text.startswith("From memory: ") and chosen[0].snippet.text in text
    # the same evidence, neither: the model is asked (its reply is checked against the evidence)
    model = ScriptedLLM(["Visitors park in the north garage."])
    Retriever(store, embedder, model).compose(question, chosen)
    assert len(model.seen) == 1
