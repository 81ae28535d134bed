"""The iterative retrieval agent: plan, call tools over the memory, observe, answer with citations.

Each round the planner chooses tool calls; their results (memories with a source and a span) are
collected, duplicates of earlier rounds dropped; when the planner has nothing more to do, the
rounds or the time / token budget run out, the answer step ranks every snippet collected, picks
evidence the way the question asks (the count of distinct moments, the first or the last, only
after an anchor moment, what was shown while something was said, the history of a fact) and
writes the answer from it — or says "Not found in memory." when nothing supports one.

Planners:
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
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from memory import keywords
from memory.store import Hit
from models.base import LLM, ChatMessage, TextEmbedder
from retrieval.answer import NOT_FOUND, Retriever, Scored
from retrieval.question import Question, parse
from retrieval.records import Answer
from retrieval.tools import SPECS, MemoryTools, ToolCallError, ToolResult, check_call

log = logging.getLogger(__name__)

_COARSE = ("scene", "hour", "day")
# words that say what kind of thing is asked, not what about ("what was said after the break?")
_GENERIC = keywords.terms("what was said happened shown screen there they then did do say talk talked mentioned "
                          "who when where how next anything something else many times often number")


@dataclass(frozen=True)
class AgentOptions:
    rounds: int = 5  # at most this many rounds of tool calls
    max_seconds: float = 30.0  # time budget: no new round starts after this
    max_llm_tokens: int = 6000  # token budget of the planner's prompts and replies (estimated)
    max_errors: int = 2  # model mistakes in one round before the rule planner's call is used
    anchor_window: float = 15.0  # "what was shown when X was said": seconds around the moment
    anchor_margin: float = 0.15  # an anchor of the modality the question names may score this much less
    count_gap: float = 5.0  # mentions closer than this are one occurrence
    count_limit: int = 40  # memories read when counting
    order_margin: float = 0.25  # "first" / "last" choose among snippets this close to the best
    modality_bonus: float = 0.15  # the snippet is of the modality asked for (shown / said)
    relevant_margin: float = 0.35  # a counted occurrence scores this close to the best


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
    hop: tuple[str, tuple[str, ...], str] | None = None  # (speaker, all their entity ids, the snippet) of a hop
    hop_searched: bool = False
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
            out.append(Action("search_episodic", {"query": q.topic, **wall}, "what the question is about", True))
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


# -- the model planner -----------------------------------------------------------------------


_SYSTEM = (
    "You search a memory of recordings to answer a question. Choose the next step.\n"
    "Tools:\n{tools}\n- answer() — stop searching: the memories found answer the question.\n"
    'Reply with one JSON object: {{"tool": NAME, "args": {{...}}}}.'
)


def _summary(state: State, width: int = 90, n: int = 4) -> str:
    if not state.results:
        return "Nothing searched yet."
    lines = [f"Calls so far: {'; '.join(f'{a.tool}({json.dumps(dict(a.args))})' for a in state.done)}"]
    if state.ranked:
        lines.append("Best memories found:")
        for s in state.ranked[:n]:
            r = s.hit.record
            text = s.snippet.text if len(s.snippet.text) <= width else s.snippet.text[:width] + "…"
            lines.append(f"- [{r.level} {r.source_id} {s.snippet.start:.0f}-{s.snippet.end:.0f}s id={s.hit.id}] {text}")
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


# -- the agent -------------------------------------------------------------------------------


def _present(term: str, text: str) -> bool:
    """A name or code is in the text: exactly, run together with other words (OCR), or misheard
    a little (ASR: "Priya" / "Preya")."""
    if _mentions([term.lower()], text):
        return True
    from difflib import SequenceMatcher

    want = term.lower()
    return len(want) >= 4 and any(SequenceMatcher(None, want, w).ratio() >= 0.75
                                  for w in re.findall(r"[^\W_]+", text.lower())
                                  if len(w) >= 4 and abs(len(w) - len(want)) <= 2)  # not "Tokyo" / "too"


def _mentions(words: Sequence[str], text: str) -> bool:
    """Every word is in the text, allowing for endings and for words OCR ran together
    ("Globexinvoice:paid" mentions "globex" and "invoice")."""
    compact = re.sub(r"[\W_]+", "", keywords.normalise(text))
    return all(keywords.normalise(w).replace(" ", "")[: max(4, len(w) - 2)] in compact for w in words)


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


class Agent:
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
        embed = _CachedEmbedder(self.retriever.embedder)
        # names are matched by who said what (the person filter and bonus), not as words to find
        rank_text = q.text
        for name in q.named:
            rank_text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", rank_text, flags=re.I)
        rank_text = " ".join(rank_text.split())
        qvec = self.tools.vector(rank_text)
        named = set(q.entity_ids)
        note = ""
        for round_ in range(1, self.options.rounds + 1):
            if time.perf_counter() - began > self.options.max_seconds:
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
            state.ranked = self.retriever.rank(rank_text, qvec, list(state.hits.values()), self.tools.before, named,
                                               q.history, embed)
            if round_ > 1 and len(state.hits) == before_round:
                break  # the round found nothing new: more searching will not change the answer
        answer = self._answer(q, state, embed, qvec)
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

    def _answer(self, q: Question, state: State, embed: _CachedEmbedder, qvec: np.ndarray) -> Answer:
        o, ro = self.options, self.retriever.options
        ranked = list(state.ranked)
        if q.summary:
            return self._summary(q, state)
        wanted = "screen" if q.shown and not q.said else "speech" if q.said and not q.shown else None
        if q.hop is not None:
            if state.hop is None:
                return Answer(NOT_FOUND, (), 0, "not_found", f"no one in memory {q.hop}")
            _, ids, said = state.hop
            other = re.search(r"\belse\b", q.text, re.I) is not None  # "what else did they say": not the hop itself
            ranked = [s for s in ranked if self._by(s, set(ids), wanted) and not (other and s.snippet.text == said)]
        elif q.named and wanted != "screen":
            # "what did Priya say about parking": Priya's own sentences, when she said anything relevant
            theirs = [s for s in ranked if self._by(s, set(q.entity_ids), wanted)]
            if any(s.relevance >= ro.min_relevance for s in theirs):
                ranked = theirs
        if q.anchor is not None:
            if state.anchor is None:
                return Answer(NOT_FOUND, (), 0, "not_found", f"no moment matching '{q.anchor.phrase}' is in memory")
            source, a, b = state.anchor
            at = [s for s in ranked if s.hit.record.source_id == source and s.snippet.start == a and s.snippet.end == b]
            if q.anchor.relation == "after":
                ranked = [s for s in ranked if s.hit.record.source_id != source or s.snippet.start >= b - 0.01]
            elif q.anchor.relation == "before":
                ranked = [s for s in ranked if s.hit.record.source_id != source or s.snippet.end <= a + 0.01]
            else:  # the moment and what was around it; the moment itself only if it is what is asked for
                keep_anchor = wanted is not None and all(s.snippet.modality == wanted for s in at)
                ranked = [s for s in ranked if s.hit.record.source_id == source
                          and s.snippet.end > a - o.anchor_window and s.snippet.start < b + o.anchor_window
                          and (keep_anchor or s not in at)]
            if q.anchor.relation in ("after", "before") and not (keywords.terms(q.topic) - _GENERIC):
                # "what was said after the break?": the next moments in time, not the closest in meaning
                ranked.sort(key=lambda s: (s.hit.record.source_id != source, s.snippet.start if q.anchor.relation == "after" else -s.snippet.end))
                near = [s for s in ranked if s.hit.record.source_id == source][: ro.evidence]
                if near:
                    text, mode, note = self.retriever.compose(q.text, near)
                    return Answer(text, tuple(s.evidence() for s in near), 0, mode,
                                  f"the moments right {q.anchor.relation} '{q.anchor.phrase}'; " + note)
        if wanted is not None:
            if q.anchor is not None and q.anchor.relation == "during" and any(s.snippet.modality == wanted for s in ranked):
                ranked = [s for s in ranked if s.snippet.modality == wanted]  # "what was on screen then": the screen
            ranked = [Scored(s.hit, s.snippet, s.relevance + (o.modality_bonus if s.snippet.modality == wanted else 0.0))
                      for s in ranked]
        ranked.sort(key=lambda s: (-s.relevance, s.snippet.start))
        if q.anchor is not None and q.anchor.relation == "during" and ranked:
            relevant = ranked  # the moment itself is what the question points at: no topic match needed
        else:
            relevant = [s for s in ranked if s.relevance >= ro.min_relevance]
        if not relevant:
            best = f" (best match scored {ranked[0].relevance:.2f})" if ranked else ""
            return Answer(NOT_FOUND, (), 0, "not_found", "no memory is relevant enough" + best)
        missing = [t for t in q.key_terms if not any(_present(t, s.snippet.text) for s in state.ranked)]
        if missing:  # "the Tokyo office": nothing found says Tokyo, so nothing found is about it
            return Answer(NOT_FOUND, (), 0, "not_found", f"nothing found in memory mentions '{missing[0]}'")
        if q.options and q.order:
            return self._which(q, relevant)
        if q.count:
            return self._count(q, relevant)
        if q.order:
            close = [s for s in relevant if s.relevance >= relevant[0].relevance - o.order_margin]
            order = {e.source_id: e.seq for e in self.tools.store.sources()}
            close.sort(key=lambda s: (order.get(s.hit.record.source_id, 0), s.snippet.start))
            pick = close[0] if q.order == "first" else close[-1]
            chosen = [pick, *[s for s in relevant if s is not pick][: ro.evidence - 1]]
        else:
            chosen = relevant[: ro.evidence]
        if q.wants == "name":
            spoken = [s for s in relevant if s.snippet.speaker]  # who: the speaker of the best sentence
            if spoken:
                who = spoken[0]
                chosen = [who, *[s for s in chosen if s is not who]][: ro.evidence]
                label = self._speaker_label(who.snippet.speaker or "")
                return Answer(f'{label}, who said: "{who.snippet.text}"', tuple(s.evidence() for s in chosen), 0,
                              "extractive", f"{label} is the speaker of the best matching sentence")
            written = self._writer(q, chosen[0])
            if written:  # a chat line on screen: "Priya: the deploy is done"
                name, line = written
                return Answer(f'{name}, who wrote: "{line}"', tuple(s.evidence() for s in chosen), 0, "extractive",
                              f"{name} is the author of the best matching line on screen")
        text, mode, note = self.retriever.compose(q.text, chosen)
        return Answer(text, tuple(s.evidence() for s in chosen), 0, mode, note)

    @staticmethod
    def _writer(q: Question, best: Scored) -> tuple[str, str] | None:
        """The author of the on-screen line that best matches a "who" question ("Name: text")."""
        if best.snippet.modality != "screen":
            return None
        wanted = keywords.terms(q.topic) - _GENERIC
        lines = [x.strip() for x in best.snippet.text.split("|")]
        scored = [(len(wanted & keywords.terms(x)), x) for x in lines]
        top, line = max(scored, default=(0, ""), key=lambda p: p[0])
        m = re.match(r"^([A-Z][\w.-]+(?: [A-Z][\w.-]+)?):\s*(.+)$", line)
        return (m.group(1), line) if top and m else None

    @staticmethod
    def _by(s: Scored, ids: set[str], wanted: str | None) -> bool:
        """The snippet was said by one of ``ids`` (or, when not only speech is asked for, is
        shown in a memory they are in)."""
        if s.snippet.speaker:
            return s.snippet.speaker in ids
        return wanted != "speech" and bool(ids & set(s.hit.record.entity_ids))

    def _speaker_label(self, voice: str) -> str:
        for p in self.tools.persons():
            if voice in p.voices or voice == p.id:
                return p.name or p.id
        return voice

    def _summary(self, q: Question, state: State, sentences: int = 5) -> Answer:
        """A part summarised: the summary sentences of the part (scene, hour, day) that matches
        best — the most informative sentences of its clips, in time order, each cited."""
        coarse: dict[str, list[Scored]] = {}
        for s in state.ranked:
            if s.hit.record.level in ("scene", "hour", "day"):
                coarse.setdefault(s.hit.id, []).append(s)
        if not coarse:  # no summaries (a short source): its best clips stand in
            parts = [s for s in state.ranked if s.relevance >= self.retriever.options.min_relevance / 2]
        else:
            best = max(coarse.values(), key=lambda v: (sum(sorted((x.relevance for x in v), reverse=True)[:3]), -v[0].hit.record.t_start))
            parts = best
        if not parts or max(x.relevance for x in parts) < self.retriever.options.min_relevance:
            return Answer(NOT_FOUND, (), 0, "not_found", "no part of memory matches what the summary is asked about")
        chosen = sorted(parts[: max(sentences, 1) * 2], key=lambda s: -s.relevance)[:sentences]
        chosen.sort(key=lambda s: (s.hit.record.source_id, s.snippet.start))
        r = chosen[0].hit.record
        head = f"{r.level.capitalize()} {r.t_start / 60:.0f}-{r.t_end / 60:.0f} min" if coarse else "Memory"
        text = f"{head}: " + " ".join(s.snippet.text.rstrip(".") + "." for s in chosen)
        return Answer(text, tuple(s.evidence() for s in chosen), 0, "extractive",
                      "the summary sentences of the best matching part, in time order")

    def _which(self, q: Question, relevant: list[Scored]) -> Answer:
        """"Which was first, A or B?": when each alternative was first (or last) mentioned."""
        order = {e.source_id: e.seq for e in self.tools.store.sources()}
        when: dict[str, Scored] = {}
        for option in q.options:
            words = [w for w in re.findall(r"[^\W_]+", option.lower()) if keywords.terms(w)]
            said = [s for s in relevant if _mentions(words, s.snippet.text)]
            said.sort(key=lambda s: (order.get(s.hit.record.source_id, 0), s.snippet.start))
            if said:
                when[option] = said[0] if q.order == "first" else said[-1]
        if not when:
            return Answer(NOT_FOUND, (), 0, "not_found", f"neither {' nor '.join(q.options)} is found in memory")
        key = lambda o: (order.get(when[o].hit.record.source_id, 0), when[o].snippet.start)  # noqa: E731
        pick = min(when, key=key) if q.order == "first" else max(when, key=key)
        cited = [when[pick], *[when[o] for o in when if o != pick]]
        others = [o for o in q.options if o != pick]
        note = f"{pick} at {when[pick].snippet.start:.0f} s" + "".join(
            f", {o} at {when[o].snippet.start:.0f} s" if o in when else f", {o} not found" for o in others)
        return Answer(f"{pick[0].upper()}{pick[1:]} ({q.order}).", tuple(s.evidence() for s in cited), 0, "extractive", note)

    def _count(self, q: Question, relevant: list[Scored]) -> Answer:
        """Distinct moments that hold the topic's words, each cited."""
        words = [w for w in re.findall(r"[^\W_]+", q.topic.lower()) if keywords.terms(w) and not keywords.terms(w) <= _GENERIC]
        best = relevant[0].relevance
        hits = [s for s in relevant if s.relevance >= best - self.options.relevant_margin and _mentions(words, s.snippet.text)]
        hits.sort(key=lambda s: (s.hit.record.source_id, s.snippet.start))
        # each sentence said is a moment (unless it is the same sentence cut in two); a line on
        # screen is a moment of its own only when nothing was said about it around then
        moments: list[Scored] = []
        for s in (x for x in hits if x.snippet.modality == "speech"):
            last = moments[-1] if moments else None
            if last and last.hit.record.source_id == s.hit.record.source_id and s.snippet.start - last.snippet.end < 0.5:
                continue
            moments.append(s)
        spoken = list(moments)
        for s in (x for x in hits if x.snippet.modality != "speech"):
            near = [m for m in (*spoken, *moments) if m.hit.record.source_id == s.hit.record.source_id
                    and m.snippet.start < s.snippet.end + self.options.count_gap and s.snippet.start < m.snippet.end + self.options.count_gap]
            if not near:
                moments.append(s)
        moments.sort(key=lambda s: (s.hit.record.source_id, s.snippet.start))
        if not moments:
            return Answer(NOT_FOUND, (), 0, "not_found", "no moment holds all the words asked about")
        n = len(moments)
        times = ", ".join(f"{m.snippet.start:.0f} s" for m in moments[:6])
        text = f"{n} time{'s' if n != 1 else ''} (at {times}{', …' if n > 6 else ''})."
        return Answer(text, tuple(m.evidence() for m in moments[:10]), 0, "counted",
                      f"counted distinct moments whose words match '{q.topic}'")
