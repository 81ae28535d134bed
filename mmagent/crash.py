"""Named kill points for the fault tests (``MMAGENT_CRASH_AT=<point>``; unset in production).

Points of this layer: ``index:clip:N`` (after the N-th clip of a video was perceived and cached),
``index:before-catalog``, ``forget:before-catalog``, ``forget:cache-moved``; the store counts its
own durable writes (``store-write:N``) and the batches it hands the engine (``store-update:N``,
``memory/edge.py``) and the recorder the steps of a
capture's write (``capture:<step>``, ``perception/capture.py``)."""

from __future__ import annotations

import os


def crash_point(name: str) -> None:
    """Where a test kills this process as a crash, an OOM kill or a power cut would
    (``MMAGENT_CRASH_AT=name``): the journal's recovery is tested on real kills, not on mocks."""
    if os.environ.get("MMAGENT_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
