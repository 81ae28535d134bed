"""Names for people, offline: what speakers call themselves, and name tags shown on screen.

Precision over recall. A candidate name word must not be a frequent English word
(:data:`COMMON_WORDS`: function words, verbs, adjectives of state, common nouns, nationalities,
numbers, weekdays) and must look like a name (letters, hyphens, apostrophes). Screen lines are
also checked against :data:`UI_WORDS` (menus, buttons, app names, invoice labels).
Names come back title-cased: ASR often lowercases them and screens often upper-case them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["COMMON_WORDS", "UI_WORDS", "addressed", "name_tags", "self_introductions", "title_name"]

# Frequent English words that are not names. Given names that are also words (Will, Mark, Grace,
# Rose, May, June, April, Frank, Hope, Joy, Bill, Jack, Max, Ray, Dawn...) are left out on purpose.
COMMON_WORDS: frozenset[str] = frozenset("""
a an the this that these those it its i me my mine you your yours he him his she her hers we us our
ours they them their theirs what which who whom whose where when why how there here all any both each
every few more most other others some such no nor not only own same so than too very one ones someone
something anyone anything everyone everything everybody nobody nothing none somebody anybody
about above across after against along among around as at before behind below beneath beside between
beyond but by down during except for from in inside into like near of off on onto out outside over
past since through throughout till to toward towards under until up upon with within without via per
and or if because although though while whereas unless whether then yet also just even still already
again ever never always often sometimes usually really actually probably maybe perhaps quite rather
almost enough much many lot lots bit kind sort else instead anyway however therefore otherwise soon
am is are was were be been being have has had having do does did doing done would shall should
can could might must gonna wanna gotta going go goes went gone get gets got getting make makes made
making take takes took taken taking come comes came coming see sees saw seen seeing look looks looking
know knows knew known think thinks thought thinking say says said saying tell tells told telling talk
talking ask asks asked asking work works worked working try tries tried trying want wants wanted need
needs needed feel feels felt feeling keep kept keeping let lets put putting give gives gave given
giving find finds found finding call calls called calling use uses used using leave leaves left
leaving stay stays stayed staying wait waiting start starts started starting stop stopped stopping
help helps helped helping run runs running sit sitting stand standing live lives lived living move
moving moved play playing pay paying paid read reading write writing wrote written bring bringing
brought hold holding held turn turning show showing shown hear heard hearing mean meant happen
happened seem seems seemed become became check checking click clicking sign signing type typing tap
press enter scroll open opening close closing send sending join joining meet meeting speak speaking
speaks spoke listen listening watch watching learn learning plan planning wish hoping guess
fine good great okay ok alright well bad better best worse worst sure glad happy sad sorry afraid busy
tired ready late early new old young big small little long short high low right wrong true false free
full empty closed hot cold warm cool hungry thirsty sick ill hurt alive dead alone together safe lucky
able unable aware allowed supposed certain serious kidding joking finished back home away now today
tomorrow yesterday tonight later next last first second third another whole real nice pretty lovely
beautiful awesome amazing excited exciting interested interesting bored boring worried scared confused
curious surprised pleased proud nervous calm angry upset mad crazy stupid smart clever funny cute
important different similar easy hard difficult possible impossible available responsible single
married divorced retired pregnant vegan vegetarian positive negative thankful grateful honored
honoured delighted thrilled impressed disappointed embarrassed exhausted sleepy awake online offline
local glad fortunate unsure clear unclear correct incorrect sorry welcome present absent around
done over under above afraid sure certain totally completely absolutely definitely basically literally
time person people man woman men women child children kid kids friend friends family guy guys girl girls
boy boys teacher student doctor nurse manager engineer developer designer lawyer driver worker member
boss parent mother father mom mum dad brother sister wife husband son daughter team company office
review budget invoice project report plan job school house room day days week weeks month months year
years morning afternoon evening night hour hours minute minutes moment thing things way part place
point case fact number name word words question questions problem idea money business world life hand
head side end charge progress stock order trouble touch control shape line debt love doubt danger
use question draft preparation process pending hold leave track schedule budget risk capacity
american british english dutch german french spanish italian chinese japanese canadian australian
indian irish scottish welsh mexican russian polish swedish norwegian danish finnish korean brazilian
portuguese greek turkish african european asian
confident concerned convinced stuck lost broke stressed swamped jealous lonely annoyed frustrated
overwhelmed relieved shocked amazed speechless healthy injured allergic terrible awful horrible
familiar unaware wondering reaching hopeful optimistic starving freezing dying flattered human
special ordinary regular narrow wide thin thick dark bright quick slow fast strong weak rich poor
cheap expensive quiet loud simple main total due open final only actual current usual
zero two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred
thousand million billion
monday tuesday wednesday thursday friday saturday sunday january february march july september october
november december
yes yeah yep yup no nope hi hello hey bye goodbye thanks thank please um uh oh ah hmm wow mr mrs ms
dr sir madam miss
i'm im you're we're they're he's she's it's that's there's here's what's who's let's i've you've
we've they've i'll you'll we'll he'll she'll they'll i'd you'd we'd he'd she'd they'd don't can't
won't isn't aren't wasn't weren't didn't doesn't haven't hasn't couldn't shouldn't wouldn't
""".split())

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
""".split()) | COMMON_WORDS

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


def _name_word(word: str, *, ui: bool = False) -> bool:
    """A token that can be part of a name: letters (with inner - or '), not a frequent word,
    not ending like an ordinary word, at least two letters."""
    if len(word) < 2 or not _NAME_WORD.match(word):
        return False
    low = word.lower()
    if low in (UI_WORDS if ui else COMMON_WORDS) or low.endswith("'s"):
        return False
    parts = re.split(r"['\-]", low)
    if any(p in (UI_WORDS if ui else COMMON_WORDS) for p in parts if len(parts) > 1 and len(p) > 2):
        return False
    if len(low) > 5 and _STRONG_SUFFIX.search(low):
        return False
    return not (word.islower() and len(low) > 4 and _WEAK_SUFFIX.search(low))


_CUE = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name's|i'm|i\s+am|call\s+me)\s+(?P<tail>.*)",
    re.IGNORECASE,
)
_SPEAKING = re.compile(r"\bthis\s+is\s+(?P<tail>.*?)\s+speaking\b", re.IGNORECASE)
_PHONE = re.compile(
    r"^(?:(?:hi|hello|hey|yes|yeah|ok|okay)\s*,?\s+)?(?P<tail>[^\W\d_][\w'\-]*(?:\s+[^\W\d_][\w'\-]*){0,2})\s+(?P<kw>here|speaking)\s*(?:[.,!;:]|$)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W\d_][\w'\-]*|\S")
_STOP_AT = frozenset({"and", "from", "with", "of", "the", "a", "an", "by", "at", "in", "on", "for", "to"})


def _take_name(tail: str, *, whole: bool = False) -> str | None:
    """Up to three name words from the start of ``tail``; stop at punctuation or a stop word.
    None when the first word is not a name word (or, with ``whole``, when any word is not)."""
    words: list[str] = []
    for tok in _TOKEN.findall(tail):
        low = tok.lower()
        if len(words) == 3 or low in _STOP_AT or not tok[0].isalpha():
            break
        if low.endswith("'s"):  # "I'm Alice's sister": not a self-introduction
            return None
        if not _name_word(tok):
            if whole or not words:
                return None
            break
        words.append(tok)
    if whole and len(words) != len(_TOKEN.findall(tail)):
        return None
    return title_name(" ".join(words)) if words else None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+|\s+\|\s+", text) if s.strip()]


def self_introductions(text: str) -> list[str]:
    """Names a speaker gives for themselves, title-cased, in order, without duplicates.

    Patterns: "my name is X", "I'm X", "I am X", "call me X", "this is X speaking", and at the
    start of a sentence "X here" / "X speaking" (phone style). X is at most three name words and
    stops at punctuation, "and", "from", "with" and other function words. "I'm fine", "I'm going",
    "I'm a teacher", "I'm so happy", "I'm not", "I'm here" give nothing (frequent-word stop list).
    """
    found: list[str] = []
    for sentence in _sentences(text.translate(_APOSTROPHES)):
        names: list[str | None] = []
        for m in _CUE.finditer(sentence):
            names.append(_take_name(m.group("tail")))
        for m in _SPEAKING.finditer(sentence):
            names.append(_take_name(m.group("tail"), whole=True))
        m = _PHONE.match(sentence)
        if m:
            names.append(_take_name(m.group("tail"), whole=True))
        for name in names:
            if name and name not in found:
                found.append(name)
    return found


_TRAILING_ROLE = re.compile(
    r"\s*\((?:you|me|guest|host|co-host|organi[sz]er|presenter|external|unverified|he/him|she/her|they/them)\)\s*$",
    re.IGNORECASE,
)
_INITIAL = re.compile(r"^[A-Z]\.?$")


def name_tags(lines: Sequence[str]) -> list[str]:
    """Screen lines that read like a person's name tag or caption, title-cased, in order, no duplicates.

    A line qualifies when it is 2-3 words, each capitalised (or ALL CAPS) and made of letters,
    hyphens and apostrophes (a middle initial "F." is allowed), none of them a common English or
    UI word (:data:`UI_WORDS`). A trailing role in brackets ("Ana Lima (You)", "(Guest)") is dropped.
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in lines:
        line = _TRAILING_ROLE.sub("", raw.translate(_APOSTROPHES)).strip()
        words = line.split()
        if not 2 <= len(words) <= 3:
            continue
        ok = True
        for k, word in enumerate(words):
            if 0 < k < len(words) - 1 and _INITIAL.match(word):
                continue
            if not (word[0].isupper() and _name_word(word, ui=True)):
                ok = False
                break
        if not ok:
            continue
        name = title_name(" ".join(words))
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def addressed(text: str) -> list[tuple[str, str]]:
    """People a speaker talks to by name ("Thanks, Tom." / "Tom, can you send it?" / "Okay,
    Sarah, what do you think?"): a vocative, a person's name (a PERSON entity or a proper noun
    no entity type claims) set off by commas or the sentence's edges. With each name, who it
    most likely belongs to: the ``"next"`` speaker when the sentence asks something or opens
    with the name (the person is called on to answer), else the ``"previous"`` one (thanks,
    agreement: the person just spoke). "I met Tom yesterday" (no commas), "Paris, France"
    (a place) and "Good morning, everyone" (no name) give nothing.
    """
    from memory import nlp

    out: list[tuple[str, str]] = []
    for sent in nlp.parse(text.translate(_APOSTROPHES)).sents:
        words = [t for t in sent if not t.is_space]
        k = 0
        while k < len(words):
            tok = words[k]
            if tok.pos_ != "PROPN" or tok.ent_type_ not in ("PERSON", ""):
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
            if set_off and (before is not None or after is not None and after.text == ",") and all(_name_word(w) for w in name.split()):
                asks = sent.text.rstrip().endswith("?")
                out.append((title_name(name), "next" if asks or before is None else "previous"))
            k = end + 1
    return out
