"""Names for people: self-introductions in speech and name tags on screen."""

from __future__ import annotations

import pytest

from memory.names import addressed, name_tags, self_introductions, title_name


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("I'm Alice", ["Alice"]),
        ("i'm alice", ["Alice"]),
        ("I am Alice Smith.", ["Alice Smith"]),
        ("my name is bob", ["Bob"]),
        ("My name's Bob Dylan, nice to meet you", ["Bob Dylan"]),
        ("You can call me Al", ["Al"]),
        ("This is Carol speaking", ["Carol"]),
        ("Carol here.", ["Carol"]),
        ("Hi, Carol here, calling about the invoice", ["Carol"]),
        ("Hello everyone, I'm Alice from accounting", ["Alice"]),
        ("I'm Alice and I work on the budget", ["Alice"]),
        ("I'm Alice with the audit team", ["Alice"]),
        ("I'm Alice Smith the new manager", ["Alice Smith"]),
        ("I\u2019m Mohammed Ali", ["Mohammed Ali"]),
        ("Hello, I'm Irving", ["Irving"]),
        ("I'm Lin-Manuel Miranda", ["Lin-Manuel Miranda"]),
        ("i'm sean o'brien", ["Sean O'Brien"]),
        ("I'm Alice. My name is Alice. Call me Al!", ["Alice", "Al"]),
        # paraphrases: a name in lowercase ASR text, after "and", placed after "this is"
        ("and I'm Tom", ["Tom"]),
        ("and i'm tom", ["Tom"]),
        ("Hi, this is Maria from accounting", ["Maria"]),
        ("this is maria from accounting", ["Maria"]),
        ("i'm sarah, nice to meet you", ["Sarah"]),
        ("I'm Priya Raman, the new analyst", ["Priya Raman"]),
        # given names that are also English words, written as names
        ("I'm Mark from sales", ["Mark"]),
        ("I'm Will Turner", ["Will Turner"]),
        ("My name is Grace.", ["Grace"]),
    ],
)
def test_self_introductions(text: str, names: list[str]) -> None:
    assert self_introductions(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "I'm fine", "I'm going", "I'm sorry", "I'm not", "I'm here", "I'm a teacher", "I'm so happy",
        "I'm fine, thanks", "I'm going to the office", "I'm not sure", "I am the manager", "I'm on my way",
        "I'm really tired", "i'm stressed", "i'm older than him", "I'm Dutch", "I'm excited", "I'm calling about the invoice",
        "I'm Alice's sister", "I'm Feeling Lucky", "I am a formatted text`to the chat and send it.",  # real screen lines
        "Click here.", "Sign in here", "Over here!", "Nobody here", "this is great", "bin blue at f two now",
        "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
        "",
        # near-misses: adjectives, verbs, adverbs and nationalities after the cue, in any case
        "I'm American", "i'm british", "i'm hungry", "i'm done", "i'm back", "i'm new here", "i'm good",
        "I'm okay", "i'm kidding", "i'm pretty sure", "i'm um yeah", "i'm twenty", "I'm Thursday", "i'm kinda busy",
        "I'm John's manager", "i am the walrus",
        # "this is": a thing, or someone else introduced
        "This is the budget", "This is Excel", "This is Tom, our new hire", "this is really good",
        # "call me" / "my name is" followed by no name
        "call me later", "call me crazy", "call me tomorrow", "call me back", "my name is on the list",
        "Everyone here?", "Look here.",
    ],
)
def test_not_self_introductions(text: str) -> None:
    assert self_introductions(text) == []


def test_title_name() -> None:
    assert title_name("LIN-MANUEL MIRANDA") == "Lin-Manuel Miranda"
    assert title_name("o'brien") == "O'Brien"
    assert title_name("McDonald") == "McDonald"
    assert title_name("ludwig van beethoven") == "Ludwig van Beethoven"


def test_name_tags_from_the_examples() -> None:
    assert name_tags(["LIN-MANUEL MIRANDA", "Hamilton"]) == ["Lin-Manuel Miranda"]
    assert name_tags(["Invoice #4471", "Due: March 14", "Dana Scully"]) == ["Dana Scully"]
    assert name_tags(["Dana Scully", "DANA SCULLY", "Fox Mulder", "Dana Scully"]) == ["Dana Scully", "Fox Mulder"]
    assert name_tags(["John F. Kennedy", "Ana Lima (Guest)", "Juraj Kapsiar(You)"]) == ["John F. Kennedy", "Ana Lima", "Juraj Kapsiar"]


@pytest.mark.parametrize(
    "line",
    [
        "File Edit", "New Tab", "Sign In", "Google Chrome", "Total Amount", "Page Layout", "Format Painter",
        "Display Settings", "Recycle Bin", "Microsoft Edge", "Hamilton", "Dana", "dana scully", "Dana scully",
        "Due: March 14", "Invoice #4471", "Heading 2", "Alice Bob Carol Dave", "Monday Morning", "Thank You",
        "Good Morning", "Dana & Scully", "J. K.", "Agentic Artisans", "Windows License valid for 89 days",
    ],
)
def test_not_name_tags(line: str) -> None:
    assert name_tags([line]) == []


def test_name_tags_on_real_screenshots() -> None:
    """Lines RapidOCR reads from ../shared/data/screens/omniparser (Teams, OneNote, Excel, Word,
    Google, the Windows desktop): only the people's names come back."""
    teams = [
        "Code", "File", "Edit", "Selection", "View", "Go", "Run", "Terminal", "Window", "Help", "Wed 22.1.18:58",
        "Search(Cmd+E)", "Lukas Kellerstein(You)", "PROBLEMS", "OUTPUT", "DEBUG CONSOLE", "TERMINAL", "Chat",
        "Activity", "Unread", "Channels", "Chats", "Python test1", "Copilot", "Calendar", "Discover", "Mentions",
        "Calls", "'Write a message", "Threads", "Favorites", "Lukas Kellerstein (You)", "GitHub",
        "Perf Tools standup", "Viva Learn..", "Andri Koliada", "OOFNotices", "Storybook", "Adrian,Florin,Jim,+2",
        "Sylvester", "Performance", "Memory", "AskHR", "(MI)Major Incidents (IC3)", "AutoGen", "Undo",
        "10 July 2024", "New message", "This message has been deleted.", "Aykut Soysal", "Maxim Solntsev",
        "Yesterday", "Juraj Kapsiar", "Yesterday 14:12", "Prague Performance Team m..", "Helloworld fromAlagent",
        "Today", "Teams Product Health: Spec...", "Agentic Artisans", "Fundamentals Org C...", "Nir Schleyen",
        "DITL-Backlog refinement", "Type a message", "LiveShare", "Spaces:4", "UTF-8", "Prettier",
    ]
    others = [
        "OneNote for Windows 10", "Yadong Lu", "Calibri Light", "Heading 1", "Dictate", "Yadong @ Microsoft v",
        "plan progress", "Monday, November 11, 2024", "11:38 AM", "Daily note", "Llava exp", "Visual webarena",
        "Archive daily", "New Section 1", "Untitled page", "AutoSave", "Book1 - Excel  General*", "Page Layout",
        "Aptos Narrow", "ab Wrap Text", "Merge &Center", "Conditional", "Format as", "Format Painter",
        "Formatting Table", "Analyze Copilot", "Sheet1", "Accessibility: Good to go", "Display Settings", "3:33 PM",
        "Sign in", "Google Search", "I'm Feeling Lucky", "How Search works", "Recydle Bin", "GIMP 2.10.38",
        "Windows 11 Enterprise Evaluation", "Finance headline", "California officia...", "Document 10.docx",
        "General*  Last Modified: Just now", "Aptos (Body)", "No Spacing", "Editor Copilot", "English (United States)",
        "Text Predictions: On",
    ]
    assert name_tags(teams) == ["Lukas Kellerstein", "Andri Koliada", "Aykut Soysal", "Maxim Solntsev", "Juraj Kapsiar", "Nir Schleyen"]
    assert name_tags(others) == ["Yadong Lu"]


@pytest.mark.parametrize("text, expected", [
    ("Thanks, Tom.", [("Tom", "previous")]),
    ("Thank you so much, Maria, that was great.", [("Maria", "previous")]),
    ("Right, thanks, Anna Lee.", [("Anna Lee", "previous")]),
    ("Sure, John.", [("John", "previous")]),
    ("Tom, can you send the report?", [("Tom", "next")]),
    ("Okay, Sarah, what do you think?", [("Sarah", "next")]),
    ("Hey Tom, got a minute?", [("Tom", "next")]),
    ("Great, Tom.", [("Tom", "previous")]),
    ("Thanks a lot, Priya!", [("Priya", "previous")]),
])
def test_a_name_said_to_someone(text: str, expected: list) -> None:  # type: ignore[type-arg]
    assert addressed(text) == expected


@pytest.mark.parametrize("text", [
    "I met Tom yesterday.",  # a name in the sentence, not said to anyone
    "Well, John said no.",
    "Good morning, everyone.",
    "Paris, France is lovely.",  # a place
    "We flew to Berlin, then to Rome.",
    "Hi, I am Tom.",  # a self-introduction, not an address
    "Well, Monday works for me.",
    "Thanks, everyone.",
    "Thanks, guys.",
    "Yes, Monday.",
    "Okay, team, let's go.",
    "Hello, World!",  # title-case nouns the tagger calls proper nouns
    "No, Sir.",
])
def test_a_name_in_a_sentence_is_not_said_to_anyone(text: str) -> None:
    assert addressed(text) == []
