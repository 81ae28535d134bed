"""One interface per model role. Each has one abstract batch method; the rest derives from it.

Capabilities are class attributes (``model_id``, ``dim``, ``sample_rate``). Backends load their
weights on first use, never at import or construction.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ImageArray = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech; times in seconds from the start of the audio given."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    language: str = ""  # the language it was transcribed in (ISO 639-1, "en"), when the ASR tells
    sound: str = ""  # "music": heard in a loud stretch with no speech to VAD (singing, speech over music)


@dataclass(frozen=True)
class TextBox:
    """A line of text read from an image; ``box`` is four (x, y) corners in pixels."""

    text: str
    score: float
    box: tuple[tuple[float, float], ...] = field(default=())


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class ASR(ABC):
    """Speech recognition: 16 kHz mono float32 audio in, segments with word times out."""

    model_id: str = ""
    sample_rate: int = 16000

    @abstractmethod
    def transcribe_batch(self, audios: Sequence[FloatArray]) -> list[list[Segment]]:
        """Transcribe each audio array; times are relative to the start of that array."""

    def transcribe(self, audio: FloatArray) -> list[Segment]:
        return self.transcribe_batch([audio])[0]


class TextEmbedder(ABC):
    """Text to L2-normalised float32 vectors of size ``dim``."""

    model_id: str = ""
    dim: int = 0

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        """Return an array of shape (len(texts), dim), rows L2-normalised."""

    def embed(self, text: str) -> FloatArray:
        return self.embed_batch([text])[0]


class VoiceEncoder(ABC):
    """Speaker embeddings: 16 kHz mono float32 audio in, one L2-normalised vector per input."""

    model_id: str = ""
    dim: int = 0
    sample_rate: int = 16000

    @abstractmethod
    def embed_batch(self, audios: Sequence[FloatArray]) -> FloatArray:
        """Return (len(audios), dim); an input too short to hold a voice gives a zero row."""

    def embed(self, audio: FloatArray) -> FloatArray:
        return self.embed_batch([audio])[0]


@dataclass(frozen=True)
class Face:
    """A detected face: ``box`` is (x0, y0, x1, y1) in pixels, ``embedding`` L2 distance-comparable."""

    box: tuple[int, int, int, int]
    score: float
    embedding: tuple[float, ...] = ()


class FaceEncoder(ABC):
    """Face detection and identity embeddings on RGB uint8 images."""

    model_id: str = ""
    dim: int = 0
    same_person: float = 0.6  # embedding distance under which two faces are one person

    @abstractmethod
    def detect_batch(self, images: Sequence[ImageArray]) -> list[list[Face]]:
        """Faces in each image, without embeddings (cheap: used for tracking)."""

    @abstractmethod
    def embed_faces(self, image: ImageArray, boxes: Sequence[tuple[int, int, int, int]]) -> FloatArray:
        """One embedding per box of ``image``, shape (len(boxes), dim)."""


class OCR(ABC):
    """Text lines from RGB uint8 images (H, W, 3)."""

    model_id: str = ""

    @abstractmethod
    def read_batch(self, images: Sequence[ImageArray]) -> list[list[TextBox]]:
        """Return the text lines found in each image."""

    def read(self, image: ImageArray) -> list[TextBox]:
        return self.read_batch([image])[0]


class LLM(ABC):
    """Chat completion. Greedy by default, so the same input gives the same output."""

    model_id: str = ""

    @abstractmethod
    def generate_batch(
        self, conversations: Sequence[Sequence[ChatMessage]], max_new_tokens: int = 64
    ) -> list[str]:
        """Return the assistant's reply to each conversation."""

    def generate(self, conversation: Sequence[ChatMessage], max_new_tokens: int = 64) -> str:
        return self.generate_batch([conversation], max_new_tokens)[0]

    def generate_line(self, conversation: Sequence[ChatMessage], max_new_tokens: int = 64) -> str:
        """The first non-empty line of the reply (a local model stops writing there)."""
        reply = self.generate(conversation, max_new_tokens).strip()
        return reply.splitlines()[0].strip() if reply else ""

    #: True when :meth:`score_choices` works (a local model that exposes its token probabilities)
    can_score: bool = False

    def score_choices(self, conversation: Sequence[ChatMessage], choices: Sequence[str]) -> list[float]:
        """The mean log-probability of each choice as the assistant's reply (higher: likelier).
        Lets a small model pick among valid actions instead of writing free-form JSON."""
        raise NotImplementedError(f"{type(self).__name__} cannot score choices")


class ImageEmbedder(ABC):
    """Images and texts into one L2-normalised space of size ``dim`` (CLIP / SigLIP style), so a
    text query can find a keyframe and an image can find its neighbours."""

    model_id: str = ""
    dim: int = 0

    @abstractmethod
    def embed_images(self, images: Sequence[ImageArray]) -> FloatArray:
        """RGB uint8 (H, W, 3) images → (len(images), dim), rows L2-normalised."""

    @abstractmethod
    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        """Texts → (len(texts), dim) in the images' space, rows L2-normalised."""


@dataclass(frozen=True, eq=False)
class CaptionRequest:
    """What a captioner sees of one clip. People are named by the clip-local labels used here
    (``face_0``, ``voice_1``); the reduce stage maps them to stable ids.

    ``frames`` are RGB uint8 images in time order with their ``times`` (seconds in the source);
    ``speech`` is (voice label or "", text) per turn; ``faces`` the face labels seen;
    ``screen_text`` the distinct on-screen lines; ``window`` "app - title" for screen captures."""

    start: float
    end: float
    frames: tuple[ImageArray, ...] = ()
    times: tuple[float, ...] = ()
    speech: tuple[tuple[str, str], ...] = ()
    faces: tuple[str, ...] = ()
    screen_text: tuple[str, ...] = ()
    window: str = ""


class Captioner(ABC):
    """A clip's frames and signals → short atomic sentences that name people by their labels."""

    model_id: str = ""
    uses_frames: bool = True  # False: the request's frames are left empty (nothing is read)

    @abstractmethod
    def caption_batch(self, requests: Sequence[CaptionRequest]) -> list[list[str]]:
        """One list of sentences per request (empty when there is nothing to say)."""

    def caption(self, request: CaptionRequest) -> list[str]:
        return self.caption_batch([request])[0]


class CachedTextEmbedder(TextEmbedder):
    """A text embedder that remembers its last ``size`` texts: a process that re-reduces the same
    memories over and over (the screen indexer, every pass of the day) embeds only new text."""

    def __init__(self, inner: TextEmbedder, size: int = 20_000) -> None:
        from collections import OrderedDict

        self.inner = inner
        self.size = size
        self._cache: OrderedDict[str, FloatArray] = OrderedDict()
        self.hits = self.misses = 0
        self._lock = threading.Lock()  # a server embeds questions from several threads at once

    @property  # type: ignore[override]
    def model_id(self) -> str:
        return self.inner.model_id

    @property  # type: ignore[override]
    def dim(self) -> int:
        return self.inner.dim

    def ensure_loaded(self) -> None:
        if hasattr(self.inner, "ensure_loaded"):
            self.inner.ensure_loaded()

    def embed_batch(self, texts: Sequence[str]) -> FloatArray:
        with self._lock:
            return self._embed_batch(texts)

    def _embed_batch(self, texts: Sequence[str]) -> FloatArray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        if missing:
            for text, vector in zip(missing, self.inner.embed_batch(missing)):
                self._cache[text] = vector
        out = np.stack([self._cache[t] for t in texts]) if texts else self.inner.embed_batch([])
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return out
