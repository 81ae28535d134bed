"""Property-based tests (hypothesis) of every parser of outside input: capture sidecars, batch
manifests (JSONL / CSV), the recorder's privacy rules, question parsing and the HTTP API's
parameters. Whatever the input, the parser answers or refuses with the project's own error
(one line), never a traceback, and nothing already stored changes.

Example counts are small (CI: 2 cores, the whole file in well under a minute); hypothesis keeps
the failing examples it finds in ``.hypothesis/`` and replays them first.
"""

from __future__ import annotations

import hashlib
import json
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mmagent.errors import SettingsError  # noqa: E402
from perception.errors import PerceptionError  # noqa: E402

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
SLOW = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])

# any JSON value: what a sidecar, a manifest row or a rules file can hold
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)
FIELDS = ("time", "app", "window", "ocr", "text", "score", "box", "path", "start", "tags", "name")
# objects with the keys the parsers look for, holding anything
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)
ocr_lists = st.lists(st.dictionaries(st.sampled_from(("text", "score", "box")), json_values, max_size=3), max_size=3)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


def _tree(root: Path) -> dict[str, str]:
    """A hash of every file under ``root``: what is stored."""
    return {str(p.relative_to(root)): hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


# -- capture sidecars ------------------------------------------------------------------------


sidecars = st.one_of(objects.map(_dumps), json_values.map(_dumps), st.binary(max_size=64).map(lambda b: b.decode("latin-1")))
recorded_ocr = st.one_of(st.none(), ocr_lists)


def check_sidecar(folder: Path, png: bytes, sidecar: str, recorded: Any, picture: bool) -> None:
    """A folder with one capture whose sidecar is ``sidecar`` is read, or refused in one line."""
    from perception.screens import list_captures, screen_clips

    if recorded is not None and sidecar.startswith("{"):
        data = json.loads(sidecar)
        if isinstance(data, dict):
            sidecar = _dumps({**data, "ocr": recorded})
    (folder / "c1.json").write_text(sidecar)
    if picture:
        (folder / "c1.png").write_bytes(png)
    try:
        captures, skipped = list_captures(folder)
    except PerceptionError as exc:  # no usable capture: one line naming the folder
        assert str(folder) in str(exc) and "\n" not in str(exc)
        return
    assert all(isinstance(s.reason, str) for s in skipped)
    for c in captures:
        assert isinstance(c.wall_time, float) and c.wall_time == c.wall_time  # a number, never NaN
        assert c.app is None or isinstance(c.app, str)
        assert c.window is None or isinstance(c.window, str)
    recorded_only = [c for c in captures if c.ocr is not None]
    if recorded_only:  # the recorder's read text is used as it is (no OCR model)
        clips = list(screen_clips(recorded_only, "screens-fuzz", 30.0, None, 1920, skipped))
        assert all(c.end >= c.start for c in clips)


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 32), "white").save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def png() -> bytes:
    return png_bytes()


@FAST
@given(sidecar=sidecars, recorded=recorded_ocr, picture=st.booleans())
def test_any_sidecar_is_read_or_ignored_with_a_reason(tmp_path_factory: pytest.TempPathFactory, png: bytes,
                                                      sidecar: str, recorded: Any, picture: bool) -> None:
    check_sidecar(tmp_path_factory.mktemp("shots"), png, sidecar, recorded, picture)


# -- batch manifests -------------------------------------------------------------------------


jsonl_rows = st.lists(objects, min_size=1, max_size=4)
csv_cells = st.text(alphabet=string.printable.replace("\x0b", "").replace("\x0c", ""), max_size=20)
csv_headers = st.lists(st.sampled_from(("path", "start", "tags", "name", "other")), min_size=1, max_size=4, unique=True)
csv_bodies = st.lists(st.lists(csv_cells, min_size=0, max_size=5), max_size=4)


def check_jsonl(folder: Path, rows: list[dict[str, Any]]) -> None:
    spec = folder / "lib.jsonl"
    spec.write_text("\n".join(_dumps(r) for r in rows) + "\n")
    _discover_cleanly(spec)


def check_csv(folder: Path, header: list[str], body: list[list[str]], raw: str) -> None:
    spec = folder / "lib.csv"
    spec.write_text(",".join(header) + "\n" + "\n".join(",".join(r) for r in body) + "\n" + raw)
    _discover_cleanly(spec)


@FAST
@given(rows=jsonl_rows)
def test_any_jsonl_manifest_is_read_or_refused_in_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                           rows: list[dict[str, Any]]) -> None:
    check_jsonl(tmp_path_factory.mktemp("jsonl"), rows)


@FAST
@given(header=csv_headers, body=csv_bodies, raw=st.text(max_size=60))
@example(header=["path"], body=[["~0"]], raw="")  # found: expanduser of no user's home raised RuntimeError
@example(header=["path"], body=[], raw="\x00")  # found: a NUL in a path raised ValueError
def test_any_csv_manifest_is_read_or_refused_in_one_line(tmp_path_factory: pytest.TempPathFactory, header: list[str],
                                                         body: list[list[str]], raw: str) -> None:
    check_csv(tmp_path_factory.mktemp("csv"), header, body, raw)


def _discover_cleanly(spec: Path) -> None:
    from mmagent.batch import discover

    try:
        sources = discover(spec)
    except SettingsError as exc:
        assert spec.name in str(exc) and "\n" not in str(exc).strip(), exc
        return
    for s in sources:
        assert isinstance(s.path, str) and all(isinstance(t, str) for t in s.tags or ())
        assert s.start is None or (isinstance(s.start, float) and -3e9 < s.start < 8e9), s
        assert s.error == "" or s.error.startswith("manifest"), s


# -- the recorder's privacy rules --------------------------------------------------------------


rules_values = st.one_of(json_values, st.dictionaries(st.sampled_from(("excluded_apps", "excluded_titles", "redact")),
                                                     json_values, max_size=3))
apps_ = st.one_of(st.none(), st.text(max_size=20))
titles = st.one_of(st.none(), st.text(max_size=40))


def check_rules(rules: Any, app: str | None, title: str | None) -> None:
    from apps.screen_privacy import PrivacyRules, excluded

    try:
        parsed = PrivacyRules.from_json(rules)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        parsed = PrivacyRules()
    assert PrivacyRules.from_json(parsed.to_json()) == parsed
    why = excluded(parsed, app, title)
    assert why is None or isinstance(why, str)


@FAST
@given(rules=rules_values, app=apps_, title=titles)
def test_any_rules_file_is_taken_or_refused_and_matching_never_fails(rules: Any, app: str | None, title: str | None) -> None:
    check_rules(rules, app, title)


# -- questions -------------------------------------------------------------------------------


questions = st.text(min_size=1, max_size=120)


def check_question(text: str) -> None:
    from retrieval.question import parse

    if not text.split():
        return
    q = parse(" ".join(text.split()), {"dana": ("person_1",), "priya": ("person_2",)}, 1795165200.0)
    assert q.text and isinstance(q.key_terms, (list, tuple))
    json.dumps(q.to_json())


@FAST
@given(text=questions)
def test_any_question_parses(text: str) -> None:
    check_question(text)


ask_questions = st.one_of(st.text(min_size=1, max_size=80),
                          st.sampled_from(["who said it first, Dana or Priya?", "what was on screen at 99999999 s?",
                                           "the 1000000th person on camera", "yesterday at 25:99", "'; DROP TABLE --"]))
read_endpoints = st.sampled_from(["search", "timeline", "transcript", "frame", "entity"])
params = st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=True, allow_infinity=True)).map(str)
ask_bodies = st.one_of(json_values, st.dictionaries(st.sampled_from(("question", "source", "tag", "before", "planner",
                                                                     "rounds", "trace")), json_values, max_size=5))


def check_ask(client: Any, store: Path, body: Any) -> None:
    """An ask request with any body is answered or refused (4xx), and changes nothing stored."""
    before = _tree(store)
    response = client.post("/api/ask", content=_dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (body, response.status_code, response.text[:300])
    assert _tree(store) == before


def check_read(client: Any, store: Path, endpoint: str, source: str, value: str, number: str) -> None:
    """A read request with any parameters is answered or refused (4xx), and changes nothing stored."""
    from urllib.parse import quote

    before = _tree(store)
    s = quote(source, safe="") or "x"
    url, query = {
        "search": ("/api/search", {"q": value, "limit": number, "source": source}),
        "timeline": (f"/api/sources/{s}/timeline", {}),
        "transcript": (f"/api/sources/{s}/transcript", {"format": value, "words": number}),
        "frame": (f"/api/sources/{s}/frame", {"t": number}),
        "entity": (f"/api/entities/{s}", {}),
    }[endpoint]
    response = client.get(url, params=query)
    assert response.status_code < 500, (url, query, response.status_code, response.text[:300])
    assert _tree(store) == before


@contextmanager
def serving(root: Path) -> Iterator[tuple[Any, Path]]:
    """A real store (a recorder's day folder: no OCR model) behind the HTTP API, in process."""
    from fastapi.testclient import TestClient

    from apps.cli import main
    from apps.http_api import make_app
    from apps.server import StoreServer
    from mmagent import MMAgent, Settings

    day = root / "day"
    day.mkdir(parents=True)
    for k in range(4):
        (day / f"c{k}.json").write_text(json.dumps({
            "time": 1795165200 + 40 * k, "app": "Mail", "window": f"Inbox {k}",
            "ocr": [{"text": f"Invoice {4400 + k} from Globex is due on day {k}", "score": 0.99, "box": []}]}))
    store = root / "store"
    assert main(["index", str(day), "--store", str(store)]) == 0
    agent = MMAgent(Settings.load(env={}, store=store, llm="none", workers=1))
    agent.store  # noqa: B018 - opened (and locked) once, before the requests
    app = make_app(StoreServer(agent, threading.RLock(), lambda: {"kind": "test"}), None, mcp=False)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, store
    finally:
        agent.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    with serving(tmp_path_factory.mktemp("fuzz-store")) as pair:
        yield pair


@SLOW
@given(text=ask_questions)
def test_any_question_is_answered_or_refused_and_the_store_is_unchanged(served: tuple[Any, Path], text: str) -> None:
    check_ask(*served, {"question": text, "planner": "rules"})


@SLOW
@given(endpoint=read_endpoints, source=st.text(max_size=20), value=params, number=params)
def test_any_read_request_is_answered_or_refused_and_the_store_is_unchanged(served: tuple[Any, Path], endpoint: str,
                                                                            source: str, value: str, number: str) -> None:
    check_read(*served, endpoint, source, value, number)


@SLOW
@given(body=ask_bodies)
def test_any_ask_body_is_answered_or_refused(served: tuple[Any, Path], body: Any) -> None:
    check_ask(*served, body)


# -- damaged real media ----------------------------------------------------------------------

cuts = st.floats(min_value=0.0, max_value=1.0)
flips = st.lists(st.tuples(st.floats(min_value=0.0, max_value=1.0), st.integers(min_value=1, max_value=255)), max_size=6)


def check_media(original: bytes, out: Path, cut: float, flipped: list[tuple[float, int]]) -> None:
    """A real video cut at ``cut`` of its length with bytes flipped at the ``flipped`` offsets is
    probed and decoded clip by clip, or refused with the project's one-line error."""
    from perception.decode import clip_audio, clip_frames_pyav, clip_spans, probe

    data = bytearray(original[: max(1, int(len(original) * cut))])
    for where, mask in flipped:
        data[min(len(data) - 1, int(len(data) * where))] ^= mask
    out.write_bytes(bytes(data))
    try:
        info = probe(out)
        for span in clip_spans(info.duration, 30.0):
            audio, _, _ = clip_audio(out, span, 0.5)
            frames, _, _ = clip_frames_pyav(out, span, 2.0, 160)
            assert audio.ndim == 1 and all(f.ndim == 3 for _, f in frames)
    except PerceptionError as exc:
        assert str(exc) and "\n" not in str(exc).strip(), exc


@pytest.fixture(scope="module")
def real_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A GRID clip as recorded (MPEG-PS) and two of them joined into an MP4 (H.264 + AAC)."""
    from mmagent.samples import concat_videos
    from tests.conftest import GRID, need

    joined = tmp_path_factory.mktemp("real") / "two.mp4"
    concat_videos([need(GRID / "bbaf2n.mpg"), GRID / "lbax4n.mpg"], joined)
    return {"mpg": (GRID / "bbaf2n.mpg").read_bytes(), "mp4": joined.read_bytes()}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(["mpg", "mp4"]), cut=cuts, flipped=flips)
def test_a_real_video_cut_and_bit_flipped_decodes_or_is_refused(tmp_path_factory: pytest.TempPathFactory,
                                                                real_videos: dict[str, bytes], kind: str, cut: float,
                                                                flipped: list[tuple[float, int]]) -> None:
    check_media(real_videos[kind], tmp_path_factory.mktemp("media") / f"damaged.{kind}", cut, flipped)
