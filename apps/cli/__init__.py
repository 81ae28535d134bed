"""The ``mmagent`` command. The only place that turns exceptions into exit codes.

Exit codes: 0 success (an honest "not found in memory" included), 1 an error (bad input,
store in use, ...; one line on stderr naming the file and the reason), 2 usage errors.

The parts: :mod:`.parser` (the options), :mod:`.store_commands` (the commands on a store's
memory), :mod:`.admin` (doctor, screen, serve, sample), :mod:`.output` (what they print);
``main`` here picks the process that answers (a running memory server, else the store opened here).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from apps.cli.admin import cmd_doctor, cmd_sample, cmd_screen, cmd_serve
from apps.cli.output import to_stderr
from apps.cli.parser import build_parser
from apps.cli.store_commands import (
    cmd_ask, cmd_batch, cmd_entities, cmd_forget, cmd_index, cmd_search, cmd_sources, cmd_transcript,
)


def _quiet_third_parties() -> None:
    # offline by default: models come from packages or local paths (set HF_HUB_OFFLINE=0 to allow the hub)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


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
                        to_stderr(f"mmagent: the memory server of {settings.store} stopped answering; "
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
        from memory.store_folder import free_mb, is_disk_full

        if is_disk_full(exc):  # a write outside the engine (catalog, journal, cache, job state)
            store = getattr(locals().get("settings"), "store", None)
            where = f"store {store}" if store else "the disk"
            free = f", {free_mb(Path(store)):.0f} MB free" if store else ""
            to_stderr(f"mmagent: error: {where}: no space left on its disk writing {exc.filename or 'a file'}{free}: "
                    "free some space and run the command again")
        else:
            to_stderr(f"mmagent: error: {exc}")
        return 1
    except _handled() as exc:  # evaluated only when something was raised
        to_stderr(f"mmagent: error: {exc}")
        return 1
    except KeyboardInterrupt:
        to_stderr("mmagent: interrupted; finished sources are kept, the rest resumes on the next run")
        return 130
