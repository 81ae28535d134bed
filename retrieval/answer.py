"""Ask v0: hybrid retrieval, sentence-level citations, a grounded answer or an honest "not found".

1. Hybrid search (dense + keyword, fused by Qdrant) over episodic memories in scope.
2. Each candidate memory is split into its citable snippets (a spoken sentence, an on-screen
   line) and each snippet is scored against the question: meaning (cosine) plus exact terms.
3. Nothing relevant enough → "Not found in memory", no evidence. Otherwise the best snippets
   are the evidence, with their own start / end, not just the 30 s clip's.
4. The LLM writes the answer from the evidence. Its reply is kept only if its words are
   supported by the evidence; otherwise the answer is the best evidence quoted, and says so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from memory import keywords
from memory.records import Snippet
from memory.store import Hit, MemoryStore, Scope
from models.base import LLM, ChatMessage, TextEmbedder
from retrieval import cues, guard
from retrieval.prompts import render
from retrieval.records import Answer, Evidence

log = logging.getLogger(__name__)

NOT_FOUND = "Not found in memory."
_LEVEL_RANK = {"clip": 0, "scene": 1, "hour": 2, "day": 3}
_NEGATION = re.compile(r"\bnot\b|n't\b|\bnever\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerOptions:
    candidates: int = 6  # memories read per question
    evidence: int = 3  # snippets cited
    min_relevance: float = 0.35  # below this, "not found in memory"
    keyword_weight: float = 0.5
    fuzzy_weight: float = 0.5  # character-trigram similarity: recovers misheard words
    echo_penalty: float = 0.3
    cue_bonus: float = 0.15  # the snippet holds the kind of thing asked for (a date for "when")
    quote_margin: float = 0.15  # quote a second snippet when it scores this close to the best
    support_ratio: float = 0.75  # share of the LLM answer's terms found in the evidence / question
    person_bonus: float = 0.2  # the snippet was said by (or its memory shows) a person the question names
    fact_bonus: float = 0.15  # a current fact's statement: newer than what it superseded (x 0.5-1 by its confidence)
    outdated_penalty: float = 0.4  # a statement a newer one contradicted ("on Monday" after "moved to Thursday")
    max_new_tokens: int = 48
    max_answer_words: int = 24


@dataclass(frozen=True)
class Scored:
    hit: Hit
    snippet: Snippet
    relevance: float

    def evidence(self) -> Evidence:
        record = self.hit.record
        wall = None if record.wall_time is None else round(record.wall_time + self.snippet.start - record.t_start, 3)
        return Evidence(
            source_id=record.source_id, path=record.path, start=self.snippet.start, end=self.snippet.end,
            kind=record.kind, memory_id=self.hit.id, text=self.snippet.text, score=round(self.relevance, 4),
            modality=self.snippet.modality, wall_time=wall, image=self.snippet.image,
            flags=("instruction",) if guard.flagged(self.snippet) else (),
        )


class Retriever:
    def __init__(
        self,
        store: MemoryStore,
        embedder: TextEmbedder,
        llm: LLM | None,
        options: AnswerOptions = AnswerOptions(),
        llm_unavailable: str = "",
        people: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """``people``: a person's names (lowercase) and ids → all of its entity ids."""
        self.store = store
        self.embedder = embedder
        self.llm = llm
        self.options = options
        self.llm_unavailable = llm_unavailable
        self.people = {k.lower(): tuple(v) for k, v in (people or {}).items()}

    def _named(self, question: str) -> set[str]:
        """Entity ids of the people a question names ("what did Alice say?", "person_2")."""
        low = question.lower()
        out: set[str] = set()
        for name, ids in self.people.items():
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low):
                out.update(ids)
        return out

    def ask(self, question: str, scope: Scope = Scope()) -> Answer:
        question = " ".join(question.split())
        if not question:
            raise ValueError("the question is empty")
        if self.store.count(scope) == 0:
            return Answer(NOT_FOUND, (), 1, "not_found", "nothing is indexed in the requested scope")
        qvec = self.embedder.embed(question)
        named = self._named(question)
        # the people's ids join the keyword query: memories that name them come up
        query_text = " ".join([question, *sorted(named)])
        hits = self.store.search(qvec, query_text, scope, self.options.candidates)
        scored = self.rank(question, qvec, hits, scope.before, named)
        if not scored or scored[0].relevance < self.options.min_relevance:
            best = f" (best match scored {scored[0].relevance:.2f})" if scored else ""
            return Answer(NOT_FOUND, (), 1, "not_found", "no memory is relevant enough" + best)
        chosen = [s for s in scored[: self.options.evidence] if s.relevance >= self.options.min_relevance]
        text, mode, note = self.compose(question, chosen)
        return guard.vet(Answer(text, tuple(s.evidence() for s in chosen), 1, mode, note), question, scored,
                         self.options.min_relevance)

    def search(self, query: str, scope: Scope = Scope(), limit: int = 20) -> list[Evidence]:
        """The search box: hybrid (keyword + meaning) search, each distinct snippet once, best
        first; no language model, no threshold (the list is for a person to scan)."""
        query = " ".join(query.split())
        if not query:
            raise ValueError("the search is empty")
        qvec = self.embedder.embed(query)
        hits = self.store.search(qvec, query, scope, max(limit, self.options.candidates))
        return [s.evidence() for s in self.rank(query, qvec, hits, scope.before)[:limit]]

    # -- scoring -----------------------------------------------------------------------------

    def rank(
        self, question: str, qvec: np.ndarray, hits: Sequence[Hit], before: float | None,
        named: set[str] | frozenset[str] = frozenset(), history: bool = False,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> list[Scored]:
        """Every distinct snippet of ``hits`` scored against the question, best first.
        ``history``: the question asks what a fact was before it changed (superseded statements
        get the bonus instead of the penalty); ``embed``: a (caching) batch text embedder."""
        pairs: list[tuple[Hit, Snippet]] = []
        seen: set[tuple[str, str, int]] = set()
        outdated = {
            " ".join(t.lower().split())
            for hit in hits if hit.record.kind == "semantic"
            for old in hit.record.attrs.get("supersedes", ()) for t in old.get("texts", ())
        }
        # a current fact's statements, with the fact's confidence (it grows with its support)
        current: dict[str, float] = {}
        for hit in hits:
            if hit.record.kind == "semantic" and not hit.record.attrs.get("superseded_by"):
                for snip in hit.record.snippets:
                    said = " ".join(snip.text.lower().split())
                    current[said] = max(current.get(said, 0.0), float(hit.record.attrs.get("confidence", 0.5)))
        # a sentence several memories hold is cited from the finest: a clip before its scene, an
        # episode before a fact (the clip has the sentence's own span and speaker)
        for hit in sorted(hits, key=lambda h: (h.record.kind == "semantic", _LEVEL_RANK.get(h.record.level, 9), h.id)):
            for snip in hit.record.snippets:
                if before is not None:
                    if snip.start >= before:
                        continue
                    snip = replace(snip, end=min(snip.end, before))
                key = (hit.record.source_id, " ".join(snip.text.lower().split()), round(snip.start))
                if key not in seen:
                    seen.add(key)
                    pairs.append((hit, snip))
        if not pairs:
            return []
        vectors = (embed or self.embedder.embed_batch)([s.text for _, s in pairs])
        cosines = vectors @ qvec
        q_terms = keywords.terms(question)
        kind = cues.wanted(question)
        out = []
        for (hit, snip), cos in zip(pairs, cosines):
            s_terms = keywords.terms(snip.text)
            overlap = len(q_terms & s_terms) / len(q_terms) if q_terms else 0.0
            fuzzy = keywords.fuzzy_similarity(question, snip.text)
            relevance = float(cos) + self.options.keyword_weight * overlap + self.options.fuzzy_weight * fuzzy
            if kind is not None and cues.has(kind, snip.text, question):
                relevance += self.options.cue_bonus
            if s_terms <= q_terms:  # it only repeats the question (a title, a heading): no answer in it
                relevance -= self.options.echo_penalty
            if named and (snip.speaker in named or (snip.modality != "speech" and named & set(hit.record.entity_ids))):
                relevance += self.options.person_bonus
            said = " ".join(snip.text.lower().split())
            if said in current and not history:  # a current fact's statement, wherever it is cited from:
                relevance += self.options.fact_bonus * (0.5 + 0.5 * current[said])  # newer, more often said
            if said in outdated:
                relevance += self.options.fact_bonus if history else -self.options.outdated_penalty
            relevance -= guard.penalty(snip)  # it reads as an instruction to the assistant
            out.append(Scored(hit, snip, relevance))
        out.sort(key=lambda s: (-s.relevance, s.snippet.start))
        return out

    # -- answer text -------------------------------------------------------------------------

    def compose(self, question: str, chosen: Sequence[Scored], verbatim: bool = False,
                typed: bool = False) -> tuple[str, str, str]:
        """The answer text, its mode (llm / extractive) and a note, from the chosen evidence.
        ``verbatim``: the question asks for the recorded words themselves ("what was said about
        X"): they are quoted, and no model is asked to rewrite them. ``typed``: the question asks for a
        value of a type (a name, a time, a number) that no span of the evidence holds: quoted too."""
        close = [s for s in chosen if s.relevance >= chosen[0].relevance - self.options.quote_margin]
        close = [s for s in close if not guard.flagged(s.snippet)] or close  # an instruction is quoted only when alone
        quote = "From memory: " + " ".join(f'"{s.snippet.text}"' for s in close[:2])
        if verbatim:
            return quote, "extractive", "the question asks for the recorded words, so they are quoted"
        if typed:  # a name / time / place / number the evidence does not hold: a model could only invent it
            return quote, "extractive", "no model is asked for a value of a type the evidence does not hold"
        if self.llm is None:
            return quote, "extractive", self.llm_unavailable or "no language model configured"
        memories = guard.data_block(f"- {s.snippet.text}" for s in chosen)
        conversation = [
            ChatMessage("system", render("answer_system")),
            ChatMessage("user", render("answer_user", memories=memories, question=question)),
        ]
        reply = self.llm.generate_line(conversation, self.options.max_new_tokens)
        reply = re.sub(r"^[-*•]\s+", "", reply)
        reply = re.sub(r"^(the )?answer is:?\s*", "", reply, flags=re.IGNORECASE).strip()
        if guard.obeys(reply, question, chosen):
            log.info("LLM reply %r repeats an instruction found in memory; quoting instead", reply)
            return quote, "extractive", (f"{self.llm.model_id}'s reply repeated an instruction found in memory "
                                         "(flagged, not followed), so the best evidence is quoted")
        if self._supported(reply, question, chosen):
            return reply, "llm", f"answered by {self.llm.model_id} from the cited evidence"
        log.info("LLM reply %r is not supported by the evidence; quoting instead", reply)
        return quote, "extractive", f"{self.llm.model_id}'s reply was not supported by the evidence, so the best evidence is quoted"

    def _supported(self, reply: str, question: str, chosen: Sequence[Scored]) -> bool:
        if not reply or "not in memory" in reply.lower():
            return False
        if len(reply.split()) > self.options.max_answer_words:
            return False
        if _NEGATION.search(reply) and not _NEGATION.search(chosen[0].snippet.text):
            return False  # "X, not Y": small models add contrasts the evidence never made
        kind = cues.wanted(question)
        asked = {w.strip(",.?!:;").lower() for w in question.split()}
        said = " ".join(w for w in reply.split() if w.strip(",.?!:;").lower() not in asked)  # beyond the question's words
        if kind in ("time", "number") and not cues.has(kind, said) and any(cues.has(kind, s.snippet.text) for s in chosen):
            return False  # asked when / how much, and the evidence says it, but the reply does not
        reply_terms = keywords.terms(reply)
        allowed = keywords.terms(question)
        for s in chosen:
            allowed |= keywords.terms(s.snippet.text)
        # the answer must say something the question did not, and that must be in the evidence
        new = reply_terms - keywords.terms(question)
        if not new:
            return False
        # numbers, dates and codes are what small models make up: every one must be in the evidence
        if any(term not in allowed for term in new if term in _digit_terms(reply)):
            return False
        # ... and whole: "6" from "6, 6, 0, 4" is a number cut short
        numbers = _numbers(reply)
        if numbers and any(n != m and n in m for n in numbers for s in chosen for m in _numbers(s.snippet.text)) \
                and not any(n == m for n in numbers for s in chosen for m in _numbers(s.snippet.text)):
            return False
        return len(new & allowed) / len(new) >= self.options.support_ratio


_SPOKEN_DIGITS = re.compile(r"(?<![\d.,])\d(?:[,\s-]+\d(?![\d.,]\d))+\b")  # "6, 6, 0, 4"


def _numbers(text: str) -> list[str]:
    """Digit sequences, with separators inside a spoken code dropped ("6, 6, 0, 4" → "6604")."""
    runs = [re.sub(r"\D", "", m) for m in _SPOKEN_DIGITS.findall(text)]
    rest = _SPOKEN_DIGITS.sub(" ", text)
    return runs + [re.sub(r"[,]", "", m) for m in re.findall(r"\d[\d,]*(?:\.\d+)?", rest)]


def _digit_terms(text: str) -> set[int]:
    return set().union(*(keywords.terms(tok) for tok in text.split() if any(c.isdigit() for c in tok)))
