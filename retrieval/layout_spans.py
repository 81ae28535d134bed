"""Span answers read from a capture's layout lines (perception/layout.py renders them; the memory
stores them as the capture's first blocks):

- "which X was selected / chosen / open": the item the layout marked ``Selected: X`` or ``X: on``
  (a highlighted tab, a checked radio button) that shares most words with the question (one that
  shares none only when it is the capture's one highlighted item);
- "how many X": the size of a list (``Heading: N items``) whose heading or items share words with
  the question — a list nothing in the question points at is not counted; with no such list,
  the lines phrased alike that start with the word the question puts on X ("how many import
  options": "Import from CSV", "Import from KeePass 1", ...).

Both steps run before the label → value step of retrieval/spans.py; they answer None when the
capture has no such line, and the next step reads the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from memory import nlp
from retrieval.question import CHOICE_VERBS, Question
from retrieval.spans import Found, Piece, _asked, _lemmas, title_and_lines

_STATE = re.compile(r"^(?P<text>.+?):\s*(?P<state>on|off)$")
_SELECTED = re.compile(r"^Selected:\s*(?P<items>.+)$")
_COUNT = re.compile(r"^(?P<head>.+?):\s*(?P<n>\d+) items$")
_ITEMS = re.compile(r"^(?P<head>.+?) lists (?P<items>.+)$")
_DIGIT = re.compile(r"\d")


def asks_choice(q: Question) -> bool:
    """The question asks which thing is in a chosen state ("which tab was open", "which option
    was selected", "which place was highlighted"): a which / what question on a verb (or
    adjective) of choosing."""
    if q.kind not in ("what", "where") or q.gap.wh not in ("which", "what") or not q.gap.focus:
        return False
    doc = nlp.parse(q.text)
    return any(t.lemma_.lower() in CHOICE_VERBS and t.pos_ in ("VERB", "ADJ", "AUX") for t in doc)


def chosen(q: Question, pieces: Sequence[Piece]) -> Found | None:
    if not asks_choice(q):
        return None
    focus, content = _asked(q)
    asked = focus | content
    best: tuple[float, int, Found] | None = None
    for i, piece in enumerate(pieces):
        if piece.modality != "screen":
            continue
        _, lines = title_and_lines(piece)
        # the one control set "on" in a group whose others are "off" (a radio group) is the
        # capture's choice even when the question names it by no word of its own
        states = [m.group("state") for line in lines if (m := _STATE.match(line))]
        lone_on = states.count("on") == 1 and states.count("off") >= 1
        for k, line in enumerate(lines):
            items: list[str] = []
            marked = line.startswith("Selected:")  # highlighted among its siblings: before a checked box
            if m := _SELECTED.match(line):
                items = [x.strip() for x in m.group("items").split(";") if x.strip()]
            elif (m := _STATE.match(line)) and m.group("state") == "on":
                items = [m.group("text").strip()]
            for item in items:
                words = _lemmas(item)
                if not words or words <= asked or _repeats(item, q.text):
                    continue  # the "item" only repeats the question
                shared = len(words & asked)
                if not shared and not (marked and len(items) == 1) and not (lone_on and not marked):
                    continue  # one of several marked items that the question does not point at
                # a word of the asked noun counts twice ("which image compression option": the
                # "Lossless compression" over the "PDF/A-2b" that shares "PDF" with "PDF export");
                # the lone "on" of a radio group that shares no word comes after any item that does
                key = (shared + len(words & focus) + 0.5 * marked + (0.25 if lone_on and not shared else 0), -(i * 1000 + k))
                if best is None or key > best[:2]:
                    best = (*key, Found(item, i, line, "the item the capture shows selected or checked"))
    return best[2] if best else None


def _repeats(item: str, question: str) -> bool:
    """The item is a run of the question's own words, however it is spaced ("Set up TOTP..." in
    "the Setup TOTP dialog": the dialog the question names, not a choice made in it)."""
    have = "".join(re.findall(r"[a-z0-9]+", item.lower()))
    words = re.findall(r"[a-z0-9]+", question.lower())
    return bool(have) and any("".join(words[a:b]) == have for a in range(len(words)) for b in range(a + 1, len(words) + 1))


def counted(q: Question, pieces: Sequence[Piece]) -> Found | None:
    if q.kind != "how_many" or not q.gap.unit:
        return None
    focus, content = _asked(q)
    asked = (focus | content) - {"many", "much"}
    found: list[tuple[tuple[int, int], Found, frozenset[str]]] = []
    for i, piece in enumerate(pieces):
        if piece.modality != "screen":
            continue
        title, lines = title_and_lines(piece)
        # a heading or items that only name the app or window ("welcome to Paperless-ngx", the
        # chapters of "The Okular Handbook" all saying "Okular") say nothing about which of the
        # capture's lists is asked
        named = asked - _lemmas(title)
        listed = {m.group("head"): m.group("items") for line in lines if (m := _ITEMS.match(line))}
        # an item that only names the counted thing is no member of it: a menu bar's "Entries"
        # menu is not a list of entries ("how many entries were in the Internet group")
        items = {head: "; ".join(x for x in all_items.split(";") if not _names_only(x, q.gap.unit))
                 for head, all_items in listed.items()}
        for k, line in enumerate(lines):
            m = _COUNT.match(line)
            if m is None:
                continue
            head = m.group("head")
            score = 2 * len(_lemmas(head) & named) + len(_lemmas(items.get(head, "")) & named)
            if score > 0:
                members = frozenset(x.strip() for x in listed.get(head, "").split(";") if x.strip())
                found.append(((score, -(i * 1000 + k)), Found(m.group("n"), i, line, f"the number of items listed under '{head}'"),
                              members))
    if not found:
        return _alike(q, pieces)
    key, best, members = max(found, key=lambda f: f[0])
    if (detail := _detail(q, pieces[best.index], best)) is not None:
        return detail
    # one row of a block of rows (a dialog's tabs wrapped over two lines) ties with the block:
    # the block that holds every item of it is the whole list
    whole = [f for f in found if f[0][0] == key[0] and f[1].index == best.index and members and f[2] > members]
    return max(whole, key=lambda f: len(f[2]))[1] if whole else best


def _detail(q: Question, piece: Piece, best: Found) -> Found | None:
    """A master-detail reading: the counted list is headed by the capture's selected node (a tree's
    highlighted group "Internet", listing its sub-groups) and the question counts another kind of
    thing in it ("how many entries in the Internet group", not "how many groups"): what the
    selected node holds is shown beside it, in the table of the detail pane — the column of the
    table's header row (``Row of ... lists ...; Title; ...``) that lists the most rows."""
    head = _COUNT.match(best.line).group("head")  # type: ignore[union-attr]
    _, lines = title_and_lines(piece)
    selected = {x.strip().lower() for line in lines if (m := _SELECTED.match(line)) for x in m.group("items").split(";")}
    if head.strip().lower() not in selected:
        return None
    # the kind the question gives the node ("the Internet *group*"): counting that kind (or a
    # sub-kind, "subgroups") counts the node's own list
    words = _lemmas(head)
    kinds = {t.head.lemma_.lower() for t in nlp.parse(q.text)
             if t.lemma_.lower() in words and t.dep_ in ("compound", "amod", "nmod") and t.head.pos_ == "NOUN"}
    if any(q.gap.unit == k or q.gap.unit.endswith(k) for k in kinds):
        return None
    headers = [[x.strip() for x in m.group("items").split(";")] for line in lines
               if line.startswith("Row of ") and (m := _ITEMS.match(line))]
    columns = {x for row in headers if len(row) >= 3 and not any(_DIGIT.search(x) for x in row) for x in row}
    best_col: tuple[int, int, str] | None = None
    for k, line in enumerate(lines):
        m = _COUNT.match(line)
        if m and m.group("head") in columns and m.group("head") != head and not line.startswith("Row"):
            if best_col is None or int(m.group("n")) > best_col[0]:
                best_col = (int(m.group("n")), k, line)
    if best_col is None:
        return None
    n, _, line = best_col
    return Found(str(n), best.index, line, f"the rows of the table beside the selected '{head}'")


def _names_only(item: str, unit: str) -> bool:
    """The item is the counted noun itself ("Entries" for "how many entries")."""
    words = [t.lemma_.lower() for t in nlp.parse(item) if t.is_alpha]
    return bool(words) and set(words) == {unit}


def _alike(q: Question, pieces: Sequence[Piece]) -> Found | None:
    """"How many import options": no list is named, so count the capture's lines phrased alike
    that start with the word the question puts on the counted noun ("Import from CSV", "Import
    from KeePass 1", ...) — at least two, the structured lines ("Label: value", lists) left out."""
    doc = nlp.parse(q.text)
    counted = [t for t in doc if t.lemma_.lower() == q.gap.unit and t.pos_ in ("NOUN", "PROPN")]
    mods = {c.lemma_.lower() for t in counted for c in t.children if c.dep_ in ("compound", "amod") and not c.is_stop}
    for i, piece in enumerate(pieces):
        if piece.modality != "screen" or not mods:
            continue
        title, lines = title_and_lines(piece)
        own = mods - _lemmas(title)
        alike = [x for x in dict.fromkeys(lines) if ":" not in x and " lists " not in x and len(x.split()) >= 2
                 and (first := nlp.parse(x)[0]).lemma_.lower() in own | {first.lower_} & own]
        if len(alike) >= 2:
            return Found(str(len(alike)), i, " | ".join(alike), f"the lines that start with '{' / '.join(sorted(own))}'")
    return None


def by_words(q: Question, pieces: Sequence[Piece]) -> list[int]:
    """The order to read ``pieces`` in: as retrieval ranked them, except that captures sharing
    more of the question's words come first among captures (two screens of one app: the
    entry list that names "Apple" before the history dialog of another entry). Speech keeps its
    place: a sentence about a person need not say their name."""
    screens = [i for i, p in enumerate(pieces) if p.modality == "screen"]
    if len(screens) < 2:
        return list(range(len(pieces)))
    focus, content = _asked(q)
    asked = focus | content
    names = set().union(*(_lemmas(t) for t in q.key_terms)) if q.key_terms else set()  # "Apple", "FS210": count more

    def shared(i: int) -> int:
        words = _lemmas(pieces[i].text)
        return len(words & asked) + 2 * len(words & names)

    # a capture that shows every name the question gives comes before one that does not, however
    # many other words that one shares ("When was the Apple entry last modified": another
    # entry's history says "last modified" three times)
    from retrieval.planners import shows

    naming = {i: bool(q.key_terms) and all(shows(t, pieces[i].text) for t in q.key_terms) for i in screens}
    score = {i: shared(i) for i in screens}
    order = iter(sorted(screens, key=lambda i: (not naming[i], -score[i], i)))
    return [next(order) if p.modality == "screen" else i for i, p in enumerate(pieces)]
