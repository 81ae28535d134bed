"""Errors of the public API layer (the others come from the layers below, unchanged).

MMAgentError
 ├── SettingsError     a setting or MMAGENT_* variable has a value we cannot use
 ├── RunnerError       the perception workers could not run (a Ray cluster out of reach, a worker died)
 └── SourceNotIndexed  ``forget`` named a source the store does not hold
"""


class MMAgentError(Exception):
    pass


class SettingsError(MMAgentError):
    pass


class RunnerError(MMAgentError):
    pass


class SourceNotIndexed(MMAgentError):
    pass
