"""From a change on screen to searchable: the recorder's process at default settings, on this machine.

    .venv/bin/python -m bench.screen_latency [--changes 6]

Starts a virtual X server (Xvfb, 1920x1080) with a real window (Tk), starts the recorder the way
``mmagent screen start`` does (capture every 2 s, background indexing, the memory service),
then, ``--changes`` times, writes a new ticket number into the window and polls the service's
search every 0.5 s until the number comes back. Reports each latency and the worst.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.xdisplay import start_xvfb

WINDOW = """
import sys, tkinter as tk
from pathlib import Path
root = tk.Tk(); root.title("Support queue - Helpdesk"); root.geometry("1920x1080+0+0"); root.configure(bg="white")
for line in ["Open tickets for the platform team", "Priority: high"]:
    tk.Label(root, text=line, font=("DejaVu Sans", 24), bg="white").pack(anchor="w", padx=40, pady=14)
label = tk.Label(root, text="", font=("DejaVu Sans", 30), bg="white"); label.pack(anchor="w", padx=40, pady=20)
def poll():
    try:
        label.config(text=Path(sys.argv[1]).read_text())
    except OSError:
        pass
    root.after(200, poll)
root.after(500, root.focus_force); poll(); root.mainloop()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm", default="none", help="MMAGENT_LLM of the recorder's process (its memory)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "screen_latency.json")
    args = parser.parse_args()
    from apps import screen_control
    from apps.screen_state import RecorderSettings
    from apps.service import Client

    rng = random.Random(args.seed)
    xvfb = start_xvfb()
    work = Path(tempfile.mkdtemp(prefix="mmagent-latency-"))
    text = work / "ticket.txt"
    text.write_text("Ticket 100 waiting for triage")
    window = subprocess.Popen([sys.executable, "-c", WINDOW, str(text)])
    store, folder = work / "store", work / "store" / "screens"
    latencies: list[float] = []
    try:
        time.sleep(2.0)
        began = time.perf_counter()
        screen_control.start(folder, store, env={"MMAGENT_LLM": args.llm})
        client = Client.find(store)
        if client is None:
            sys.exit("the memory service did not start")
        while screen_control.status(folder).get("indexed", 0) < 1:  # the first pass (models load)
            time.sleep(0.5)
        startup = time.perf_counter() - began
        first = screen_control.status(folder)
        rss_start, private_start = first.get("rss_mb"), first.get("private_mb")
        for k in range(args.changes):
            time.sleep(rng.uniform(3, 20))  # a change at any point of the capture / indexing cycle
            code = str(rng.randrange(10_000, 99_999))
            text.write_text(f"Ticket {code} waiting for triage")
            t0 = time.perf_counter()
            while True:
                hits = client.call("search", query=f"ticket {code}", limit=3)["results"]
                if any(code in h["text"] for h in hits):
                    break
                if time.perf_counter() - t0 > 300:
                    raise SystemExit(f"ticket {code} was not searchable after 300 s")
                time.sleep(0.5)
            latencies.append(round(time.perf_counter() - t0, 1))
            print(f"change {k + 1}: searchable after {latencies[-1]} s", file=sys.stderr)
        status = screen_control.status(folder)
    finally:
        try:
            screen_control.stop(folder)
        except Exception as exc:  # noqa: BLE001 — already stopped
            print(f"stop: {exc}", file=sys.stderr)
        window.terminate()
        window.wait()
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} cores", "screen": "1920x1080",
        "settings": f"defaults: capture every {RecorderSettings.interval:g} s, same-window gap "
                    f"{RecorderSettings.same_window_gap:g} s, indexing every 15 s",
        "startup_to_first_indexed_s": round(startup, 1), "latencies_s": latencies,
        "median_s": sorted(latencies)[len(latencies) // 2], "worst_s": max(latencies),
        "last_index_pass_s": status.get("index_seconds"),
        "recorder_rss_mb_after_first_pass": rss_start, "recorder_rss_mb_at_end": status.get("rss_mb"),
        "recorder_private_mb_after_first_pass": private_start, "recorder_private_mb_at_end": status.get("private_mb"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
