"""The map stage: media in, one ClipObservation per clip out.

Imports only :mod:`models`. Decoding streams the source once; no step holds a whole video.
"""

from perception.decode import MediaInfo, probe, source_id_for
from perception.errors import MediaError, PerceptionError
from perception.map import Perceiver
from perception.map_settings import PerceptionOptions
from perception.records import ClipObservation, Keyframe, OcrLine

__all__ = [
    "ClipObservation",
    "Keyframe",
    "MediaError",
    "MediaInfo",
    "OcrLine",
    "PerceptionError",
    "PerceptionOptions",
    "Perceiver",
    "probe",
    "source_id_for",
]
