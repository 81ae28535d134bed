"""Errors of the public API layer (the others come from the layers below, unchanged).

MMAgentError
 └── SettingsError     a setting or MMAGENT_* variable has a value we cannot use
"""


class MMAgentError(Exception):
    pass


class SettingsError(MMAgentError):
    pass
