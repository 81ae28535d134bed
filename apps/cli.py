"""The ``mmagent`` command. The only place that turns exceptions into exit codes.

Exit codes: 0 success (an honest "not found in memory" included), 1 an error (bad input,
store in use, ...; one line on stderr naming the file and the reason), 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXAMPLES = """\
examples:
  mmagent index meeting.mp4 --store ./mem
  mmagent ask "when is the Globex invoice due?" --store ./mem
  mmagent ask "what was said about the budget?" --before 600 --json
  mmagent sources --store ./mem
  mmagent transcript meeting.mp4 --format srt > meeting.srt
  mmagent sample demo.mp4
  mmagent serve --store ./mem          (then ask / search / entities / transcript go through it)
  mmagent mcp --store ./mem            (an MCP client config)
"""


def _quiet_third_parties() -> None:
    # offline by default: models come from packages or local paths (set HF_HUB_OFFLINE=0 to allow the hub)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmagent",
        description="Index video into a multimodal memory and ask it questions, with cited timestamps.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, nested: bool = False) -> None:
        # a nested command's options must not reset what its parent command already parsed
        extra: dict[str, Any] = {"default": argparse.SUPPRESS} if nested else {}
        p.add_argument("--store", type=Path, help="store folder (default: $MMAGENT_HOME, else the user data dir)", **extra)
        p.add_argument("--json", action="store_true", help="print exactly one JSON document on stdout", **extra)
        p.add_argument("--qdrant-url", metavar="URL", help="use the Qdrant server at URL (default: the embedded store)", **extra)

    p = sub.add_parser("index", help="index video / audio files and folders of screenshots", epilog="example: mmagent index a.mp4 b.mkv --store ./mem")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--workers", type=int, metavar="N", help="perception processes (default: one per core)")
    p.add_argument("--ray", metavar="ADDRESS", help="run perception as a Ray Data job: 'local' or a cluster address")
    p.add_argument("--image-model", metavar="DIR", help="a CLIP / SigLIP model folder: visual embeddings of keyframes")
    p.add_argument("--captioner", choices=["composed", "qwen-vl", "openai", "none"], help="clip captions (default: composed)")
    common(p)

    sub.add_parser("bench", help="the evaluation harness: mmagent bench longvideo|screen|m3bench|mlvu|videomme ... (see mmagent bench -h)",
                   add_help=False)

    p = sub.add_parser("ask", help="ask a question; the answer cites moments", epilog='example: mmagent ask "who leads the move?" --json')
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--source", action="append", default=[], metavar="ID", help="only this source (id, id prefix or path); repeatable")
    p.add_argument("--tag", action="append", default=[], metavar="TAG", help="only sources with this tag (from a batch manifest); repeatable")
    p.add_argument("--before", type=float, metavar="SECONDS", help="answer as of this time: nothing later is visible")
    p.add_argument("--llm", choices=["transformers", "none"], help="answer writer (none: quote the evidence)")
    p.add_argument("--planner", choices=["auto", "rules", "model", "single"], default="auto",
                   help="who chooses the searches: the language model (model), rules, or auto (the model when one is "
                        "configured by MMAGENT_LLM=openai or MMAGENT_LLM_MODEL, rules with the bundled one); "
                        "single: one search, no agent loop")
    p.add_argument("--rounds", type=int, default=5, metavar="N", help="at most N rounds of searches (default 5)")
    p.add_argument("--trace", action="store_true", help="print the agent's steps (plans, tool calls, observations)")
    common(p)

    p = sub.add_parser(
        "entities", help="people: list them, show one, enroll a named photo, rename",
        epilog='examples: mmagent entities --json | mmagent entities show person_2 | '
               'mmagent entities enroll --name "Alice" alice.jpg | mmagent entities rename face_3 "Alice"',
    )
    common(p)
    actions = p.add_subparsers(dest="action")
    q = actions.add_parser("show", help="one person: names with evidence, faces, voices, appearances, facts, episodes")
    q.add_argument("entity", metavar="ID", help="person_N, face_N, voice_N or a name")
    common(q, nested=True)
    q = actions.add_parser("enroll", help="name the face in a photo; its sightings in any source get the name")
    q.add_argument("photo", type=Path, metavar="PHOTO")
    q.add_argument("--name", required=True)
    common(q, nested=True)
    q = actions.add_parser("rename", help="give a person (or one of its faces / voices) a name")
    q.add_argument("entity", metavar="ID")
    q.add_argument("name", metavar="NAME")
    common(q, nested=True)

    p = sub.add_parser(
        "batch", help="index a library (a folder or a manifest) into one memory; resumable",
        epilog="examples: mmagent batch /media/lectures --store ./mem | mmagent batch library.jsonl --ray local | "
               "mmagent batch status --json",
    )
    p.add_argument("sources", metavar="SOURCES", help="a folder (recursive), a manifest (.jsonl / .csv), or 'status'")
    p.add_argument("--workers", type=int, metavar="N", help="perception processes (default: one per core)")
    p.add_argument("--ray", metavar="ADDRESS", help="run perception as a Ray Data job: 'local' or a cluster address")
    p.add_argument("--retries", type=int, default=2, metavar="N", help="retries of a source whose failure looks transient (default 2)")
    common(p)

    p = sub.add_parser("forget", help="remove everything derived from an indexed source", epilog="example: mmagent forget talk.mp4")
    p.add_argument("source", metavar="SOURCE", help="source id, id prefix or path")
    common(p)

    p = sub.add_parser(
        "transcript", help="what was said in an indexed source, by whom, with word times: text, JSON, SRT or WebVTT; "
                           "who spoke when: RTTM",
        epilog="examples: mmagent transcript talk.mp4 | mmagent transcript 5abe --format srt > talk.srt | "
               "mmagent transcript talk.mp4 --format json --words | mmagent transcript talk.mp4 --format rttm > talk.rttm",
    )
    p.add_argument("source", metavar="SOURCE", help="source id, id prefix or path")
    p.add_argument("--format", choices=["text", "json", "srt", "vtt", "rttm"],
                   help="text: a line per speaker turn (default); json (also --json): the lines and the speaker "
                        "turns; srt / vtt: subtitle cues; rttm: the speaker turns (speech with no words included)")
    p.add_argument("--words", action="store_true", help="json: each segment's words with their start and end times")
    common(p)

    p = sub.add_parser("sources", help="list indexed sources")
    common(p)

    p = sub.add_parser(
        "doctor", help="check a store end to end; --repair rebuilds what the perception cache allows",
        description="Check a store end to end: the journal, catalog records, memories per source, orphan "
                    "points, entity ids, perception caches, sources whose files changed or vanished. "
                    "Exit codes: 0 healthy, 1 broken (damage found, or left after --repair), 2 repaired.",
        epilog="example: mmagent doctor --store ./mem --repair",
    )
    p.add_argument("--repair", action="store_true",
                   help="finish the journal, index damaged sources again from their perception cache, "
                        "remove orphans that cannot be rebuilt")
    common(p)

    p = sub.add_parser("search", help="moments matching words or a phrase, best first (no agent, no answer)",
                       epilog='example: mmagent search "Globex invoice" --limit 5 --json')
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--source", action="append", default=[], metavar="ID", help="only this source (id, id prefix or path); repeatable")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="at most N results (default 10)")
    common(p)

    p = sub.add_parser(
        "serve", help="own the store and serve it: the CLI (a local socket), an HTTP JSON API and MCP on loopback",
        epilog="examples: mmagent serve --store ./mem ; mmagent ask 'who spoke first?' --store ./mem (answered by it) ; "
               "curl -H \"Authorization: Bearer $(cat ./mem/server-token)\" http://127.0.0.1:8765/api/sources",
    )
    p.add_argument("--store", type=Path, help="store folder (default: $MMAGENT_HOME, else the user data dir)")
    p.add_argument("--port", type=int, default=8765, metavar="N", help="HTTP port (default 8765; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1", metavar="H",
                   help="HTTP address (default 127.0.0.1, this machine only; another needs the token)")
    p.add_argument("--no-token", action="store_true", help="do not require the token (STORE/server-token) on loopback")
    p.add_argument("--no-mcp", action="store_true", help="no MCP endpoint at /mcp")
    p.add_argument("--qdrant-url", metavar="URL", help="use the Qdrant server at URL (default: the embedded store)")

    p = sub.add_parser("mcp", help="print an MCP client config for this store (or, with --stdio, be the MCP server)",
                       epilog="example: mmagent mcp --store ./mem > mcp.json")
    p.add_argument("--store", type=Path, help="store folder (default: $MMAGENT_HOME, else the user data dir)")
    p.add_argument("--stdio", action="store_true", help="serve MCP on stdin / stdout (what the printed config runs)")
    p.add_argument("--qdrant-url", metavar="URL", help="use the Qdrant server at URL (default: the embedded store)")

    p = sub.add_parser("screen", help="record this screen privately in the background: start, stop, status, pause, resume",
                       epilog="example: mmagent screen start ; mmagent screen status ; "
                              "mmagent ask 'where did I see invoice 4471?' (answered by the recorder's process)")
    p.add_argument("action", choices=["start", "stop", "status", "pause", "resume", "show"])
    p.add_argument("capture", nargs="?", type=Path,
                   help="show: a capture's .webp (as cited by ask); written whole as PNG to --out")
    p.add_argument("--out", type=Path, help="show: the PNG to write (default: beside it in the temp folder)")
    p.add_argument("--folder", type=Path, help="where captures go (default: STORE/screens)")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between captures (default 2)")
    p.add_argument("--rules", type=Path, help="privacy rules JSON: excluded_apps, excluded_titles (regexes), redact")
    p.add_argument("--retention-days", type=float, default=30.0,
                   help="drop pictures older than this many days; their text and memories stay (default 30; 0 keeps all)")
    p.add_argument("--gap", type=float, default=20.0,
                   help="changes inside the same window (typing, scrolling, a call) are stored at most every GAP s; "
                        "the latest state is kept, a new window is stored at once (default 20)")
    p.add_argument("--stall-after", type=float, default=60.0,
                   help="no capture round for this many seconds while recording is a stall: status warns, and the "
                        "recorder restarts its capture loop (default 60)")
    p.add_argument("--no-index", action="store_true",
                   help="only record: do not index captures into the store in the background")
    common(p)

    p = sub.add_parser("app", help="the desktop app: a day's captures by hour, search, ask, the recorder's controls",
                       epilog="example: mmagent app --store ./mem")
    p.add_argument("--store", type=Path, help="store folder (default: $MMAGENT_HOME, else the user data dir)")

    p = sub.add_parser("sample", help="write the sample video used by the quick start (needs espeak-ng)")
    p.add_argument("out", type=Path, metavar="OUT.mp4")
    p.add_argument("--json", action="store_true", help="print the script (what is said and shown when) as JSON")
    return parser


def _fmt_time(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m}:{s:04.1f}"


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class _ClipBar:
    """Clips done / total with an ETA on stderr: redrawn in place on a terminal, a line every
    10% otherwise (logs stay readable)."""

    def __init__(self, name: str) -> None:
        self.name, self.began, self.first, self.last_pct = name, time.monotonic(), -1, -10
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.first < 0:  # clips already cached at the start do not count toward the rate
            self.first, self.began = done, time.monotonic()
            if done < total:
                return
        rate = (time.monotonic() - self.began) / max(1, done - self.first)
        eta = _fmt_time(rate * (total - done)) if done > self.first else "?"
        width = 24
        bar = "#" * int(width * done / total) + "." * (width - int(width * done / total))
        line = f"{self.name}: [{bar}] {done}/{total} clips, ETA {eta}"
        pct = 100 * done // total
        if self.tty:
            print("\r" + line, end="\n" if done == total else "", file=sys.stderr, flush=True)
        elif pct >= self.last_pct + 10 or done == total:
            self.last_pct = pct
            _stderr(line)


def cmd_index(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from perception.screens import capture_folders

    # a recorder's folder holds one folder of captures per day: each day is a source
    paths = [str(p.resolve()) for raw in args.paths
             for p in (capture_folders(Path(raw)) if Path(raw).is_dir() else [Path(raw)])]
    if service is not None:  # the running memory service indexes them (it holds the store)
        _stderr(f"indexing {len(paths)} path(s) in the running memory service ...")
        doc = service.call("index", paths=paths)
        for e in doc.get("errors", ()):
            _stderr(f"mmagent: error: {e['path']}: {e['error']}")
    else:
        from apps.service import index_doc

        def each(path: str, res: Any, error: Exception | None) -> None:
            if error is not None:
                _stderr(f"mmagent: error: {error}")
            elif res.perception and args.verbose:
                m = res.perception
                stages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(m.stages.items(), key=lambda kv: -kv[1]))
                _stderr(f"  perception: {m.runner} x{m.workers}, {m.computed} clips computed, {m.reused} reused; "
                        f"seconds per stage, summed over workers: {stages}")

        def bar(path: str) -> _ClipBar:
            _stderr(f"indexing {path} ...")
            return _ClipBar(Path(path).name)

        doc = index_doc(agent, paths, bar, each)
    for r in doc["sources"]:
        for skipped in r.get("skipped", ()):
            done = "" if skipped["reason"].endswith(("ignored", "used", "indexed")) else ", skipped"  # a part, or the file
            _stderr(f"mmagent: warning: {skipped['path']}: {skipped['reason']}{done}")
        if r["reused"]:
            _stderr(f"{r['path']}: already indexed ({r['clips']} clips), nothing added")
        else:
            rtf = r["seconds"] / r["duration"] if r["duration"] else 0.0
            _stderr(f"{r['path']}: {r['clips']} clips, {r['memories_added']} memories added in {r['seconds']:.1f} s "
                    f"(real-time factor {rtf:.3f})")
    if args.json:
        print(json.dumps({"sources": [{k: v for k, v in r.items() if k != "reused"} for r in doc["sources"]],
                          **({"errors": doc["errors"]} if doc.get("errors") else {})}))
    else:
        for r in doc["sources"]:
            print(f"{r['source_id']}  {r['path']}  {_fmt_time(r['duration'])}  clips={r['clips']}  added={r['memories_added']}")
    return 1 if doc.get("errors") else 0


def _trace_line(step: dict[str, Any]) -> str:
    head = f"[{step.pop('type')} {step.pop('round')}]"
    if "items" in step:
        items = step.pop("items")
        rest = " ".join(f"{k}={v}" for k, v in step.items())
        lines = [f"{head} {rest} → {len(items)} new"]
        lines += [f"    {i['kind']}/{i['level']} {i['source_id']} {i['start']:.1f}-{i['end']:.1f}s: {i['text']}" for i in items[:8]]
        return "\n".join(lines)
    if "evidence" in step:
        return f"{head} {step['answer']} ({step['mode']}, {len(step['evidence'])} cited, {step.get('seconds')} s)"
    return f"{head} {json.dumps(step, default=str)}"


def cmd_ask(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from apps.service import ask_doc

    began = time.perf_counter()
    request = {"question": args.question, "source": list(args.source or ()), "tag": list(args.tag or ()),
               "before": args.before, "planner": args.planner, "rounds": args.rounds, "trace": args.trace}
    if args.llm is not None:  # through a server too: for this question only
        request["llm"] = args.llm
    doc = service.call("ask", **request) if service is not None else ask_doc(agent, **request)
    if args.json:
        print(json.dumps(doc))
        return 0
    for step in doc.get("trace", ()):
        print(_trace_line(step))
    print(doc["answer"])
    if doc.get("note"):
        print(f"  ({doc['note']})")
    if doc["evidence"]:
        print("Evidence:")
        for k, e in enumerate(doc["evidence"], 1):
            print(f"  [{k}] {_where(e)} {e['modality']}: \"{e['text']}\"  (score {e['score']:.2f})")
        if any(e.get("image") for e in doc["evidence"]):
            print("  (a capture whole, as a PNG: mmagent screen show CAPTURE.webp; or browse them in mmagent app)")
    _stderr(f"answered in {time.perf_counter() - began:.1f} s" + (" by the running memory service" if service else ""))
    return 0


def _where(e: dict[str, Any]) -> str:
    if e.get("wall_time") is not None:
        when = datetime.fromtimestamp(e["wall_time"]).strftime("%Y-%m-%d %H:%M:%S")
        return f"{e['image'] if e.get('image') else Path(e['path']).name} at {when}"
    return f"{Path(e['path']).name} {_fmt_time(e['start'])}-{_fmt_time(e['end'])}"


def _person_json(p: Any) -> dict[str, Any]:
    from apps.server import person_json

    return person_json(p)


def _find_person(agent: Any, wanted: str) -> Any:
    from apps.server import find_person

    return find_person(agent, wanted)


def cmd_entities(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from apps.server import entities_doc, entity_doc, rename_doc

    action = getattr(args, "action", None)
    if action == "enroll":
        face_id = agent.enroll(args.name, args.photo)
        person = _find_person(agent, face_id)
        if args.json:
            print(json.dumps({"entity": _person_json(person)}))
        else:
            print(f"{args.name}: {face_id} of {person.id}")
        return 0
    if action == "rename":
        doc = service.call("rename", entity=args.entity, name=args.name) if service else rename_doc(agent, args.entity, args.name)
        if args.json:
            print(json.dumps(doc))
        else:
            print(f"{doc['entity']['id']} is now named {doc['entity']['name']}")
        return 0
    if action == "show":
        detail = service.call("entity", entity=args.entity) if service else entity_doc(agent, args.entity)
        if args.json:
            print(json.dumps(detail))
            return 0
        person = detail["entity"]
        print(_person_line(person))
        for e in person["evidence"]:
            if "name" in e:
                print(f"  name {e['name']!r} ({e['how']}, {e['entity']}, {e['source_id']} {_fmt_time(e['t'])}) {e['text']}")
            else:
                print(f"  {e['voice']} speaks while {e['face']} is on screen: {e['seconds']:.1f} s over {e['turns']} turns")
        for f in detail["facts"]:
            print(f"  fact: {f['text']}  (support {f['support']})")
        for ep in detail["episodes"]:
            print(f"  {ep['source_id'][:12]} {_fmt_time(ep['start'])}-{_fmt_time(ep['end'])}: {ep['text'][:160]!r}")
        return 0
    doc = service.call("entities") if service else entities_doc(agent)
    if args.json:
        print(json.dumps({"entities": [{k: v for k, v in e.items() if k != "face_images"} for e in doc["entities"]]}))
    elif not doc["entities"]:
        print("no people in this store yet")
    for p in doc["entities"] if not args.json else ():
        print(_person_line(p))
    return 0


def _person_line(p: dict[str, Any]) -> str:
    apps = p["appearances"]
    spans = ", ".join(f"{a['source_id'][:8]} {_fmt_time(a['start'])}-{_fmt_time(a['end'])}" for a in apps[:6])
    more = f" (+{len(apps) - 6} more)" if len(apps) > 6 else ""
    names = f" {p['name']!r}" if p["name"] else ""
    aliases = [n for n in p["names"] if n != p["name"]]
    alias = f" aka {', '.join(aliases)}" if aliases else ""
    return (f"{p['id']}{names}{alias}  faces: {', '.join(p['faces']) or '-'}  voices: {', '.join(p['voices']) or '-'}  "
            f"seen: {spans}{more}")


def cmd_batch(agent: Any, args: argparse.Namespace) -> int:
    from mmagent.batch import latest_state, run_batch

    if args.sources == "status" and not Path("status").exists():
        state = latest_state(agent.settings.store)
        if args.json:
            print(json.dumps({"job": state.to_json() if state else None}))
        elif state is None:
            print("no batch job in this store")
        else:
            c = state.counts()
            print(f"job {state.job} ({state.spec}): {c['done']} done, {c['failed']} failed, {c['pending']} pending "
                  f"of {c['total']}" + ("" if state.finished else " (running or interrupted)"))
        return 0
    began = time.monotonic()

    def progress(state: Any, path: str, event: str) -> None:
        c = state.counts()
        entry = state.sources[path]
        if event == "start":
            _stderr(f"[{c['done'] + c['failed'] + 1}/{c['total']}] {path} ...")
            return
        hours = sum(s.duration for s in state.sources.values() if s.status == "done" and not s.reused) / 3600
        spent = (time.monotonic() - began) / 3600
        rate = f", {hours / spent:.1f} h of footage per hour" if spent > 0 and hours > 0 else ""
        finished = sum(1 for s in state.sources.values() if s.status != "pending")
        left = c["total"] - finished
        eta = f", ETA {_fmt_time(spent * 3600 / max(finished, 1) * left)}" if left else ""
        what = {"done": f"done ({entry.clips} clips, {entry.seconds:.1f} s)" + (" — already indexed" if entry.reused else ""),
                "failed": f"FAILED: {entry.error}", "retry": f"failed ({entry.error}), retrying"}[event]
        _stderr(f"  {what}  [{c['done']} done, {c['failed']} failed of {c['total']}; {hours:.2f} h indexed{rate}{eta}]")

    state = run_batch(agent, Path(args.sources), args.retries, progress)
    c = state.counts()
    if args.json:
        print(json.dumps(state.to_json()))
    else:
        print(f"{c['done']} of {c['total']} sources indexed, {c['failed']} failed")
        for path, s in state.sources.items():
            if s.status == "failed":
                print(f"  failed: {path}: {s.error}")
    return 1 if c["failed"] else 0


def cmd_forget(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from apps.server import forget_doc

    doc = service.call("forget", source=args.source) if service else forget_doc(agent, args.source)
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"forgot {doc['forgotten']}: {doc['deleted']} points removed, {doc['written']} updated")
    return 0


def cmd_transcript(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    """Names are read from the entities now: a rename shows on every line of that voice."""
    from apps.server import transcript_doc
    from mmagent.errors import SettingsError

    fmt = args.format or ("json" if args.json else "text")
    if args.json and fmt != "json":
        raise SettingsError(f"--json prints the JSON transcript: drop --format {fmt}, or drop --json")
    if args.words and fmt != "json":
        raise SettingsError("--words lists the words of each segment in the JSON transcript: add --format json")
    request = {"source": args.source, "format": fmt, "words": args.words}
    doc = service.call("transcript", **request) if service else transcript_doc(agent, **request)
    if not (doc.get("segments") or doc.get("turns") if fmt == "json" else doc.get("text", "").strip()):
        _stderr(f"{args.source}: no speech was recognised in it")
    elif fmt == "rttm" and doc.get("turns_from") == "words":
        _stderr(f"{args.source}: no diarized speaker turns are kept for it (indexed without a diarizer, or by an older "
                "version): these turns are its words' runs, without speech that had no words")
    if fmt == "json":
        print(json.dumps(doc))
    else:
        sys.stdout.write(doc["text"])
    return 0


def cmd_search(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from apps.service import search_doc

    request = {"query": args.query, "source": list(args.source or ()), "limit": args.limit}
    doc = service.call("search", **request) if service else search_doc(agent, **request)
    if args.json:
        print(json.dumps(doc))
        return 0
    for k, e in enumerate(doc["results"], 1):
        print(f"[{k}] {_where(e)} {e['modality']}: \"{e['text']}\"  (score {e['score']:.2f})")
    if not doc["results"]:
        print("nothing matches it in this store")
    return 0


def cmd_sources(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from apps.service import sources_doc

    doc = service.call("sources") if service is not None else sources_doc(agent)
    if args.json:
        print(json.dumps(doc))
    else:
        for e in doc["sources"]:
            print(f"{e['source_id']}  {e['path']}  {_fmt_time(e['duration'])}  clips={e['clips']}  memories={e['memories']}")
        if not doc["sources"]:
            print("no sources indexed in this store")
    return 0


def cmd_doctor(settings: Any, args: argparse.Namespace) -> int:
    """Exit 0 healthy, 1 broken, 2 repaired (mmagent/doctor.py)."""
    from mmagent import doctor

    report = doctor.run(settings, args.repair)
    print(json.dumps(report.to_json(), indent=2) if args.json else doctor.render(report))
    return report.code


def cmd_screen(args: argparse.Namespace) -> int:
    """The recorder runs as its own background process (apps/screen_recorder.py); these
    commands start it, signal it and read the status it writes (apps/screen_control.py)."""
    from apps import screen_control as control
    from mmagent import Settings

    if args.action == "show":  # a capture saved as a patch is the changed rows: put it together
        import tempfile

        from mmagent.errors import SettingsError
        from perception.screens import open_capture

        if args.capture is None:
            raise SettingsError("screen show needs a capture: mmagent screen show CAPTURE.webp [--out FILE.png]")
        out = args.out or Path(tempfile.gettempdir()) / f"mmagent-{args.capture.stem}.png"
        try:
            open_capture(args.capture).save(out)
        except OSError as exc:
            raise SettingsError(f"{args.capture}: cannot show it ({exc})") from None
        print(json.dumps({"capture": str(args.capture), "png": str(out)}) if args.json else out)
        return 0
    store = Settings.load(store=args.store).store
    folder = (args.folder or store / "screens").resolve()
    if args.action == "start":
        doc = control.start(folder, None if args.no_index else store, args.interval, args.rules, args.retention_days,
                            gap=args.gap, stall_after=args.stall_after)
        print(json.dumps(doc) if args.json else f"recording the screen into {folder} every {args.interval:g} s "
              f"(PID {doc['pid']})" + ("" if args.no_index else f"; indexing into {store} in the background"))
        return 0
    if args.action == "stop":
        doc = control.stop(folder)
        print(json.dumps(doc) if args.json else "the screen recorder stopped")
        return 0
    if args.action in ("pause", "resume"):
        doc = control.pause(folder, args.action == "pause")
        print(json.dumps(doc) if args.json else f"capture {args.action}d")
        return 0
    status = control.status(folder)
    if args.json:
        print(json.dumps(status))
        return 0
    state = "recording" if status["recording"] else "not recording"
    if status["recording"] and status.get("paused"):
        state = f"paused ({status['paused']})"
    print(f"{state}: {folder}")
    if "captured" in status:
        print(f"  captured {status.get('captured', 0)}, unchanged {status.get('unchanged', 0)}, excluded "
              f"{status.get('excluded', 0)}, stored {status.get('stored', 0)} (redacted {status.get('redacted', 0)}); "
              f"{status['captures_on_disk']} captures on disk, {status['pictures_on_disk']} with their picture")
        if status.get("last_indexed") or status.get("queue"):
            print(f"  indexed {status.get('indexed', 0)}, waiting {status.get('queue', 0)} (oldest {status.get('lag', 0):.0f} s); "
                  f"focus changes {status.get('focus_changes', 0)}, pictures dropped by retention {status.get('dropped', 0)}")
        if status.get("rss_mb"):
            print(f"  memory of the recorder's process: {status['rss_mb']:.0f} MB resident, "
                  f"{status.get('private_mb') or 0:.0f} MB of it its own")
        ages = [f"{what} {_ago(status.get(key))}" for key, what in (
            ("last_capture_age", "last capture stored"), ("last_round_age", "last screen grab"),
            ("last_index_pass_age", "last indexing pass")) if status.get(key) is not None]
        if ages:
            print(f"  {', '.join(ages)}")
        if status.get("stalled"):
            print(f"  WARNING: capture stalled: {status['stalled']}")
        if status.get("warning"):
            print(f"  warning: {status['warning']}")
        if status.get("recovered"):
            print(f"  at start: {status['recovered']}")
        for key, what in (("error", "capture"), ("index_error", "indexing")):
            if status.get(key):
                print(f"  last {what} error: {status[key]}")
    return 0


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def _reads(args: argparse.Namespace) -> bool:
    """Whether a command only reads the store (it can be run again anywhere, nothing half-done)."""
    if args.command == "entities":
        return getattr(args, "action", None) in (None, "show")
    return args.command in ("ask", "search", "sources", "transcript")


def _holder(service: Any) -> str:
    from apps.service import ServiceError

    try:
        return f"PID {service.call('ping', timeout=2.0)['pid']}"
    except ServiceError:
        return "a process that stopped answering"


def cmd_serve(settings: Any, args: argparse.Namespace) -> int:
    """The store's owning process until Ctrl-C: the CLI's commands, HTTP and MCP go through it."""
    from apps.server import serve

    def ready(info: dict[str, Any]) -> None:
        from apps.server import load_token

        page = f"{info['url']}/#token={load_token(settings.store)}" if info["token_required"] else f"{info['url']}/"
        token = f"; token: {settings.store / 'server-token'}" if info["token_required"] else " (no token)"
        _stderr(f"serving {settings.store}\n  web page: {page}\n  HTTP API: {info['url']}/api (schema: {info['url']}/docs{token})\n"
                f"  MCP: {'off' if args.no_mcp else info['url'] + '/mcp/'}\n"
                f"  mmagent commands on this store go through it; Ctrl-C stops it")

    return serve(settings, args.host, args.port, token=not args.no_token, ready=ready, mcp=not args.no_mcp)


def cmd_sample(args: argparse.Namespace) -> int:
    from mmagent.samples import make_demo_video

    args.out.parent.mkdir(parents=True, exist_ok=True)
    script = make_demo_video(args.out)
    if args.json:
        print(json.dumps({"path": str(args.out), "script": script}))
    else:
        print(args.out)
    return 0


def _handled() -> tuple[type[BaseException], ...]:
    """The errors that are one line on stderr and exit code 1 (the layers' own, and OS errors)."""
    from memory.errors import MemoryError_
    from mmagent.errors import MMAgentError
    from models.errors import ModelError
    from perception.errors import PerceptionError

    return (MMAgentError, MemoryError_, ModelError, PerceptionError, OSError)


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_third_parties()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:  # the evaluation harness has its own options (bench/harness.py)
        from bench.harness import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    # what this process writes (the store, caches, captures, job states) is this user's alone
    os.umask(os.umask(0o077) | 0o077)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # light imports only until the store is opened here: a command that a running server answers
    # starts in a fraction of a second (the pipeline's imports, numpy and OpenCV among them, are not needed)
    from mmagent.errors import SettingsError
    from mmagent.settings import Settings

    try:
        if args.command == "sample":
            return cmd_sample(args)
        if args.command == "screen":
            return cmd_screen(args)
        if args.command == "app":
            from apps.desktop.window import main as app_main

            return app_main(args.store)
        if args.command == "mcp" and not args.stdio:
            from apps.mcp_server import print_config

            return print_config(Settings.load(store=args.store).store)
        overrides: dict[str, Any] = {"store": args.store, "qdrant_url": args.qdrant_url}
        for name in ("llm", "workers", "ray", "image_model", "captioner"):
            if getattr(args, name, None) is not None:
                overrides[name] = getattr(args, name)
        settings = Settings.load(**overrides)
        if args.command == "serve":
            return cmd_serve(settings, args)
        if args.command == "mcp":
            from apps.mcp_server import run_stdio

            return run_stdio(settings)
        served = {"ask": cmd_ask, "sources": cmd_sources, "index": cmd_index, "search": cmd_search,
                  "entities": cmd_entities, "transcript": cmd_transcript, "forget": cmd_forget}
        if settings.qdrant_url is None:
            from apps.service import Client

            # a process owns the store (mmagent serve, the screen recorder): it answers, with its models loaded
            service = Client.find(settings.store)
            if service is not None:
                if args.command in served and getattr(args, "action", None) != "enroll":
                    from apps.service import ServiceError

                    try:
                        return served[args.command](None, args, service)
                    except ServiceError:
                        # the server stopped (or crashed) mid-request: a read is answered here instead
                        if Client.find(settings.store) is not None or not _reads(args):
                            raise
                        _stderr(f"mmagent: the memory server of {settings.store} stopped answering; "
                                f"opening the store here")
                else:
                    raise SettingsError(f"mmagent {args.command} needs the store to itself, and a memory server holds "
                                        f"{settings.store} ({_holder(service)}): stop it first (Ctrl-C, or mmagent screen stop)")
        from mmagent.pipeline import MMAgent

        if args.command == "doctor":
            return cmd_doctor(settings, args)
        with MMAgent(settings) as agent:
            handler = {**served, "batch": cmd_batch}[args.command]
            return handler(agent, args)
    except OSError as exc:
        from memory.store import free_mb, is_disk_full

        if is_disk_full(exc):  # a write outside the engine (catalog, journal, cache, job state)
            store = getattr(locals().get("settings"), "store", None)
            where = f"store {store}" if store else "the disk"
            free = f", {free_mb(Path(store)):.0f} MB free" if store else ""
            _stderr(f"mmagent: error: {where}: no space left on its disk writing {exc.filename or 'a file'}{free}: "
                    "free some space and run the command again")
        else:
            _stderr(f"mmagent: error: {exc}")
        return 1
    except _handled() as exc:  # evaluated only when something was raised
        _stderr(f"mmagent: error: {exc}")
        return 1
    except KeyboardInterrupt:
        _stderr("mmagent: interrupted; finished sources are kept, the rest resumes on the next run")
        return 130


if __name__ == "__main__":
    sys.exit(main())
