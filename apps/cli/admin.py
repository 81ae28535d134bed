"""The commands around a store: doctor (check, repair), screen (the recorder's process), serve
(the store's owning process), sample (the quick start's video)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from apps.cli.output import ago, to_stderr


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
        ages = [f"{what} {ago(status.get(key))}" for key, what in (
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


def cmd_serve(settings: Any, args: argparse.Namespace) -> int:
    """The store's owning process until Ctrl-C: the CLI's commands, HTTP and MCP go through it."""
    from apps.server import serve

    def ready(info: dict[str, Any]) -> None:
        from apps.server import load_token

        page = f"{info['url']}/#token={load_token(settings.store)}" if info["token_required"] else f"{info['url']}/"
        token = f"; token: {settings.store / 'server-token'}" if info["token_required"] else " (no token)"
        to_stderr(f"serving {settings.store}\n  web page: {page}\n  HTTP API: {info['url']}/api (schema: {info['url']}/docs{token})\n"
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
