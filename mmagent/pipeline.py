"""The pipeline that wires the layers: index sources into the store, answer questions.

:class:`MMAgent` also holds the store's journal and its check on open (:mod:`mmagent.journal`)
and the people of the store (:mod:`mmagent.people`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import models
from memory.catalog import SourceEntry
from memory.episodic import llm_summarizer
from memory.reduce import REDUCE_VERSION, ReduceReport, Reducer
from memory.store import MemoryStore, Scope, open_store
from models.base import LLM, CachedTextEmbedder, TextEmbedder
from models.errors import ModelError
from perception.decode import probe, source_id_for
from perception.errors import EmptyMedia
from perception.clip_signals import caption_request
from perception.map import Perceiver
from perception.records import ClipObservation
from perception.screens import folder_source_id, list_captures, screen_clips, screens_source_id
from retrieval.answer import Retriever
from retrieval.records import Answer

from mmagent.components import Components
from mmagent.crash import crash_point
from mmagent.errors import SettingsError, SourceNotIndexed
from mmagent.journal import StoreJournal
from mmagent.people import People
from mmagent.runner import ClipProgress, MapReport, run_map
from mmagent.settings import LLM_CHOICES, Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class IndexResult:
    source_id: str
    path: str
    duration: float
    clips: int
    memories_added: int  # episodic memories (clips, scenes, hours, days) written; 0 when already indexed
    seconds: float = 0.0
    reused: bool = False
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason): screenshots not used, damaged stretches skipped
    perception: MapReport | None = None  # how the map stage ran (video sources)
    reduce: ReduceReport | None = None  # what the reduce stage wrote

    def to_json(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "path": self.path,
            "duration": round(self.duration, 3),
            "clips": self.clips,
            "memories_added": self.memories_added,
            "seconds": round(self.seconds, 3),
            **({"perception": {
                "runner": self.perception.runner, "workers": self.perception.workers,
                "clips_computed": self.perception.computed, "clips_reused": self.perception.reused,
                "stage_seconds": {k: round(v, 3) for k, v in sorted(self.perception.stages.items())},
            }} if self.perception else {}),
            **({"reduce": self.reduce.to_json()} if self.reduce else {}),
        }


def _keep(done: SourceEntry | None, tags: tuple[str, ...] | None, name: str | None) -> tuple[tuple[str, ...], str | None]:
    """Tags and name to record: the given ones, else what the source already had."""
    if tags is None:
        tags = done.tags if done else ()
    return tuple(tags), name if name is not None else (done.name if done else None)


class MMAgent(StoreJournal, People):
    """Owns the models (loaded on first use) and the store (opened on first use, locked)."""

    def __init__(self, settings: Settings, resident: bool = False) -> None:
        """``resident``: a long-lived process (the screen recorder's service) that re-reduces the
        same memories often: text embeddings are cached."""
        self.settings = settings
        self.resident = resident
        self.components = Components(settings)
        self._other_llms: dict[str, Components] = {}  # a question asked with another language model
        self._store: MemoryStore | None = None
        self._embedder: TextEmbedder | None = None
        self._perceiver: Perceiver | None = None
        self.last_map: MapReport | None = None
        self._indexing: str | None = None  # the source this process is about to index
        self.verify = True  # check the store's consistency on open (forget, which repairs it, does not)
        self.recover = True  # finish / roll back what the journal recorded on open (``doctor`` looks first)

    # -- components --------------------------------------------------------------------------

    @property
    def embedder(self) -> TextEmbedder:
        if self._embedder is None:
            self._embedder = models.create(
                "text_embedder", "sentence-transformers",
                model_path=self.settings.embed_model, device=self.settings.resolved_device(),
            )
            if not self._embedder.dim:  # a custom model declares its size on load
                self._embedder.ensure_loaded()  # type: ignore[attr-defined]
            if self.resident:
                self._embedder = CachedTextEmbedder(self._embedder)
        return self._embedder

    @property
    def store(self) -> MemoryStore:
        if self._store is None:
            s = self.settings
            self._store = open_store(s.store, self.embedder.model_id, self.embedder.dim, s.qdrant_url, s.collection)
            try:
                if self.recover:
                    self._recover()
                if self.verify:
                    self._check()
            except BaseException:
                self._store.close()
                self._store = None
                raise
        return self._store


    def perceiver(self) -> Perceiver:
        if self._perceiver is None:  # with the threads a pool worker gets: the same results
            self._perceiver = Components(self.settings, self.settings.threads_per_worker()).perceiver()
        return self._perceiver

    def llm(self) -> LLM | None:
        return self.components.llm()

    # -- jobs --------------------------------------------------------------------------------

    def index(self, path: str | Path, on_clip: ClipProgress | None = None, wall_start: float | None = None,
              tags: tuple[str, ...] | None = None, name: str | None = None) -> IndexResult:
        """Index one video or audio file (or a folder of screenshots). ``wall_start``: the
        wall-clock time of the video's start (its memories then carry wall times); ``tags`` and
        ``name`` go into the catalog (``ask --tag``; None keeps what the source had). On any
        error nothing is written."""
        began = time.perf_counter()
        path = Path(path).resolve()
        if path.is_dir():
            return self._index_screens(path, began, tags, name)
        info = probe(path)
        source_id = source_id_for(path)
        perceiver = self.perceiver()
        self._indexing = source_id  # a record of its interrupted index is finished, not rolled back
        store = self.store  # open (and lock) the store before the work
        done = store.get_source(source_id)
        fingerprint = f"{perceiver.fingerprint}+{REDUCE_VERSION}" + (f"@{wall_start:.3f}" if wall_start is not None else "")
        tags, name = _keep(done, tags, name)
        if done is not None and done.perception == fingerprint and done.tags == tags and done.name == name:
            self._end(self._journal() / f"{source_id}.json")  # killed after its catalog entry: it is whole
            return IndexResult(source_id, str(path), done.duration, done.clips, 0, 0.0, reused=True)

        cache = perceiver.cache_dir(self.settings.store / "perception", source_id)
        # the reduce stage's model loads while the last clips are perceived: a core is free then
        last_round = perceiver.options.asr_group * self.settings.resolved_workers()
        start_warm = threading.Event()

        def progress(done: int, total: int) -> None:
            if total - done <= last_round:
                start_warm.set()
            if on_clip:
                on_clip(done, total)

        warm = self._warm_embedder(start_warm)
        try:
            clips, self.last_map = run_map(self.settings, perceiver, path, info, source_id, cache, progress)
        finally:
            start_warm.set()
            warm.join()
        if wall_start is not None:
            clips = [replace(c, wall_start=wall_start + c.start) for c in clips]
        intent = self._begin("indexing", source_id, str(path))
        report = self._remember(clips, path, done, cache)
        memories = sum(n for k, n in report.points.items() if k.startswith("episodic/"))
        crash_point("index:before-catalog")
        store.put_source(SourceEntry(source_id, str(path), info.duration, len(clips), memories, fingerprint,
                                     time.time(), done.seq if done else store.next_seq(), name, tags))
        self._end(intent)
        self._optimize(store)
        damaged = tuple(dict.fromkeys(self.last_map.damaged)) if self.last_map else ()
        return IndexResult(
            source_id, str(path), info.duration, len(clips), memories, time.perf_counter() - began,
            skipped=damaged, perception=self.last_map, reduce=report,
        )

    @staticmethod
    def _optimize(store: MemoryStore) -> None:
        """The store's search indexes brought up to date once a source is whole (the catalog
        entry written: the source counts as indexed even if this is killed)."""
        began = time.perf_counter()
        if store.optimize():
            log.info("search indexes rebuilt in %.1f s", time.perf_counter() - began)

    def _warm_embedder(self, when: threading.Event) -> threading.Thread:
        """Load the text embedder on a thread once ``when`` is set (the main process only waits
        on the perception workers meanwhile); a failure is left for the reduce stage to report."""
        embedder = self.embedder
        load = getattr(embedder, "ensure_loaded", None)

        def run() -> None:
            when.wait()
            try:
                if load is not None:
                    load()
            except Exception as exc:  # noqa: BLE001 - raised again, in one line, where it is used
                log.debug("text embedder did not load ahead: %s", exc)

        thread = threading.Thread(target=run, name="warm-embedder", daemon=True)
        thread.start()
        return thread

    def reducer(self) -> Reducer:
        summarize = None
        if self.settings.summaries == "llm":
            llm, why = self._llm_or_reason()
            if llm is None:
                raise SettingsError(f"MMAGENT_SUMMARIES=llm, but {why}")
            summarize = llm_summarizer(llm)
        return Reducer(self.store, self.embedder, self.settings.reduce_options(), summarize)

    def _remember(self, clips: list[ClipObservation], path: Path, done: SourceEntry | None,
                  cache: Path | None) -> ReduceReport:
        """The reduce stage, only after every clip was perceived; a re-indexed source keeps its
        place in the order of sources (its statements stay as old as they were)."""
        seq = done.seq if done else self.store.next_seq()
        return self.reducer().reduce(clips, str(path), seq, cache)

    def _index_screens(self, folder: Path, began: float, tags: tuple[str, ...] | None = None,
                       name: str | None = None) -> IndexResult:
        """A folder of screenshots: OCR on each distinct capture, clips by wall-clock windows."""
        s = self.settings
        captures, skipped = list_captures(folder)
        source_id = folder_source_id(folder)
        signals = self.perceiver().signals
        fingerprint = "-".join(
            ("screens", screens_source_id(captures), signals["keyframes"], signals.get("captions", "none"), REDUCE_VERSION)
        )
        self._indexing = source_id  # a record of its interrupted index is finished, not rolled back
        store = self.store  # open (and lock) the store before the work
        duration = captures[-1].wall_time - captures[0].wall_time + 1.0
        done = store.get_source(source_id)
        tags, name = _keep(done, tags, name)
        if done is not None and done.perception == fingerprint and done.tags == tags and done.name == name:
            self._end(self._journal() / f"{source_id}.json")  # killed after its catalog entry: it is whole
            return IndexResult(source_id, str(folder), done.duration, done.clips, 0, 0.0, reused=True)
        # a recorder's captures carry the text it read: no OCR model is loaded for them
        ocr = self.components.ocr() if any(c.ocr is None for c in captures) else None
        clips = list(screen_clips(captures, source_id, s.clip_seconds, ocr, 1920, skipped))
        captioner = self.components.captioner()
        if captioner is not None:  # the same captions as video clips get (screenshots as frames)
            clips = [
                replace(c, captions=tuple(captioner.caption(caption_request(c, folder, captioner, 4))))
                for c in clips
            ]
        if not any(k for c in clips for k in c.keyframes):
            raise EmptyMedia(folder, "none of its screenshots could be read")
        intent = self._begin("indexing", source_id, str(folder))
        report = self._remember(clips, folder, done, folder)
        memories = sum(n for k, n in report.points.items() if k.startswith("episodic/"))
        crash_point("index:before-catalog")
        store.put_source(SourceEntry(source_id, str(folder), duration, len(clips), memories, fingerprint,
                                     time.time(), done.seq if done else store.next_seq(), name, tags))
        self._end(intent)
        self._optimize(store)
        return IndexResult(
            source_id, str(folder), duration, len(clips), memories, time.perf_counter() - began,
            skipped=tuple((str(k.path), k.reason) for k in skipped), reduce=report,
        )

    # -- forget ------------------------------------------------------------------------------

    def forget(self, source_id: str) -> ReduceReport:
        """Remove everything derived from an indexed source: its memories, its share of entities
        and facts, its perception cache, its catalog entry. Journaled: a forget killed half way
        is finished by the next command that opens the store."""
        from memory.errors import StoreCorrupt

        try:
            entry = self.store.get_source(source_id)
        except StoreCorrupt:  # a damaged catalog entry: what it stood for goes all the same
            entry = None
        if entry is None and source_id not in self.store.source_ids():
            raise SourceNotIndexed(f"no indexed source {source_id} (see: mmagent sources)")
        path = entry.path if entry else ""
        intent = self._begin("forgetting", source_id, path)
        report = self._drop_source(source_id, cache=True)
        self._end(intent)
        return report


    def ask(self, question: str, sources: tuple[str, ...] = (), before: float | None = None,
            planner: str = "auto", rounds: int = 5, now: float | None = None, llm: str | None = None) -> Answer:
        """``planner``: "auto" (the language model chooses the calls when there is one, rules
        otherwise), "rules", "model", or "single" (one hybrid search, no agent loop: the baseline).
        ``now``: the wall-clock "today" of the question (default: the clock). ``llm``: the language
        model for this question only ("transformers", "openai" or "none"; default: the settings')."""
        from retrieval.agent import Agent, AgentOptions, ModelPlanner, RulePlanner
        from retrieval.tools import MemoryTools

        if planner not in ("auto", "rules", "model", "single"):
            raise SettingsError(f"the planner must be auto, rules, model or single, not {planner!r}")
        if rounds < 1:
            raise SettingsError("--rounds must be at least 1")
        model, why = self._llm_or_reason(llm)
        people = self._people_index()
        retriever = Retriever(self.store, self.embedder, model, llm_unavailable=why, people=people)
        if planner == "single":
            if before is not None:  # facts summarise all time: as of T, only what happened before T
                return retriever.ask(question, Scope(source_ids=sources, kind="episodic", before=before))
            return retriever.ask(question, Scope(source_ids=sources, kinds=("episodic", "semantic"), current=True))
        if planner == "model" and model is None:
            raise SettingsError(f"--planner model needs a language model, but {why}")
        options = AgentOptions(rounds=rounds)
        model_plans = planner == "model" or planner == "auto" and self._model_plans(llm)
        chosen = ModelPlanner(model, options) if model is not None and model_plans else RulePlanner()
        tools = MemoryTools(self.store, self.embedder, people, self.registry, self.components.image(), sources, before)
        return Agent(tools, retriever, chosen, options, now).ask(question)

    def search(self, query: str, sources: tuple[str, ...] = (), limit: int = 20, wall_after: float | None = None,
               wall_before: float | None = None) -> list[Any]:
        """Episodes matching ``query`` (keywords and meaning), as citable evidence, best first."""
        retriever = Retriever(self.store, self.embedder, None)
        scope = Scope(source_ids=sources, kind="episodic", wall_after=wall_after, wall_before=wall_before)
        return retriever.search(query, scope, limit)


    def _model_plans(self, name: str | None) -> bool:
        """Whether ``--planner auto`` lets the language model choose the calls: a model the user
        configured (a server, or a model by path) does; the bundled 135M model does not — on the
        video dev set its choices gave the rule planner's answers to 21 of 21 questions at 8x the
        time (docs/figures.md), so it only phrases answers."""
        return (name or self.settings.llm) == "openai" or self.settings.llm_model is not None

    def _llm_or_reason(self, name: str | None = None) -> tuple[LLM | None, str]:
        """The language model (``name`` for one question, else the settings'), or why there is none."""
        if name is not None and name not in LLM_CHOICES:
            raise SettingsError(f"the language model must be one of {', '.join(LLM_CHOICES)}, not {name!r}")
        if name is None or name == self.settings.llm:
            name, components = self.settings.llm, self.components
        else:  # another model for this question: its own components, kept for the next one (a server)
            components = self._other_llms.get(name)
            if components is None:
                other = self.settings.with_(llm=name)
                other.validate()  # "openai" needs a server's address
                components = self._other_llms[name] = Components(other)
        if name == "none":
            return None, "no language model configured (MMAGENT_LLM=none)"
        llm = components.llm()
        try:
            if hasattr(llm, "ensure_loaded"):
                llm.ensure_loaded()
        except ModelError as exc:
            log.warning("the language model cannot run here: %s", exc)
            if components is self.components:
                self.settings = self.settings.with_(llm="none")
                self.components = Components(self.settings)
            else:
                self._other_llms[name] = Components(self.settings.with_(llm="none"))
            return None, f"the language model cannot run here ({exc})"
        return llm, ""

    def sources(self) -> list[SourceEntry]:
        return self.store.sources()

    def close(self) -> None:
        from mmagent.runner import close_pool

        close_pool()
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> MMAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
