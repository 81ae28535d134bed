"""The commands on a store's memory (index, ask, search, sources, entities, transcript, forget,
batch): each a server can answer too (``service``), but batch, which needs the store to itself."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from apps.cli.output import ClipBar, fmt_time, person_line, to_stderr, trace_line, where


def cmd_index(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from perception.screens import capture_folders

    # a recorder's folder holds one folder of captures per day: each day is a source
    paths = [str(p.resolve()) for raw in args.paths
             for p in (capture_folders(Path(raw)) if Path(raw).is_dir() else [Path(raw)])]
    if service is not None:  # the running memory service indexes them (it holds the store)
        to_stderr(f"indexing {len(paths)} path(s) in the running memory service ...")
        doc = service.call("index", paths=paths)
        for e in doc.get("errors", ()):
            to_stderr(f"mmagent: error: {e['path']}: {e['error']}")
    else:
        from apps.service import index_doc

        def each(path: str, res: Any, error: Exception | None) -> None:
            if error is not None:
                to_stderr(f"mmagent: error: {error}")
            elif res.perception and args.verbose:
                m = res.perception
                stages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(m.stages.items(), key=lambda kv: -kv[1]))
                to_stderr(f"  perception: {m.runner} x{m.workers}, {m.computed} clips computed, {m.reused} reused; "
                        f"seconds per stage, summed over workers: {stages}")

        def bar(path: str) -> ClipBar:
            to_stderr(f"indexing {path} ...")
            return ClipBar(Path(path).name)

        doc = index_doc(agent, paths, bar, each)
    for r in doc["sources"]:
        for skipped in r.get("skipped", ()):
            done = "" if skipped["reason"].endswith(("ignored", "used", "indexed")) else ", skipped"  # a part, or the file
            to_stderr(f"mmagent: warning: {skipped['path']}: {skipped['reason']}{done}")
        if r["reused"]:
            to_stderr(f"{r['path']}: already indexed ({r['clips']} clips), nothing added")
        else:
            rtf = r["seconds"] / r["duration"] if r["duration"] else 0.0
            to_stderr(f"{r['path']}: {r['clips']} clips, {r['memories_added']} memories added in {r['seconds']:.1f} s "
                    f"(real-time factor {rtf:.3f})")
    if args.json:
        print(json.dumps({"sources": [{k: v for k, v in r.items() if k != "reused"} for r in doc["sources"]],
                          **({"errors": doc["errors"]} if doc.get("errors") else {})}))
    else:
        for r in doc["sources"]:
            print(f"{r['source_id']}  {r['path']}  {fmt_time(r['duration'])}  clips={r['clips']}  added={r['memories_added']}")
    return 1 if doc.get("errors") else 0


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
        print(trace_line(step))
    print(doc["answer"])
    if doc.get("note"):
        print(f"  ({doc['note']})")
    if doc["evidence"]:
        print("Evidence:")
        for k, e in enumerate(doc["evidence"], 1):
            print(f"  [{k}] {where(e)} {e['modality']}: \"{e['text']}\"  (score {e['score']:.2f})")
        if any(e.get("image") for e in doc["evidence"]):
            print("  (a capture whole, as a PNG: mmagent screen show CAPTURE.webp; or browse them in mmagent app)")
    to_stderr(f"answered in {time.perf_counter() - began:.1f} s" + (" by the running memory service" if service else ""))
    return 0


def _person_json(p: Any) -> dict[str, Any]:
    from apps.store_docs import person_json

    return person_json(p)


def _find_person(agent: Any, wanted: str) -> Any:
    from apps.store_docs import find_person

    return find_person(agent, wanted)


def cmd_entities(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    from apps.store_docs import entities_doc, entity_doc, rename_doc

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
        print(person_line(person))
        for e in person["evidence"]:
            if "name" in e:
                print(f"  name {e['name']!r} ({e['how']}, {e['entity']}, {e['source_id']} {fmt_time(e['t'])}) {e['text']}")
            else:
                print(f"  {e['voice']} speaks while {e['face']} is on screen: {e['seconds']:.1f} s over {e['turns']} turns")
        for f in detail["facts"]:
            print(f"  fact: {f['text']}  (support {f['support']})")
        for ep in detail["episodes"]:
            print(f"  {ep['source_id'][:12]} {fmt_time(ep['start'])}-{fmt_time(ep['end'])}: {ep['text'][:160]!r}")
        return 0
    doc = service.call("entities") if service else entities_doc(agent)
    if args.json:
        print(json.dumps({"entities": [{k: v for k, v in e.items() if k != "face_images"} for e in doc["entities"]]}))
    elif not doc["entities"]:
        print("no people in this store yet")
    for p in doc["entities"] if not args.json else ():
        print(person_line(p))
    return 0


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
            to_stderr(f"[{c['done'] + c['failed'] + 1}/{c['total']}] {path} ...")
            return
        hours = sum(s.duration for s in state.sources.values() if s.status == "done" and not s.reused) / 3600
        spent = (time.monotonic() - began) / 3600
        rate = f", {hours / spent:.1f} h of footage per hour" if spent > 0 and hours > 0 else ""
        finished = sum(1 for s in state.sources.values() if s.status != "pending")
        left = c["total"] - finished
        eta = f", ETA {fmt_time(spent * 3600 / max(finished, 1) * left)}" if left else ""
        what = {"done": f"done ({entry.clips} clips, {entry.seconds:.1f} s)" + (" — already indexed" if entry.reused else ""),
                "failed": f"FAILED: {entry.error}", "retry": f"failed ({entry.error}), retrying"}[event]
        to_stderr(f"  {what}  [{c['done']} done, {c['failed']} failed of {c['total']}; {hours:.2f} h indexed{rate}{eta}]")

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
    from apps.store_docs import forget_doc

    doc = service.call("forget", source=args.source) if service else forget_doc(agent, args.source)
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"forgot {doc['forgotten']}: {doc['deleted']} points removed, {doc['written']} updated")
    return 0


def cmd_transcript(agent: Any, args: argparse.Namespace, service: Any = None) -> int:
    """Names are read from the entities now: a rename shows on every line of that voice."""
    from apps.store_docs import transcript_doc
    from mmagent.errors import SettingsError

    fmt = args.format or ("json" if args.json else "text")
    if args.json and fmt != "json":
        raise SettingsError(f"--json prints the JSON transcript: drop --format {fmt}, or drop --json")
    if args.words and fmt != "json":
        raise SettingsError("--words lists the words of each segment in the JSON transcript: add --format json")
    request = {"source": args.source, "format": fmt, "words": args.words}
    doc = service.call("transcript", **request) if service else transcript_doc(agent, **request)
    if not (doc.get("segments") or doc.get("turns") if fmt == "json" else doc.get("text", "").strip()):
        to_stderr(f"{args.source}: no speech was recognised in it")
    elif fmt == "rttm" and doc.get("turns_from") == "words":
        to_stderr(f"{args.source}: no diarized speaker turns are kept for it (indexed without a diarizer, or by an older "
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
        print(f"[{k}] {where(e)} {e['modality']}: \"{e['text']}\"  (score {e['score']:.2f})")
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
            print(f"{e['source_id']}  {e['path']}  {fmt_time(e['duration'])}  clips={e['clips']}  memories={e['memories']}")
        if not doc["sources"]:
            print("no sources indexed in this store")
    return 0
