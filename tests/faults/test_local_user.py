"""Issue 18, another local user: the service socket lives in a folder only its user can enter,
and a socket that is not this user's (its file, its folder, or the process listening on it) is
never sent a question: the CLI answers in-process. What the CLI writes is this user's alone."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from apps.cli import main
from apps.service import Client, Server, socket_path
from tests.apps.test_screen_recorder import show

NOBODY = 65534

# binds where it is told (as root, in our folder), then becomes another user before listening:
# the kernel records the listener's credentials at listen(); it answers every request with a
# forged answer and prints what it received
LISTENER = textwrap.dedent('''
    import json, os, socket, sys
    path, uid = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    if uid:
        os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
    s.listen(8)
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        data = conn.recv(65536)
        if data:
            print("GOT", data.decode(errors="replace").strip(), flush=True)
        forged = {"ok": True, "result": {"answer": "FORGED", "evidence": [], "rounds": 1, "sources": [],
                                          "pid": 1, "store": "x", "protocol": 1}}
        try:
            conn.sendall((json.dumps(forged) + "\\n").encode())
        except OSError:
            pass
        conn.close()
''')


def _listen(path: Path, uid: int) -> subprocess.Popen:  # type: ignore[type-arg]
    proc = subprocess.Popen([sys.executable, "-c", LISTENER, str(path), str(uid)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "listening"
    return proc


def _received(proc: subprocess.Popen) -> str:  # type: ignore[type-arg]
    proc.kill()
    out, _ = proc.communicate(timeout=10)
    return out


@pytest.fixture()
def no_runtime_dir(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def test_the_socket_is_in_a_private_folder(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "store"
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/tmp")  # open to every user: not used
    assert socket_path(store).parent == store.resolve() / "run"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    os.chmod(runtime, 0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert socket_path(store).parent == runtime
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert socket_path(store).parent == store.resolve() / "run"
    long_store = tmp_path / ("x" * 120)
    assert len(str(socket_path(long_store))) < 104 and socket_path(long_store).parent.name == f"mmagent-{os.getuid()}"


@pytest.mark.skipif(os.getuid() != 0, reason="another user's listener needs root to set up")
def test_a_listener_of_another_user_gets_no_question_and_the_cli_answers_itself(capsys, caplog, tmp_path: Path, no_runtime_dir) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "store"
    path = socket_path(store)
    path.parent.mkdir(parents=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    proc = _listen(path, NOBODY)
    try:
        assert Client.find(store) is None
        code = main(["sources", "--store", str(store), "--json"])
        out, err = capsys.readouterr()
        assert code == 0 and json.loads(out) == {"sources": []}
        assert "served by another user (uid 65534)" in caplog.text and "Traceback" not in err
        code = main(["ask", "what was the invoice number?", "--store", str(store), "--json", "--llm", "none"])
        out, err = capsys.readouterr()
        assert code == 0 and "FORGED" not in out
    finally:
        got = _received(proc)
    assert "GOT" not in got  # the kernel said who listens before a byte was sent

    # a socket file another user owns is not even connected to
    path.unlink()
    proc = _listen(path, 0)
    os.chown(path, NOBODY, NOBODY)
    try:
        assert Client.find(store) is None
    finally:
        assert "GOT" not in _received(proc)


def test_a_stale_socket_never_blocks_and_the_service_takes_its_place(tmp_path: Path, no_runtime_dir) -> None:  # type: ignore[no-untyped-def]
    from mmagent import Settings

    store = tmp_path / "store"
    path = socket_path(store)
    path.parent.mkdir(parents=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens
    assert path.exists() and Client.find(store) is None

    class Agent:  # the service's ping answers without the store
        settings = Settings.load(env={}, store=store)

    server = Server(Agent(), threading.RLock())
    server.start()
    try:
        client = Client.find(store)
        assert client is not None and client.call("ping")["pid"] == os.getpid()
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    finally:
        server.close()
    assert not path.exists()


def test_a_service_socket_folder_open_to_others_is_refused(tmp_path: Path, no_runtime_dir) -> None:  # type: ignore[no-untyped-def]
    from mmagent import Settings
    from mmagent.errors import SettingsError

    store = tmp_path / "store"
    run = socket_path(store).parent
    run.mkdir(parents=True)
    os.chmod(run, 0o777)

    class Agent:
        settings = Settings.load(env={}, store=store)

    with pytest.raises(SettingsError, match="open to other users"):
        Server(Agent(), threading.RLock()).start()


def test_what_the_cli_writes_is_private(capsys, tmp_path: Path, no_runtime_dir) -> None:  # type: ignore[no-untyped-def]
    shots = tmp_path / "shots"
    shots.mkdir()
    for k, text in enumerate(("invoice 4471 due Friday", "meeting notes")):
        (shots / f"c{k}.json").write_text(json.dumps({"time": 1795165200 + 60 * k, "app": "Mail", "window": "Inbox",
                                                       "ocr": [{"text": text, "score": 0.99, "box": []}]}))
    store = tmp_path / "store"
    old = os.umask(0o022)
    try:
        assert main(["index", str(shots), "--store", str(store), "--json"]) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    for p in store.rglob("*"):
        mode = stat.S_IMODE(p.lstat().st_mode)
        assert not mode & 0o077, (p, oct(mode))

    # a store made before is taken from other users on open
    os.chmod(store, 0o755)
    assert main(["sources", "--store", str(store), "--json"]) == 0
    assert stat.S_IMODE(store.stat().st_mode) == 0o750


def test_a_service_started_without_a_runtime_dir_is_found_with_one(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from mmagent import Settings

    store = tmp_path / "store"
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)  # cron, a service manager

    class Agent:
        settings = Settings.load(env={}, store=store)

    server = Server(Agent(), threading.RLock())
    server.start()
    try:
        assert server.path.parent == store.resolve() / "run"
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700)
        os.chmod(runtime, 0o700)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # a desktop shell
        client = Client.find(store)
        assert client is not None and client.path == server.path
    finally:
        server.close()


def test_the_recorders_captures_are_private(tmp_path: Path, display, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """The screen text and pictures the recorder keeps: folders 0700, files 0600, whatever the umask."""
    monkeypatch.setenv("DISPLAY", display)
    folder = tmp_path / "rec"
    window = show(display, "Mail - Inbox", ["Invoice 4471 due Friday"])
    old = os.umask(0o022)
    try:
        assert main(["screen", "start", "--folder", str(folder), "--interval", "0.5", "--no-index", "--json"]) == 0
        capsys.readouterr()
        for _ in range(120):
            if any(folder.rglob("*.webp")):
                break
            time.sleep(0.25)
        assert main(["screen", "stop", "--folder", str(folder)]) == 0
    finally:
        os.umask(old)
        window.terminate()
        window.wait(timeout=10)
        pid = folder / "recorder.pid"
        if pid.is_file():
            os.kill(int(pid.read_text()), 15)
    assert any(folder.rglob("*.webp")) and any(folder.rglob("*.json"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for p in folder.rglob("*"):
        assert not stat.S_IMODE(p.lstat().st_mode) & 0o077, (p, oct(p.lstat().st_mode))
