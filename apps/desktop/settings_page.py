"""The settings page: what the recorder starts with (saved as STORE/app.json)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.desktop.config import APP_FILE, LLM_CHOICES, AppConfig
from apps.desktop.qt import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPlainTextEdit,
    QPushButton, QVBoxLayout, QWidget,
)
from mmagent.errors import SettingsError

if TYPE_CHECKING:
    from apps.desktop.window import MainWindow


class SettingsPage(QWidget):
    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.window_ = window
        self.interval = QDoubleSpinBox()
        self.interval.setRange(0.2, 3600.0)
        self.interval.setSingleStep(0.5)
        self.interval.setSuffix(" s")
        self.retention = QDoubleSpinBox()
        self.retention.setRange(0.0, 36500.0)
        self.retention.setDecimals(1)
        self.retention.setSuffix(" days")
        self.retention.setSpecialValueText("keep all pictures")
        self.apps = QPlainTextEdit()
        self.apps.setPlaceholderText("one app per line (matched as whole words, any case)")
        self.titles = QPlainTextEdit()
        self.titles.setPlaceholderText("one regular expression per line, searched in window titles (any case)")
        self.redact = QCheckBox("Black out and replace secrets (card numbers, API keys, passwords, IBANs, SSNs)")
        self.llm = QComboBox()
        self.llm.setEditable(True)
        self.llm.addItems(list(LLM_CHOICES))
        self.llm.setToolTip("none: answers quote the evidence; smollm2: the bundled small model; or a local model path")
        browse = QPushButton("Model folder…")
        browse.clicked.connect(self._browse)
        llm_row = QHBoxLayout()
        llm_row.addWidget(self.llm, 1)
        llm_row.addWidget(browse)
        self.index_background = QCheckBox("Index captures in the background (they become searchable as you work)")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.hide()
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        revert = QPushButton("Revert")
        revert.clicked.connect(self.load)
        form = QFormLayout()
        form.addRow("Capture every", self.interval)
        form.addRow("Keep pictures for", self.retention)
        form.addRow("Never capture these apps", self.apps)
        form.addRow("Never capture windows whose title matches", self.titles)
        form.addRow("Redaction", self.redact)
        form.addRow("Language model", llm_row)
        form.addRow("Indexing", self.index_background)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(revert)
        buttons.addStretch(1)
        hint = QLabel(f"Saved in {window.backend.store / APP_FILE}; the recorder uses them the next time it starts.")
        hint.setStyleSheet("color: #666;")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        layout.addWidget(hint)
        self.load()
        if window.backend.config_error:
            self._say(f"the saved settings could not be read ({window.backend.config_error}); showing the defaults", False)

    def load(self) -> None:
        cfg = self.window_.backend.config
        self.interval.setValue(cfg.interval)
        self.retention.setValue(cfg.retention_days)
        self.apps.setPlainText("\n".join(cfg.excluded_apps))
        self.titles.setPlainText("\n".join(cfg.excluded_titles))
        self.redact.setChecked(cfg.redact)
        self.llm.setCurrentText(cfg.llm)
        self.index_background.setChecked(cfg.index_background)
        self.error.hide()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A local language model folder")
        if folder:
            self.llm.setCurrentText(folder)

    def _say(self, text: str, ok: bool) -> None:
        self.error.setText(text)
        self.error.setStyleSheet("color: #2e7d32;" if ok else "color: #c62828; font-weight: bold;")
        self.error.show()

    def form_config(self) -> AppConfig:
        def lines(edit: QPlainTextEdit) -> tuple[str, ...]:
            return tuple(s.strip() for s in edit.toPlainText().splitlines() if s.strip())

        return AppConfig(self.interval.value(), self.retention.value(), lines(self.apps), lines(self.titles),
                         self.redact.isChecked(), self.llm.currentText().strip(), self.index_background.isChecked())

    def save(self) -> bool:
        try:
            cfg = self.form_config()
            self.window_.backend.save_config(cfg)
        except (SettingsError, OSError) as exc:
            self._say(f"Not saved: {exc}", False)
            self.window_.message(f"settings not saved: {exc}")
            return False
        self._say("Saved. The recorder uses these settings the next time it starts.", True)
        self.window_.message("settings saved")
        return True
