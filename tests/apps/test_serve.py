"""``mmagent serve`` end to end: a real store (a real video indexed by the real models), the server
as its own process, the CLI going through it, the HTTP API over loopback, and MCP with the SDK's
own client (stdio and streamable HTTP). Nothing is mocked."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.cli import main
from apps.service import socket_path
from mmagent.samples import Scene
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
DANA, PRIYA = "en-us", "en-us+f3"
SCENES = (
    Scene("Standup", ("Team sync",), "Good morning, I am Dana. The design review is on Monday.", DANA),
    Scene("Invoices", ("Invoice #5120 - Globex",), "My name is Priya. The invoice number for Globex is fifty one twenty.", PRIYA),
    Scene("Parking", ("Visitors: north garage, level 2",), "Visitors should park in the north garage.", PRIYA),
)


def start_server(store: Path, *extra: str, timeout: float = 300.0) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``mmagent serve`` as a child process; returns it once it wrote STORE/server.json."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (store.parent / "serve.err").open("ab") as err:  # the server's log (read by the tests)
        proc = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "--store", str(store), "--port", "0", *extra],
                                env=env, stdout=subprocess.DEVNULL, stderr=err)
    info = store / "server.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mmagent serve exited {proc.returncode}: {server_log(store)[-2000:]}")
        if info.is_file():
            doc = json.loads(info.read_text())
            if doc["pid"] == proc.pid:
                return proc, doc
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("mmagent serve did not start in time")


def server_log(store: Path) -> str:
    path = store.parent / "serve.err"
    return path.read_text(errors="replace") if path.is_file() else ""


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    from mmagent.samples import make_demo_video

    folder = tmp_path_factory.mktemp("serve")
    video, store = folder / "standup.mp4", folder / "store"
    script = make_demo_video(video, SCENES)
    assert main(["index", str(video), "--store", str(store), "--json"]) == 0
    proc, info = start_server(store)
    token = (store / "server-token").read_text().strip()
    http = httpx.Client(base_url=info["url"], headers={"Authorization": f"Bearer {token}"}, timeout=300)
    yield {"store": store, "video": video, "script": script, "info": info, "token": token, "http": http, "proc": proc}
    http.close()
    assert stop(proc) == 0
    assert not (store / "server.json").exists() and not socket_path(store).exists()
    assert "Traceback" not in server_log(store)  # bad requests were answered, none was a crash


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in argv and out.strip() else out), err


def test_the_token_file_is_private_and_the_server_listens_on_loopback(served: dict[str, Any]) -> None:
    assert (served["store"] / "server-token").stat().st_mode & 0o777 == 0o600
    assert served["info"]["host"] == "127.0.0.1" and served["info"]["token_required"]
    url = served["info"]["url"]
    r = httpx.get(f"{url}/api/sources")
    assert r.status_code == 401 and "token" in r.json()["error"]["message"]
    assert httpx.get(f"{url}/api/sources", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{url}/api/sources?token={served['token']}").status_code == 200
    # a page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) is refused
    r = httpx.get(f"{url}/api/sources", headers={"Host": "attacker.example", "Authorization": f"Bearer {served['token']}"})
    assert r.status_code == 403 and r.json()["error"]["message"]
    assert httpx.get(f"{url}/api/health").json() == {"ok": True}


def test_the_cli_goes_through_the_server(capsys: pytest.CaptureFixture[str], served: dict[str, Any]) -> None:
    store = str(served["store"])
    code, doc, err = cli(capsys, "ask", "What is the invoice number for Globex?", "--store", store, "--json")
    assert code == 0 and set(doc) >= {"answer", "evidence", "rounds"}
    assert "5120" in doc["answer"] and doc["evidence"][0]["source_id"]
    assert set(doc["evidence"][0]) >= {"source_id", "path", "start", "end", "kind", "memory_id", "text", "score"}
    code, out, err = cli(capsys, "ask", "Where should visitors park?", "--store", store)
    assert code == 0 and "north garage" in out.lower() and "by the running memory service" in err
    code, doc, _ = cli(capsys, "sources", "--store", store, "--json")
    assert code == 0 and [s["path"] for s in doc["sources"]] == [str(served["video"].resolve())]
    code, doc, _ = cli(capsys, "search", "Globex invoice", "--store", store, "--json", "--limit", "3")
    assert code == 0 and doc["results"] and "5120" in doc["results"][0]["text"]
    code, doc, _ = cli(capsys, "entities", "--store", store, "--json")
    names = {n for e in doc["entities"] for n in e["names"]}
    assert code == 0 and {"Dana", "Priya"} <= names
    code, doc, _ = cli(capsys, "entities", "show", "Priya", "--store", store, "--json")
    assert code == 0 and doc["entity"]["name"] == "Priya"
    code, doc, _ = cli(capsys, "transcript", str(served["video"]), "--store", store, "--json")
    assert code == 0 and any("garage" in s["text"].lower() for s in doc["segments"])
    # what must own the store says so, and names the process that does
    code, _, err = cli(capsys, "batch", str(served["video"].parent), "--store", store)
    assert code == 1 and "needs the store to itself" in err and f"PID {served['proc'].pid}" in err
    # another language model for one question: the server's own stays as it was
    for llm, planner in (("none", "rules"), (None, "model:SmolLM2")):
        code, doc, _ = cli(capsys, "ask", "Where should visitors park?", "--store", store, "--json", "--trace",
                           "--planner", "model", *(("--llm", llm) if llm else ()))
        if llm == "none":
            assert code == 1  # "--planner model needs a language model": this question has none
            continue
        assert code == 0 and doc["trace"][0]["planner"].startswith(planner)
        assert "north garage" in doc["evidence"][0]["text"].lower()
    code, doc, _ = cli(capsys, "ask", "Where should visitors park?", "--store", store, "--json", "--llm", "none")
    assert code == 0 and "north garage" in doc["answer"].lower() and "no language model" not in doc["answer"]
    # a bad request is one line, exit 1; the server goes on
    code, _, err = cli(capsys, "ask", "   ", "--store", store)
    assert code == 1 and "question is empty" in err


def test_http_api_answers_like_the_cli(capsys: pytest.CaptureFixture[str], served: dict[str, Any]) -> None:
    http: httpx.Client = served["http"]
    question = "What is the invoice number for Globex?"
    r = http.post("/api/ask", json={"question": question})
    assert r.status_code == 200
    doc = r.json()
    code, via_cli, _ = cli(capsys, "ask", question, "--store", str(served["store"]), "--json")
    assert code == 0 and doc == via_cli  # the same contract, the same answer
    r = http.get("/api/search", params={"q": "north garage", "limit": 2})
    assert r.status_code == 200 and "garage" in r.json()["results"][0]["text"].lower()
    sources = http.get("/api/sources").json()["sources"]
    sid = sources[0]["source_id"]
    tl = http.get(f"/api/sources/{sid[:10]}/timeline").json()
    assert tl["source_id"] == sid and tl["kind"] == "video" and tl["clips"] and tl["speakers"] and tl["screen_text"]
    assert {s["name"] for s in tl["speakers"]} >= {"Dana", "Priya"}
    assert any("5120" in s["text"] for s in tl["screen_text"])
    assert all(c["start"] <= c["end"] for c in tl["clips"] + tl["speakers"] + tl["screen_text"])
    srt = http.get(f"/api/sources/{sid}/transcript", params={"format": "srt"})
    assert srt.status_code == 200 and "-->" in srt.text and srt.headers["content-type"].startswith("application/x-subrip")
    assert http.get(f"/api/sources/{sid}/transcript").json()["segments"]
    rttm = http.get(f"/api/sources/{sid}/transcript", params={"format": "rttm"})  # who spoke when
    assert rttm.status_code == 200 and rttm.headers["content-type"].startswith("text/plain")
    rows = [line.split() for line in rttm.text.splitlines()]
    assert rows and all(len(f) == 10 and f[0] == "SPEAKER" and float(f[4]) > 0 for f in rows)
    assert {f[7] for f in rows} >= {"Dana", "Priya"}
    frame = http.get(f"/api/sources/{sid}/frame", params={"t": 5.0})
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg" and frame.content[:2] == b"\xff\xd8"
    part = http.get(f"/api/sources/{sid}/media", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.content == served["video"].read_bytes()[:100]
    people = http.get("/api/entities").json()["entities"]
    assert {n for p in people for n in p["names"]} >= {"Dana", "Priya"}
    for p in people:
        for url in p["face_images"].values():
            crop = http.get(url)
            assert crop.status_code == 200 and crop.content[:2] == b"\xff\xd8"
    dana = http.get("/api/entities/Dana").json()
    assert dana["entity"]["name"] == "Dana" and dana["episodes"]
    schema = http.get("/openapi.json").json()
    assert {"/api/ask", "/api/search", "/api/sources", "/api/entities", "/api/index",
            "/api/sources/{source}/timeline", "/api/sources/{source}/transcript"} <= set(schema["paths"])


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), [
    ("post", "/api/ask", {"question": ""}, 422, "question"),
    ("post", "/api/ask", {"question": "x", "rounds": 0}, 422, "rounds"),
    ("post", "/api/ask", {"question": "x", "planner": "oracle"}, 422, "planner"),
    ("post", "/api/ask", {"question": "x", "llm": "gpt-9"}, 422, "llm"),
    ("post", "/api/ask", {"question": "x", "llm": "openai"}, 400, "openai"),
    ("get", "/api/jobs/nosuchjob", None, 404, "no index job"),
    ("post", "/api/ask", {"question": "what?", "source": ["nosuchsource"]}, 404, "no indexed source"),
    ("get", "/api/search", None, 422, "q"),
    ("get", "/api/sources/nosuchsource/timeline", None, 404, "no indexed source"),
    ("get", "/api/entities/Nobody%20Here", None, 404, "no person"),
    ("get", "/api/faces/face_999.jpg", None, 404, "no face crop"),
    ("get", "/api/sources/{sid}/frame?t=99999", None, 400, "outside the source"),
    ("get", "/api/capture?path=/etc/passwd", None, 400, "not a capture"),
    ("post", "/api/index", {"paths": ["/no/such/file.mp4"]}, 404, "no such file"),
    ("post", "/api/index", {"paths": []}, 422, "paths"),
    ("delete", "/api/sources/nosuchsource", None, 404, "no indexed source"),
    ("get", "/api/nothing/here", None, 404, "not found"),
])
def test_bad_requests_are_json_errors(served: dict[str, Any], method: str, path: str, body: Any, status: int,
                                      words: str) -> None:
    http: httpx.Client = served["http"]
    sid = http.get("/api/sources").json()["sources"][0]["source_id"]
    r = http.request(method.upper(), path.replace("{sid}", sid), json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["status"] == status and words.lower() in err["message"].lower() and "Traceback" not in r.text


def test_a_file_that_is_not_media_is_a_422_and_the_store_answers_the_same(served: dict[str, Any], tmp_path: Path) -> None:
    http: httpx.Client = served["http"]
    before = http.post("/api/ask", json={"question": "Where should visitors park?"}).json()
    junk = tmp_path / "notes.mp4"
    junk.write_text("this is not a video")
    r = http.post("/api/index", json={"paths": [str(junk)]})
    assert r.status_code == 422 and r.json()["errors"][0]["path"].endswith("notes.mp4")
    again = http.post("/api/index", json={"paths": [str(served["video"])]}).json()  # already indexed: a no-op
    assert again["sources"][0]["memories_added"] == 0
    assert http.post("/api/ask", json={"question": "Where should visitors park?"}).json() == before


def test_concurrent_requests_all_succeed(served: dict[str, Any]) -> None:
    http: httpx.Client = served["http"]
    sid = http.get("/api/sources").json()["sources"][0]["source_id"]
    asks = ["Who is Priya?", "What is the invoice number for Globex?", "Where should visitors park?", "When is the design review?"]

    def one(k: int) -> int:
        if k % 4 == 0:
            return http.post("/api/ask", json={"question": asks[k % len(asks)]}).status_code
        if k % 4 == 1:
            return http.get("/api/search", params={"q": "garage"}).status_code
        if k % 4 == 2:
            return http.get(f"/api/sources/{sid}/timeline").status_code
        return http.get("/api/entities").status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(one, range(24)))
    assert codes == [200] * 24
    # questions asked side by side get the answers they get one at a time
    alone = {q: http.post("/api/ask", json={"question": q}).json() for q in asks}
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda q: http.post("/api/ask", json={"question": q}).json(), asks * 2))
    assert together == [alone[q] for q in asks * 2]


def _mcp_results(session_factory: Any) -> dict[str, Any]:
    import anyio

    out: dict[str, Any] = {}

    async def go() -> None:
        async with session_factory() as s:
            await s.initialize()
            out["tools"] = {t.name for t in (await s.list_tools()).tools}
            for name, args in (("ask", {"question": "What is the invoice number for Globex?"}),
                               ("search_memory", {"query": "north garage", "limit": 3}),
                               ("list_sources", {}),
                               ("lookup_person", {"person": "Priya"}),
                               ("read_span", {"source": "SID", "start": 0.0, "end": 12.0}),
                               ("transcript", {"source": "SID"}),
                               ("lookup_person", {"person": "Nobody Here"})):
                if "source" in args:
                    args = {**args, "source": out["list_sources"].structured_content["sources"][0]["source_id"]}
                out[name if name not in out else name + "_bad"] = await s.call_tool(name, args)

    anyio.run(go)
    return out


def _check_mcp(out: dict[str, Any]) -> None:
    assert out["tools"] == {"ask", "search_memory", "list_sources", "lookup_person", "read_span", "transcript"}
    ask = out["ask"].structured_content
    assert not out["ask"].is_error and "5120" in ask["answer"]
    for item in (ask["evidence"] + out["search_memory"].structured_content["results"]
                 + out["read_span"].structured_content["items"] + out["transcript"].structured_content["segments"]
                 + out["lookup_person"].structured_content["appearances"]):
        assert {"source_id", "start", "end", "text"} <= set(item), item
    assert "garage" in out["search_memory"].structured_content["results"][0]["text"].lower()
    assert out["lookup_person"].structured_content["names"][0] == "Priya"
    span = out["read_span"].structured_content["items"]
    assert span and all(i["start"] < 12.0 for i in span) and any("Dana" in i["text"] for i in span)
    bad = out["lookup_person_bad"]
    assert bad.is_error and "no person" in bad.content[0].text


def test_mcp_over_stdio_with_the_sdk_client(capsys: pytest.CaptureFixture[str], served: dict[str, Any], tmp_path: Path) -> None:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    code, out, _ = cli(capsys, "mcp", "--store", str(served["store"]))
    config = json.loads(out)["mcpServers"]["mmagent"]
    assert code == 0 and config["command"] and "--stdio" in config["args"]
    params = StdioServerParameters(command=config["command"], args=config["args"], env={"PYTHONPATH": str(ROOT)})

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def session():  # type: ignore[no-untyped-def]
        with (tmp_path / "server.err").open("w") as errlog:  # the server's stderr (pytest holds ours)
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as s:
                yield s

    _check_mcp(_mcp_results(session))


def test_mcp_over_streamable_http_with_the_sdk_client(served: dict[str, Any]) -> None:
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def session():  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {served['token']}"}
        async with httpx2.AsyncClient(headers=headers, timeout=300) as http, \
                streamable_http_client(f"{served['info']['url']}/mcp/", http_client=http) as streams, \
                ClientSession(streams[0], streams[1]) as s:
            yield s

    _check_mcp(_mcp_results(session))
    r = httpx.post(f"{served['info']['url']}/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert r.status_code == 401


def test_the_web_page_in_chromium(served: dict[str, Any]) -> None:
    """The page the server serves, in Debian's chromium driven by Selenium: timeline lanes, the
    video (byte ranges), the people gallery, the ask box."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip("chromium / chromedriver not installed (scripts/setup.sh installs them)")
    selenium = pytest.importorskip("selenium")
    from selenium.webdriver import Chrome, ChromeOptions
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    assert selenium.__version__
    options = ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(arg)
    browser = Chrome(service=Service(driver_path), options=options)
    try:
        wait = WebDriverWait(browser, 120)
        browser.get(f"{served['info']['url']}/#token={served['token']}")
        wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", \
            browser.find_element(By.ID, "error").text
        assert "token" not in browser.current_url  # the token leaves the address bar
        lanes = {lane.get_attribute("data-lane"): lane.find_elements(By.CLASS_NAME, "block")
                 for lane in browser.find_elements(By.CLASS_NAME, "lane")}
        assert lanes["clips"] and lanes["speakers"] and lanes["screen"]
        said = " ".join(b.get_attribute("textContent") for b in lanes["speakers"])
        assert "Dana" in said and "Priya" in said
        names = {c.find_element(By.CLASS_NAME, "name").text for c in browser.find_elements(By.CLASS_NAME, "person")}
        assert {"Dana", "Priya"} <= names
        # the video loads through the media route (byte ranges) and plays in the page
        wait.until(lambda b: b.execute_script("return document.getElementById('player').readyState") >= 1)
        assert browser.execute_script("return document.getElementById('player').error") is None
        duration = browser.execute_script("return document.getElementById('player').duration")
        assert abs(duration - served["script"][-1]["end"]) < 1.5
        # ask: the answer, its evidence, and the video jumps to the first cited moment
        box = browser.find_element(By.ID, "question")
        box.send_keys("What is the invoice number for Globex?")
        browser.find_element(By.ID, "ask-button").click()
        wait.until(lambda b: "5120" in b.find_element(By.ID, "answer").text)
        cited = browser.find_elements(By.CSS_SELECTOR, "#evidence li")
        assert cited
        start = float(cited[0].get_attribute("data-start"))
        wait.until(lambda b: abs(b.execute_script("return document.getElementById('player').currentTime") - start) < 0.5)
        # a click on a speaker's block seeks there
        last = lanes["speakers"][-1]
        browser.execute_script("arguments[0].click()", last)
        at = float(last.get_attribute("data-start"))
        wait.until(lambda b: abs(b.execute_script("return document.getElementById('player').currentTime") - at) < 0.5)
        # without the token the page says why, and shows nothing
        browser.execute_script("sessionStorage.clear()")
        browser.get(f"{served['info']['url']}/")
        wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        assert "token" in browser.find_element(By.ID, "error").text
    finally:
        browser.quit()


def test_forget_through_http_then_nothing_is_found(served: dict[str, Any]) -> None:
    """Last: it empties the module's store."""
    http: httpx.Client = served["http"]
    sid = http.get("/api/sources").json()["sources"][0]["source_id"]
    r = http.delete(f"/api/sources/{sid}")
    assert r.status_code == 200 and r.json()["forgotten"] == sid and r.json()["deleted"] > 0
    assert http.get("/api/sources").json() == {"sources": []}
    doc = http.post("/api/ask", json={"question": "What is the invoice number for Globex?"}).json()
    assert doc["evidence"] == [] and doc["mode"] == "not_found"


def test_a_screen_store_indexed_and_read_through_the_server(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                            data_dir: Path) -> None:
    """A store of screenshots: indexed through the server (HTTP and the CLI), asked, its captures
    served whole; what a screen source does not have (speech, a video file) is a clear 400."""
    shots = tmp_path / "shots"
    shots.mkdir()
    src = data_dir / "screens" / "omniparser"
    for name, stamp, app in (("windows.png", "2026-11-20T09:00:00Z", "Desktop"), ("onenote.png", "2026-11-20T09:01:30Z", "OneNote")):
        shutil.copy(src / name, shots / name)
        (shots / name).with_suffix(".json").write_text(json.dumps({"time": stamp, "app": app, "window": f"{app} window"}))
    store = tmp_path / "store"
    store.mkdir()
    proc, info = start_server(store, "--no-mcp")
    try:
        token = (store / "server-token").read_text().strip()
        with httpx.Client(base_url=info["url"], headers={"Authorization": f"Bearer {token}"}, timeout=600) as http:
            # a job that runs in the background, polled until done
            r = http.post("/api/index", json={"paths": [str(shots)], "wait": False})
            assert r.status_code == 202 and r.json()["job"]["state"] in ("queued", "running")
            url, seen = r.json()["url"], []
            deadline = time.monotonic() + 600
            while (job := http.get(url).json())["state"] in ("queued", "running") and time.monotonic() < deadline:
                seen.append(job["progress"])
                time.sleep(0.2)
            assert job["state"] == "done" and job["progress"] == 1.0 and job["error"] is None, job
            assert job["result"]["sources"][0]["memories_added"] == 3 and job["paths_done"] == 1
            assert all(0.0 <= p <= 1.0 for p in seen) and seen == sorted(seen)
            assert [j["id"] for j in http.get("/api/jobs").json()["jobs"]] == [url.rsplit("/", 1)[1]]
            r = http.post("/api/index", json={"paths": [str(shots)]})  # waiting: already indexed
            assert r.status_code == 200 and r.json()["sources"][0]["memories_added"] == 0
            code, doc, err = cli(capsys, "index", str(shots), "--store", str(store), "--json")  # through the server
            assert code == 0 and doc["sources"][0]["memories_added"] == 0 and "running memory service" in err
            doc = http.post("/api/ask", json={"question": "When was the Windows license valid for 89 days?"}).json()
            top = doc["evidence"][0]
            assert top["image"] == str(shots / "windows.png") and "89 days" in top["text"]
            png = http.get("/api/capture", params={"path": top["image"]})
            assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
            sid = top["source_id"]
            tl = http.get(f"/api/sources/{sid}/timeline").json()
            assert tl["kind"] == "screen" and tl["media_url"] is None
            assert any(t.get("image") == str(shots / "windows.png") and t["image_url"].startswith("/api/capture?path=")
                       for t in tl["screen_text"])
            for path in (f"/api/sources/{sid}/transcript", f"/api/sources/{sid}/media"):
                r = http.get(path)
                assert r.status_code == 400 and "screen source" in r.json()["error"]["message"]
    finally:
        assert stop(proc) == 0


def test_face_crops_of_real_faces_over_http(tmp_path: Path, grid_video) -> None:  # type: ignore[no-untyped-def]
    """The GRID speakers' faces: every person with a face has a crop URL that serves a JPEG."""
    store = tmp_path / "store"
    assert main(["index", str(grid_video[0]), "--store", str(store), "--json"]) == 0
    proc, info = start_server(store, "--no-mcp")
    try:
        token = (store / "server-token").read_text().strip()
        with httpx.Client(base_url=info["url"], headers={"Authorization": f"Bearer {token}"}, timeout=300) as http:
            people = http.get("/api/entities").json()["entities"]
            with_faces = [p for p in people if p["faces"]]
            assert with_faces and all(p["face_images"] for p in with_faces)
            for p in with_faces:
                for face, url in p["face_images"].items():
                    assert face in p["faces"] and url == f"/api/faces/{face}.jpg"
                    crop = http.get(url)
                    assert crop.status_code == 200 and crop.content[:2] == b"\xff\xd8"
            assert http.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
            tl = http.get(f"/api/sources/{http.get('/api/sources').json()['sources'][0]['source_id']}/timeline").json()
            assert tl["faces"] and all(f["face_image"].startswith("/api/faces/") for f in tl["faces"] if "face_image" in f)
    finally:
        assert stop(proc) == 0


def test_a_server_that_dies_mid_request_does_not_fail_a_read(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                             data_dir: Path) -> None:
    """A read waits behind an index (a write) and the server is killed: the CLI opens the store
    itself and answers."""
    import threading

    store = tmp_path / "store"
    store.mkdir()
    proc, info = start_server(store, "--no-mcp", "--no-token")
    # a 195 s video: its index takes far longer than the 2 s before the kill, on any machine
    # (a 3 s clip was indexed before the kill on a quiet one)
    clip = need(data_dir / "qa" / "video-dev" / "composite.mp4")
    def index() -> None:
        with pytest.raises(httpx.HTTPError):  # the server dies under it
            httpx.post(f"{info['url']}/api/index", json={"paths": [str(clip)]}, timeout=600)

    writer = threading.Thread(target=index, daemon=True)
    writer.start()
    result: dict[str, Any] = {}
    reader = threading.Thread(target=lambda: result.update(code=main(["sources", "--store", str(store), "--json"])))
    time.sleep(1.0)  # the index is under way (it loads the perception models first)
    reader.start()
    time.sleep(1.0)  # the read waits behind it
    proc.kill()
    proc.wait(30)
    reader.join(300)
    out, err = capsys.readouterr()
    assert result == {"code": 0} and json.loads(out) == {"sources": []}, err
    assert "stopped answering; opening the store here" in err


def test_a_stale_socket_or_a_killed_server_never_blocks_the_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    # a socket file nobody listens on (a server that died before cleaning up)
    path = socket_path(store)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the private folder a server makes
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))
    try:
        began = time.monotonic()
        code, doc, _ = cli(capsys, "sources", "--store", str(store), "--json")
        assert code == 0 and doc == {"sources": []} and time.monotonic() - began < 60
    finally:
        path.unlink(missing_ok=True)
    # a server killed outright: its socket and server.json stay behind; the CLI opens the store itself
    proc, info = start_server(store, "--no-mcp")
    proc.kill()
    proc.wait(30)
    assert socket_path(store).exists()
    code, doc, _ = cli(capsys, "sources", "--store", str(store), "--json")
    assert code == 0 and doc == {"sources": []}
    # and a new server replaces the stale socket
    proc, info = start_server(store, "--no-mcp", "--no-token")
    try:
        assert httpx.get(f"{info['url']}/api/sources").json() == {"sources": []}  # --no-token: no header needed
    finally:
        assert stop(proc) == 0


def test_the_stdio_mcp_server_owns_a_store_no_server_holds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """No server runs: the MCP process opens the store itself, and serves the CLI while it runs."""
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from apps.service import Client

    store = tmp_path / "store"
    code, out, _ = cli(capsys, "mcp", "--store", str(store))
    config = json.loads(out)["mcpServers"]["mmagent"]
    params = StdioServerParameters(command=config["command"], args=config["args"], env={"PYTHONPATH": str(ROOT)})
    seen: dict[str, Any] = {}

    async def go() -> None:
        with (tmp_path / "server.err").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                seen["sources"] = (await s.call_tool("list_sources", {})).structured_content
                seen["held"] = await anyio.to_thread.run_sync(lambda: Client.find(store) is not None)
                seen["cli"] = await anyio.to_thread.run_sync(lambda: main(["sources", "--store", str(store), "--json"]))

    anyio.run(go)
    assert seen == {"sources": {"sources": []}, "held": True, "cli": 0}
    assert json.loads(capsys.readouterr().out) == {"sources": []}
    assert Client.find(store) is None  # gone with the MCP process


def test_serve_refuses_an_open_address_without_the_token_and_a_taken_port(capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    code, _, err = cli(capsys, "serve", "--store", store, "--host", "0.0.0.0", "--no-token")
    assert code == 1 and "needs the token" in err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _, err = cli(capsys, "serve", "--store", store, "--port", str(taken.getsockname()[1]))
    assert code == 1 and "cannot listen there" in err and "--port 0" in err
    assert not (tmp_path / "store" / "LOCK").exists()  # refused before the store was opened
