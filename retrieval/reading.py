"""The reading of a question's parse: its wh-word, the moment it navigates from (anchor), the
person it reaches through what they did (hop), an ordinal on a person (nth), and the alternatives
it offers — the facts :mod:`retrieval.kinds` recognises kinds from and :mod:`retrieval.question`
builds a :class:`~retrieval.question.Question` of.

The few word classes below are lemma sets of *meanings* (nouns that name a time, verbs of
saying), not phrases: a question is recognised by the role such a word plays in its parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    role: str = ""  # its dependency label (nsubj, dobj, attr, poss, advmod, det ...); for "which N", N's role
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
