"""Questions to a warm ``mmagent serve``: from a new CLI process, over HTTP, and 50 at once.

    nice -n 10 .venv/bin/python -m bench.serve_latency [--store DIR] [--concurrent 50] [--out FILE]

Without ``--store``, makes the sample meeting (``mmagent sample``) and indexes it into a fresh
store. Starts ``mmagent serve`` on it (its own process, any free port), then:
1. each of ~20 varied questions as ``mmagent ask Q --json`` in a new process (what a user's shell
   or a script pays: the interpreter, the CLI's imports, the socket round trip, the answer);
2. the same questions as ``POST /api/ask`` from one HTTP client, then as the MCP ``ask`` tool from
   the SDK's client over streamable HTTP (one session, as an outside agent keeps it);
3. ``--concurrent`` mixed requests at once (ask, search, sources, timeline, entities, transcript,
   a frame): how many failed, their latency distribution;
4. the questions again over HTTP: every answer must be what it was before the burst.
Each HTTP question also records the server process's CPU seconds (user + system, its threads
included): on a shared machine wall time depends on the other programs, CPU time does not.
Prints a JSON document (also written to ``--out``). A benchmark, never a test: no timing gates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = (
    "What is the invoice number for Globex?",
    "When is the Globex invoice due?",
    "How much is the Globex invoice?",
    "Who will lead the move to the new warehouse?",
    "Where is the new warehouse?",
    "When does the move start?",
    "What is the marketing budget for the second quarter?",
    "Where should visitors park?",
    "Which level of the garage?",
    "Who will send the revised contract to Globex?",
    "When is the owner review?",
    "What was said about Rotterdam?",
    "What was on screen when parking was mentioned?",
    "What was the first topic of the meeting?",
    "What was said after the budget?",
    "How many times was Globex mentioned?",
    "What company held the weekly operations review?",
    "What is the date of the review?",
    "What did Priya promise?",
    "Who is the CEO of Initech?",  # not in memory
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[k], 3)


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "max": round(max(values), 3),
            "mean": round(statistics.fmean(values), 3)}


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "apps.cli", *argv], env=env, capture_output=True, text=True, timeout=600)


def make_store(folder: Path) -> Path:
    video, store = folder / "meeting.mp4", folder / "store"
    for argv in (("sample", str(video)), ("index", str(video), "--store", str(store), "--json")):
        done = cli(*argv)
        if done.returncode:
            raise SystemExit(f"{' '.join(argv[:1])} failed: {done.stderr[-2000:]}")
    return store


def start_server(store: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any], float]:
    began = time.perf_counter()
    info_path = store / "server.json"
    info_path.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "apps.cli", "serve", "--store", str(store), "--port", "0"],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not info_path.is_file():
        if proc.poll() is not None:
            raise SystemExit(f"mmagent serve exited {proc.returncode}")
        time.sleep(0.2)
    return proc, json.loads(info_path.read_text()), time.perf_counter() - began


def mcp_asks(url: str, token: str, questions: tuple[str, ...]) -> tuple[list[float], dict[str, Any]]:
    """Each question as a call of the MCP ``ask`` tool (the SDK's client, streamable HTTP, one
    session): seconds per call and the structured results."""
    import anyio
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    seconds: list[float] = []
    results: dict[str, Any] = {}

    async def go() -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=600) as client, \
                streamable_http_client(f"{url}/mcp/", http_client=client) as streams, \
                ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            for q in questions:
                began = time.perf_counter()
                got = await session.call_tool("ask", {"question": q})
                seconds.append(time.perf_counter() - began)
                if got.is_error:
                    raise SystemExit(f"MCP ask {q!r} failed: {got.content}")
                results[q] = got.structured_content

    anyio.run(go)
    return seconds, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_latency", description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="an indexed store (default: the sample meeting, indexed now)")
    parser.add_argument("--concurrent", type=int, default=50, help="requests sent at once (default 50)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="mmagent-serve-bench-")
    store = args.store or make_store(Path(tmp.name))
    proc, info, start_s = start_server(store)
    token = (store / "server-token").read_text().strip()
    http = httpx.Client(base_url=info["url"], headers={"Authorization": f"Bearer {token}"}, timeout=600)
    try:
        cli_s: list[float] = []
        cli_answers: dict[str, Any] = {}
        for q in QUESTIONS:
            began = time.perf_counter()
            done = cli("ask", q, "--store", str(store), "--json")
            cli_s.append(time.perf_counter() - began)
            if done.returncode:
                raise SystemExit(f"ask {q!r} failed: {done.stderr[-1000:]}")
            cli_answers[q] = json.loads(done.stdout)
        http_s: list[float] = []
        cpu_s: list[float] = []
        answers: dict[str, Any] = {}
        server = psutil.Process(proc.pid)
        load_before = os.getloadavg()[0]
        for q in QUESTIONS:
            began, cpu = time.perf_counter(), server.cpu_times()
            r = http.post("/api/ask", json={"question": q})
            http_s.append(time.perf_counter() - began)
            after_cpu = server.cpu_times()
            cpu_s.append(after_cpu.user + after_cpu.system - cpu.user - cpu.system)
            r.raise_for_status()
            answers[q] = r.json()
        same_as_cli = sum(answers[q] == cli_answers[q] for q in QUESTIONS)
        mcp_s, mcp_answers = mcp_asks(info["url"], token, QUESTIONS)
        same_over_mcp = sum((mcp_answers[q] or {}).get("answer") == answers[q]["answer"] for q in QUESTIONS)
        sid = http.get("/api/sources").json()["sources"][0]["source_id"]
        mixed = [("POST", "/api/ask", {"question": QUESTIONS[k % len(QUESTIONS)]}) if k % 3 == 0 else
                 ("GET", ["/api/search?q=Globex", "/api/sources", f"/api/sources/{sid}/timeline", "/api/entities",
                          f"/api/sources/{sid}/transcript", f"/api/sources/{sid}/frame?t=10"][k % 6], None)
                 for k in range(args.concurrent)]

        def one(req: tuple[str, str, Any]) -> tuple[str, int, float]:
            began = time.perf_counter()
            try:
                r = http.request(req[0], req[1], json=req[2])
                code = r.status_code
            except httpx.HTTPError as exc:
                code = -1
                print(f"{req[1]}: {exc}", file=sys.stderr)
            return req[1].split("?")[0].rsplit("/", 1)[-1], code, time.perf_counter() - began

        began = time.perf_counter()
        with ThreadPoolExecutor(args.concurrent) as pool:
            burst = list(pool.map(one, mixed))
        burst_wall = time.perf_counter() - began
        after = {q: http.post("/api/ask", json={"question": q}).json() for q in QUESTIONS}
        changed = [q for q in QUESTIONS if after[q] != answers[q]]
        by_kind: dict[str, list[float]] = {}
        for kind, _, s in burst:
            by_kind.setdefault(kind, []).append(s)
        doc = {
            "store": str(store), "server_start_s": round(start_s, 2), "server_warm_s": info.get("warm_seconds"),
            "cli_ask_new_process_s": summary(cli_s),
            "http_ask_s": summary(http_s),
            "http_ask_server_cpu_s": summary(cpu_s),
            "mcp_ask_s": summary(mcp_s),
            "mcp_answers_same_as_http": f"{same_over_mcp}/{len(QUESTIONS)}",
            # the answers a language model wrote (the others are spans, counts or quotes of the evidence)
            "llm_written": [q for q in QUESTIONS if answers[q].get("mode") == "llm"],
            "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
            "http_answers_same_as_cli": f"{same_as_cli}/{len(QUESTIONS)}",
            "concurrent": {"requests": len(burst), "failed": sum(1 for _, c, _ in burst if c != 200),
                           "codes": sorted({c for _, c, _ in burst}), "wall_s": round(burst_wall, 2),
                           "latency_s": summary([s for _, _, s in burst]),
                           "by_kind_p50_s": {k: pct(v, 50) for k, v in sorted(by_kind.items())}},
            "answers_changed_after_burst": changed,
            "per_question_s": {q: {"cli": round(a, 3), "http": round(b, 3), "mcp": round(m, 3), "server_cpu": round(c, 3),
                                   "mode": answers[q].get("mode")}
                               for q, a, b, m, c in zip(QUESTIONS, cli_s, http_s, mcp_s, cpu_s)},
        }
    finally:
        http.close()
        proc.terminate()
        proc.wait(60)
        tmp.cleanup()
    text = json.dumps(doc, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 1 if doc["concurrent"]["failed"] or changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
