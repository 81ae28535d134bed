"""The retrieval agent on a real indexed video: a stand-up meeting with two synthetic speakers
(Dana, Priya: they introduce themselves), slides, a lunch break and a fact that changes.

Each question kind of the agent issue is asked through the agent the CLI uses, and the answer
and its evidence are checked against the script (which scene, which modality, which speaker).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from apps.cli import main
from mmagent import MMAgent, Settings
from mmagent.samples import Scene
from retrieval.agent import Action, parse_action
from retrieval.tools import ToolCallError
from bench.chat_server import ChatServer
from tests.models.test_openai_compat import server  # noqa: F401  (the fixture)

DANA, PRIYA = "en-us", "en-us+f3"
SCENES = (
    Scene("Standup", ("Team sync",), "Good morning, I am Dana. The design review is on Monday.", DANA),
    Scene("Invoices", ("Invoice #5120 - Globex",), "My name is Priya. The invoice number for Globex is fifty one twenty.", PRIYA),
    Scene("Break", ("Lunch",), "Let us break for lunch now. We continue in an hour.", DANA),
    Scene("Parking", ("Visitors: north garage, level 2",), "Visitors should park in the north garage.", PRIYA),
    Scene("Schedule change", ("Design review: Thursday",), "The design review has moved to Thursday.", DANA),
    Scene("Invoices", ("Globex invoice: paid",), "Good news, the Globex invoice was paid this morning.", PRIYA),
    Scene("Wrap-up", ("See you tomorrow",), "That is all for today. See you tomorrow.", DANA),
)


@pytest.fixture(scope="module")
def standup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    from mmagent.samples import make_demo_video

    folder = tmp_path_factory.mktemp("standup")
    video, store = folder / "standup.mp4", folder / "store"
    script = make_demo_video(video, SCENES)
    assert main(["index", str(video), "--store", str(store), "--json"]) == 0
    return store, script


def agent(store: Path, **overrides: object) -> MMAgent:
    return MMAgent(Settings.load(env={}, store=store, workers=1, **{"llm": "none", **overrides}))


def scene_of(script: list[dict[str, Any]], e: Any) -> int:
    """The scene (0-based) an evidence item lies in."""
    mid = (e.start + e.end) / 2
    return next(k for k, s in enumerate(script) if s["start"] <= mid < s["end"])


def ask(store: Path, question: str, **kw: Any) -> Any:
    with agent(store) as a:
        return a.ask(question, **kw)


def test_two_speakers_are_two_named_people(standup) -> None:  # type: ignore[no-untyped-def]
    store, _ = standup
    with agent(store) as a:
        names = {p.name for p in a.persons()}
    assert {"Dana", "Priya"} <= names


def test_a_changed_fact_current_value_and_history(standup) -> None:  # type: ignore[no-untyped-def]
    store, script = standup
    now = ask(store, "When is the design review?")
    assert "thursday" in now.evidence[0].text.lower() and scene_of(script, now.evidence[0]) == 4, now.to_json()
    old = ask(store, "When was the design review before it changed?")
    assert "monday" in old.evidence[0].text.lower() and scene_of(script, old.evidence[0]) == 0, old.to_json()


def test_what_a_number_is_and_how_many_times_it_came_up(standup) -> None:  # type: ignore[no-untyped-def]
    store, script = standup
    what = ask(store, "What is the invoice number for Globex?")
    assert "5120" in what.answer and scene_of(script, what.evidence[0]) == 1, what.to_json()
    count = ask(store, "How many times was the Globex invoice mentioned?")
    assert count.mode == "counted" and count.answer.startswith("2 times"), count.to_json()
    assert sorted({scene_of(script, e) for e in count.evidence}) == [1, 5]


def test_first_and_last(standup) -> None:  # type: ignore[no-untyped-def]
    store, script = standup
    first = ask(store, "What was said first about the design review?")
    assert scene_of(script, first.evidence[0]) == 0, first.to_json()
    last = ask(store, "What was said last about the design review?")
    assert scene_of(script, last.evidence[0]) == 4, last.to_json()
    # no span answers it: the reply is the moment time picked, not the other evidence cited with it
    shown = ask(store, "What was on screen last?")
    assert scene_of(script, shown.evidence[0]) == 6 and "tomorrow" in shown.answer.lower(), shown.to_json()
    others = [t.lower() for scene in SCENES[:6] for t in (scene.title, *scene.lines)]
    assert not any(t in shown.answer.lower() for t in others), shown.to_json()


def test_after_an_anchor_and_what_was_shown_while_something_was_said(standup) -> None:  # type: ignore[no-untyped-def]
    store, script = standup
    after = ask(store, "What was said after the lunch break?")
    assert after.evidence and scene_of(script, after.evidence[0]) == 3, after.to_json(trace=True)
    assert after.rounds >= 2  # found the break, then searched after it
    shown = ask(store, "What was on screen when parking was mentioned?")
    assert shown.evidence[0].modality == "screen" and "north garage" in shown.evidence[0].text.lower(), shown.to_json()
    assert scene_of(script, shown.evidence[0]) == 3


def test_people_by_name_by_what_they_did_and_who_said_it(standup) -> None:  # type: ignore[no-untyped-def]
    store, script = standup
    priya_scenes = {1, 3, 5}
    said = ask(store, "What did Priya say?")
    assert said.evidence and all(e.modality == "speech" and scene_of(script, e) in priya_scenes for e in said.evidence), said.to_json()
    # multi-hop: who said their name is Priya → what else that voice said
    hop = ask(store, "What else did the person who said their name is Priya say?")
    assert hop.evidence, hop.to_json(trace=True)
    assert all(scene_of(script, e) in priya_scenes and "my name is" not in e.text.lower() for e in hop.evidence)
    who = ask(store, "Who said the Globex invoice was paid?")
    assert who.answer.startswith("Priya"), who.to_json()


def test_the_edge_of_a_part_nothing_describes_is_its_first_or_last_moment(standup) -> None:  # type: ignore[no-untyped-def]
    """Nothing in memory says what the green-screen clip is, but its start is the first moment of
    what is asked and its end the last; the same words about an event memory lacks abstain."""
    store, script = standup
    start = ask(store, "What was on screen when the green-screen clip started?")
    assert start.found and scene_of(script, start.evidence[0]) == 0, start.to_json(trace=True)
    assert start.evidence[0].modality == "screen" and "edge of a part" in start.note
    end = ask(store, "What was shown before the green-screen clip cut to black?")
    assert end.found and scene_of(script, end.evidence[0]) == 6, end.to_json(trace=True)
    event = ask(store, "What was on screen when the green-screen ceremony started?")
    assert not event.found, event.to_json(trace=True)


def test_unanswerable_is_not_in_memory(standup) -> None:  # type: ignore[no-untyped-def]
    store, _ = standup
    answer = ask(store, "What is the CFO's favourite colour?")
    assert not answer.found and answer.evidence == () and answer.answer == "Not found in memory."


def test_before_hides_everything_later_from_every_tool(standup) -> None:  # type: ignore[no-untyped-def]
    store, script = standup
    cut = script[4]["start"]  # before the review moved
    answer = ask(store, "When is the design review?", before=cut)
    assert "monday" in answer.evidence[0].text.lower(), answer.to_json()
    doc = answer.to_json(trace=True)
    items = [i for s in doc["trace"] if s["type"] == "observation" for i in s.get("items", [])]
    assert items and all(i["start"] < cut and i["end"] <= cut + 1e-6 for i in items)
    assert all(e["start"] < cut for e in doc["evidence"])


def test_trace_through_the_cli(capsys, standup) -> None:  # type: ignore[no-untyped-def]
    store, _ = standup
    code = main(["ask", "What was said after the lunch break?", "--store", str(store), "--llm", "none",
                 "--trace", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    types = [s["type"] for s in doc["trace"]]
    assert types[0] == "plan" and types[-1] == "answer" and "call" in types and "observation" in types
    calls = [s for s in doc["trace"] if s["type"] == "call"]
    assert {c["tool"] for c in calls} >= {"search_episodic"} and max(c["round"] for c in calls) >= 2
    # the single-shot baseline: one search, no loop
    assert main(["ask", "What is the invoice number for Globex?", "--store", str(store), "--llm", "none",
                 "--planner", "single", "--json"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert single["rounds"] == 1 and "5120" in single["evidence"][0]["text"]
    # a readable trace without --json
    assert main(["ask", "When is the design review?", "--store", str(store), "--llm", "none", "--trace"]) == 0
    out = capsys.readouterr().out
    assert "[call 1]" in out and "search_episodic" in out and "Evidence:" in out


def test_the_bundled_llm_chooses_the_calls(standup) -> None:  # type: ignore[no-untyped-def]
    """SmolLM2-135M scores the candidate calls: it cannot write a broken action."""
    store, script = standup
    with MMAgent(Settings.load(env={}, store=store, workers=1)) as a:
        answer = a.ask("What was on screen when parking was mentioned?", planner="model")
    doc = answer.to_json(trace=True)
    plans = [s for s in doc["trace"] if s["type"] == "plan" and "scores" in s]
    assert plans and all(s["chose"]["tool"] in {"answer", "search_episodic", "read_span", "zoom", "lookup_entity",
                                                 "search_semantic"} for s in plans)
    assert answer.evidence[0].modality == "screen" and scene_of(script, answer.evidence[0]) == 3, doc


def test_a_server_model_s_mistakes_are_fed_back_and_counted(standup, server: ChatServer) -> None:  # noqa: F811
    """A JSON-writing model behind an OpenAI-compatible server: a broken reply and an unknown
    tool are sent back to it as errors; its third reply is used."""
    store, script = standup

    def reply(text: str) -> tuple[int, bytes]:
        body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
        return 200, json.dumps(body).encode()

    server.script = [
        reply("I think we should look around"),  # not an action
        reply('{"tool": "search_everything", "args": {}}'),  # no such tool
        reply("```json\n{'tool': 'read_span', 'args': {'source': '%s', 'start': 0, 'end': 30,},}\n```"),  # repaired
        reply('{"tool": "answer"}'),
        reply("The design review is on Thursday."),  # the answer writer
    ]
    with agent(store, llm="openai", remote_url=server.url, llm_model="tiny-llm") as a:
        source = a.sources()[0].source_id
        server.script[2] = reply("```json\n{'tool': 'read_span', 'args': {'source': '%s', 'start': 0, 'end': 30,},}\n```" % source)
        answer = a.ask("What did Dana say?", planner="model")
    doc = answer.to_json(trace=True)
    errors = [s for s in doc["trace"] if s["type"] == "error"]
    assert len(errors) == 2 and "not a JSON action" in errors[0]["error"] and "search_everything" in errors[1]["error"]
    assert "2 model mistake(s)" in answer.note
    assert any(s["type"] == "call" and s["tool"] == "read_span" for s in doc["trace"])
    # the mistakes went back to the model in the conversation
    third = server.requests[2].body["messages"]
    assert third[-1]["role"] == "user" and third[-1]["content"].startswith("Error:")


def test_parse_action_repairs_what_it_can() -> None:
    assert parse_action('{"tool": "zoom", "args": {"memory_id": "m1"}}') == Action("zoom", {"memory_id": "m1"})
    assert parse_action("Sure: {'tool': 'zoom', 'args': {'memory_id': 'm1'},}") == Action("zoom", {"memory_id": "m1"})
    assert parse_action('{"tool": "list_sources", "args": {}') == Action("list_sources", {})
    assert parse_action("answer()").tool == "answer"
    for bad in ("no idea", '{"args": {}}', '["zoom"]', '{"tool": "zoom", "args": [1]}'):
        with pytest.raises(ToolCallError):
            parse_action(bad)


def test_tools_reject_bad_calls_and_read_spans(standup) -> None:  # type: ignore[no-untyped-def]
    from retrieval.tools import MemoryTools

    store, script = standup
    with agent(store) as a:
        tools = MemoryTools(a.store, a.embedder, a._people_index(), a.registry)
        with pytest.raises(ToolCallError, match="no tool"):
            tools.call("delete_everything", {})
        with pytest.raises(ToolCallError, match="no argument 'when'"):
            tools.call("search_episodic", {"query": "x", "when": "now"})
        with pytest.raises(ToolCallError, match="must be a float"):
            tools.call("read_span", {"source": "s", "start": "soon", "end": 3})
        with pytest.raises(ToolCallError, match="needs 'query'"):
            tools.call("search_semantic", {})
        source = a.sources()[0].source_id
        scene = script[3]
        span = tools.call("read_span", {"source": source, "start": scene["start"], "end": scene["end"]})
        texts = [s.text.lower() for h in span.hits for s in h.record.snippets]
        assert any("north garage" in t for t in texts)
        assert all(s.end > scene["start"] and s.start < scene["end"] for h in span.hits for s in h.record.snippets)
        person = tools.call("lookup_entity", {"name": "Priya"})
        assert any(i.kind == "entity" and "Priya" in i.text for i in person.items)
        assert tools.call("lookup_entity", {"name": "Zebulon"}).note == "no person known as 'Zebulon'"
        listed = tools.call("list_sources", {})
        assert [i.source_id for i in listed.items] == [source]
        scenes = tools.call("search_episodic", {"query": "design review", "level": "scene"})
        if scenes.hits and scenes.hits[0].record.children:
            zoomed = tools.call("zoom", {"memory_id": scenes.hits[0].id})
            assert zoomed.hits and all(h.record.level == "clip" for h in zoomed.hits)
        assert "no image model" in tools.call("search_visual", {"query": "a slide"}).note


def test_search_visual_by_words_and_by_image(tmp_path, standup) -> None:  # type: ignore[no-untyped-def]
    """With an image model (a tiny random-weight CLIP: vectors well-formed, meaningless), a
    keyframe's own picture finds that keyframe first, and its clip comes with it to be cited."""
    from memory.store import Scope
    from retrieval.tools import MemoryTools
    from tests.tiny_models import build_tiny_clip

    _, script = standup
    video = next(p for p in standup[0].parent.iterdir() if p.suffix == ".mp4")
    model = build_tiny_clip(tmp_path / "clip")
    store = tmp_path / "store"
    assert main(["index", str(video), "--store", str(store), "--image-model", str(model), "--json"]) == 0
    with agent(store, image_model=str(model)) as a:
        frames = list(a.store.scroll(Scope(kind="visual", level="keyframe")))
        assert frames
        target = frames[len(frames) // 2]
        tools = MemoryTools(a.store, a.embedder, image=a.components.image())
        found = tools.call("search_visual", {"image": target.attrs["image"]})
        assert found.hits[0].record.attrs["image"] == target.attrs["image"]
        assert any(h.record.kind == "episodic" and h.id == target.parent for h in found.hits)
        assert tools.call("search_visual", {"query": "a slide with text"}).hits
        with pytest.raises(ToolCallError, match="either"):
            tools.call("search_visual", {})
        with pytest.raises(ToolCallError, match="cannot read"):
            tools.call("search_visual", {"image": str(tmp_path / "missing.png")})
        # a question about what was shown searches the keyframes too
        answer = a.ask("What was shown on the screen about parking?", planner="rules")
        calls = [s.content["tool"] for s in answer.steps if s.type == "call"]
        assert "search_visual" in calls and answer.evidence


def test_rounds_time_and_token_budgets(standup) -> None:  # type: ignore[no-untyped-def]
    from retrieval.agent import Agent, AgentOptions, ModelPlanner, RulePlanner
    from retrieval.answer import Retriever
    from retrieval.tools import MemoryTools

    store, script = standup
    with MMAgent(Settings.load(env={}, store=store, workers=1)) as a:
        tools = MemoryTools(a.store, a.embedder, a._people_index(), a.registry)
        retriever = Retriever(a.store, a.embedder, None, llm_unavailable="no language model configured")
        spent = Agent(tools, retriever, RulePlanner(), AgentOptions(max_seconds=0.0)).ask("When is the design review?")
        # one round always runs (the budget may have gone on loading models): never "Not found"
        # for memory never searched
        assert spent.rounds == 1 and spent.found and "time budget (0 s) spent after 1 rounds" in spent.note
        one = Agent(tools, retriever, RulePlanner(), AgentOptions(rounds=1)).ask("What was said after the lunch break?")
        assert one.rounds == 1 and all(s.round <= 1 for s in one.steps if s.type == "call")
        llm, _ = a._llm_or_reason()
        assert llm is not None
        options = AgentOptions(max_llm_tokens=0)
        broke = Agent(tools, retriever, ModelPlanner(llm, options), options).ask("What did Priya say?")
        plans = [s.to_json() for s in broke.steps if s.type == "plan"]
        assert any(p.get("note") == "token budget spent: answering" for p in plans)
        assert not any("scores" in p for p in plans) and broke.evidence  # answered from what the rules found


def test_a_summary_of_a_part(standup) -> None:  # type: ignore[no-untyped-def]
    store, script = standup
    answer = ask(store, "Summarise what was said about the design review.")
    assert answer.found and answer.mode == "extractive", answer.to_json()
    starts = [e.start for e in answer.evidence]
    assert starts == sorted(starts) and len(answer.evidence) >= 2  # in time order, several moments
    scenes = {scene_of(script, e) for e in answer.evidence}
    assert {0, 4} <= scenes, answer.to_json()  # Monday and Thursday: the whole story of the review
    assert not ask(store, "Summarise what was said about the Mars landing.").found


# -- a capture is its own moment: "what was shown when I was doing X" on a screen history ----------


def _capture(folder: Path, name: str, time: str, app: str, lines: list[str]) -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1200, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for k, text in enumerate(lines):
        draw.text((40, 40 + 70 * k), text, fill="black", font=ImageFont.load_default(size=32))
    image.save(folder / f"{name}.png")
    (folder / f"{name}.json").write_text(json.dumps({"time": time, "app": app, "window": app}))


@pytest.fixture(scope="module")
def screen_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    shots, store = folder / "shots", folder / "store"
    shots.mkdir()
    _capture(shots, "tag", "2024-05-14T09:00:00Z", "Paperless-ngx", ["Create new tag", "Color:", "#e79fb0", "Cancel"])
    _capture(shots, "rule", "2024-05-14T09:20:00Z", "Paperless-ngx", ["Edit mail rule", "Maximum age (days): 30"])
    _capture(shots, "notes", "2024-05-14T09:40:00Z", "Okular", ["The Okular Handbook", "Page 1 of 39"])
    assert main(["index", str(shots), "--store", str(store), "--json"]) == 0
    return store


@pytest.mark.parametrize("question", [
    "What colour code was pre-filled when I was creating a new tag?",
    "Which color code was shown while I was creating a new tag in Paperless?",
])
def test_the_anchor_capture_answers_when_nothing_else_is_around_it(screen_history: Path, question: str) -> None:
    """The tag dialog is both the moment the question points at and what it asks about: with no
    other capture within the anchor window, the moment itself is read (it used to be left out,
    and the agent said "not found")."""
    got = ask(screen_history, question)
    assert "#e79fb0" in got.answer.lower(), got.to_json()


def test_an_anchor_capture_does_not_answer_what_it_does_not_show(screen_history: Path) -> None:
    got = ask(screen_history, "What maximum age was set when I was creating a new tag?")
    assert "30" not in got.answer, got.to_json()


# -- a name the question gives picks the capture: another entry's history matches the rest better --


@pytest.fixture(scope="module")
def two_entries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("entries")
    shots, store = folder / "shots", folder / "store"
    shots.mkdir()
    _capture(shots, "history", "2024-05-14T09:00:00Z", "KeePassXC",
             ["Netflix - Edit entry - History", "Last modified: 3/13/2022 9:01 AM", "Last modified: 7/3/2020 12:10 PM",
              "Last modified: 7/3/2020 10:46 AM", "Apply"])
    _capture(shots, "list", "2024-05-14T09:20:00Z", "KeePassXC",
             ["Passwords / Internet", "Apple: 3/13/2022 9:07 AM", "Dropbox: 7/3/2020 10:47 AM", "Pocket: 3/12/2022 4:10 PM"])
    assert main(["index", str(shots), "--store", str(store), "--json"]) == 0
    return store


@pytest.mark.parametrize("question", [
    "When was the Apple entry last modified?",
    "What was the last modified time of the Apple entry?",
    "When did the Apple entry last get modified in KeePassXC?",
])
def test_the_capture_that_shows_the_name_answers(two_entries: Path, question: str) -> None:
    """The history capture matches "last modified" better, but it is Netflix's (and "Apply" is no
    "Apple"): the capture that shows the name the question gives is read first."""
    got = ask(two_entries, question)
    assert "9:07" in got.answer, got.to_json()


def test_a_name_no_capture_shows_is_not_found_and_the_other_name_keeps_its_capture(two_entries: Path) -> None:
    assert "9:01" in ask(two_entries, "When was the Netflix entry last modified?").answer  # near-miss: its own capture
    assert not ask(two_entries, "When was the Tokyo entry last modified?").found


def test_what_was_said_is_quoted_as_it_was_said_without_a_model(standup) -> None:  # type: ignore[no-untyped-def]
    """"What was said about X" asks for the recorded words: they are the answer, quoted and cited;
    no language model is asked to rewrite them (it could only paraphrase them, or get them wrong)."""
    from retrieval.agent import Agent, AgentOptions, RulePlanner
    from retrieval.answer import Retriever
    from retrieval.tools import MemoryTools
    from tests.fakes import ScriptedLLM

    store, script = standup
    with MMAgent(Settings.load(env={}, store=store, workers=1)) as a:
        tools = MemoryTools(a.store, a.embedder, a._people_index(), a.registry)
        llm = ScriptedLLM([])  # any call would fail: nothing is scripted
        agent = Agent(tools, Retriever(a.store, a.embedder, llm), RulePlanner(), AgentOptions())
        for question in ("What was said after the lunch break?", "What did Priya say about the design review?",
                         "What got mentioned about parking?"):
            answer = agent.ask(question)
            assert answer.found and answer.mode == "extractive", answer.to_json()
            assert answer.evidence[0].text in answer.answer and not llm.seen
            if "after" in question:  # the next things said, not the slide still on screen
                assert all(e.modality == "speech" for e in answer.evidence), answer.to_json()
                assert scene_of(script, answer.evidence[0]) == 3, answer.to_json()


def test_a_choice_between_alternatives_names_the_one_memory_supports(standup) -> None:  # type: ignore[no-untyped-def]
    """"Is X A or B?" is answered with A or B (never "yes"): the alternative the evidence says, the
    current fact when both were said, the usual answer when memory names neither."""
    store, script = standup
    moved = ask(store, "Is the design review on Monday or on Thursday?")
    assert moved.answer.lower() == "on thursday" and moved.mode == "extractive", moved.to_json()
    assert scene_of(script, moved.evidence[0]) == 4  # the move, not the first plan
    garage = ask(store, "Should visitors park in the south garage or the north garage?")
    assert garage.answer.lower() == "north garage", garage.to_json()
    paid = ask(store, "Has the Globex invoice been paid, or is it still open?")
    assert paid.answer.lower().startswith("paid") or "paid" in paid.answer.lower(), paid.to_json()
    neither = ask(store, "Is the offsite in Lisbon or in Porto?")
    assert not neither.found, neither.to_json()
