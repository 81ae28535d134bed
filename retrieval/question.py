"""What a question asks, read from its parse: the kind of question, the type of answer, who and
when it is about, and how it navigates time.

Every kind of question is one row of :data:`KINDS` (:mod:`retrieval.kinds`): how it is recognised (from the dependency
parse of memory/nlp.py — the wh-word, what it modifies, its role, the lemmas of the verbs and
nouns around it, entity types — never from literal phrases), what the agent retrieves for it and
how the answer is formed. :func:`parse` reads a question into a :class:`Question`; the
deterministic planner plans from it and the answer step (retrieval/spans.py) picks the span of
the evidence that answers it.

The reading of the parse (wh-word, anchor, hop, ordinal, alternatives) and the word classes are
in :mod:`retrieval.reading`; the table of kinds in :mod:`retrieval.kinds`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from memory import nlp
from retrieval.kinds import _MAIN, _WANTS, KINDS, Kind, _order, _within, kinds_of, understand
from retrieval.reading import (  # the word classes are re-exported for the answer modules
    CHOICE_VERBS, ORDER_WORDS, SAY_VERBS, SCREEN_NOUNS, TEXT_NOUNS, _WH_TAGS, Anchor, Gap, Nth, Reading, _options, read,
)

__all__ = ["CHOICE_VERBS", "KINDS", "ORDER_WORDS", "SAY_VERBS", "SCREEN_NOUNS", "TEXT_NOUNS", "Anchor", "Gap", "Kind",
           "Nth", "Question", "kinds_of", "parse", "read"]


@dataclass(frozen=True)
class Question:
    text: str
    topic: str  # the question without its time-navigation words: what to search for
    wants: str | None  # answer type: "time" | "number" | "name" | "place" | "duration" | "app" | "yesno" | None
    kind: str = "what"  # the row of KINDS that says how it is answered
    count: bool = False  # how many times / how often: count the moments
    order: str | None = None  # "first" | "last"
    anchor: Anchor | None = None
    shown: bool = False  # asks about what was on screen
    said: bool = False  # asks about what was said
    history: bool = False  # asks how a fact was before it changed
    hop: str | None = None  # "the woman who mentioned the invoice": find who did this, then ask about them
    options: tuple[str, ...] = ()  # "which was first, the audit or the budget?": the alternatives
    key_terms: tuple[str, ...] = ()  # names and codes the question is about ("Tokyo", "CEO", "4471")
    summary: bool = False  # "summarise ...", "give me an overview of ...": a part, not a fact
    verbatim: bool = False  # "what was said about X": the recorded words themselves are the answer
    named: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name in the question → entity ids
    wall: tuple[float | None, float | None] | None = None  # a wall-clock window
    gap: Gap = Gap()
    kinds: tuple[str, ...] = ()  # every row of KINDS that matched
    nth: Nth | None = None  # "the second person on camera": the question is about that person's moments
    within: str | None = None  # "the last line **of the poem**": the whole the order is taken in

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return tuple(sorted({i for ids in self.named.values() for i in ids}))

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "kinds": list(self.kinds), "topic": self.topic, "wants": self.wants,
            "count": self.count, "order": self.order,
            "anchor": None if self.anchor is None else {"relation": self.anchor.relation, "phrase": self.anchor.phrase},
            "shown": self.shown, "said": self.said, "history": self.history,
            "named": {k: list(v) for k, v in self.named.items()}, "wall": list(self.wall) if self.wall else None,
            "hop": self.hop, "options": list(self.options), "key_terms": list(self.key_terms), "summary": self.summary,
            "verbatim": self.verbatim,
            "gap": {k: v for k, v in vars(self.gap).items() if v},
            **({"nth": vars(self.nth)} if self.nth else {}),
            **({"within": self.within} if self.within else {}),
        }


def parse(text: str, people: Mapping[str, Sequence[str]] = {}, now: float | None = None) -> Question:
    """``people``: names and ids (lowercase) → entity ids; ``now``: the wall-clock time "today"
    and "yesterday" are relative to (the latest wall time in memory, or the clock)."""
    import re

    text = " ".join(text.split())
    low = text.lower()
    named = {name: tuple(ids) for name, ids in people.items() if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low)}
    r = understand(text)
    matched = tuple(k.name for k in KINDS if k.recognise(r))
    main = next((k for k in _MAIN if k in matched), "what")
    request = _request(r, main)
    if request is not None:
        return parse(request, people, now)  # "tell me the invoice number" asks "what is the invoice number"
    wall, wall_tokens = nlp.wall_window(r.doc, now)
    order = _order(r)
    order_tokens = {t.i for t in r.doc if ORDER_WORDS.get(t.lower_) == order} if order else set()
    count_tokens: set[int] = set()
    if main == "how_many_times":
        count_tokens = {t.i for t in r.doc if t.lower_ in ("how", "often", "frequently", "many", "times", "number", "of")
                        and t.i < (r.root.i + 1 if r.root.i < 4 else 4)}
    drop = r.skip | wall_tokens | order_tokens | count_tokens
    words = []
    for t in r.doc:
        if r.hop is not None and t.i == r.hop.root.head.left_edge.i:
            words.append("they")
        if t.i in drop or t.is_punct:
            continue
        words.append(t.text)
    topic = " ".join(words) or text
    hop = None
    if r.hop is not None:
        hop = " ".join(t.text for t in r.hop if not (t.tag_ in ("WP", "WDT") and t.dep_.startswith("nsubj"))).strip()
    wants = _WANTS.get(main)
    if main == "how_many" and (target := r.how_target()) is not None and target.lemma_.lower() == "long":
        wants = "duration"  # "how long is the episode": a length of time, a timecode answers it
    return Question(
        text=text, topic=topic, wants=wants, kind=main, count=main == "how_many_times", order=order,
        anchor=r.anchor, shown="shown" in matched, said="said" in matched, history="history" in matched,
        hop=hop, options=_options(r), summary=main == "summary", verbatim="verbatim" in matched and wants is None, named=named, wall=wall,
        key_terms=_key_terms(r, named, wall_tokens), gap=_gap(r), kinds=matched, nth=r.nth,
        within=_within(r) if order else None,
    )


def _request(r: Reading, main: str) -> str | None:
    """A request addressed to the listener ("tell me the invoice number", "could you give us the
    date of the meeting"): an imperative (or a "you" subject) with a dative pronoun and an object
    asks the question "what is <the object>". A command without a listener ("lay blue at x four",
    "send the file") or without an object ("tell me about the budget") is no such question."""
    root = r.root
    if r.wh is not None or root.pos_ != "VERB":
        return None
    kids = list(root.children)
    subjects = [c for c in kids if c.dep_ in ("nsubj", "nsubjpass")]
    if any(c.lower_ != "you" for c in subjects):
        return None
    # "could you tell me ...": a yes / no question by its form, a request by its modal
    if main != "what" and not (main == "yes_no" and subjects and any(c.tag_ == "MD" for c in kids)):
        return None
    listener = [c for c in kids if c.dep_ == "dative" and c.pos_ == "PRON"]
    obj = [c for c in kids if c.dep_ == "dobj" and c.pos_ in ("NOUN", "PROPN") and c.i > root.i]
    if not listener or not obj:
        return None
    rest = r.doc[obj[0].left_edge.i:]
    return "what is " + rest.text.rstrip(" ?.!")


_ARGUMENT_ROLES = frozenset({"nsubj", "nsubjpass", "dobj", "attr", "pobj"})


def _gap(r: Reading) -> Gap:
    wh = r.wh
    if wh is None:
        return Gap()
    head = r.wh_head()
    focus = ""
    if head is not None:
        parts = [t for t in head.subtree if t.i <= head.i and t.dep_ in ("compound", "amod", "nmod") or t.i == head.i]
        focus = " ".join(t.text for t in parts if t.tag_ not in _WH_TAGS)
    verb = wh.head if wh.head.pos_ in ("VERB", "AUX") else next((a for a in wh.ancestors if a.pos_ in ("VERB", "AUX")), r.root)
    counted = r.counted()
    # "which company hasn't paid": the determiner stands for its noun, whose role is the gap's
    # (the subject of "pay", not an object as a bare "what" would be)
    role = head.dep_ if wh.dep_ == "det" and head is not None and head.i == wh.head.i and head.dep_ in _ARGUMENT_ROLES else wh.dep_
    return Gap(wh=wh.lemma_.lower(), role=role, verb=verb.lemma_.lower(), focus=focus,
               focus_head=head.lemma_.lower() if head is not None else "",
               unit=counted.lemma_.lower() if counted is not None else "")


def _key_terms(r: Reading, named: Mapping[str, Sequence[str]], wall_tokens: set[int]) -> tuple[str, ...]:
    """Proper names, acronyms and codes of the question (not known people, not quoted text, not
    wall-clock words): if memory never mentions them, it cannot hold the answer."""
    out = []
    quoted = False
    for t in r.doc:
        if t.text in ("'", '"', "\u2018", "\u2019", "\u201c", "\u201d") and t.is_quote:
            quoted = not quoted
            continue
        if quoted or t.i in wall_tokens or t.i == 0 or t.tag_ in _WH_TAGS or t.is_punct:
            continue
        low = t.lower_
        if low in named or any(low in n.split() for n in named):
            continue
        if (t.pos_ == "PROPN" and not t.text.islower()) or (t.text[:1].isupper() and t.pos_ not in ("PRON", "DET", "AUX")) \
                or any(c.isdigit() for c in t.text):  # a small-letter "PROPN" is the tagger's guess ("the poem")
            out.append(t.text.removesuffix("'s"))
    return tuple(dict.fromkeys(w for w in out if w and w not in ("I", "'s")))
