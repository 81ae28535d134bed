"""The planners of the retrieval agent (retrieval/agent.py), and the typed steps they work on.

- :class:`RulePlanner` — no model: several rounds from the question's people, time words and
  keywords (look the person up, search, find the anchor moment, search after / before it, zoom
  into a coarse episode, read the moments around the best evidence).
- :class:`ModelPlanner` — an LLM chooses the next call. A model that can score its choices (the
  local transformers backend) picks among valid candidate calls by likelihood, so even the 135M
  default never writes a broken action; a server model writes a JSON action, which is repaired
  when it can be, and its mistakes (unparseable, unknown tool, bad arguments) are fed back and
  counted, falling back to the rule planner's proposal after ``max_errors``.

Every step (plan, call, observation, error, answer) is a typed record, serialisable to JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from memory import keywords
from memory.store import Hit
from retrieval import guard
from models.base import LLM, ChatMessage
from retrieval import cloze
from retrieval.answer import Scored
from retrieval.question import Question
from retrieval.tools import SPECS, ToolCallError, ToolResult, check_call

_COARSE = ("scene", "hour", "day")
# words that say what kind of thing is asked, not what about ("what was said after the break?")
_GENERIC = keywords.terms("what was said happened shown screen there they then did do say talk talked mentioned "
                          "who when where how next anything something else many times often number")


@dataclass(frozen=True)
class AgentOptions:
    rounds: int = 5  # at most this many rounds of tool calls
    max_seconds: float = 30.0  # time budget: no new round starts after this (the first always runs)
    max_llm_tokens: int = 6000  # token budget of the planner's prompts and replies (estimated)
    max_errors: int = 2  # model mistakes in one round before the rule planner's call is used
    anchor_window: float = 15.0  # "what was shown when X was said": seconds around the moment
    anchor_margin: float = 0.15  # an anchor of the modality the question names may score this much less
    count_gap: float = 5.0  # mentions closer than this are one occurrence
    count_limit: int = 40  # memories read when counting
    order_margin: float = 0.25  # "first" / "last" choose among snippets this close to the best
    modality_bonus: float = 0.15  # the snippet is of the modality asked for (shown / said)
    relevant_margin: float = 0.35  # a counted occurrence scores this close to the best
    span_margin: float = 0.2  # spans are also looked for in snippets this close to the best evidence
    span_pieces: int = 5  # at most this many snippets are read for a span
    number_window: float = 10.0  # "how many X": sentences said this close to the best one are candidates too


@dataclass(frozen=True)
class Action:
    tool: str  # a tool name, or "answer"
    args: Mapping[str, Any] = field(default_factory=dict)
    why: str = ""
    required: bool = False  # the question's structure needs it (an anchor, a count): no model choice

    def key(self) -> str:
        return json.dumps([self.tool, dict(self.args)], sort_keys=True, default=str)

    def to_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": dict(self.args), **({"why": self.why} if self.why else {})}


@dataclass(frozen=True)
class Step:
    """One step of the loop: ``type`` is plan, call, observation, error or answer."""

    type: str
    round: int
    content: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "round": self.round, **self.content}


@dataclass
class State:
    """What the planner sees: the question, what was done, what was found."""

    question: Question
    round: int = 0
    done: list[Action] = field(default_factory=list)
    results: list[tuple[Action, ToolResult]] = field(default_factory=list)
    hits: dict[str, Hit] = field(default_factory=dict)  # every memory collected, by id
    ranked: list[Scored] = field(default_factory=list)  # the snippets so far, best first
    anchor: tuple[str, float, float] | None = None  # (source, start, end) of the anchor moment
    anchor_searched: bool = False
    edge: str | None = None  # the anchor, unmatched, was the start ("first") or end ("last") of a part of the recording
    hop: tuple[str, tuple[str, ...], str] | None = None  # (speaker, all their entity ids, the snippet) of a hop
    hop_searched: bool = False
    nth: tuple[str, tuple[str, ...], tuple[tuple[str, float, float], ...]] | None = None  # "the second person": (label, ids, spans)
    visual: bool = False  # an image model made the store's keyframe vectors: search_visual can help

    def did(self, action: Action) -> bool:
        return any(a.key() == action.key() for a in self.done)


class Planner(Protocol):
    name: str

    def next(self, state: State) -> list[Action]:
        """The calls of the next round; an empty list (or an ``answer`` action) ends the loop."""


# -- the rule planner ------------------------------------------------------------------------


class RulePlanner:
    """Rounds from the question's structure alone (no model)."""

    name = "rules"

    def __init__(self, window: float = AgentOptions.anchor_window) -> None:
        self.window = window

    def proposals(self, state: State) -> list[Action]:
        """Every useful call not made yet, most useful first."""
        q = state.question
        out: list[Action] = []
        wall = {"wall_start": q.wall[0], "wall_end": q.wall[1]} if q.wall else {}
        if state.round == 1 or not state.done:
            for name in q.named:
                out.append(Action("lookup_entity", {"name": name}, "the question names this person"))
            if state.nth is not None:
                for source, a, b in state.nth[2][:6]:
                    out.append(Action("read_span", {"source": source, "start": max(0.0, a - 1.0), "end": b + 1.0},
                                      f"what was said and shown while {q.nth.phrase if q.nth else 'they'} appeared", True))
            out.append(Action("search_episodic", {"query": q.topic, **wall}, "what the question is about", True))
            gap = cloze.of(q.text)
            if gap is not None:
                out.append(Action("search_episodic", {"query": gap.query, **wall}, "where the quoted words were said or shown", True))
            if q.summary:
                out.append(Action("search_episodic", {"query": q.topic, "level": "scene", "limit": 4, **wall},
                                  "the summaries of the parts it is about", True))
            if q.hop is not None:
                out.append(Action("search_episodic", {"query": q.hop, "limit": 4, **wall},
                                  f"find who {q.hop}", True))
            if q.anchor is not None:
                out.append(Action("search_episodic", {"query": q.anchor.phrase, "limit": 4, **wall},
                                  f"find the moment '{q.anchor.phrase}'", True))
            if state.visual and q.shown:
                out.append(Action("search_visual", {"query": q.topic}, "keyframes that look like it"))
            if q.anchor is None and not q.count and not q.order:
                out.append(Action("search_semantic", {"query": q.topic, **({"history": True} if q.history else {})},
                                  "facts about it"))
        else:
            if q.hop is not None and state.hop is not None:
                speaker, _, _ = state.hop
                out.append(Action("search_episodic", {"query": q.topic, "entities": [speaker], **wall},
                                  f"what {speaker} said and did", True))
            if q.anchor is not None and state.anchor is not None:
                source, a, b = state.anchor
                rel = q.anchor.relation
                if rel == "during":
                    w = self.window
                    out.append(Action("read_span", {"source": source, "start": max(0.0, a - w), "end": b + w},
                                      "what was said and shown around that moment", True))
                else:
                    span = {"start": b} if rel == "after" else {"end": a}
                    out.append(Action("search_episodic", {"query": q.topic, "sources": [source], **span, **wall},
                                      f"{rel} the anchor moment at {a:.1f} s", True))
            unseen = _unseen_names(q, state)
            if unseen:
                out.append(Action("search_episodic", {"query": " ".join(unseen), "limit": 4, **wall},
                                  "the best matches show none of the names the question gives", True))
            if q.count or q.order:
                out.append(Action("search_episodic", {"query": q.topic, "level": "clip", "limit": 40 if q.count else 24, **wall},
                                  "every moment it comes up" if q.count else "all the moments, to order them", True))
            coarse = [s for s in state.ranked[:3] if s.hit.record.level in _COARSE and s.hit.record.children]
            if coarse:
                out.append(Action("zoom", {"memory_id": coarse[0].hit.id}, "the best match is a summary: read its parts"))
            if state.ranked and (q.named or q.shown or q.said or q.wants == "name"):
                best = state.ranked[0]
                s = best.snippet
                out.append(Action("read_span", {"source": best.hit.record.source_id, "start": max(0.0, s.start - 5.0),
                                                "end": s.end + 5.0}, "who spoke and what was shown around the best match"))
        return [a for a in out if not state.did(a)]

    def next(self, state: State) -> list[Action]:
        return self.proposals(state)


def _unseen_names(q: Question, state: State, best: int = 3) -> list[str]:
    """The names and codes of the question ("the Apple entry", "episode FS210") that none of the
    best on-screen matches shows: the captures that match the rest of the question better are
    about something else, so the names are searched on their own. Speech is not checked (a
    sentence about a person need not say the name)."""
    top = [s for s in state.ranked[:best] if s.snippet.modality == "screen"]
    if not q.key_terms or not top:
        return []
    return [t for t in q.key_terms if not any(shows(t, s.snippet.text) for s in top)]


def shows(term: str, text: str) -> bool:
    """The name or code is written in the on-screen text as a word of its own ("Apple", not
    "Apply": a screen's text is read, not heard, so no sound-alike stands in for it)."""
    return re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE) is not None


# -- the model planner -----------------------------------------------------------------------


_SYSTEM = (
    "You search a memory of recordings to answer a question. Choose the next step.\n"
    "Tools:\n{tools}\n- answer() — stop searching: the memories found answer the question.\n"
    'Reply with one JSON object: {{"tool": NAME, "args": {{...}}}}.\n'
    + guard.DATA_RULE.replace("{", "{{").replace("}", "}}")
)


def _summary(state: State, width: int = 90, n: int = 4) -> str:
    if not state.results:
        return "Nothing searched yet."
    lines = [f"Calls so far: {'; '.join(f'{a.tool}({json.dumps(dict(a.args))})' for a in state.done)}"]
    if state.ranked:
        lines.append("Best memories found:")
        found = []
        for s in state.ranked[:n]:
            r = s.hit.record
            text = s.snippet.text if len(s.snippet.text) <= width else s.snippet.text[:width] + "…"
            found.append(f"- [{r.level} {r.source_id} {s.snippet.start:.0f}-{s.snippet.end:.0f}s id={s.hit.id}] {text}")
        lines.append(guard.data_block(found))
    else:
        lines.append("Nothing relevant found yet.")
    return "\n".join(lines)


def parse_action(text: str) -> Action:
    """A model's reply → an action, repairing what can be repaired (code fences, single quotes,
    trailing commas, a missing closing brace, a bare tool name). Raises ToolCallError."""
    reply = text.strip()
    reply = re.sub(r"^```(?:json)?\s*|\s*```$", "", reply)
    start = reply.find("{")
    if start < 0:
        name = re.match(r"\s*([a-z_]+)\s*(\(\s*\))?\s*$", reply)
        if name and (name.group(1) == "answer" or name.group(1) in {s.name for s in SPECS}):
            return Action(name.group(1))
        raise ToolCallError(f"the reply is not a JSON action: {reply[:80]!r}")
    body = reply[start:]
    depth = 0
    for i, ch in enumerate(body):  # the first balanced object
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            body = body[: i + 1]
            break
    else:
        body += "}" * depth
    candidates = [body, re.sub(r",\s*([}\]])", r"\1", body)]
    candidates.append(re.sub(r"'", '"', candidates[-1]))
    for c in candidates:
        try:
            data = json.loads(c)
            break
        except json.JSONDecodeError:
            continue
    else:
        raise ToolCallError(f"the reply is not valid JSON: {body[:80]!r}")
    if not isinstance(data, dict):
        raise ToolCallError("the action must be a JSON object")
    tool = data.get("tool") or data.get("name") or data.get("action")
    if not isinstance(tool, str):
        raise ToolCallError('the action has no "tool"')
    args = data.get("args", data.get("arguments", {}))
    if not isinstance(args, dict):
        raise ToolCallError('"args" must be an object')
    return Action(tool.strip().removesuffix("()"), args)


class ModelPlanner:
    """An LLM chooses each round's call; the rule planner proposes the candidates."""

    def __init__(self, llm: LLM, options: AgentOptions = AgentOptions()) -> None:
        self.llm = llm
        self.options = options
        self.rules = RulePlanner(options.anchor_window)
        self.name = f"model:{llm.model_id}"
        self.tokens = 0  # estimated prompt + reply tokens spent
        self.errors = 0  # model mistakes (fed back to it)
        self.steps: list[Step] = []  # errors and fallbacks, for the trace

    def _conversation(self, state: State) -> list[ChatMessage]:
        tools = "\n".join(f"- {s.describe()}" for s in SPECS)
        user = f"Question: {state.question.text}\n{_summary(state)}\nNext step:"
        return [ChatMessage("system", _SYSTEM.format(tools=tools)), ChatMessage("user", user)]

    def _spend(self, *texts: str) -> None:
        self.tokens += sum(len(t) for t in texts) // 4 + 1

    def next(self, state: State) -> list[Action]:
        proposals = self.rules.proposals(state)
        if state.round == 1:  # the first round needs no choice: search what the question is about
            return proposals
        required = [a for a in proposals if a.required]
        optional = [a for a in proposals if not a.required]
        if not optional:
            return required  # nothing to choose (an empty list: nothing left that could add evidence)
        if self.tokens >= self.options.max_llm_tokens:
            self.steps.append(Step("plan", state.round, {"note": "token budget spent: answering"}))
            return required
        conversation = self._conversation(state)
        if self.llm.can_score:
            choices = [*optional, Action("answer")]
            rendered = [json.dumps({"tool": a.tool, "args": dict(a.args)}) for a in choices]
            self._spend(*(m.content for m in conversation), *rendered)
            scores = self.llm.score_choices(conversation, rendered)
            chosen = choices[int(np.argmax(scores))]
            self.steps.append(Step("plan", state.round, {
                "planner": self.name, "chose": chosen.to_json(),
                "scores": {r: round(s, 3) for r, s in zip(rendered, scores)},
            }))
            return required + ([] if chosen.tool == "answer" else [chosen])
        return required + self._generate(state, conversation, optional)

    def _generate(self, state: State, conversation: list[ChatMessage], proposals: list[Action]) -> list[Action]:
        for _ in range(self.options.max_errors + 1):
            reply = self.llm.generate(conversation, 96)
            self._spend(*(m.content for m in conversation), reply)
            try:
                action = parse_action(reply)
                if action.tool == "answer":
                    self.steps.append(Step("plan", state.round, {"planner": self.name, "chose": {"tool": "answer"}}))
                    return []
                check_call(action.tool, action.args)
                if state.did(action):
                    raise ToolCallError("that call was already made; choose another or answer()")
                self.steps.append(Step("plan", state.round, {"planner": self.name, "chose": action.to_json()}))
                return [action]
            except ToolCallError as exc:
                self.errors += 1
                self.steps.append(Step("error", state.round, {"reply": reply[:200], "error": str(exc)}))
                conversation = [*conversation, ChatMessage("assistant", reply),
                                ChatMessage("user", f"Error: {exc}. Reply with one valid JSON action.")]
        fallback = proposals[0]
        self.steps.append(Step("plan", state.round, {"note": "model mistakes: using the rule planner's call",
                                                      "chose": fallback.to_json()}))
        return [fallback]
