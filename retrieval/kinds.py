"""The question table: each kind of question is one :class:`Kind` — how it is recognised from
the parse (:mod:`retrieval.reading`), what the agent retrieves for it, how the answer is formed.
The main kinds (:data:`MAIN`) pick the answer type; the others are modifiers that combine with them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval.reading import (
    APP_NOUNS, DISPLAY_VERBS, FREQUENCY_ADVERBS, MARK_NOUNS, NUMBER_NOUNS, OCCURRENCE_NOUNS, ORDER_WORDS, PAST_STATE,
    PERSON_NOUNS, PLACE_NOUNS, SAY_VERBS, SCREEN_NOUNS, SETTING_VERBS, SHOW_VERBS, SUMMARY_WORDS, TEMPORAL, TIME_NOUNS,
    Reading, _options, read,
)

if TYPE_CHECKING:
    from spacy.tokens import Token


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


def planned(word: Token) -> bool:
    """Whether a temporal preposition or subordinator relates planned events rather than moments
    of a recording: the verb it modifies is in the future ("who **will** look after the warehouse
    move", "who'll take over once the audit ends", "who is **going to** speak after the vote").
    What will happen after X is stated in what was said, not found by looking after X's moment;
    "who spoke after the break", "what is shown after the intro", "before the demo, who spoke"
    navigate the recording."""
    verb = word.head.head if word.dep_ in ("mark", "advmod") and word.head.dep_ != "ROOT" else word.head
    while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
        verb = verb.head
    for v in (verb, *[a for a in verb.ancestors if a.dep_ in ("xcomp", "conj", "ROOT")][:1]):
        if any(c.tag_ == "MD" and c.lemma_.lower() in ("will", "shall") for c in v.children):
            return True
        if v.dep_ == "xcomp" and v.head.lemma_.lower() == "go" and v.head.tag_ == "VBG" \
                and any(c.dep_ == "aux" and c.lower_ == "to" for c in v.children):
            return True  # "is going to look after": the future, not a movement
    return False


def understand(text: str) -> Reading:
    """The reading of a question, without an anchor that relates planned events: "who will look
    after the warehouse move" asks who takes care of the move (what was said about it), not what
    came after the moment it was mentioned (:func:`planned`); its words stay in the topic."""
    r = read(text)
    if r.anchor is None:
        return r
    word = next((t for t in r.doc if t.i in r.skip and TEMPORAL.get(t.lower_) == r.anchor.relation), None)
    if word is None or not planned(word):
        return r
    phrase = word.head if word.dep_ in ("mark", "advmod") and word.head.dep_ != "ROOT" else word
    r.skip -= {t.i for t in phrase.subtree} | {word.i}
    r.anchor = None
    return r


def kinds_of(text: str) -> tuple[str, ...]:
    r = understand(" ".join(text.split()))
    return tuple(k.name for k in KINDS if k.recognise(r))
