"""The agent's answer step: rank every snippet collected, pick the evidence the way the question
asks (the count of distinct moments, the first or the last, only after an anchor moment, what was
shown while something was said, the history of a fact), then answer with the shortest span of
the evidence that answers it (retrieval/spans.py) — or quote the evidence and say so when no span
of the asked type exists — or say "Not found in memory." when nothing supports an answer.
"""

from __future__ import annotations

import re
from dataclasses import replace
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory import keywords
from retrieval import cloze, entity_spans, spans
from retrieval.answer import NOT_FOUND, Retriever, Scored
from retrieval.planners import _GENERIC, AgentOptions, State, shows
from retrieval.question import SAY_VERBS, TEXT_NOUNS, Question
from retrieval.records import Answer
from retrieval.span_evidence import piece_of, said_near, shown_while, span_pool, speaker_stretch

if TYPE_CHECKING:
    from retrieval.tools import MemoryTools


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


def _during(s: Scored, spans: Sequence[tuple[str, float, float]]) -> bool:
    """Most of the snippet lies in one of the spans (or most of the span in the snippet)."""
    a0, b0 = s.snippet.start, s.snippet.end
    for src, lo, hi in spans:
        if src != s.hit.record.source_id:
            continue
        if min(b0, hi) - max(a0, lo) >= 0.5 * min(max(b0 - a0, 1e-3), max(hi - lo, 1e-3)):
            return True
    return False


class AnswerStep:
    """The answer step of :class:`retrieval.agent.Agent` (its tools, retriever and options)."""

    tools: MemoryTools
    retriever: Retriever
    options: AgentOptions

    def _answer(self, q: Question, state: State) -> Answer:
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
        if state.nth is not None:
            # "what did the second person on camera say": only what was said and shown while they were there
            label, ids, spans = state.nth
            ranked = [s for s in ranked if _during(s, spans)]
            if q.wants == "name" and q.gap.verb in ("be", ""):  # "who was the first person on screen"
                return Answer(label, tuple(s.evidence() for s in ranked[: ro.evidence]), 0, "extractive",
                              f"{label} is {q.nth.phrase if q.nth else 'that person'}")
        if q.anchor is not None:
            if state.anchor is None:
                return Answer(NOT_FOUND, (), 0, "not_found", f"no moment matching '{q.anchor.phrase}' is in memory")
            source, a, b = state.anchor
            at = [s for s in ranked if s.hit.record.source_id == source and s.snippet.start == a and s.snippet.end == b]
            # the moment was shown and the question asks what was said (or the reverse): the two are
            # not cut at the same times, so a sentence that starts while the slide is still up and
            # goes on after it is "after" it (it starts after the slide appeared, ends after it left)
            cross = wanted is not None and bool(at) and all(s.snippet.modality != wanted for s in at)
            if q.anchor.relation == "after":
                ranked = [s for s in ranked if s.hit.record.source_id != source or s.snippet.start >= b - 0.01
                          or cross and s.snippet.modality == wanted and s.snippet.start > a and s.snippet.end > b]
            elif q.anchor.relation == "before":
                ranked = [s for s in ranked if s.hit.record.source_id != source or s.snippet.end <= a + 0.01
                          or cross and s.snippet.modality == wanted and s.snippet.end < b and s.snippet.start < a]
            else:  # the moment and what was around it; the moment itself only if it is what is asked for
                keep_anchor = wanted is not None and all(s.snippet.modality == wanted for s in at)
                around = [s for s in ranked if s.hit.record.source_id == source
                          and s.snippet.end > a - o.anchor_window and s.snippet.start < b + o.anchor_window]
                # ... or when nothing else is around it: a capture is its own moment ("what colour
                # was pre-filled when I was creating a tag": the tag dialog shows both)
                ranked = [s for s in around if keep_anchor or s not in at] or around
                # "while the song played": what was there at the same time, when anything (of the
                # kind asked for) was; only then what was near it (a capture is an instant)
                at_once = [s for s in ranked if s.snippet.start < b and s.snippet.end > a]
                if any(wanted is None or s.snippet.modality == wanted for s in at_once):
                    ranked = at_once
            if q.anchor.relation in ("after", "before") and not (keywords.terms(q.topic) - _GENERIC):
                # "what was said after the break?": the next moments in time, not the closest in meaning
                ranked.sort(key=lambda s: (s.hit.record.source_id != source, s.snippet.start if q.anchor.relation == "after" else -s.snippet.end))
                near = [s for s in ranked if s.hit.record.source_id == source]
                # "what was said after X": the next things said, not the slide still on screen
                near = ([s for s in near if s.snippet.modality == wanted] or near)[: ro.evidence]
                if near:
                    text, mode, note = self.retriever.compose(q.text, near, verbatim=q.verbatim)
                    return Answer(text, tuple(s.evidence() for s in near), 0, mode,
                                  f"the moments right {q.anchor.relation} '{q.anchor.phrase}'; " + note)
        gap = cloze.of(q.text)
        if gap is not None:  # "who does he address as 'my fellow ...'": the words the ellipsis stands for
            filled = cloze.best(gap, [s.snippet.text for s in ranked])
            if filled is not None:
                i, words = filled
                cited = [ranked[i], *[s for s in ranked if s is not ranked[i]]][: ro.evidence]
                return Answer(words, tuple(s.evidence() for s in cited), 0, "extractive",
                              f'the words the ellipsis of \'{gap.quote}\' stands for in "{ranked[i].snippet.text}"')
        if wanted is not None:
            if q.anchor is not None and q.anchor.relation == "during" and any(s.snippet.modality == wanted for s in ranked):
                ranked = [s for s in ranked if s.snippet.modality == wanted]  # "what was on screen then": the screen
            ranked = [Scored(s.hit, s.snippet, s.relevance + (o.modality_bonus if s.snippet.modality == wanted else 0.0))
                      for s in ranked]
        ranked.sort(key=lambda s: (-s.relevance, s.snippet.start))
        if (q.anchor is not None and q.anchor.relation == "during" or state.nth is not None or state.edge) and ranked:
            relevant = ranked  # the moment itself is what the question points at: no topic match needed
        else:
            relevant = [s for s in ranked if s.relevance >= ro.min_relevance]
        if not relevant:
            best = f" (best match scored {ranked[0].relevance:.2f})" if ranked else ""
            return Answer(NOT_FOUND, (), 0, "not_found", "no memory is relevant enough" + best)
        missing = [t for t in q.key_terms if not any(_present(t, s.snippet.text) for s in state.ranked)
                   and not any(t in o.split() for o in q.options)]  # "Monday or Thursday": one alternative may be absent
        if missing:  # "the Tokyo office": nothing found says Tokyo, so nothing found is about it
            return Answer(NOT_FOUND, (), 0, "not_found", f"nothing found in memory mentions '{missing[0]}'")
        if q.options and q.order:
            return self._which(q, relevant)
        if q.options and not q.order:
            picked = self._choose(q, relevant)
            if picked is not None:
                return picked
        if q.count:
            return self._count(q, relevant)
        if q.order:
            close = [s for s in relevant if s.relevance >= relevant[0].relevance - o.order_margin]
            if q.within:  # "the last line of the poem": the order runs inside the stretch of the best match
                close = speaker_stretch(relevant[0], close, state.ranked)
                kind = "screen" if q.shown and not q.said else "speech"
                lines = [s for s in ranked if s.snippet.modality == kind]
                if q.gap.focus_head in TEXT_NOUNS and lines:  # ... and its line is any line, whatever it says
                    best = next(s for s in relevant if s in lines) if any(s in lines for s in relevant) else lines[0]
                    close = speaker_stretch(best, lines, state.ranked)
            order = {e.source_id: e.seq for e in self.tools.store.sources()}
            close.sort(key=lambda s: (order.get(s.hit.record.source_id, 0), s.snippet.start))
            pick = close[0] if q.order == "first" else close[-1]
            chosen = [pick, *[s for s in relevant if s is not pick][: ro.evidence - 1]]
        else:
            chosen = relevant[: ro.evidence]
        said_by = q.wants == "name" and q.gap.verb in SAY_VERBS
        if said_by:  # "who said X": the speaker of the best sentence that says it
            spoken = [s for s in relevant if s.snippet.speaker]
            if spoken:
                who = spoken[0]
                chosen = [who, *[s for s in chosen if s is not who]][: ro.evidence]
                label = self._speaker_label(who.snippet.speaker or "")
                return Answer(label, tuple(s.evidence() for s in chosen), 0, "extractive",
                              f'{label} is the speaker of the best matching sentence: "{who.snippet.text}"')
        if q.wants == "name":
            written = self._writer(q, chosen[0])
            if written:  # a chat line on screen: "Priya: the deploy is done"
                name, line = written
                return Answer(name, tuple(s.evidence() for s in chosen), 0, "extractive",
                              f'{name} is the author of the best matching line on screen: "{line}"')
        return self._span_or_quote(q, chosen, relevant, ranked)

    def _span_or_quote(self, q: Question, chosen: list[Scored], relevant: list[Scored], around: Sequence[Scored] = ()) -> Answer:
        """The shortest span of the evidence that answers the question, its sentence or line cited
        first; when no span of the asked type exists, the evidence quoted (or phrased by the LLM),
        and the note says so."""
        ro = self.retriever.options
        near = chosen[0].relevance - self.options.span_margin
        close = [s for s in relevant if s not in chosen and s.relevance >= near]
        pool = span_pool(q, chosen, close, self.options.span_pieces)
        said_around: list[Scored] = []
        if q.wants == "number" and q.gap.unit and pool:  # "how many hours tomorrow": the lines said around the best one
            said_around = said_near(pool[0], [s for s in around if s not in pool], self.options.number_window)[: self.options.span_pieces]
            pool += said_around
        # cited evidence far below the best (more than the span margin) answers only with the value
        # beside the label the question names: a sentence that scores half as well must not answer
        # with a mere entity of the asked type because the best one holds none (unless it shows
        # every name the question gives: then it is the one about them)
        # "who is going to handle the move to Rotterdam": the best is a slide no person is on; what
        # was said while it was shown ("Dana Whitfield will lead the move") names who
        said_while = shown_while([pool[0]], pool, said=True) if q.wants == "name" and pool else []
        pieces = [replace(piece_of(s), far=not (s is pool[0] or s.relevance >= near or s in said_around or s in said_while
                                              or q.key_terms and all(shows(t, s.snippet.text) for t in q.key_terms)))
                  for s in pool]
        found = spans.find(q, pieces)
        if found is not None and q.wants == "time" and entity_spans.elsewhere(q, pieces[found.index], found):
            # "when is the meeting": the dates read are other things' ("Due: March 14"); what was
            # on screen while the evidence was said may date what is asked (a title slide's date)
            shown = shown_while(pool, [*relevant, *around])[: self.options.span_pieces]
            more = spans.find(q, [*pieces, *(piece_of(s) for s in shown)])
            if more is not None and more.index >= len(pieces) and not entity_spans.elsewhere(
                    q, piece_of(shown[more.index - len(pieces)]), more):
                pool, found = [*pool, *shown], more
        if found is not None and not found.text:  # the asked label is shown, its value is not
            best = pool[found.index]
            return Answer(NOT_FOUND, (best.evidence(),), 0, "not_found", f'{found.how}: "{found.line}"')
        if found is not None:
            best = pool[found.index]
            cited = [best, *[s for s in chosen if s is not best]][: ro.evidence]
            return Answer(found.text, tuple(s.evidence() for s in cited), 0, "extractive",
                          f'{found.how}: "{found.line}"')
        # "the last timecode shown": time picked the moment, so the reply is written from it alone
        # (the other evidence is cited, not offered: a small model would pick among them again)
        text, mode, note = self.retriever.compose(q.text, chosen[:1] if q.order else chosen, verbatim=q.verbatim,
                                                  typed=q.wants in ("name", "time", "place", "number", "duration"))
        return Answer(text, tuple(s.evidence() for s in chosen), 0, mode,
                      f"no span of the asked type ({q.wants or q.kind}) in the evidence, so it is given whole; {note}")

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

    def _choose(self, q: Question, relevant: list[Scored]) -> Answer | None:
        """"Is the broom in the middle of the room or in the corner?": the alternative whose own
        words (those the other one does not share) the evidence says most fully; between two
        moments that say one each, the more relevant (a current fact outranks the value it
        replaced). None when no evidence names either: the question is answered the usual way."""
        terms = [keywords.terms(o) for o in q.options]
        best: tuple[float, float, int, Scored] | None = None
        for k, option in enumerate(q.options):
            own = terms[k] - set().union(*(t for j, t in enumerate(terms) if j != k))
            if not own:
                continue
            for s in relevant:
                said = keywords.terms(s.snippet.text)
                cover = len(own & said) / len(own)
                if cover >= 0.5 and (best is None or (cover, s.relevance) > best[:2]):
                    best = (cover, s.relevance, k, s)
        if best is None:
            return None
        _, _, k, s = best
        cited = [s, *[x for x in relevant if x is not s]][: self.retriever.options.evidence]
        others = ", ".join(o for j, o in enumerate(q.options) if j != k)
        return Answer(q.options[k][0].upper() + q.options[k][1:], tuple(x.evidence() for x in cited), 0, "extractive",
                      f'{q.options[k]} (not {others}): "{s.snippet.text}"')

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
