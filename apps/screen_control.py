"""Start, stop, pause and read the background screen recorder (apps/screen_recorder.py): the
functions behind ``mmagent screen ...`` and the desktop app's tray."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from mmagent.errors import SettingsError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _records_into(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` is a screen recorder of ``folder``: after a ``kill -9`` its PID
    file stays, and the PID may since belong to another process. Read from its command line where
    the system shows it (``/proc``); elsewhere, a live process is taken for the recorder."""
    if not _alive(pid):
        return False
    if not Path("/proc/self/cmdline").is_file():
        return True
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False  # it ended meanwhile
    return b"apps.screen_recorder" in argv and os.fsencode(str(folder)) in argv


def recorder_pid(folder: Path) -> int:
    """The running recorder's PID for ``folder``, or 0 (no PID file, or one left by a recorder
    that was killed: its process is gone, or is no recorder of this folder)."""
    folder = Path(folder).resolve()
    try:
        pid = int((folder / "recorder.pid").read_text().strip())
    except (OSError, ValueError):
        return 0
    return pid if pid > 0 and _records_into(pid, folder) else 0


def start(folder: Path, store: Path | None, interval: float = 2.0, rules: Path | None = None,
          retention_days: float = 30.0, env: dict[str, str] | None = None, gap: float | None = None,
          stall_after: float | None = None) -> dict[str, Any]:
    """Start the recorder as a detached process (its own session; its log in FOLDER/recorder.log).
    ``store``: index into it in the background and serve it (None: only record)."""
    folder = Path(folder).resolve()
    if pid := recorder_pid(folder):
        raise SettingsError(f"the screen recorder is already running (PID {pid}) into {folder}")
    if interval <= 0:
        raise SettingsError("the capture interval must be positive")
    if stall_after is not None and not stall_after > 0:
        raise SettingsError("--stall-after must be a positive number of seconds")
    from memory.store_folder import private_folder

    private_folder(folder)  # the recorder's captures are this user's alone
    if rules:
        from apps.screen_privacy import PrivacyRules

        PrivacyRules.from_json(json.loads(Path(rules).read_text()))  # a bad rule file fails here, not in the background
    cmd = [sys.executable, "-m", "apps.screen_recorder", "--folder", str(folder), "--interval", str(interval),
           "--retention-days", str(retention_days)]
    if rules:
        cmd += ["--rules", str(Path(rules).resolve())]
    if gap is not None:
        cmd += ["--gap", str(gap)]
    if stall_after is not None:
        cmd += ["--stall-after", str(stall_after)]
    if store is not None:
        cmd += ["--store", str(Path(store).resolve())]
    log_path = str(folder / "recorder.log")
    pidfile = folder / "recorder.pid"
    pidfile.unlink(missing_ok=True)  # left by a recorder that was killed (recorder_pid said none runs)
    # a session of its own, detached from the caller (no Popen object left behind to reap)
    # a long-running process with several threads: glibc's per-thread malloc arenas would keep
    # hundreds of MB of freed memory; two arenas keep it near what is in use
    child_env = {"MALLOC_ARENA_MAX": "2", **os.environ, **(env or {})}
    child = os.posix_spawn(sys.executable, cmd, child_env, setsid=True, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ])
    for _ in range(1200):  # the models load before the pidfile is written (a minute at most)
        done, code = os.waitpid(child, os.WNOHANG)
        if done:
            raise SettingsError(f"the screen recorder stopped at once (exit {os.waitstatus_to_exitcode(code)}); "
                                f"see {log_path}")
        if pidfile.is_file():
            break
        time.sleep(0.05)
    return {"recording": True, "pid": child, "folder": str(folder), "interval": interval,
            "store": None if store is None else str(Path(store).resolve())}


def stop(folder: Path) -> dict[str, Any]:
    folder = Path(folder).resolve()
    pid = recorder_pid(folder)
    if not pid:
        raise SettingsError(f"no screen recorder is running for {folder}")
    os.kill(pid, signal.SIGTERM)
    for _ in range(1200):  # an indexing pass in progress finishes first
        try:  # our own child (started by this process): reap it
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            pass
        if not _alive(pid):
            break
        time.sleep(0.05)
    return {"recording": False, "folder": str(folder)}


def pause(folder: Path, paused: bool = True) -> dict[str, Any]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if paused:
        (folder / "PAUSED").write_text("paused by the user\n")
    else:
        (folder / "PAUSED").unlink(missing_ok=True)
    return {"paused": paused}


STALL_AFTER = 60.0  # seconds without a capture round while recording (the recorder's own setting wins)


def _time(doc: dict[str, Any], key: str) -> float | None:
    value = doc.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def status(folder: Path, now: float | None = None) -> dict[str, Any]:
    """What the recorder last wrote (status.json), whether it runs, what is on disk; the age in
    seconds of the last capture stored, the last capture round and the last indexing pass
    (``*_age``); ``stalled`` when capture has stopped while recording — said by the recorder (it
    restarted its capture loop) or seen here (the recorder stopped writing its status at all)."""
    folder = Path(folder).resolve()
    now = time.time() if now is None else now
    try:
        written = json.loads((folder / "status.json").read_text())
    except (OSError, ValueError):
        written = {}
    if not isinstance(written, dict):
        written = {}
    captures = sum(1 for _ in folder.glob("*/*.json")) if folder.is_dir() else 0
    pictures = sum(1 for _ in folder.glob("*/*.webp")) if folder.is_dir() else 0
    recording = bool(recorder_pid(folder))
    paused = written.get("paused") if recording else ("paused by the user" if (folder / "PAUSED").exists() else None)
    ages = {f"{key}_age": None if (t := _time(written, key)) is None else round(max(0.0, now - t), 1)
            for key in ("last_capture", "last_round", "last_index_pass")}
    stalled = written.get("stalled") if recording else None
    beat = max((t for t in (_time(written, "last_round"), _time(written, "started")) if t is not None), default=None)
    limit = _time(written, "stall_after") or STALL_AFTER
    if recording and not paused and not stalled and beat is not None and now - beat > limit:
        stalled = (f"no capture round for {now - beat:.0f} s while recording, and no word from the recorder "
                   f"(PID {recorder_pid(folder)}): see {folder / 'recorder.log'}, or stop and start it")
    return {"recording": recording, "folder": str(folder), "captures_on_disk": captures,
            "pictures_on_disk": pictures, **written, **ages, "stalled": stalled, "paused": paused}
