"""What a question asks, read from its parse: the kind of question, the type of answer, who and
when it is about, and how it navigates time.

Every kind of question is one row of :data:`KINDS`: how it is recognised (from the dependency
parse of memory/nlp.py — the wh-word, what it modifies, its role, the lemmas of the verbs and
nouns around it, entity types — never from literal phrases), what the agent retrieves for it and
how the answer is formed. :func:`parse` reads a question into a :class:`Question`; the
deterministic planner plans from it and the answer step (retrieval/spans.py) picks the span of
the evidence that answers it.

The few word classes below are lemma sets of *meanings* (nouns that name a time, verbs of
saying), not phrases: a question is recognised by the role such a word plays in its parse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from memory import nlp

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

# -- word classes (lemmas) -------------------------------------------------------------------

TIME_NOUNS = frozenset("time date day deadline year month hour minute week weekday morning evening timestamp moment".split())
# a written mark whose value is the time its modifier names: "time code", "timecode", "date stamp"
# (but "time zone", "time limit", "zip code" name other things)
MARK_NOUNS = frozenset("code stamp".split())
NUMBER_NOUNS = frozenset("number amount count total price cost sum percentage percent size length age quantity "
                         "rate score version figure".split())
PERSON_NOUNS = frozenset("person man woman speaker guy lady people someone somebody who name singer reader "
                         "author sender".split())
PLACE_NOUNS = frozenset("place location city country room building address venue office".split())
TEXT_NOUNS = frozenset("line sentence word phrase quote text wording".split())  # "what was the last line": the sentence itself
APP_NOUNS = frozenset("app application program programme window software tool".split())
SAY_VERBS = frozenset("say tell mention speak talk ask sing read announce promise claim discuss state "
                      "reply answer repeat explain".split())
SHOW_VERBS = frozenset("show display see appear write list open select check show up pop".split())
SETTING_VERBS = frozenset("set configure schedule program preset adjust".split())  # "set to save every ..."
CHOICE_VERBS = frozenset("select choose check tick pick open enable activate highlight".split())  # "which tab was open"
DISPLAY_VERBS = frozenset("show display write".split())  # what was shown / written: its text is the answer
SCREEN_NOUNS = frozenset("screen slide display window monitor".split())
SUMMARY_WORDS = frozenset("summarise summarize summary recap overview outline gist topic sum".split())
FREQUENCY_ADVERBS = frozenset("often frequently regularly".split())
OCCURRENCE_NOUNS = frozenset("time occasion mention occurrence".split())
ORDER_WORDS = {"first": "first", "earliest": "first", "initial": "first", "initially": "first",
               "last": "last", "latest": "last", "final": "last", "finally": "last"}
PAST_STATE = frozenset("originally previously formerly earlier previous old former original history".split())
# "the second person on camera": seen (a face), "the third speaker": heard (a voice)
SEEN_WORDS = frozenset("camera screen video frame picture shot appear see show".split())
HEARD_NOUNS = frozenset("speaker voice caller singer narrator reader".split())
CHANGE_VERBS = frozenset("change move update switch replace reschedule edit modify".split())
# the edges of a stretch: "when the clip started", "before the video cut to black", "at the end of the song"
START_WORDS = frozenset("start begin commence beginning opening outset".split())
END_WORDS = frozenset("end finish stop conclude cut fade ending finale".split())
# parts of a recording, whose edges are in memory even when nothing describes them ("the clip")
MEDIA_NOUNS = frozenset("clip video recording song scene shot segment section part track episode movie film "
                        "footage reel sequence stream broadcast programme program".split())
# temporal subordinators and prepositions → how the question navigates from the moment they name
TEMPORAL = {"after": "after", "once": "after", "since": "after", "following": "after",
            "before": "before", "until": "before", "till": "before", "prior": "before",
            "when": "during", "while": "during", "during": "during", "as": "during", "whenever": "during"}
_WH_TAGS = {"WP", "WP$", "WDT", "WRB"}


@dataclass(frozen=True)
class Anchor:
    """A moment the question navigates from: ``relation`` is after / before / during."""

    relation: str
    phrase: str
    modality: str | None = None  # "speech" (something said), "screen" (something shown) or either
    # the moment is an edge of a stretch, seen from the side the question looks at: "first" for
    # "when / after X started", "last" for "when / before X ended" (None otherwise, and for
    # "before X started" or "after X ended", which look away from the stretch)
    edge: str | None = None


@dataclass(frozen=True)
class Gap:
    """What the answer fills in the question: the wh-word's role, the verb it hangs on and the
    noun it asks about ("what **length** was the password set to": focus "password length")."""

    wh: str = ""  # the wh-word's lemma ("what", "who", "how"); "" for a yes / no question
    role: str = ""  # its dependency label (nsubj, dobj, attr, poss, advmod, det ...)
    verb: str = ""  # the lemma of the verb it depends on
    focus: str = ""  # the noun phrase asked about ("password length", "wordlist")
    focus_head: str = ""  # its head lemma ("length")
    unit: str = ""  # "how many hours": the counted noun's lemma


@dataclass(frozen=True)
class Nth:
    """"the second person on camera": the ``n``-th person to appear (1-based; -1 the last),
    counted among faces ("seen"), voices ("heard") or both ("person")."""

    n: int
    modality: str  # "face" | "voice" | "person"
    phrase: str


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


# -- the reading of a parse ------------------------------------------------------------------


@dataclass
class Reading:
    """What the parse says, computed once per question; the rows of KINDS test it."""

    doc: Doc
    wh: Token | None
    root: Token
    skip: set[int]  # token indices of the anchor, the hop and the wall-clock words (not the topic)
    anchor: Anchor | None = None
    hop: Span | None = None
    nth: Nth | None = None

    def lemmas(self, pos: Sequence[str] = ("VERB", "AUX", "NOUN", "ADJ", "ADV", "PROPN")) -> set[str]:
        return {t.lemma_.lower() for t in self.doc if t.i not in self.skip and t.pos_ in pos}

    @property
    def wh_lemma(self) -> str:
        return self.wh.lemma_.lower() if self.wh is not None else ""

    def wh_head(self) -> Token | None:
        """The noun a "what / which" determines ("which **wordlist**"), or the noun a copula
        pairs with "what" ("what was the password **length**")."""
        wh = self.wh
        if wh is None:
            return None
        if wh.dep_ == "det" or (wh.tag_ == "WDT" and wh.head.pos_ in ("NOUN", "PROPN")):
            return wh.head
        if wh.tag_ == "WDT" and wh.i + 1 < len(self.doc) and self.doc[wh.i + 1].pos_ in ("NOUN", "PROPN"):
            nxt = self.doc[wh.i + 1]  # "in which city is ...": parsed apart, read together
            while nxt.dep_ == "compound" and nxt.head.i > nxt.i:
                nxt = nxt.head
            return nxt
        if wh.dep_ in ("attr", "nsubj", "dobj", "pobj") and wh.head.lemma_ == "be":
            others = [c for c in wh.head.children if c.dep_ in ("nsubj", "attr", "nsubjpass") and c.i != wh.i]
            nouns = [c for c in others if c.pos_ in ("NOUN", "PROPN")]
            if nouns:
                return nouns[0]
        return None

    def how_target(self) -> Token | None:
        """The word "how" modifies ("how **many**", "how **often**", "how **long**")."""
        wh = self.wh
        if wh is None or wh.lemma_.lower() != "how":
            return None
        if wh.head.i != wh.i and wh.head.pos_ in ("ADJ", "ADV", "DET", "PRON"):
            return wh.head
        nxt = wh.nbor(1) if wh.i + 1 < len(self.doc) else None
        return nxt if nxt is not None and nxt.pos_ in ("ADJ", "ADV") else None

    def counted(self) -> Token | None:
        """The noun counted by "how many" ("how many **hours**")."""
        target = self.how_target()
        if target is None or target.lemma_.lower() != "many":  # "how much": an amount, no unit to count
            return None
        if target.head.pos_ in ("NOUN", "PROPN") and target.head.i != target.i:
            return target.head
        nxt = self.doc[target.i + 1] if target.i + 1 < len(self.doc) else None
        return nxt if nxt is not None and nxt.pos_ in ("NOUN", "PROPN") else None


def _wh(doc: Doc) -> Token | None:
    """The question's own wh-word: the first one not inside a relative or adverbial clause
    ("what was on screen **when** ..." and "the person **who** ..." are not it)."""
    for tok in doc:
        if tok.tag_ not in _WH_TAGS:
            continue
        inside = any(a.dep_ in ("relcl", "advcl", "acl") for a in [tok, *tok.ancestors] if a.i != tok.i or a.dep_ == "relcl")
        if tok.dep_ in ("mark",) or (inside and tok.i > 0):
            continue
        return tok
    return None


def _anchor(doc: Doc, wh: Token | None) -> tuple[Anchor | None, set[int], bool]:
    """The moment the question navigates from, the tokens that name it, and whether it is a
    "before it changed" (which asks for history, not a moment)."""
    for tok in doc:
        rel = TEMPORAL.get(tok.lower_)
        if rel is None or tok is wh or tok.i == 0 and tok.lower_ == "when":
            continue
        if tok.lower_ == "as" and tok.dep_ == "prep":
            continue  # "who does she address as 'my friends'": a role, not a moment ("as he spoke" is one)
        if tok.dep_ == "prep" or tok.lower_ == "prior":  # "after the lunch break", "prior to the vote"
            kids = [g for c in tok.children if c.dep_ == "prep" for g in c.children] if tok.lower_ == "prior" else list(tok.children)
            obj = [c for c in kids if c.dep_ in ("pobj", "pcomp")]
            if not obj:
                continue
            span = doc[obj[0].left_edge.i: obj[0].right_edge.i + 1]
            head = obj[0]
        elif tok.dep_ in ("mark", "advmod") and tok.head.dep_ in ("advcl", "relcl", "ccomp", "conj", "pcomp") \
                or (tok.dep_ == "mark" and tok.head.i != tok.i):  # "once the break was over", "when X was said"
            clause = tok.head
            span = doc[clause.left_edge.i: clause.right_edge.i + 1]
            head = clause
        else:
            continue
        words = [t for t in span if t.i != tok.i]
        if not words:
            continue
        phrase = " ".join(t.text for t in words).strip(" ,?.")
        lemmas = {t.lemma_.lower() for t in words}
        pronoun_only = all(t.pos_ in ("PRON", "AUX", "PART", "PUNCT", "DET") or t.lemma_.lower() in CHANGE_VERBS for t in words)
        history = rel == "before" and (bool(lemmas & CHANGE_VERBS) and pronoun_only or lemmas <= CHANGE_VERBS | {"the"})
        if pronoun_only and not history:
            continue  # "after that", "before it": no moment named
        said = bool(lemmas & SAY_VERBS)
        shown = bool(lemmas & (SHOW_VERBS | SCREEN_NOUNS))
        modality = "speech" if said and not shown else "screen" if shown and not said else None
        skip = {t.i for t in span} | {tok.i}
        return (None if history else Anchor(rel, phrase, modality, _edge(rel, head))), skip, history
    return None, set(), False


def _edge(relation: str, head: Token) -> str | None:
    """"first" / "last" when the anchor is the start / end of a part of the recording and the
    question looks into it: the anchor's head — the verb of its clause ("when the clip
    *started*"), or the noun a preposition governs ("after the *beginning* of the song") — is a
    word of beginning or ending, and what begins or ends — the verb's subject, the noun's "of" —
    is a part of a recording (a clip, a song, a scene), not an event ("when the meeting started")
    or an act ("when he opened the invoice")."""
    if head.pos_ in ("NOUN", "PROPN"):
        whose = [g for c in head.children if c.dep_ == "prep" and c.lower_ == "of" for g in c.children if g.dep_ == "pobj"]
    else:
        whose = [c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")]
    if not any(t.lemma_.lower() in MEDIA_NOUNS for t in whose):
        return None
    lemmas = {head.lemma_.lower()}
    if lemmas & START_WORDS and relation in ("during", "after"):
        return "first"
    if lemmas & END_WORDS and relation in ("during", "before"):
        return "last"
    return None


def _hop(doc: Doc, wh: Token | None) -> Span | None:
    """"the person who mentioned the invoice": a relative clause on a person noun (or one that
    "who" introduces), whose subject is the relativiser."""
    for tok in doc:
        if tok.dep_ != "relcl":
            continue
        head = tok.head
        rel = [c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass") and c.tag_ in ("WP", "WDT")]
        if not rel or head is wh:
            continue
        if rel[0].lower_ == "who" or head.lemma_.lower() in PERSON_NOUNS or head.lower_ == "one":
            return doc[tok.left_edge.i: tok.right_edge.i + 1]
    return None


def read(text: str) -> Reading:
    doc = nlp.parse(text)
    wh = _wh(doc)
    root = next((t for t in doc if t.dep_ == "ROOT"), doc[0])
    anchor, skip, history = _anchor(doc, wh)
    reading = Reading(doc, wh, root, set(skip), anchor)
    reading.hop = _hop(doc, wh)
    if reading.hop is not None:  # "the person who ...": the person and the clause become "they"
        head = reading.hop.root.head
        reading.skip |= {t.i for t in reading.hop} | {t.i for t in head.subtree if t.i <= head.i}
    reading.nth, tokens = _nth(doc, reading.hop, reading.skip)
    reading.skip |= tokens
    reading.history_clause = history  # type: ignore[attr-defined]
    return reading


def _ordinal(tok: Token) -> int | None:
    """"second" / "2nd" / "third" → 2 / 2 / 3, "first" → 1, "last" / "final" → -1; else None."""
    import re

    doc, text = tok.doc, tok.text
    if tok.i >= 2 and doc[tok.i - 1].text == "-" and doc[tok.i - 2].like_num:  # "twenty-first"
        text = f"{doc[tok.i - 2].text}-{tok.text}"
    elif (order := ORDER_WORDS.get(tok.lower_)) is not None:
        return 1 if order == "first" else -1
    if tok.ent_type_ != "ORDINAL" and not tok.lower_.endswith(("st", "nd", "rd", "th")):
        return None
    m = re.match(r"(\d+)(?:st|nd|rd|th)$", nlp.digits(text.replace("-", " "), ordinals=True).strip())
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def _nth(doc: Doc, hop: Span | None, skip: set[int]) -> tuple[Nth | None, set[int]]:
    """An ordinal on a person ("the **second** person on camera", "the **last** speaker", "the
    first clip **of someone** talking"): which person, counted among what. Not one on a thing
    ("the first item on the agenda"), nor one a relative clause defines ("the first person who
    mentioned the budget": who did that, then the first of them). People are counted over the
    whole scope: a question that names a date or time ("the first speaker on the first of May")
    is about the first moment of that window, which the "first" row answers."""
    if any(e.label_ in ("DATE", "TIME") for e in doc.ents):
        return None, set()
    for tok in doc:
        if tok.i in skip or tok.dep_ not in ("amod", "nummod"):
            continue
        n = _ordinal(tok)
        head = tok.head
        if n is None or head.pos_ not in ("NOUN", "PROPN", "PRON") or head.i == tok.i:
            continue
        if hop is not None and hop.root.head.i == head.i:
            continue
        people = (PERSON_NOUNS | HEARD_NOUNS) - {"name", "who"}
        of_person = [g for c in head.children if c.dep_ == "prep" and c.lower_ == "of" for g in c.children
                     if g.dep_ == "pobj" and g.lemma_.lower() in people | {"someone", "somebody", "anyone"}]
        nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
        if head.lemma_.lower() in people or of_person:
            span = doc[head.left_edge.i: head.right_edge.i + 1]
        elif nxt is not None and nxt.dep_ == "compound" and nxt.lemma_.lower() in people:
            head = nxt  # "the fourth singer perform": a person noun the parse took for a compound
            span = doc[tok.left_edge.i: nxt.i + 1]
        else:
            continue
        words = {t.lemma_.lower() for t in span}
        modality = "face" if words & SEEN_WORDS else "voice" if head.lemma_.lower() in HEARD_NOUNS else "person"
        return Nth(n, modality, span.text), {t.i for t in span}
    return None, set()


# -- the rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of question: how it is recognised, what is retrieved, how it is answered."""

    name: str
    recognise: Callable[[Reading], bool]
    retrieves: str
    answers: str


def _is_who(r: Reading) -> bool:
    if r.wh_lemma in ("who", "whom", "whose"):
        return True
    head = r.wh_head()
    return head is not None and head.lemma_.lower() in PERSON_NOUNS - {"name"}


def names_moment(noun: Token) -> bool:
    """The noun asks for a moment: a time noun ("what time", "which day"), or a mark written in
    time ("what timecode / time code / date stamp was shown"): a mark noun with a time noun as
    its compound, or run together with one into a word of its own."""
    low = noun.lemma_.lower()
    if low in TIME_NOUNS:
        return True
    if low in MARK_NOUNS:
        return any(c.dep_ == "compound" and c.lemma_.lower() in TIME_NOUNS for c in noun.children)
    return any(low.startswith(t) and low[len(t):] in MARK_NOUNS for t in TIME_NOUNS)


def _is_when(r: Reading) -> bool:
    if r.wh_lemma == "when":
        return True
    head = r.wh_head()
    return head is not None and names_moment(head)


def _is_where(r: Reading) -> bool:
    head = r.wh_head()
    return r.wh_lemma == "where" or (head is not None and head.lemma_.lower() in PLACE_NOUNS)


def _is_setting_rate(r: Reading) -> bool:
    """"How often was X set to save ...", "how frequently is the backup scheduled to run": the rate
    a setting makes something happen at (a passive verb of setting with a "to" clause), a value
    shown on screen, not a count of moments ("how often was she asked to present", "how often
    was the server restarted to apply updates" count them)."""
    target = r.how_target()
    if target is None or target.lemma_.lower() not in FREQUENCY_ADVERBS:
        return False
    for verb in (t for t in r.doc if t.i not in r.skip and t.pos_ in ("VERB", "AUX")):
        # the small parser reads "is the cache set to ..." as a copula and a participle on the noun
        passive = verb.tag_ in ("VBN", "VBD") and (
            any(c.dep_ in ("auxpass", "nsubjpass") or c.dep_ == "aux" and c.lemma_ == "be" for c in verb.children)
            or verb.dep_ in ("acomp", "acl") and r.root.lemma_ == "be")
        infinitive = any(c.dep_ in ("xcomp", "advcl") and any(g.tag_ == "TO" for g in c.children) for c in verb.children)
        if passive and infinitive and verb.lemma_.lower() in SETTING_VERBS:
            return True
    return False


def _is_times(r: Reading) -> bool:
    if _is_setting_rate(r):
        return False
    target = r.how_target()
    if target is not None and target.lemma_.lower() in FREQUENCY_ADVERBS:
        return True
    counted = r.counted()
    if counted is not None and counted.lemma_.lower() in OCCURRENCE_NOUNS:
        return True
    # "the number of times", "what number of mentions"
    return any(t.lemma_.lower() in OCCURRENCE_NOUNS and t.dep_ == "pobj" and t.head.head.lemma_.lower() in ("number", "count")
               for t in r.doc)


def _is_how_many(r: Reading) -> bool:
    if _is_times(r):
        return False
    target = r.how_target()
    if target is not None and target.lemma_.lower() in ("many", "much", "long", "old", "big", "large", "far",
                                                           "tall", "high", "fast", "heavy", "wide", "deep"):
        return True
    if _is_setting_rate(r):
        return True
    head = r.wh_head()
    return head is not None and head.lemma_.lower() in NUMBER_NOUNS


def _is_app(r: Reading) -> bool:
    head = r.wh_head()
    if head is not None and head.lemma_.lower() in APP_NOUNS:
        return True
    # "the title of the window that showed ...": what is asked is the window's
    return head is not None and head.lemma_.lower() in ("title", "name") and any(
        c.dep_ == "prep" and any(g.lemma_.lower() in APP_NOUNS for g in c.children) for c in head.children)


def _is_yesno(r: Reading) -> bool:
    first = r.doc[0]
    if r.wh is None and first.pos_ == "AUX" and first.dep_ != "ROOT" or (
            r.wh is None and first.pos_ == "AUX" and first.lemma_ == "be" and first.dep_ == "ROOT"):
        return True
    if r.wh is None and first.lemma_.lower() == "do" and first.tag_ in ("VBZ", "VBD", "VBP") and len(r.doc) > 2 \
            and r.doc.text.rstrip().endswith("?") and r.doc[1].pos_ in ("PROPN", "PRON", "NOUN", "DET", "CCONJ"):
        return True  # "Does Luna like cookies?": the parser takes the auxiliary for the verb
    # a fronted phrase, then the inverted clause ("In Okular's settings, was X turned on?"): an
    # auxiliary (or the copula) right after the comma, in a question
    return r.wh is None and r.doc.text.rstrip().endswith("?") and any(
        t.pos_ == "AUX" and t.i > 0 and r.doc[t.i - 1].text == "," and t.dep_ in ("ROOT", "aux", "auxpass")
        for t in r.doc)


def _order(r: Reading) -> str | None:
    dates = {i for e in r.doc.ents if e.label_ in ("DATE", "TIME") for i in range(e.start, e.end)}
    for t in r.doc:
        if t.i in dates or t.i in r.skip:
            continue
        order = ORDER_WORDS.get(t.lower_)
        if order is None:
            continue
        # "last modified": an adverb of recency on a verb is not an order among moments
        if t.head.pos_ == "VERB" and t.head.tag_ == "VBN" and t.i + 1 == t.head.i:
            continue
        return order
    return None


_WHOLE_PREPS = frozenset("of in from during".split())


def _within(r: Reading) -> str | None:
    """The whole an order is taken in: "the last line **of the poem**", "the first words **in the
    speech**", "the poem's last line", "what was the first thing said **in the meeting**" (the
    object of an of / in / from / during phrase on the ordered noun, or on the verb it is said
    by, or the noun's possessor). None when the order runs over all of memory ("the last thing
    said about the budget", "mentioned for the last time")."""
    for t in r.doc:
        if ORDER_WORDS.get(t.lower_) != _order(r) or t.i in r.skip:
            continue
        ordered = t.head
        heads = [t, ordered, *(c for c in ordered.children if c.dep_ in ("acl", "relcl") and c.pos_ == "VERB")]
        if ordered.dep_ in ("nsubj", "nsubjpass") and ordered.head.pos_ == "VERB":
            heads.append(ordered.head)  # "the first thing (was) said in the meeting"
        for head in heads:
            for c in head.children:
                whole = None
                if c.dep_ == "prep" and c.lemma_.lower() in _WHOLE_PREPS:
                    whole = next((g for g in c.children if g.dep_ == "pobj" and g.pos_ in ("NOUN", "PROPN")), None)
                elif c.dep_ == "poss" and c.pos_ in ("NOUN", "PROPN") and head is ordered:
                    whole = c
                if whole is not None and whole.lemma_.lower() not in TIME_NOUNS and whole.i not in r.skip:
                    return " ".join(g.text for g in whole.subtree if g.dep_ != "case").strip()
        return None
    return None


def _is_history(r: Reading) -> bool:
    if getattr(r, "history_clause", False):
        return True
    for t in r.doc:
        low = t.lemma_.lower()
        if t.i in r.skip or low not in PAST_STATE | {"use"}:
            continue
        if low == "use":  # "used to be"
            if t.tag_ in ("VBD", "VBN", "VB") and any(c.dep_ == "xcomp" and any(g.tag_ == "TO" for g in c.children) for c in t.children):
                return True
            continue
        if t.dep_ == "acomp" and any(c.lower_ == "how" for c in t.children):
            continue  # "how old is the server": an age, not a past state
        if t.pos_ == "ADJ" and t.dep_ == "acomp":
            continue
        if t.pos_ == "NOUN" and t.dep_ == "compound":
            continue  # "history tab"
        return True
    return False


def _reads_writing(t: Token) -> bool:
    """"read **on** the sleeve", "could be read off the sign": text read where it is written, a
    thing seen, not said ("read out", "read aloud", "the poem that was read" are said)."""
    return t.lemma_.lower() == "read" and any(c.dep_ == "prep" and c.lower_ in ("on", "off") for c in t.children) \
        and not any(c.lower_ in ("out", "aloud") for c in t.children)


def _is_said(r: Reading) -> bool:
    return any(t.lemma_.lower() in SAY_VERBS and not _reads_writing(t)
               for t in r.doc if t.i not in r.skip and t.pos_ == "VERB")


def _is_shown(r: Reading) -> bool:
    verbs = r.lemmas(("VERB",))
    nouns = {t.lemma_.lower() for t in r.doc if t.i not in r.skip and t.pos_ == "NOUN" and t.dep_ == "pobj"}
    return bool(verbs & SHOW_VERBS) or bool(nouns & SCREEN_NOUNS) or any(
        _reads_writing(t) for t in r.doc if t.i not in r.skip and t.pos_ == "VERB")


def _is_verbatim(r: Reading) -> bool:
    """"What was said about X", "what did Tom mention", "what was shown after the intro": the
    pronoun "what" is what a reporting or display verb reports — the recorded words themselves are
    the answer. Not when the verb reports a clause that holds the gap ("what did the report say the
    deadline was", "what is said to be the budget") or "what" determines a noun ("what time did she
    say")."""
    wh = r.wh
    if wh is None or wh.tag_ != "WP" or wh.lemma_.lower() != "what":
        return False
    verb = wh.head
    if verb.pos_ == "AUX" and verb.head.i != verb.i and verb.dep_ == "aux":
        verb = verb.head  # "what exactly did the person say": "what" hung on "did"
    elif wh.dep_ not in ("dobj", "nsubjpass"):
        return False
    if verb.lemma_.lower() not in SAY_VERBS | DISPLAY_VERBS or verb.dep_ == "xcomp":
        return False  # "what did he say to ask": what to ask is a content, not a recording
    return not any(c.dep_ in ("ccomp", "xcomp") for c in verb.children)


def _is_summary(r: Reading) -> bool:
    root = r.root
    subjects = [c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")]
    if root.lemma_.lower() in SUMMARY_WORDS and all(c.lower_ == "you" for c in subjects):
        return True  # "summarise ...", "recap the ...", "could you sum up ..."
    objs = {c.lemma_.lower() for c in root.subtree if c.dep_ in ("dobj", "attr", "nsubj")}
    head = r.wh_head()
    asked = {head.lemma_.lower()} if head is not None else set()
    return bool((objs | asked) & SUMMARY_WORDS) and (r.wh is None or head is not None and head.tag_ == "NNS"
                                                     or root.lemma_.lower() in ("give", "want", "need"))


def _is_what(r: Reading) -> bool:
    return r.wh_lemma in ("what", "which") or (r.wh is None and not _is_yesno(r))


KINDS: tuple[Kind, ...] = (
    Kind("summary", _is_summary,
         "scene-level episodes on the topic, then their clips",
         "the summary sentences of the best matching part, in time order"),
    Kind("how_many_times", _is_times,
         "every clip-level moment on the topic (up to 40)",
         "the number of distinct moments whose words match the topic, each cited"),
    Kind("who", _is_who,
         "episodes on the topic, then the span around the best one (speakers)",
         "'who said X': the speaker; otherwise the subject of the question's verb in the best sentence, "
         "else a PERSON entity in it"),
    Kind("when", _is_when,
         "episodes on the topic (snippets with dates and times score higher)",
         "the DATE / TIME entity (or clock time, date, timecode) of the best sentence or screen line"),
    Kind("where", _is_where,
         "episodes on the topic",
         "a GPE / LOC / FAC entity of the best sentence; for what was seen on screen, the app that showed it"),
    Kind("which_app", _is_app,
         "episodes on the topic (screen captures)",
         "the app (or the window title) of the capture that showed it"),
    Kind("how_many", _is_how_many,
         "episodes on the topic (snippets with numbers score higher)",
         "the number next to the counted noun or the asked label (CARDINAL / QUANTITY / MONEY / PERCENT)"),
    Kind("choice", lambda r: r.wh is None and bool(_options(r)),
         "episodes on the topic and on each alternative",
         "the alternative the best evidence names (the current fact when both were said)"),
    Kind("yes_no", _is_yesno,
         "episodes on the topic",
         "the value beside the asked label when it says yes / no / on / off, else the evidence quoted"),
    Kind("what", _is_what,
         "episodes and facts on the topic",
         "the value beside the asked label on screen, else the phrase of the best sentence that fills the "
         "question's gap (the argument of the aligned verb that the question does not already say)"),
    # modifiers: they combine with the rows above
    Kind("first", lambda r: _order(r) == "first", "all moments on the topic", "the earliest of the close matches"),
    Kind("last", lambda r: _order(r) == "last", "all moments on the topic", "the latest of the close matches"),
    Kind("before", lambda r: r.anchor is not None and r.anchor.relation == "before",
         "the anchor moment, then episodes before it", "from the evidence before the anchor"),
    Kind("after", lambda r: r.anchor is not None and r.anchor.relation == "after",
         "the anchor moment, then episodes after it", "from the evidence after the anchor"),
    Kind("during", lambda r: r.anchor is not None and r.anchor.relation == "during",
         "the anchor moment, then everything said and shown around it", "from what was around the anchor"),
    Kind("history", _is_history, "facts with the values they replaced", "the superseded value"),
    Kind("said", _is_said, "speech first", "from what was said"),
    Kind("shown", _is_shown, "screen text and keyframes first", "from what was shown"),
    Kind("verbatim", _is_verbatim, "as its main row",
         "the recorded words of the best moments, quoted as they are (no model rewrites them)"),
    Kind("through_person", lambda r: r.hop is not None,
         "who did what the relative clause says, then that person's own episodes", "from that person's moments"),
)
_MAIN = ("summary", "how_many_times", "who", "when", "where", "which_app", "how_many", "choice", "yes_no", "what")
_WANTS = {"who": "name", "when": "time", "where": "place", "which_app": "app", "how_many": "number",
          "yes_no": "yesno"}
# unanswerable questions are not recognised from their words: the answer step abstains when no
# evidence is relevant, when a name or code of the question is nowhere in memory, or when no span of
# the asked type exists in relevant evidence


def kinds_of(text: str) -> tuple[str, ...]:
    r = read(" ".join(text.split()))
    return tuple(k.name for k in KINDS if k.recognise(r))


def parse(text: str, people: Mapping[str, Sequence[str]] = {}, now: float | None = None) -> Question:
    """``people``: names and ids (lowercase) → entity ids; ``now``: the wall-clock time "today"
    and "yesterday" are relative to (the latest wall time in memory, or the clock)."""
    import re

    text = " ".join(text.split())
    low = text.lower()
    named = {name: tuple(ids) for name, ids in people.items() if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low)}
    r = read(text)
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
    return Gap(wh=wh.lemma_.lower(), role=wh.dep_, verb=verb.lemma_.lower(), focus=focus,
               focus_head=head.lemma_.lower() if head is not None else "",
               unit=counted.lemma_.lower() if counted is not None else "")


def _options(r: Reading) -> tuple[str, ...]:
    """The alternatives of a question that offers two: "which came first, the audit or the
    budget?", "is the broom in the middle of the room or in the corner?", "does Anna prefer
    quietness or noise?", "is the door open or closed?". The second is the conjunct after "or";
    the first is its head when both are the same part of speech, else the phrase before "or" that
    starts like the second does (the small parser often hangs "or ..." on the verb). "or not" and
    "whether or not" offer no alternative."""
    for t in r.doc:
        if t.lower_ != "or" or t.dep_ != "cc":
            continue
        a = t.head
        b = next((c for c in a.children if c.dep_ == "conj" and c.i > t.i), None)
        if b is None or b.lower_ in ("not", "no", "otherwise") or b.pos_ in ("PART", "AUX", "PRON"):
            continue
        span_b = _phrase(b)
        if a.pos_ == b.pos_ and a.dep_ != "ROOT":
            span_a = _phrase(a, until=t.i)
        else:  # hung on the verb: the words before "or" that parallel the second alternative
            same = [x for x in r.doc[: t.i] if x.pos_ == b.pos_ and x.i > 0 and x.dep_ != "ROOT"]
            span_a = r.doc[same[-1].i: t.i] if same and t.i - same[-1].i <= len(span_b) + 2 else \
                r.doc[max(1, t.i - len(span_b)): t.i]
        if not span_a or not span_b or len(span_a) > 8 or r.wh is not None and r.wh.i >= span_a.start:
            continue

        def strip(span: Span) -> str:
            return " ".join(x.text for x in span if x.dep_ != "det" and not x.is_punct).strip()

        first, second = strip(span_a), strip(span_b)
        if a.dep_ == "amod" and b.dep_ == "conj" and a.head.pos_ == "NOUN" and a.head.i > b.i:
            first, second = f"{first} {a.head.text}", f"{second} {a.head.text}"  # "the second or third shelf"
        if first and second and first.lower() != second.lower():
            return first, second
    return ()


_MODIFIERS = ("det", "amod", "compound", "nummod", "poss", "case", "quantmod")


def _phrase(tok: Token, until: int | None = None) -> Span:
    """The phrase a word heads: its noun-phrase modifiers on the left ("the south garage"), all
    it governs on the right ("in the middle of the room"), cut before ``until`` and end punctuation."""
    start = tok.i
    for c in tok.lefts:
        if c.dep_ in _MODIFIERS:
            start = min(start, c.left_edge.i)
    end = tok.right_edge.i + 1 if until is None else min(tok.right_edge.i + 1, until)
    while end > tok.i + 1 and (tok.doc[end - 1].is_punct or tok.doc[end - 1].dep_ == "cc"):
        end -= 1
    return tok.doc[start:end]


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
