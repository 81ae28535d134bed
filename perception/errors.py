"""Errors of the perception layer. Every message names the file and the reason.

PerceptionError
 └── MediaError            a source that cannot be used
      ├── MediaNotFound    no such file
      ├── EmptyMedia       zero bytes, or no decodable frames / samples
      ├── NotMedia         not a video or audio file FFmpeg can read
      └── CorruptMedia     decoding failed part-way, or the file is truncated
"""

from __future__ import annotations

from pathlib import Path


class PerceptionError(Exception):
    pass


class MediaError(PerceptionError):
    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # crosses process boundaries intact
        return (type(self), (self.path, self.reason))


class MediaNotFound(MediaError):
    pass


class EmptyMedia(MediaError):
    pass


class NotMedia(MediaError):
    pass


class CorruptMedia(MediaError):
    pass
