"""Sample media for the quick start, the tests and the benchmarks, built from real inputs.

- :func:`concat_videos` joins real clips (e.g. the GRID talking faces) into one video and says
  where each input landed.
- :func:`make_demo_video` renders a short "meeting" from slides (Pillow) and synthetic speech
  (Debian's ``espeak-ng``): things said and things shown, at known times.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mmagent.errors import MMAgentError

RATE = 16000


@dataclass(frozen=True)
class Scene:
    title: str
    lines: tuple[str, ...]
    speech: str
    voice: str = "en-us"  # an espeak-ng voice ("en-us+f3": a woman's): distinct voices are distinct speakers


DEMO_SCENES: tuple[Scene, ...] = (
    Scene("Acme Corp", ("Weekly operations review", "March 3"),
          "Good morning everyone. This is the weekly operations review for Acme."),
    Scene("Receivables", ("Invoice #4471 - Globex", "Amount: $12,800", "Due: March 14"),
          "First item. Globex has not paid its invoice yet. It is due on March fourteenth."),
    Scene("Warehouse", ("New site: Rotterdam", "Move starts April 7"),
          "Dana Whitfield will lead the move to the new warehouse in Rotterdam next month."),
    Scene("Budget", ("Q2 marketing budget", "$120,000"),
          "The marketing budget for the second quarter is one hundred and twenty thousand dollars."),
    Scene("Visitors", ("Parking: north garage, level 3",),
          "A reminder for visitors. Please park in the north garage on level three."),
    Scene("Action items", ("Priya: revised contract to Globex", "Owner review: Friday"),
          "Priya will send the revised contract to Globex by Friday."),
    Scene("Questions?", ("Thank you",),
          "That is all for today. Thank you, and see you next week."),
)


class _Writer:
    """An H.264 + AAC MP4 writer fed with RGB frames and 16 kHz mono float audio."""

    def __init__(self, out: Path, width: int, height: int, fps: int) -> None:
        import av

        self.fps = fps
        self.container = av.open(str(out), mode="w", options={"movflags": "faststart"})
        self.video = self.container.add_stream("libx264", rate=fps)
        self.video.width, self.video.height = width, height
        self.video.pix_fmt = "yuv420p"
        self.video.options = {"preset": "veryfast", "crf": "28"}
        self.audio = self.container.add_stream("aac", rate=RATE)
        self.audio.layout = "mono"
        self.fifo = av.AudioFifo()
        self.frames = 0
        self.samples = 0

    def add(self, image: npt.NDArray[np.uint8], audio: npt.NDArray[np.float32]) -> None:
        """One video frame and the audio that plays during it."""
        import av

        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.frames
        frame.time_base = Fraction(1, self.fps)
        self.frames += 1
        for packet in self.video.encode(frame):
            self.container.mux(packet)
        if len(audio):
            chunk = av.AudioFrame.from_ndarray(audio.reshape(1, -1).astype(np.float32), format="fltp", layout="mono")
            chunk.sample_rate = RATE
            chunk.pts = self.samples
            self.samples += len(audio)
            self.fifo.write(chunk)
            while self.fifo.samples >= 1024:
                self._encode_audio(self.fifo.read(1024))

    def _encode_audio(self, frame) -> None:  # type: ignore[no-untyped-def]
        for packet in self.audio.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        if self.fifo.samples:
            self._encode_audio(self.fifo.read())
        for stream in (self.video, self.audio):
            for packet in stream.encode(None):
                self.container.mux(packet)
        self.container.close()


def _decode(path: Path, width: int, height: int, fps: int) -> tuple[list[npt.NDArray[np.uint8]], npt.NDArray[np.float32]]:
    import av

    with av.open(str(path)) as c:
        frames = [f.reformat(width=width, height=height, format="rgb24").to_ndarray() for f in c.decode(video=0)]
    audio: list[npt.NDArray[np.float32]] = []
    with av.open(str(path)) as c:
        if c.streams.audio:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            for frame in c.decode(audio=0):
                audio.extend(o.to_ndarray().reshape(-1) for o in resampler.resample(frame))
            audio.extend(o.to_ndarray().reshape(-1) for o in resampler.resample(None))
    return frames, (np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32))


def _emit(writer: _Writer, frames: Sequence[npt.NDArray[np.uint8]], audio: npt.NDArray[np.float32]) -> float:
    """Write frames with their audio, padded or cut to the frames' length; returns seconds."""
    per = RATE // writer.fps
    need = per * len(frames)
    audio = np.pad(audio[:need], (0, max(0, need - len(audio))))
    for k, image in enumerate(frames):
        writer.add(image, audio[k * per : (k + 1) * per])
    return len(frames) / writer.fps


def concat_videos(inputs: Iterable[Path], out: Path, width: int = 360, height: int = 288, fps: int = 25) -> list[tuple[float, float]]:
    """Join videos end to end (re-encoded, audio kept in sync); returns each input's span."""
    writer = _Writer(out, width, height, fps)
    spans, t = [], 0.0
    try:
        for path in inputs:
            frames, audio = _decode(Path(path), width, height, fps)
            length = _emit(writer, frames, audio)
            spans.append((round(t, 3), round(t + length, 3)))
            t += length
    finally:
        writer.close()
    return spans


def _slide(scene: Scene, width: int, height: int) -> npt.NDArray[np.uint8]:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (width, height), (245, 247, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, height // 5), fill=(32, 64, 128))
    draw.text((24, height // 20), scene.title, fill="white", font=ImageFont.load_default(size=height // 10))
    body = ImageFont.load_default(size=height // 14)
    for k, line in enumerate(scene.lines):
        draw.text((32, height // 4 + k * height // 8), line, fill=(20, 20, 20), font=body)
    return np.asarray(image)


def speak(text: str, voice: str = "en-us", speed: int = 150) -> npt.NDArray[np.float32]:
    """Synthesise speech with espeak-ng (Debian package ``espeak-ng``) as 16 kHz float audio."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise MMAgentError("espeak-ng is not installed: apt-get install espeak-ng")
    import av

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True, capture_output=True)
        with av.open(str(wav)) as c:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            parts = [o.to_ndarray().reshape(-1) for f in c.decode(audio=0) for o in resampler.resample(f)]
            parts += [o.to_ndarray().reshape(-1) for o in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32)


def make_demo_video(out: Path, scenes: Sequence[Scene] = DEMO_SCENES, width: int = 640, height: int = 360, fps: int = 10) -> list[dict[str, object]]:
    """Render the scenes (slide + speech, 1 s lead-in, 1.5 s tail each); returns the script."""
    writer = _Writer(out, width, height, fps)
    script, t = [], 0.0
    try:
        for scene in scenes:
            speech = speak(scene.speech, scene.voice)
            audio = np.concatenate([np.zeros(RATE, np.float32), speech, np.zeros(RATE * 3 // 2, np.float32)])
            slide = _slide(scene, width, height)
            n = int(np.ceil(len(audio) / RATE * fps))
            length = _emit(writer, [slide] * n, audio)
            script.append({"start": round(t, 3), "end": round(t + length, 3), "speech": scene.speech,
                           "screen": [scene.title, *scene.lines], "voice": scene.voice})
            t += length
    finally:
        writer.close()
    return script
