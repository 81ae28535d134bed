"""A virtual X server for the screen benches (Xvfb at 1920x1080; scripts/setup.sh installs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time


def start_xvfb() -> subprocess.Popen:  # type: ignore[type-arg]
    """Start Xvfb on a free-looking display, point DISPLAY at it; the caller terminates it."""
    exe = shutil.which("Xvfb")
    if exe is None:
        sys.exit("Xvfb is not installed (scripts/setup.sh installs it)")
    display = f":{200 + os.getpid() % 300}"
    xvfb = subprocess.Popen([exe, display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    return xvfb
