"""Issue 18: a video with a few flipped bytes at 1.2 s is indexed but for the damaged stretch,
with a warning naming the file and the time range skipped (it was rejected whole)."""

from __future__ import annotations

import json
from pathlib import Path

from apps.cli import main
from tests.conftest import GRID, need
from tests.faults import cli


def _flip_near(path: Path, out: Path, start: float, end: float) -> int:
    """Flip bytes inside the audio and video packets between ``start`` and ``end`` seconds."""
    import av

    data = bytearray(path.read_bytes())
    flipped = 0
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is None or packet.pos is None or packet.size < 40:
                continue
            t = float(packet.pts * packet.time_base)
            if start <= t <= end:
                for k in range(8, 40, 8):
                    data[packet.pos + k] ^= 0xA5
                flipped += 1
    out.write_bytes(bytes(data))
    return flipped


def test_flipped_bytes_skip_their_stretch_not_the_file(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mmagent.samples import concat_videos

    whole = tmp_path / "two.mp4"
    concat_videos([need(GRID / "bbaf2n.mpg"), GRID / "lbax4n.mpg"], whole)
    damaged = tmp_path / "flipped.mp4"
    assert _flip_near(whole, damaged, 1.15, 1.3) >= 2
    store = str(tmp_path / "store")
    code = main(["index", str(damaged), "--store", store, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    source = json.loads(out)["sources"][0]
    assert source["memories_added"] >= 1
    reasons = [s["reason"] for s in source["skipped"] if s["path"] == str(damaged)]
    assert reasons and all("that stretch skipped, the rest indexed" in r for r in reasons)
    assert any("data at 1.2-" in r or "data at 1.1-" in r for r in reasons), reasons
    warned = [line for line in err.splitlines() if line.startswith(f"mmagent: warning: {damaged}: damaged")]
    assert len(warned) == len(reasons) and all(line.endswith("the rest indexed") for line in warned), err
    code = main(["ask", "lay blue at x four now", "--store", store, "--json", "--llm", "none"])
    doc = json.loads(capsys.readouterr()[0])
    assert doc["evidence"] and doc["evidence"][0]["start"] >= 2.5  # the undamaged second sentence is found


def test_skipped_ranges_are_reported_under_ray_as_in_the_local_path(capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """With ``--ray local`` the clips are decoded in Ray tasks: the stretches they skip reach
    ``index`` (``skipped`` in --json, one warning each), the same ones the local path names."""

    from mmagent.samples import concat_videos

    whole = tmp_path / "two.mp4"
    concat_videos([need(GRID / "bbaf2n.mpg"), GRID / "lbax4n.mpg"], whole)
    damaged = tmp_path / "flipped.mp4"
    assert _flip_near(whole, damaged, 1.15, 1.3) >= 2
    assert main(["index", str(damaged), "--store", str(tmp_path / "local"), "--json"]) == 0
    local = {s["reason"] for s in json.loads(capsys.readouterr()[0])["sources"][0]["skipped"]}
    assert local

    done = cli("index", str(damaged), "--store", str(tmp_path / "ray"), "--json", "--ray", "local", "--workers", "1",
               env={"RAY_AUTH_MODE": "disabled"}, timeout=900)
    assert done.returncode == 0, done.stderr
    source = json.loads(done.stdout)["sources"][0]
    assert source["perception"]["runner"] == "ray"
    reasons = {s["reason"] for s in source["skipped"] if s["path"] == str(damaged)}
    assert reasons == local, (reasons, local)
    warned = [line for line in done.stderr.splitlines() if line.startswith(f"mmagent: warning: {damaged}: damaged")]
    assert len(warned) == len(reasons), done.stderr
