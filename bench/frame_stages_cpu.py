"""CPU-seconds of the map stage's frame signals on one video, in one process, one thread:

    .venv/bin/python -m bench.frame_stages_cpu VIDEO [--clips 7] [--records FILE]

Per clip (spread evenly over the video): its frames (``clip_frames_pyav``: floor rate + scene
cuts), its audio as the speaker turns decode it (``clip_audio`` with the ASR padding), face tracks
(``face_tracks``) and keyframes with OCR (``keyframes_of``), with the default settings and models.
CPU time (``getrusage``: user + system), not wall time, so a busy machine changes it little;
the models' one-time loads fall in the first clip. ``--records`` writes what each clip gave
(frame times and pixels' md5, cuts, face tracks with their embeddings, OCR lines, keyframe JPEG
names) to compare two versions for identical output."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import tempfile
from pathlib import Path


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path)
    parser.add_argument("--clips", type=int, default=7)
    parser.add_argument("--records", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from mmagent.components import Components
    from mmagent.settings import Settings
    from perception.clip_signals import keyframes_of
    from perception.decode import FRAME_BACKENDS, clip_audio, clip_spans, probe
    from perception.faces import face_tracks
    from perception.map_settings import PerceptionOptions

    work = Path(tempfile.mkdtemp(prefix="mmagent-framecpu-"))
    components = Components(Settings(store=work / "store"), threads=1)
    face, ocr, o = components.face(), components.ocr(), PerceptionOptions()
    spans = clip_spans(probe(args.video).duration, o.clip_seconds)
    picked = list(range(0, len(spans), max(1, len(spans) // args.clips)))[: args.clips]
    seconds = {"frames": 0.0, "audio": 0.0, "faces": 0.0, "keyframes_ocr": 0.0}
    records = []
    for i in picked:
        span = spans[i]
        began = cpu()
        clip_audio(args.video, span, o.asr_pad)
        seconds["audio"] += cpu() - began
        began = cpu()
        frames, cuts, _until = FRAME_BACKENDS[o.decoder](args.video, span, o.keyframe_interval, o.frame_max_side, o.scene)
        seconds["frames"] += cpu() - began
        began = cpu()
        faces = face_tracks(frames, face, o.faces, work, i, cuts) if face is not None else ()
        seconds["faces"] += cpu() - began
        began = cpu()
        keyframes = keyframes_of(frames, cuts, work, i, ocr, o.change, o.distinct_tiles,
                                 o.keyframe_jpeg_side if o.save_keyframes else None)
        seconds["keyframes_ocr"] += cpu() - began
        records.append({
            "clip": i, "times": [t for t, _ in frames], "cuts": sorted(cuts),
            "pixels": hashlib.md5(b"".join(image.tobytes() for _, image in frames)).hexdigest(),
            "faces": [[f.track, f.start, f.end, list(f.box), f.score, f.sightings, list(f.times),
                       [round(x, 4) for x in f.embedding]] for f in faces],
            "keyframes": [[k.t, k.ocr_ran, [line.text for line in k.ocr], k.image, k.scene] for k in keyframes],
        })
    if args.records:
        args.records.write_text(json.dumps(records))
    print(json.dumps({"clips": len(picked), "cpu_seconds": {k: round(v, 2) for k, v in seconds.items()}}, indent=2))


if __name__ == "__main__":
    main()
