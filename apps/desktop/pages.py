"""The window's pages: the timeline (a day's captures by hour), search and ask."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from apps.desktop.captures import DROPPED, CaptureInfo, evidence_line, snippet
from apps.desktop.qt import (
    ROLE, THUMB, QCheckBox, QDate, QDateEdit, QFont, QHBoxLayout, QIcon, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPixmap, QPushButton, QScrollArea, Qt, QTimer, QVBoxLayout, QWidget,
)
from apps.desktop.widgets import to_html

if TYPE_CHECKING:
    from apps.desktop.window import MainWindow


class TimelinePage(QWidget):
    """A day's captures by hour: a row of thumbnails per hour (loaded in the background, cached)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.captures: list[CaptureInfo] = []
        self.sections: dict[int, QListWidget] = {}
        self.items: dict[str, list[QListWidgetItem]] = {}
        self.loaded_day: date | None = None
        self._pending_day: date | None = None
        self.stale = False  # new captures of the day shown since it was listed
        self.listed_at = 0.0
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd yyyy-MM-dd")
        self.date_edit.dateChanged.connect(lambda _d: self.reload())
        self.prev_button, self.next_button = QPushButton("◀"), QPushButton("▶")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(36)
        self.prev_button.setToolTip("the previous day with captures")
        self.next_button.setToolTip("the next day with captures")
        self.prev_button.clicked.connect(lambda: self.jump(-1))
        self.next_button.clicked.connect(lambda: self.jump(1))
        today, refresh = QPushButton("Today"), QPushButton("Refresh")
        today.clicked.connect(lambda: self.date_edit.setDate(QDate.currentDate()))
        refresh.clicked.connect(self.reload)
        self.summary = QLabel()
        top = QHBoxLayout()
        for w in (self.prev_button, self.date_edit, self.next_button, today, refresh):
            top.addWidget(w)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.scroll, 1)

    @property
    def day(self) -> date:
        return self.date_edit.date().toPython()  # type: ignore[no-any-return]

    def jump(self, by: int) -> None:
        days = self.window_.backend.days()
        here = self.day
        near = [d for d in days if d < here] if by < 0 else [d for d in days if d > here]
        if near:
            target = near[-1] if by < 0 else near[0]
            self.date_edit.setDate(QDate(target.year, target.month, target.day))
        else:
            self.window_.message("no earlier day with captures" if by < 0 else "no later day with captures")

    def reload(self) -> None:
        day = self._pending_day = self.day
        self.stale, self.listed_at = False, time.monotonic()
        self.summary.setText("loading…")
        self.window_.submit(self.window_.io, lambda: self.window_.backend.day_captures(day),
                            lambda caps: self._show(day, caps), self._failed, busy=False)

    def _failed(self, message: str) -> None:
        self.summary.setText(f"cannot list the captures: {message}")
        self.window_.message(message)

    def _show(self, day: date, captures: list[CaptureInfo]) -> None:
        if day != self._pending_day:
            return  # a later date was chosen meanwhile
        keep = self.scroll.verticalScrollBar().value() if day == self.loaded_day else 0
        self.loaded_day, self.captures = day, captures
        while self.body_layout.count():
            child = self.body_layout.takeAt(0).widget()  # the stretch has no widget
            if child is not None:
                child.deleteLater()
        self.sections, self.items = {}, {}
        hours: dict[int, list[CaptureInfo]] = {}
        for c in captures:
            hours.setdefault(datetime.fromtimestamp(c.time).hour, []).append(c)
        dropped = sum(1 for c in captures if not c.image_kept)
        self.summary.setText(f"{len(captures)} capture{'s' if len(captures) != 1 else ''} in {len(hours)} hour"
                             f"{'s' if len(hours) != 1 else ''}" + (f" ({dropped} {DROPPED})" if dropped else ""))
        if not captures:
            empty = QLabel("No captures on this day.")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            empty.setStyleSheet("color: #777; font-size: 15px; padding: 40px;")
            self.body_layout.addWidget(empty)
        wanted = []
        for hour in sorted(hours):
            group = hours[hour]
            head = QLabel(f"<b>{hour:02d}:00 – {hour:02d}:59</b> · {len(group)} capture{'s' if len(group) != 1 else ''}")
            strip = QListWidget()
            strip.setViewMode(QListWidget.ViewMode.IconMode)
            strip.setFlow(QListWidget.Flow.LeftToRight)
            strip.setWrapping(False)
            strip.setMovement(QListWidget.Movement.Static)
            strip.setIconSize(THUMB)
            strip.setSpacing(4)
            strip.setHorizontalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
            strip.setFixedHeight(THUMB.height() + 58)
            strip.itemClicked.connect(self._open)
            strip.itemActivated.connect(self._open)
            for c in group:
                item = QListWidgetItem(datetime.fromtimestamp(c.time).strftime("%H:%M:%S"))
                item.setData(ROLE, c)
                item.setToolTip(f"{datetime.fromtimestamp(c.time).strftime('%H:%M:%S')} — {c.title}"
                                + ("" if c.image_kept else f"\n({DROPPED})"))
                if not c.image_kept:
                    item.setIcon(QIcon(self.window_.dropped_icon))
                elif (cached := self.window_.thumbnail(str(c.path))) is not None:
                    item.setIcon(QIcon(cached))
                else:
                    item.setIcon(QIcon(self.window_.loading_icon))
                    wanted.append(c)
                strip.addItem(item)
                self.items.setdefault(str(c.path), []).append(item)
            self.sections[hour] = strip
            self.body_layout.addWidget(head)
            self.body_layout.addWidget(strip)
        self.body_layout.addStretch(1)
        self.window_.load_thumbnails(wanted)
        QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(keep))

    def set_thumbnail(self, path: str, pixmap: QPixmap) -> None:
        for item in self.items.get(path, ()):
            item.setIcon(QIcon(pixmap))

    def _open(self, item: QListWidgetItem) -> None:
        capture = item.data(ROLE)
        if isinstance(capture, CaptureInfo):
            self.window_.show_capture(capture, self.captures)


class SearchPage(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.box = QLineEdit()
        self.box.setPlaceholderText("Search what was on screen or said — keywords and meaning (e.g. invoice 4471)")
        self.box.setClearButtonEnabled(True)
        self.box.returnPressed.connect(self.run)
        self.button = QPushButton("Search")
        self.button.clicked.connect(self.run)
        self.only_day = QCheckBox("only the timeline's day")
        self.state = QLabel()
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        self.results.itemClicked.connect(self._open)
        self.results.itemActivated.connect(self._open)
        self.last: dict[str, Any] | None = None
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.button)
        row.addWidget(self.only_day)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.state)
        layout.addWidget(self.results, 1)

    def run(self) -> None:
        query = self.box.text().strip()
        if not query:
            self.state.setText("type something to search for")
            return
        day = self.window_.timeline.day if self.only_day.isChecked() else None
        self.button.setEnabled(False)
        self.state.setText(f"searching for “{query}”…")
        self.window_.submit(self.window_.calls, lambda: self.window_.backend.search(query, day=day),
                            self._show, self._failed)

    def _failed(self, message: str) -> None:
        self.button.setEnabled(True)
        self.state.setText(f"<span style='color:#c62828'>search failed: {to_html(message)}</span>")
        self.window_.message(f"search failed: {message}")

    def _show(self, doc: dict[str, Any]) -> None:
        self.button.setEnabled(True)
        self.last = doc
        self.results.clear()
        results = doc.get("results", [])
        self.state.setText(f"{len(results)} result{'s' if len(results) != 1 else ''} for “{to_html(doc.get('query', ''))}”"
                           if results else f"nothing found for “{to_html(doc.get('query', ''))}”")
        for e in results:
            item = QListWidgetItem(f"{evidence_line(e)}   (score {float(e.get('score', 0.0)):.2f})\n"
                                   f"    {snippet(str(e.get('text', '')), doc.get('query', ''))}")
            item.setData(ROLE, e)
            item.setToolTip(str(e.get("image") or e.get("path") or ""))
            self.results.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        e = item.data(ROLE)
        if isinstance(e, dict):
            self.window_.open_evidence(e)


class AskPage(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.box = QLineEdit()
        self.box.setPlaceholderText("Ask your memory — e.g. where did I see invoice 4471?")
        self.box.setClearButtonEnabled(True)
        self.box.returnPressed.connect(self.run)
        self.button = QPushButton("Ask")
        self.button.clicked.connect(self.run)
        self.answer = QLabel()
        self.answer.setWordWrap(True)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.answer.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.answer.setFont(font)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666;")
        self.evidence = QListWidget()
        self.evidence.setWordWrap(True)
        self.evidence.itemClicked.connect(self._open)
        self.evidence.itemActivated.connect(self._open)
        self.last: dict[str, Any] | None = None
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.answer)
        layout.addWidget(self.note)
        layout.addWidget(QLabel("<b>Evidence</b> (click to open)"))
        layout.addWidget(self.evidence, 1)

    def run(self) -> None:
        question = self.box.text().strip()
        if not question:
            self.note.setText("type a question first")
            return
        self.button.setEnabled(False)
        self.answer.setText("thinking…")
        self.note.setText("")
        self.evidence.clear()
        self.window_.submit(self.window_.calls, lambda: self.window_.backend.ask(question), self._show, self._failed)

    def _failed(self, message: str) -> None:
        self.button.setEnabled(True)
        self.answer.setText("")
        self.note.setText(f"<span style='color:#c62828'>the question failed: {to_html(message)}</span>")
        self.window_.message(f"ask failed: {message}")

    def _show(self, doc: dict[str, Any]) -> None:
        self.button.setEnabled(True)
        self.last = doc
        self.answer.setText(str(doc.get("answer", "")))
        self.answer.setTextFormat(Qt.TextFormat.PlainText)
        note = str(doc.get("note") or "")
        mode = str(doc.get("mode") or "")
        self.note.setText(" · ".join(x for x in (note, f"mode: {mode}" if mode else "", f"rounds: {doc.get('rounds')}"
                                                 if doc.get("rounds") is not None else "") if x))
        for k, e in enumerate(doc.get("evidence", []), 1):
            kind = " (a video: no picture)" if e.get("wall_time") is None else ""
            item = QListWidgetItem(f"[{k}] {evidence_line(e)} · {e.get('modality', '')}{kind}   (score "
                                   f"{float(e.get('score', 0.0)):.2f})\n    {snippet(str(e.get('text', '')), '', 240)}")
            item.setData(ROLE, e)
            self.evidence.addItem(item)

    def _open(self, item: QListWidgetItem) -> None:
        e = item.data(ROLE)
        if isinstance(e, dict):
            self.window_.open_evidence(e)
