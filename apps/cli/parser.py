"""The ``mmagent`` command's options: one sub-command each, with an example."""

from __future__ import annotations

import argparse
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
