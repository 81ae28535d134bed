"""mmagent: a multimodal memory agent for long video and screen activity.

Public API::

    from mmagent import MMAgent, Settings
    with MMAgent(Settings.load(store="my-store")) as agent:
        agent.index("meeting.mp4")
        print(agent.ask("when is the Globex invoice due?").to_json())

``import mmagent`` is light: models load on first use.
"""

from mmagent.errors import MMAgentError, SettingsError
from mmagent.pipeline import IndexResult, MMAgent
from mmagent.settings import Settings

__all__ = ["IndexResult", "MMAgent", "MMAgentError", "Settings", "SettingsError"]
__version__ = "0.1.0"
