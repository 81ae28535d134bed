"""The Qt binding (PySide6), imported once, for the app's modules: without it (or a system library
it needs) the app fails with one line that names the fix; and the sizes the widgets share."""

from __future__ import annotations

from mmagent.errors import SettingsError

try:
    from PySide6.QtCore import QDate, QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
    from PySide6.QtGui import QAction, QColor, QFont, QIcon, QImage, QImageReader, QPainter, QPixmap
    from PySide6.QtWidgets import (
        QApplication, QCheckBox, QComboBox, QDateEdit, QDialog, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame,
        QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMainWindow, QMenu, QPlainTextEdit,
        QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSplitter, QSystemTrayIcon, QTabWidget, QVBoxLayout,
        QWidget,
    )
except ImportError as exc:  # the package, or a system library it needs (scripts/setup.sh installs both)
    raise SettingsError(f"the desktop app needs PySide6 and the Qt runtime libraries ({exc})") from None

THUMB = QSize(144, 90)
THUMB_CACHE = 1500  # thumbnails kept (about 50 KB each)
STATUS_EVERY_MS = 2000
ROLE = Qt.ItemDataRole.UserRole

__all__ = [
    "QAction", "QApplication", "QCheckBox", "QColor", "QComboBox", "QDate", "QDateEdit", "QDialog",
    "QDoubleSpinBox", "QFileDialog", "QFont", "QFormLayout", "QFrame", "QHBoxLayout", "QIcon", "QImage",
    "QImageReader", "QLabel", "QLineEdit", "QListWidget", "QListWidgetItem", "QMainWindow", "QMenu",
    "QObject", "QPainter", "QPixmap", "QPlainTextEdit", "QProgressBar", "QPushButton", "QRunnable",
    "QScrollArea", "QSize", "QSizePolicy", "QSplitter", "QSystemTrayIcon", "Qt", "QTabWidget", "QThreadPool",
    "QTimer", "QVBoxLayout", "QWidget", "Signal",
    "ROLE", "STATUS_EVERY_MS", "THUMB", "THUMB_CACHE",
]
