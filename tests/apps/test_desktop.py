"""The desktop app (apps/desktop/) on offscreen Qt, over a real store: captures made by the real
recorder (real OCR, a card number redacted, one picture dropped by retention), indexed, then
searched, asked and browsed through the window's own widgets; the settings page writes what the
recorder starts with; the window's screenshot is a real, non-blank picture of the results."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets", reason="PySide6 is not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def qapp() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        yield app


def wait_for(qapp: Any, done: Callable[[], bool], timeout: float = 90.0, what: str = "") -> None:
    """Events processed until ``done()``; time.sleep lets the workers run (QTest.qWait keeps
    Python's GIL while it waits: a worker would crawl)."""
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or done}")
        qapp.processEvents()
        time.sleep(0.01)


def at(hour: int, minute: int) -> float:
    return datetime.combine(date.today(), clock(hour, minute, 5)).timestamp()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, ocr: Any) -> dict[str, Any]:
    """Four captures today by the real recorder (grab and window given, OCR real): Mail at 09:15
    with a card number, the same mail at 09:20 with a line added (saved as a patch: the changed
    rows only), Calendar at 14:40, Notes at 14:52 whose picture retention dropped; the day indexed
    into STORE (the recorder's layout: STORE/screens/YYYY-MM-DD)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from apps.desktop.config import AppConfig
    from apps.screen_recorder import Recorder
    from apps.screen_sources import Window
    from apps.screen_state import RecorderSettings
    from mmagent import MMAgent, Settings

    def screen(lines: list[str]) -> np.ndarray:
        image = Image.new("RGB", (1280, 800), "white")
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=30)
        for k, line in enumerate(lines):
            draw.text((40, 60 + k * 120), line, fill="black", font=font)
        return np.asarray(image)

    store = tmp_path_factory.mktemp("desktop") / "store"
    folder = store / "screens"
    folder.mkdir(parents=True)
    shown: list[Any] = [None, None]
    recorder = Recorder(folder, RecorderSettings(), grab=lambda: [shown[0]], window=lambda: shown[1], ocr=ocr)
    invoice = ["Invoice 4471 from Globex", "Card: 4111 1111 1111 1111", "Payment due on Friday"]
    for when, win, lines in (
        (at(9, 15), Window("Mail", "Invoice 4471 - Mail"), invoice),
        (at(9, 20), Window("Mail", "Invoice 4471 - Mail"), [*invoice, "Total: 12,800"]),
        (at(14, 40), Window("Calendar", "Calendar - Week 48"), ["Standup moved to 16:30", "Room Atlas"]),
        (at(14, 52), Window("Notes", "Notes - Editor"), ["Quarterly plan draft"]),
    ):
        shown[:] = [screen(lines), win]
        assert recorder.tick(now=when) == 1
    day = folder / date.today().isoformat()
    mail, total, calendar, notes = sorted(day.glob("*.webp"))
    assert json.loads(total.with_suffix(".json").read_text())["patch"]["base"] == mail.name
    notes.unlink()  # retention: the picture goes, its sidecar (time, window, text) stays
    assert recorder.status.redacted >= 1
    with MMAgent(Settings.load(env={}, store=store, llm="none", workers=1)) as agent:
        agent.index(day)
    AppConfig(llm="none").save(store)  # the app's local store answers without a language model
    return {"store": store, "day": day, "mail": mail, "total": total, "calendar": calendar, "notes": notes}


@pytest.fixture(scope="module")
def window(qapp: Any, world: dict[str, Any]) -> Iterator[Any]:
    from apps.desktop.backend import Backend
    from apps.desktop.window import MainWindow

    win = MainWindow(Backend(world["store"], env={}), tray=False)
    win.show()
    wait_for(qapp, lambda: win.timeline.loaded_day == date.today() and bool(win.status), what="the timeline")
    yield win
    win.close()  # shutdown: the workers stop, the store closes
    assert not win.backend.local_open
    win.deleteLater()
    qapp.processEvents()


def ui_text(root: Any) -> str:
    """Every text the window (and its dialogs) shows: labels, fields, lists and their tooltips."""
    from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QPlainTextEdit, QWidget

    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        out.append(w.toolTip())
        if isinstance(w, QLabel):
            out.append(w.text())
        elif isinstance(w, QLineEdit):
            out.append(w.text())
        elif isinstance(w, QPlainTextEdit):
            out.append(w.toPlainText())
        elif isinstance(w, QListWidget):
            out += [t for i in range(w.count()) for t in (w.item(i).text(), w.item(i).toolTip())]
    return "\n".join(out)


def click_item(qapp: Any, view: Any, row: int) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    item = view.item(row)
    view.scrollToItem(item)
    qapp.processEvents()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view.visualItemRect(item).center())


def search(qapp: Any, window: Any, query: str) -> dict[str, Any]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    page = window.search
    window.tabs.setCurrentWidget(page)
    page.last = None
    page.box.clear()
    QTest.keyClicks(page.box, query)
    QTest.keyClick(page.box, Qt.Key.Key_Return)
    assert window.busy  # on a worker: the window keeps answering
    wait_for(qapp, lambda: page.last is not None and page.button.isEnabled() and not window.busy, what="the search")
    return page.last  # type: ignore[no-any-return]


def test_search_opens_the_capture_full_size(qapp, window, world) -> None:  # type: ignore[no-untyped-def]
    doc = search(qapp, window, "invoice 4471")
    results = doc["results"]
    row = next(k for k, r in enumerate(results) if "4471" in r["text"])
    mails = (world["mail"], world["total"])  # the invoice, and the same mail with a line more
    assert Path(results[row]["image"]) in mails, results
    item = window.search.results.item(row)
    assert "4471" in item.text() and "Mail — Invoice 4471 - Mail" in item.text() and "score" in item.text()
    assert "result" in window.search.state.text()
    click_item(qapp, window.search.results, row)
    wait_for(qapp, lambda: window.viewer is not None and window.viewer.isVisible(), what="the viewer")
    viewer = window.viewer
    assert viewer.capture.path == Path(results[row]["image"]) and viewer.capture.image_kept
    assert not viewer.picture.source.isNull() and viewer.picture.source.size().toTuple() == (1280, 800)
    assert not viewer.picture.pixmap().isNull()
    assert "Mail" in viewer.info.text() and "Invoice 4471 - Mail" in viewer.info.text()
    text = viewer.text.toPlainText()
    assert "4471" in text and "[REDACTED:card]" in text
    assert "4111" not in ui_text(window)
    viewer.close()


def test_the_app_serves_its_store_to_the_cli(qapp, window, world, capsys) -> None:  # type: ignore[no-untyped-def]
    """While the app holds the store, ``mmagent ask`` is answered by it (the store is locked)."""
    from apps.cli import main
    from apps.service import Client

    search(qapp, window, "invoice 4471")  # the app has opened the store
    assert window.backend.local_open and Client.find(world["store"]) is not None
    assert main(["ask", "which invoice is from Globex?", "--store", str(world["store"]), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["evidence"] and "4471" in doc["evidence"][0]["text"], doc


def test_ask_cites_the_capture(qapp, window, world) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    page = window.ask
    window.tabs.setCurrentWidget(page)
    page.box.setText("where did I see invoice 4471?")
    QTest.mouseClick(page.button, Qt.MouseButton.LeftButton)
    assert not page.button.isEnabled() and page.answer.text() == "thinking…"
    wait_for(qapp, lambda: page.last is not None and not window.busy, what="the answer")
    doc = page.last
    assert doc["answer"] and page.answer.text() == doc["answer"]
    assert "mode" in page.note.text()
    images = [e.get("image") for e in doc["evidence"]]
    row = next(k for k, image in enumerate(images) if image in (str(world["mail"]), str(world["total"])))
    assert page.evidence.count() == len(doc["evidence"])
    assert "Invoice 4471 - Mail" in page.evidence.item(row).text()
    click_item(qapp, page.evidence, row)
    wait_for(qapp, lambda: window.viewer is not None and window.viewer.isVisible(), what="the viewer")
    assert str(window.viewer.capture.path) == images[row] and not window.viewer.picture.source.isNull()
    assert "4111" not in ui_text(window)
    window.viewer.close()


def test_timeline_lists_the_day_by_hour(qapp, window, world) -> None:  # type: ignore[no-untyped-def]
    timeline = window.timeline
    window.tabs.setCurrentWidget(timeline)
    assert timeline.day == date.today()
    assert sorted(timeline.sections) == [9, 14]
    nine, two = timeline.sections[9], timeline.sections[14]
    assert nine.count() == 2 and two.count() == 2
    assert "09:15:05 — Mail — Invoice 4471 - Mail" in nine.item(0).toolTip() and "09:20:05" in nine.item(1).text()
    assert "Calendar - Week 48" in two.item(0).toolTip()
    assert "picture dropped by retention" in two.item(1).toolTip()
    assert "4 captures in 2 hours" in timeline.summary.text()
    wait_for(qapp, lambda: all(window.thumbnail(str(world[k])) is not None for k in ("mail", "total", "calendar")),
             what="the thumbnails")
    for key in ("mail", "total", "calendar"):  # the patch too: a whole picture, not a strip of rows
        thumb = window.thumbnail(str(world[key]))
        assert not thumb.isNull() and thumb.size().toTuple() == (144, 90), (key, thumb.size())
    assert not nine.item(0).icon().pixmap(144, 90).isNull()
    # the patch (only the rows that changed were saved) opens as the whole window: the rows it
    # was saved against (the invoice line at the top) and its own (the total at the bottom)
    from PySide6.QtGui import QImageReader

    assert QImageReader(str(world["total"])).size().height() < 400
    click_item(qapp, nine, 1)
    wait_for(qapp, lambda: window.viewer is not None and window.viewer.isVisible(), what="the viewer")
    viewer = window.viewer
    assert viewer.capture.path == world["total"] and viewer.capture.patch and not viewer.note
    whole = viewer.picture.source.toImage()
    assert whole.size().toTuple() == (1280, 800)

    def inked(y0: int, y1: int) -> bool:
        return any(whole.pixelColor(x, y).lightness() < 100 for x in range(40, 500, 2) for y in range(y0, y1, 2))

    assert inked(60, 100) and inked(420, 460) and not inked(600, 700)
    assert "Total" in viewer.text.toPlainText() and "4471" in viewer.text.toPlainText()
    # the capture whose picture was dropped: a placeholder and its text
    click_item(qapp, two, 1)
    wait_for(qapp, lambda: window.viewer is not None and window.viewer.isVisible(), what="the viewer")
    viewer = window.viewer
    assert not viewer.capture.image_kept and viewer.picture.source.isNull()
    assert viewer.picture.text() == "picture dropped by retention"
    assert "quarterly" in viewer.text.toPlainText().lower() and "Notes - Editor" in viewer.info.text()
    viewer.step(-1)  # previous in the day: the calendar capture, with its picture
    assert viewer.capture.path == world["calendar"] and not viewer.picture.source.isNull()
    viewer.close()
    # a day without captures
    timeline.date_edit.setDate(timeline.date_edit.date().addDays(-400))
    wait_for(qapp, lambda: timeline.loaded_day != date.today(), what="the empty day")
    assert timeline.sections == {} and timeline.summary.text().startswith("0 captures")
    timeline.jump(1)  # the next day with captures: today
    wait_for(qapp, lambda: timeline.loaded_day == date.today(), what="today again")
    assert sorted(timeline.sections) == [9, 14]


def test_status_bar_shows_the_recorder(qapp, window, world) -> None:  # type: ignore[no-untyped-def]
    assert window.state_label.text() == "● not recording"
    assert "on disk 4 (3 pictures)" in window.counts_label.text()
    assert window.act_start.isEnabled() and not window.act_stop.isEnabled()
    window.act_pause.trigger()
    wait_for(qapp, lambda: window.status.get("paused") == "paused by the user", what="paused")
    assert "capture paused" in window.state_label.text() and window.act_resume.isEnabled()
    window.act_resume.trigger()
    wait_for(qapp, lambda: not window.status.get("paused"), what="resumed")
    assert not (world["store"] / "screens" / "PAUSED").exists()


def test_a_stalled_capture_is_shown_while_recording(qapp, window, world) -> None:  # type: ignore[no-untyped-def]
    said = "no screen grab for 75 s while recording; the capture loop was restarted (1 time(s) since the start)"
    try:
        window.show_status({"recording": True, "paused": None, "stalled": said, "captured": 40})
        assert window.state_label.text() == "● recording, capture stalled"
        assert window.error_label.text().startswith(f"capture stalled: {said}")
        window.show_status({"recording": True, "paused": None, "stalled": None, "captured": 41})
        assert window.state_label.text() == "● recording" and "stalled" not in window.error_label.text()
        window.show_status({"recording": False, "paused": None, "stalled": said})  # stopped: nothing to warn of
        assert "stalled" not in window.state_label.text() + window.error_label.text()
    finally:
        window.show_status(window.backend.status())


def test_settings_are_saved_for_the_recorder(qapp, window, world) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from apps.desktop.config import AppConfig
    from apps.screen_privacy import PrivacyRules

    page = window.settings
    window.tabs.setCurrentWidget(page)
    store = world["store"]
    page.interval.setValue(5.0)
    page.retention.setValue(7.0)
    page.apps.setPlainText("Slack\n\n  Signal  \n")
    page.titles.setPlainText(r"\bbank\b" + "\nSecret .* Project")
    page.redact.setChecked(False)
    page.index_background.setChecked(False)
    QTest.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert not page.error.isHidden() and page.error.text().startswith("Saved"), page.error.text()
    saved = json.loads((store / "app.json").read_text())
    assert saved["interval"] == 5.0 and saved["retention_days"] == 7.0 and saved["llm"] == "none"
    assert saved["excluded_apps"] == ["Slack", "Signal"] and saved["redact"] is False
    config = AppConfig.load(store)
    assert config == window.backend.config and config.index_background is False
    assert config.llm_env()["MMAGENT_LLM"] == "none"
    rules = PrivacyRules.from_json(json.loads((store / "screens" / "rules.json").read_text()))
    assert rules.excluded_apps == ("Slack", "Signal") and rules.excluded_titles == (r"\bbank\b", "Secret .* Project")
    assert rules.redact is False

    before = (store / "app.json").read_bytes()
    page.titles.setPlainText("([unclosed")
    QTest.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert not page.error.isHidden() and "Not saved" in page.error.text() and "([unclosed" in page.error.text()
    assert (store / "app.json").read_bytes() == before and window.backend.config == config
    page.titles.setPlainText("ok")
    page.llm.setCurrentText(str(store / "no-such-model"))
    QTest.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert "Not saved" in page.error.text() and "language model" in page.error.text()
    assert (store / "app.json").read_bytes() == before
    page.load()  # revert: the saved settings again
    assert page.interval.value() == 5.0 and page.llm.currentText() == "none" and page.error.isHidden()


def test_screenshot_of_the_window_is_not_blank(qapp, window, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from PIL import Image

    window.resize(1180, 780)
    search(qapp, window, "invoice 4471")
    assert any("4471" in window.search.results.item(k).text() for k in range(window.search.results.count()))
    folders = [tmp_path] + ([Path(os.environ["MMAGENT_ARTEFACTS"])] if os.environ.get("MMAGENT_ARTEFACTS") else [])
    shots = {}
    for name, page in (("search", window.search), ("timeline", window.timeline)):
        window.tabs.setCurrentWidget(page)
        qapp.processEvents()
        picture = window.grab()
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            assert picture.save(str(folder / f"desktop-{name}.png"))
        shots[name] = tmp_path / f"desktop-{name}.png"
    for name, path in shots.items():
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
        assert pixels.shape[:2] == (window.height(), window.width())
        colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
        assert pixels.std() > 20 and colours > 40, (name, pixels.std(), colours)


def test_errors_are_shown_not_raised(qapp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A store that cannot be opened: the search fails on its worker and the window says why
    (the search box and the status bar), and stays usable; an empty search is refused."""
    from apps.desktop.backend import Backend
    from apps.desktop.config import AppConfig
    from apps.desktop.window import MainWindow

    store = tmp_path / "store"
    AppConfig(llm="none").save(store)
    (store / "qdrant").mkdir()  # a shard folder without the store's own file: not an mmagent store
    (store / "qdrant" / "x").write_text("")
    win = MainWindow(Backend(store, env={}), tray=False, warm=False)
    try:
        win.search.run()  # nothing typed
        assert win.search.state.text() == "type something to search for" and win.calls.activeThreadCount() == 0
        win.search.box.setText("invoice")
        win.search.run()
        wait_for(qapp, lambda: not win.busy, what="the failed search")
        assert "search failed" in win.search.state.text() and "not an mmagent store" in win.search.state.text()
        assert "not an mmagent store" in win.statusBar().currentMessage()
        assert win.search.button.isEnabled() and win.search.last is None
    finally:
        win.close()
        win.deleteLater()
        qapp.processEvents()


def test_start_and_stop_recording_from_the_window(qapp, xserver, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The app's Start starts the real recorder with the saved settings (its interval, the rules
    file, the language model in its environment), Stop stops it."""
    from apps.desktop.backend import Backend
    from apps.desktop.config import AppConfig
    from apps.desktop.qt import ROLE
    from apps.desktop.window import MainWindow

    monkeypatch.setenv("DISPLAY", xserver[0])
    store = tmp_path / "store"
    AppConfig(interval=0.5, llm="none", index_background=False, excluded_apps=("Slack",)).save(store)
    win = MainWindow(Backend(store, env={}), tray=False, warm=False)
    folder = store / "screens"
    try:
        win.act_start.trigger()
        wait_for(qapp, lambda: win.status.get("recording") and win.status.get("stored", 0) >= 1, 120, "recording")
        assert win.state_label.text() == "● recording" and win.act_stop.isEnabled() and not win.act_start.isEnabled()
        pid = int((folder / "recorder.pid").read_text())
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        env = dict(v.split(b"=", 1) for v in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in v)
        assert cmd[cmd.index(b"--interval") + 1] == b"0.5" and b"--store" not in cmd
        assert Path(cmd[cmd.index(b"--rules") + 1].decode()) == folder / "rules.json"
        assert json.loads((folder / "rules.json").read_text())["excluded_apps"] == ["Slack"]
        assert env[b"MMAGENT_LLM"] == b"none"
        # the new capture shows on the timeline (today's, listed again when captures arrive)
        wait_for(qapp, lambda: bool(win.timeline.sections), 30, "the capture on the timeline")
        (strip,) = win.timeline.sections.values()
        assert strip.count() >= 1 and strip.item(0).data(ROLE).path.parent.parent == folder
        win.act_stop.trigger()
        wait_for(qapp, lambda: not win.busy and not win.status.get("recording"), 60, "stopped")
        assert win.state_label.text() == "● not recording" and win.act_start.isEnabled()
    finally:
        win.close()
        win.deleteLater()
        qapp.processEvents()
        if (folder / "recorder.pid").is_file():
            os.kill(int((folder / "recorder.pid").read_text()), 15)
