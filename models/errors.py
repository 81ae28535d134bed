"""Errors of the model layer.

ModelError
 ├── ModelNotInstalled   a backend's package is missing; the message names the install command
 ├── ModelLoadError      weights missing or unreadable at the configured path
 ├── ModelServerError    a model server unreachable, answering an HTTP error, or replying garbage
 └── UnknownBackend      no backend of that name for the role
"""


class ModelError(Exception):
    """Base of every model-layer error."""


class ModelNotInstalled(ModelError):
    def __init__(self, package: str, role: str) -> None:
        super().__init__(f"the {role} backend needs the package '{package}': pip install {package}")


class ModelLoadError(ModelError):
    pass


class ModelServerError(ModelError):
    pass


class UnknownBackend(ModelError):
    pass
