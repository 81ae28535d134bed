"""The iterative retrieval agent: plan, call tools over the memory, observe, answer with citations.

Each round the planner (retrieval/planners.py) chooses tool calls; their results (memories with a
source and a span) are collected, duplicates of earlier rounds dropped; when the planner has
nothing more to do, the rounds or the time / token budget run out, the answer step
(retrieval/answering.py) picks the evidence the way the question asks and answers with the span
of it that answers the question — or says "Not found in memory." when nothing supports one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from memory import keywords
from models.base import TextEmbedder
from retrieval import guard
from retrieval.answer import NOT_FOUND, Retriever
from retrieval.answering import AnswerStep
from retrieval.planners import _GENERIC, Action, AgentOptions, ModelPlanner, Planner, RulePlanner, State, Step, parse_action
from retrieval.question import SCREEN_NOUNS, Question, parse
from retrieval.records import Answer
from retrieval.tools import MemoryTools, ToolCallError, ToolResult

__all__ = ["Action", "Agent", "AgentOptions", "ModelPlanner", "Planner", "RulePlanner", "State", "Step", "parse_action"]


class _CachedEmbedder:
    """One question's snippets are embedded once, however many rounds rank them."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if todo:
            for t, v in zip(todo, self.embedder.embed_batch(todo)):
                self.cache[t] = v
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


class Agent(AnswerStep):
    def __init__(self, tools: MemoryTools, retriever: Retriever, planner: Planner | None = None,
                 options: AgentOptions = AgentOptions(), now: float | None = None) -> None:
        """``now``: the wall-clock "today" of the question (default: the clock)."""
        self.tools = tools
        self.retriever = retriever
        self.planner = planner or RulePlanner(options.anchor_window)
        self.options = options
        self.now = now

    def ask(self, question: str) -> Answer:
        began = time.perf_counter()
        text = " ".join(question.split())
        if not text:
            raise ValueError("the question is empty")
        q = parse(text, self.tools.people, self.now if self.now is not None else time.time())
        state = State(q, visual=self.tools.image is not None and "visual" in self.tools.store.vector_specs())
        steps: list[Step] = [Step("plan", 0, {"planner": self.planner.name, "question": q.to_json()})]
        if self.tools.store.count(self.tools._scope()) == 0:
            return Answer(NOT_FOUND, (), 0, "not_found", "nothing is indexed in the requested scope", tuple(steps))
        if q.nth is not None:  # "the second person on camera": who that is, and when they were there
            state.nth = self.tools.nth_person(q.nth.n, q.nth.modality)
            if state.nth is None:
                return Answer(NOT_FOUND, (), 0, "not_found", f"memory holds no '{q.nth.phrase}'", tuple(steps))
            steps.append(Step("observation", 0, {"nth": q.nth.phrase, "person": state.nth[0],
                                                 "spans": [list(x) for x in state.nth[2][:6]]}))
        embed = _CachedEmbedder(self.retriever.embedder)
        # names are matched by who said what (the person filter and bonus), not as words to find
        rank_text = _without(q.text, q.named)
        qvec = self.tools.vector(rank_text)
        named = set(q.entity_ids)
        note = ""
        for round_ in range(1, self.options.rounds + 1):
            # the first round always runs: a budget spent loading models on a busy machine must
            # not turn into "Not found in memory" for memory never searched
            if round_ > 1 and time.perf_counter() - began > self.options.max_seconds:
                note = f"time budget ({self.options.max_seconds:g} s) spent after {round_ - 1} rounds"
                break
            state.round = round_
            actions = self.planner.next(state)
            steps.extend(getattr(self.planner, "steps", ()))
            if hasattr(self.planner, "steps"):
                self.planner.steps.clear()  # type: ignore[attr-defined]
            if not actions or all(a.tool == "answer" for a in actions):
                break
            before_round = len(state.hits)
            for action in actions:
                state.done.append(action)
                steps.append(Step("call", round_, action.to_json()))
                try:
                    result = self.tools.call(action.tool, action.args)
                except ToolCallError as exc:  # only models make these; rule calls are checked by tests
                    steps.append(Step("error", round_, {"tool": action.tool, "error": str(exc)}))
                    continue
                fresh = [h for h in result.hits if h.id not in state.hits]
                for h in result.hits:
                    state.hits.setdefault(h.id, h)
                state.results.append((action, result))
                seen_before = {i.memory_id for i in result.items} - {h.id for h in fresh}
                steps.append(Step("observation", round_, {
                    "tool": action.tool, "seconds": round(result.seconds, 4),
                    "items": [i.to_json() for i in result.items if i.memory_id not in seen_before or i.kind in ("entity", "source")],
                    "repeated": len(seen_before), **({"note": result.note} if result.note else {}),
                }))
                if q.hop is not None and not state.hop_searched and action.args.get("query") == q.hop:
                    state.hop_searched = True
                    state.hop = self._hop_person(q, result, embed)
                    if state.hop:
                        steps.append(Step("observation", round_, {"person": state.hop[0], "ids": list(state.hop[1])}))
                if q.anchor is not None and not state.anchor_searched and action.args.get("query") == q.anchor.phrase:
                    state.anchor_searched = True
                    state.anchor = self._anchor_moment(q, qvec, result, embed)
                    if state.anchor:
                        steps.append(Step("observation", round_, {"anchor": list(state.anchor)}))
                        if q.anchor.relation == "during" and _asks_something(q.topic):
                            # every moment around the anchor matches the anchor's words alike ("while
                            # the song played": "song" ~ "Musicali"): what is asked ranks them
                            rank_text = _without(q.topic, q.named)
                            qvec = self.tools.vector(rank_text)
                    elif q.anchor.edge is not None:
                        # "when the green clip started": nothing in memory describes the clip, but its
                        # start is the first of the moments the question asks about (its end the last)
                        edge = q.anchor
                        q = replace(q, anchor=None, order=edge.edge)
                        state.question, state.edge = q, edge.edge
                        note = f"no moment matches '{edge.phrase}', an edge of a part of the recording: the {edge.edge} moment it asks about"
                        steps.append(Step("observation", round_, {"edge": edge.edge, "unmatched": edge.phrase}))
            state.ranked = self.retriever.rank(rank_text, qvec, list(state.hits.values()), self.tools.before, named,
                                               q.history, embed)
            if round_ > 1 and len(state.hits) == before_round:
                break  # the round found nothing new: more searching will not change the answer
        answer = guard.vet(self._answer(q, state), q.text, state.ranked, self.retriever.options.min_relevance)
        rounds = max((s.round for s in steps if s.type == "call"), default=0)
        extra = "; ".join(x for x in (answer.note, note) if x)
        errors = getattr(self.planner, "errors", 0)
        if errors:
            extra += f"; {errors} model mistake(s) fed back"
        final = Answer(answer.answer, answer.evidence, rounds, answer.mode, extra, ())
        steps.append(Step("answer", rounds, {**final.to_json(), "seconds": round(time.perf_counter() - began, 3)}))
        return Answer(final.answer, final.evidence, rounds, final.mode, final.note, tuple(steps))

    # -- anchors -----------------------------------------------------------------------------

    def _anchor_moment(self, q: Question, qvec: np.ndarray, result: ToolResult, embed: _CachedEmbedder) -> tuple[str, float, float] | None:
        """The snippet that best matches the anchor phrase ("the break", "Dana spoke")."""
        assert q.anchor is not None
        phrase = q.anchor.phrase
        named = {i for n, ids in q.named.items() if n in phrase.lower() for i in ids}
        ranked = self.retriever.rank(phrase, self.tools.vector(phrase), list(result.hits), self.tools.before, named,
                                     embed=embed)
        ranked = [s for s in ranked if s.relevance >= self.retriever.options.min_relevance]
        if not ranked:
            return None
        best = ranked[0]
        if q.anchor.modality:  # "when X was said": the moment is speech ("when X was shown": the screen),
            kind = [s for s in ranked if s.snippet.modality == q.anchor.modality]  # unless that is a poor match
            if kind and kind[0].relevance >= best.relevance - self.options.anchor_margin:
                best = kind[0]
        return best.hit.record.source_id, best.snippet.start, best.snippet.end

    def _hop_person(self, q: Question, result: ToolResult, embed: _CachedEmbedder) -> tuple[str, tuple[str, ...], str] | None:
        """Who did what the question describes ("the woman who mentioned the invoice"): the
        speaker of the sentence that best matches it, with every id of their person."""
        assert q.hop is not None
        ranked = self.retriever.rank(q.hop, self.tools.vector(q.hop), list(result.hits), self.tools.before, embed=embed)
        spoken = [s for s in ranked if s.snippet.speaker and s.relevance >= self.retriever.options.min_relevance]
        if not spoken:
            return None
        best = spoken[0]
        speaker = best.snippet.speaker
        assert speaker is not None
        return speaker, self.tools.resolve([speaker]), best.snippet.text

    # -- the answer --------------------------------------------------------------------------


def _asks_something(topic: str) -> bool:
    """The topic says what is asked ("what band name was on the album cover"), beyond the words
    every such question has ("what was on screen", "what was on the slide")."""
    return bool(keywords.terms(topic) - _GENERIC - keywords.terms(" ".join(SCREEN_NOUNS)))


def _without(text: str, names: Mapping[str, object]) -> str:
    """The text to rank memories by: names are matched by who said what (the person filter and
    bonus), not as words to find."""
    for name in names:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text, flags=re.I)
    return " ".join(text.split())
