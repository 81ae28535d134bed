"""Names for people, offline: what speakers call themselves, and name tags shown on screen.

Precision over recall. Whether a word is a name is read from the shared parse
(:func:`memory.nlp.parse`): a PERSON entity, or a proper noun written with a capital inside its
sentence, is a name; a stop word, a closed-class word (pronoun, determiner, preposition,
interjection...), a number or a date is not; any other word (lowercase ASR text, a capital at
the start of a sentence) is a name only when it is no English adjective, verb or adverb in
WordNet's index (:func:`memory.nlp.in_lexicon`) — "i'm sorry", "i'm going", "Click here" name
nobody, "i'm alice" names Alice. A name must look like one (letters, inner hyphens and
apostrophes). Screen lines are also checked against :data:`UI_WORDS` (menus, buttons, app names).
Names come back title-cased: ASR often lowercases them and screens often upper-case them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory import nlp

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

__all__ = ["UI_WORDS", "addressed", "name_tags", "self_introductions", "title_name"]

# Words of screen furniture: menus, ribbons, buttons, app and product names, form labels.
UI_WORDS: frozenset[str] = frozenset("""
file files edit view insert format tools help window windows tab tabs sign log login logout account
profile settings setting options preferences google chrome microsoft edge firefox safari word excel
powerpoint outlook teams onenote office copilot search home share open save print page pages layout
references mailings draw design data formulas formula table chart review comments comment insights
total subtotal amount balance tax due date status description quantity price unit item items customer
address phone email number summary dashboard overview welcome contact privacy policy terms service
services products product blog news sports weather images maps shopping videos books flights finance
results sheet sheets sum average count notebook section sections notes note task tasks list lists board
project projects channel channels general posts wiki font paragraph styles style editing clipboard
normal heading title subtitle bold italic underline align center centre justify zoom fit accessibility
focus track changes menu desktop recycle bin document documents untitled calendar chat chats activity
apps app add remove delete submit cancel confirm previous forward refresh download upload copy paste
cut undo redo select clear reply inbox drafts sent junk archive mute unmute camera screen record video
audio contacts invoice receivables payables settings display painter formatting conditional cells
filter sort merge wrap autosave autosum sensitivity editor dictate voice spacing replace predictions
text terminal console output debug problems ports selection code run go explorer extensions source
control git branch commit push pull merge issue issues request requests tools performance memory
health spec standup backlog message messages threads mentions calls favorites unread discover
store images about advertising business settings license evaluation enterprise build setup player
media edition version update updates security network internet bluetooth battery volume power
keyboard mouse printer downloads pictures music recent favourites shortcuts trash folder folders
breaking live latest episode season chapter part slide slides agenda minutes attendees participants
organizer presenter guest host speaker speakers lobby waiting admit deny raise hand reactions
captions transcript recording leave end meeting meetings join now more less show hide expand collapse
light dark theme mode auto manual default custom advanced basic standard premium pro plus free trial
""".split())

_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['\-][^\W\d_]+)*$")
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "dos", "das", "ter", "ten", "le", "la", "bin", "al"})
# Suffixes of ordinary words (abstract nouns, adjectives) that names rarely have; the weak ones
# (-ing, -ly, -ed, -er, -ent, -ant, -al) also end names (Irving, Beverly, Peter, Vincent, Neal), so
# they only disqualify a word written in lowercase ("i'm stressed", "i'm older").
_STRONG_SUFFIX = re.compile(r"(?:tion|sion|ment|ness|ity|ism|ology|able|ible|ful|less|ous|ive|ize|tic|ship)$")
_WEAK_SUFFIX = re.compile(r"(?:ing|ly|ed|er|ent|ant)$|^.{5,}al$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def title_name(name: str) -> str:
    """Title-case a name: "LIN-MANUEL miranda" -> "Lin-Manuel Miranda", "o'brien" -> "O'Brien".
    Mixed-case words (McDonald) are kept; lowercase particles inside a name (van, de) stay lowercase."""
    words = name.split()
    out = []
    for k, word in enumerate(words):
        if 0 < k < len(words) - 1 and word in _PARTICLES:
            out.append(word)
        elif any(c.isupper() for c in word) and not word.isupper():
            out.append(word)
        else:
            out.append(re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), word.lower()))
    return " ".join(out)


# parts of speech that never name anyone, and entity types that are no person
_CLOSED = frozenset({"ADP", "AUX", "CCONJ", "DET", "INTJ", "NUM", "PART", "PRON", "PUNCT", "SCONJ", "SYM", "SPACE"})
_NOT_PERSON = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY", "LANGUAGE"})


def _english(word: str, lemma: str, pos: tuple[str, ...] = ("adj", "verb", "adv")) -> bool:
    return any(nlp.in_lexicon(w, p) for w in {word, lemma} for p in pos)


def _looks_like_word(low: str, lowercase: bool) -> bool:
    """Ends like an ordinary word: a strong suffix ("-tion", "-ness"), or, written lowercase, a
    weak one ("-ing", "-ed") that names also have (Irving, Peter)."""
    if len(low) > 5 and _STRONG_SUFFIX.search(low):
        return True
    return lowercase and len(low) > 4 and bool(_WEAK_SUFFIX.search(low))


def _name_token(tok: Token, *, strong: bool = False) -> bool:
    """Whether a token of a parse can be (part of) a person's name. ``strong``: it follows a cue
    that introduces a name and nothing else ("my name is", "call me"), so a proper noun in
    lowercase counts too ("my name is bob")."""
    text, low = tok.text, tok.lower_
    if len(text) < 2 or not _NAME_WORD.match(text) or tok.like_num or tok.ent_type_ in _NOT_PERSON:
        return False
    if tok.pos_ == "PROPN" and text[0].isupper() and not text.isupper():
        if tok.ent_type_ == "PERSON" or not tok.is_stop:  # "Will Turner"'s Will is a stop word
            return not (tok.ent_type_ == "NORP" and _english(low, low, ("adj",)))  # "I'm American"
    if tok.is_stop or tok.pos_ in _CLOSED or tok.ent_type_ == "NORP" or tok.pos_ in ("VERB", "ADV") and text.islower():
        return False  # lowercase: "i'm kinda busy" (an adverb the tagger calls PERSON)
    if tok.ent_type_ == "PERSON" or (strong and tok.pos_ == "PROPN"):
        return True
    return not _english(low, tok.lemma_.lower()) and not _looks_like_word(low, text.islower())


def _words(tokens: Sequence[Token]) -> list[tuple[list[Token], bool]]:
    """Tokens grouped into the words they were written as ("Lin-Manuel", "Alice's", "Tom,"): each
    word's tokens without trailing punctuation, and whether punctuation ended it."""
    out: list[tuple[list[Token], bool]] = []
    group: list[Token] = []
    for tok in tokens:
        group.append(tok)
        if tok.whitespace_ or tok is tokens[-1]:
            core: list[Token] = []
            for t in group:
                if t.is_punct and t.text not in ("-", "'"):
                    break
                core.append(t)
            out.append((core, len(core) < len(group)))
            group = []
    return out


def _take_name(tokens: Sequence[Token], *, whole: bool = False, strong: bool = False) -> str | None:
    """Up to three name words from the start of ``tokens``; stop at punctuation or a word that is
    no name. None when the first word is not a name (or, with ``whole``, when any word is not), or
    is a possessive ("I'm Alice's sister")."""
    words: list[str] = []
    groups = _words(tokens)
    for k, (core, ended) in enumerate(groups):
        if len(words) == 3 or not core:
            if whole and (core or k < len(groups) - 1):
                return None
            break
        if any(t.lower_ in ("'s", "s'") for t in core[1:]):
            return None
        text = "".join(t.text_with_ws for t in core).strip()
        if not (_NAME_WORD.match(text) and all(_name_token(t, strong=strong) for t in core if t.is_alpha)):
            if whole or not words:
                return None
            break
        words.append(text)
        if ended:
            if whole and k < len(groups) - 1:
                return None
            break
    return title_name(" ".join(words)) if words else None


_CUE = re.compile(r"\b(?P<strong>my\s+name\s+is|my\s+name's|call\s+me)\s+(?P<tail>.*)|\b(?:i'm|i\s+am)\s+(?P<weak>.*)",
                  re.IGNORECASE)
_SPEAKING = re.compile(r"\bthis\s+is\s+(?P<tail>.*?)\s+speaking\b", re.IGNORECASE)
_PHONE = re.compile(
    r"^(?:(?:hi|hello|hey|yes|yeah|ok|okay)\s*,?\s+)?(?P<tail>[^\W\d_][\w'\-]*(?:\s+[^\W\d_][\w'\-]*){0,2})\s+(?P<kw>here|speaking)\s*(?:[.,!;:]|$)",
    re.IGNORECASE,
)
# "Hi, this is Maria from accounting": a name the speaker goes on to place, or a PERSON entity
_THIS_IS = re.compile(r"^(?:(?:hi|hello|hey|yes|yeah|ok|okay|so|and|well)\s*,?\s+)*this\s+is\s+(?P<tail>.*)", re.IGNORECASE)
_PLACED_BY = frozenset({"from", "with", "at", "of", "in", "calling", "here", "speaking"})
_SENTENCE = re.compile(r"[^.!?\n|]+(?:[.!?]+|$)|[^\n|]+")


def _tokens_in(doc: Doc | Span, base: int, start: int, end: int) -> list[Token]:
    return [t for t in doc if start <= t.idx - base < end and not t.is_space]


def _introduced_by_this_is(tokens: Sequence[Token]) -> str | None:
    name = _take_name(tokens)
    if name is None:
        return None
    groups = _words(tokens)
    n = len(name.split())
    ended = groups[n - 1][1]
    following = groups[n][0] if n < len(groups) and groups[n][0] else None
    if following and not ended and following[0].lower_ in _PLACED_BY:
        return name
    if following and ended and following[0].pos_ in ("DET", "PRON"):
        return None  # "This is Tom, our new hire": someone else, introduced
    return name if tokens[0].ent_type_ == "PERSON" else None


def self_introductions(text: str | Span) -> list[str]:
    """Names a speaker gives for themselves, title-cased, in order, without duplicates.

    Patterns: "my name is X", "I'm X", "I am X", "call me X", "this is X speaking", at the start
    of a sentence "X here" / "X speaking" (phone style) and "this is X from ..." (or X a PERSON
    entity). X is at most three name words (:func:`_name_token`: the shared parse) and stops at
    punctuation or the first word that is no name ("and", "from", "the new manager"). "I'm fine",
    "I'm going", "I'm a teacher", "I'm so happy", "I'm not", "I'm here", "this is great" give nothing.
    ``text`` may be a parsed sentence (a ``Span`` of the shared parse): it is not parsed again.
    """
    if isinstance(text, str):
        text = text.translate(_APOSTROPHES)
        if not re.search(r"\b(?:i'm|i\s+am|name|call|this\s+is|here|speaking)\b", text, re.IGNORECASE):
            return []  # most sentences hold no cue: no parse
        doc: Doc | Span = nlp.parse(text)
        base = 0
    else:
        doc, base, text = text, text.start_char, text.text
    found: list[str] = []
    for sm in _SENTENCE.finditer(text):
        s, sentence = sm.start(), sm.group(0)
        if not sentence.strip():
            continue
        names: list[str | None] = []
        for m in _CUE.finditer(sentence):
            strong = m.group("strong") is not None
            tail = "tail" if strong else "weak"
            names.append(_take_name(_tokens_in(doc, base, s + m.start(tail), s + len(sentence)), strong=strong))
        for m in _SPEAKING.finditer(sentence):
            names.append(_take_name(_tokens_in(doc, base, s + m.start("tail"), s + m.end("tail")), whole=True))
        lead = len(sentence) - len(sentence.lstrip())
        if m := _PHONE.match(sentence.lstrip()):
            names.append(_take_name(_tokens_in(doc, base, s + lead + m.start("tail"), s + lead + m.end("tail")), whole=True))
        if m := _THIS_IS.match(sentence.lstrip()):
            tokens = _tokens_in(doc, base, s + lead + m.start("tail"), s + len(sentence))
            names.append(_introduced_by_this_is(tokens) if tokens else None)
        for name in names:
            if name and name not in found:
                found.append(name)
    return found


_TRAILING_ROLE = re.compile(
    r"\s*\((?:you|me|guest|host|co-host|organi[sz]er|presenter|external|unverified|he/him|she/her|they/them)\)\s*$",
    re.IGNORECASE,
)
_INITIAL = re.compile(r"^[A-Z]\.?$")


def _tag_word(tok: Token) -> bool:
    """A word of a name tag: capitalised letters, no screen-furniture word, no stop word, no date,
    no English adjective or adverb ("Good Morning", "Aptos Narrow"), not ending like an ordinary
    word ("Agentic Artisans")."""
    text, low = tok.text, tok.lower_
    if not (text[0].isupper() and _NAME_WORD.match(text)) or len(text) < 2 or tok.is_stop:
        return False
    parts = re.split(r"['\-]", low)
    if low in UI_WORDS or any(p in UI_WORDS for p in parts if len(parts) > 1 and len(p) > 2):
        return False
    if tok.ent_type_ in _NOT_PERSON or low.endswith("'s"):
        return False
    return not _english(low, low, ("adj", "adv")) and not _looks_like_word(low, False)


def name_tags(lines: Sequence[str]) -> list[str]:
    """Screen lines that read like a person's name tag or caption, title-cased, in order, no duplicates.

    A line qualifies when it is 2-3 words, each capitalised (or ALL CAPS) and made of letters,
    hyphens and apostrophes (a middle initial "F." is allowed), none of them a UI word
    (:data:`UI_WORDS`), a stop word, a date or an English adjective / adverb, and at least one of
    them no English word at all, or all of them nouns only (WordNet: "Ana Lima", "John Kennedy";
    "Fox Mulder" for Mulder; not "Monday Morning", a date). A trailing role in brackets ("Ana Lima
    (You)", "(Guest)") is dropped.
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in lines:
        line = _TRAILING_ROLE.sub("", raw.translate(_APOSTROPHES)).strip()
        words = line.split()
        if not 2 <= len(words) <= 3 or not all(w[0].isupper() for w in words):
            continue
        inner = [w for k, w in enumerate(words) if not (0 < k < len(words) - 1 and _INITIAL.match(w))]
        if not all(_NAME_WORD.match(w) for w in inner):
            continue
        name = title_name(" ".join(words))
        if name.lower() in seen:
            continue
        # parsed as the name it would be: an ALL CAPS line reads as a sentence of acronyms
        doc = nlp.parse(name)
        toks = [t for t in doc if not _INITIAL.match(t.text) and t.text not in ("-", "'", ".")]
        if not all(_tag_word(t) for t in toks if t.is_alpha or _NAME_WORD.match(t.text)):
            continue
        lows = [t.lower_ for t in toks if t.is_alpha]
        if any(not nlp.in_lexicon(w) for w in lows) or all(not _english(w, w, ("verb",)) for w in lows):
            seen.add(name.lower())
            out.append(name)
    return out


def addressed(text: str) -> list[tuple[str, str]]:
    """People a speaker talks to by name ("Thanks, Tom." / "Tom, can you send it?" / "Okay,
    Sarah, what do you think?"): a vocative, a person's name (a proper noun that is a PERSON
    entity or no other entity, :func:`_name_token`) set off by commas or the sentence's edges. With each name, who it
    most likely belongs to: the ``"next"`` speaker when the sentence asks something or opens
    with the name (the person is called on to answer), else the ``"previous"`` one (thanks,
    agreement: the person just spoke). "I met Tom yesterday" (no commas), "Paris, France"
    (a place) and "Good morning, everyone" (no name) give nothing.
    """
    out: list[tuple[str, str]] = []
    for sent in nlp.parse(text.translate(_APOSTROPHES)).sents:
        words = [t for t in sent if not t.is_space]
        k = 0
        while k < len(words):
            tok = words[k]
            # the small model calls some given names NORP ("Thanks a lot, Priya!"); a nationality is an adjective
            if tok.pos_ != "PROPN" or tok.ent_type_ not in ("PERSON", "NORP", ""):
                k += 1
                continue
            end = k
            while end + 1 < len(words) and words[end + 1].pos_ == "PROPN" and words[end + 1].ent_type_ == tok.ent_type_:
                end += 1
            before = words[k - 1] if k > 0 else None
            after = words[end + 1] if end + 1 < len(words) else None
            greeted = before is not None and before.pos_ == "INTJ" and k == 1  # "Hey Tom, ..."
            set_off = (before is None or before.text == "," or greeted) and (after is None or after.text in (",", ".", "!", "?"))
            name = " ".join(w.text for w in words[k:end + 1])
            run = words[k:end + 1]
            # a vocative the tagger does not call a PERSON must be no English word ("Hello, World!", "No, Sir.")
            named = all(_name_token(w) for w in run) and (
                tok.ent_type_ == "PERSON" or not any(nlp.in_lexicon(w.lower_) for w in run if w.is_alpha))
            if set_off and (before is not None or after is not None and after.text == ",") and named:
                asks = sent.text.rstrip().endswith("?")
                out.append((title_name(name), "next" if asks or before is None else "previous"))
            k = end + 1
    return out
