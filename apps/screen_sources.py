"""What the screen recorder reads from the desktop: the monitors' pixels (mss), and the active
window's app and title — X11 (libX11 through ctypes), Windows (user32), macOS (pyobjc); unknown
elsewhere. The recorder makes them again after a capture stall."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.screen_frames import ImageArray


@dataclass(frozen=True)
class Window:
    app: str | None
    title: str | None


def screen_grabber() -> Callable[[], list[ImageArray]]:
    """Each monitor's pixels (RGB), through mss; the whole virtual screen when it lists none."""
    import mss

    sct = mss.mss()

    def grab() -> list[ImageArray]:
        shots = []
        for monitor in sct.monitors[1:] or sct.monitors[:1]:
            raw = np.asarray(sct.grab(monitor))  # BGRA
            shots.append(np.ascontiguousarray(raw[:, :, 2::-1]))
        return shots

    return grab


# -- the active window (X11 through libX11, no extra package) ----------------------------------


class _X11:
    """The focused top-level window's WM_CLASS and title, from libX11 via ctypes."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("X11")
        if not name or not os.environ.get("DISPLAY"):
            raise OSError("no X11 display")
        x = ctypes.cdll.LoadLibrary(name)
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XGetInputFocus.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int)]
        x.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_char_p)]
        x.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                 ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                                 ctypes.POINTER(ctypes.c_uint)]
        x.XFree.argtypes = [ctypes.c_void_p]

        class ClassHint(ctypes.Structure):
            _fields_ = [("res_name", ctypes.c_char_p), ("res_class", ctypes.c_char_p)]

        self.ClassHint = ClassHint
        x.XGetClassHint.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ClassHint)]
        self.x = x
        self.display = x.XOpenDisplay(None)
        if not self.display:
            raise OSError("cannot open the X11 display")

    def _parent(self, window: int) -> int:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, n = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if not self.x.XQueryTree(self.display, window, ctypes.byref(root), ctypes.byref(parent),
                                 ctypes.byref(children), ctypes.byref(n)):
            return 0
        if children:
            self.x.XFree(children)
        return 0 if parent.value == root.value else int(parent.value)

    def active(self) -> Window:
        focus, revert = ctypes.c_ulong(), ctypes.c_int()
        self.x.XGetInputFocus(self.display, ctypes.byref(focus), ctypes.byref(revert))
        window = int(focus.value)
        title = app = None
        for _ in range(8):  # walk up to the top-level window that has a name
            if window <= 1:
                break
            name = ctypes.c_char_p()
            if title is None and self.x.XFetchName(self.display, window, ctypes.byref(name)) and name.value:
                title = name.value.decode("utf-8", "replace")
            hint = self.ClassHint()
            if app is None and self.x.XGetClassHint(self.display, window, ctypes.byref(hint)) and hint.res_class:
                app = hint.res_class.decode("utf-8", "replace")
            if title and app:
                break
            window = self._parent(window)
        return Window(app, title)


def _windows_reader() -> Callable[[], Window]:  # pragma: no cover — Windows only
    """The foreground window's title and its process's executable name, from user32 / kernel32."""
    user32, kernel32 = ctypes.windll.user32, ctypes.windll.kernel32  # type: ignore[attr-defined]

    def active() -> Window:
        hwnd = user32.GetForegroundWindow()
        if not hwnd:
            return Window(None, None)
        n = user32.GetWindowTextLengthW(hwnd)
        title = ctypes.create_unicode_buffer(n + 1)
        user32.GetWindowTextW(hwnd, title, n + 1)
        pid = ctypes.c_ulong()
        user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        app = None
        handle = kernel32.OpenProcess(0x1000, False, pid.value)  # PROCESS_QUERY_LIMITED_INFORMATION
        if handle:
            size = ctypes.c_ulong(1024)
            path = ctypes.create_unicode_buffer(size.value)
            if kernel32.QueryFullProcessImageNameW(handle, 0, path, ctypes.byref(size)):
                app = Path(path.value).stem
            kernel32.CloseHandle(handle)
        return Window(app, title.value or None)

    return active


def _macos_reader() -> Callable[[], Window]:  # pragma: no cover — macOS only
    """The frontmost app (AppKit) and its front window's title (Quartz window list; the title
    needs the screen-recording permission the capture needs anyway). Needs pyobjc."""
    from AppKit import NSWorkspace  # type: ignore[import-not-found]
    from Quartz import (  # type: ignore[import-not-found]
        CGWindowListCopyWindowInfo,
        kCGNullWindowID,
        kCGWindowListOptionOnScreenOnly,
    )

    def active() -> Window:
        app = NSWorkspace.sharedWorkspace().frontmostApplication()
        if app is None:
            return Window(None, None)
        pid = app.processIdentifier()
        title = None
        for info in CGWindowListCopyWindowInfo(kCGWindowListOptionOnScreenOnly, kCGNullWindowID) or []:
            if info.get("kCGWindowOwnerPID") == pid and info.get("kCGWindowLayer", 0) == 0:
                title = info.get("kCGWindowName") or None
                break
        return Window(str(app.localizedName()), title)

    return active


def window_reader() -> Callable[[], Window]:
    """The active window's app and title, behind one interface: X11 (libX11 through ctypes),
    Windows (user32 through ctypes), macOS (pyobjc, when installed); else (Wayland, no display)
    unknown — captures are then stored without app and title, and title rules cannot apply."""
    import sys

    try:
        if sys.platform == "win32":
            return _windows_reader()
        if sys.platform == "darwin":
            return _macos_reader()
        return _X11().active
    except (OSError, ImportError, AttributeError):
        return lambda: Window(None, None)
