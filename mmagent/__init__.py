"""mmagent: a multimodal memory agent for long video and screen activity.

Public API::

    from mmagent import MMAgent, Settings
    with MMAgent(Settings.load(store="my-store")) as agent:
        agent.index("meeting.mp4")
        print(agent.ask("when is the Globex invoice due?").to_json())

``import mmagent`` is light: models load on first use.
"""

from typing import TYPE_CHECKING, Any

from mmagent.errors import MMAgentError, SettingsError
from mmagent.settings import Settings

if TYPE_CHECKING:
    from mmagent.pipeline import IndexResult, MMAgent

__all__ = ["IndexResult", "MMAgent", "MMAgentError", "Settings", "SettingsError"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """The pipeline (and the layers below it) is imported on first use of ``MMAgent``: a CLI
    command that a running server answers never needs it."""
    if name in ("MMAgent", "IndexResult"):
        from mmagent import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'mmagent' has no attribute {name!r}")
