"""The NLP layer's share of the reduce stage, on the clips of a real indexed store.

    python -m bench.nlp_share [--store DIR] [--repeat 3] [--out FILE]

Reads the perceived clips of every video source of ``--store`` from its perception cache (no
perception is run again), and reduces them, warm (models loaded by a first, unmeasured reduce),
into a fresh temporary store three ways:

- ``shared``: as indexing does — one parse per text (:func:`memory.nlp.parse` caches; the
  texts the claims read are parsed ahead in one batch, :func:`memory.nlp.parse_all`), the
  claims and the names read from it;
- ``fresh``: every caller parses its text again, one text at a time (the parse cache and the
  batch switched off), the cost the shared, batched parse saves;
- ``off``: the NLP layer's work skipped (claims, names, instruction flags and value canonical
  forms return nothing), the reduce stage without it.

and reports the process CPU-seconds of each reduce (the median of ``--repeat`` runs), the CPU
seconds spent inside the NLP layer's entry points during the ``shared`` and ``fresh`` runs, and
the share the NLP layer adds: (shared - off) / off. Every cache of the NLP layer is emptied
before each run, so each run parses as a first index does.

Default store: the video dev set's store (``python -m bench.devqa --set video`` builds it under
``/tmp/devqa-stores``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _clips(store: Path) -> list[tuple[str, list[Any], Path]]:
    """(source path, clips, cache folder) of each video source of the store, from its perception cache."""
    from memory.catalog import Catalog
    from perception.records import ClipObservation

    out = []
    for entry in Catalog(store).all():
        files = sorted((store / "perception" / entry.source_id).glob("clips-*/clip_*.json"))
        clips = [ClipObservation.from_json(json.loads(f.read_text())["observation"]) for f in files]
        if clips:
            out.append((entry.path, clips, files[0].parent))
    return out


class _Meter:
    """CPU-seconds spent inside the wrapped functions (outermost calls only), in all and by name."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.by_name: dict[str, float] = {}
        self._depth = 0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            began = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    spent = time.process_time() - began
                    self.seconds += spent
                    self.by_name[name] = self.by_name.get(name, 0.0) + spent

        return timed


# the NLP layer's entry points in the reduce stage: (module, attribute, what it returns when off)
_ENTRY_POINTS: list[tuple[str, str, Callable[..., Any]]] = [
    ("memory.semantic", "claims_of", lambda said: [() for _ in said]),
    ("memory.names", "self_introductions", lambda *a, **k: []),
    ("memory.names", "addressed", lambda *a, **k: []),
    ("memory.names", "name_tags", lambda *a, **k: []),
    ("memory.instructions", "flags", lambda *a, **k: ()),
]


def _clear_caches() -> None:
    from memory import nlp, semantic, values

    nlp.clear_parses()
    semantic._claimed.clear()
    for fn in (nlp.digits, values.canonical_value):
        fn.cache_clear()


@contextmanager
def _mode(mode: str, meter: _Meter) -> Iterator[None]:
    import importlib

    from memory import nlp

    saved: list[tuple[Any, str, Any]] = []

    def patch(obj: Any, name: str, value: Any) -> None:
        saved.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    for module, name, off in _ENTRY_POINTS:
        mod = importlib.import_module(module)
        if mode == "off":
            patch(mod, name, off)
        else:
            patch(mod, name, meter.wrap(name, getattr(mod, name)))
    if mode == "fresh":
        patch(nlp, "parse", lambda text: nlp.pipeline()(text))
        patch(nlp, "parse_all", lambda texts: None)
    try:
        yield
    finally:
        for obj, name, value in reversed(saved):
            setattr(obj, name, value)


def _reduce_once(sources: list[tuple[str, list[Any], Path]], embedder: Any, mode: str) -> tuple[float, _Meter]:
    from memory.reduce import Reducer
    from memory.store import open_store

    meter = _Meter()
    with tempfile.TemporaryDirectory(prefix="mmagent-nlpshare-") as folder:
        store = open_store(Path(folder), embedder.model_id, embedder.dim, None, "mmagent")
        try:
            reducer = Reducer(store, embedder)
            _clear_caches()
            with _mode(mode, meter):
                began = time.process_time()
                for seq, (path, clips, cache) in enumerate(sources):
                    reducer.reduce(clips, path, seq, cache)
                seconds = time.process_time() - began
        finally:
            store.close()
    return seconds, meter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nlp_share", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="an indexed store (default: the newest video dev-set store)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    store = args.store or max(Path("/tmp/devqa-stores").glob("video-*"), key=lambda p: p.stat().st_mtime, default=None)
    if store is None or not (store / "perception").is_dir():
        raise SystemExit(f"no indexed store with a perception cache at {store} (run python -m bench.devqa --set video)")
    sources = _clips(store)
    if not sources:
        raise SystemExit(f"{store} holds no video source with cached clips")
    import models
    from mmagent.settings import Settings

    settings = Settings.load(store=store)
    embedder = models.create("text_embedder", "sentence-transformers", model_path=settings.embed_model,
                             device=settings.resolved_device())
    if not embedder.dim:
        embedder.ensure_loaded()
    _reduce_once(sources, embedder, "shared")  # warm: the embedder, the parser, the lexicon
    runs: dict[str, list[tuple[float, _Meter]]] = {m: [] for m in ("shared", "fresh", "off")}
    for _ in range(args.repeat):
        for mode in runs:
            runs[mode].append(_reduce_once(sources, embedder, mode))
    median = {m: statistics.median(s for s, _ in r) for m, r in runs.items()}
    inside = {m: statistics.median(meter.seconds for _, meter in r) for m, r in runs.items() if m != "off"}
    report = {
        "store": str(store), "sources": len(sources), "clips": sum(len(c) for _, c, _ in sources),
        "words": sum(len(t.text.split()) for _, clips, _ in sources for c in clips for t in c.turns),
        "repeat": args.repeat,
        "reduce_cpu_s": {m: round(v, 3) for m, v in median.items()},
        "nlp_cpu_s": {m: round(v, 3) for m, v in inside.items()},
        # by entry point: the run whose NLP total is the median
        "nlp_cpu_s_by_entry": {m: {k: round(v, 3) for k, v in sorted(
                                   sorted(r, key=lambda run: run[1].seconds)[len(r) // 2][1].by_name.items())}
                               for m, r in runs.items() if m != "off"},
        "nlp_share_of_reduce": round((median["shared"] - median["off"]) / median["off"], 3),
        "nlp_inside_share": round(inside["shared"] / median["shared"], 3),
        "fresh_parse_extra_cpu_s": round(median["fresh"] - median["shared"], 3),
        "command": "python -m bench.nlp_share " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
