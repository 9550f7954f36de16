"""Typed errors of asmnet-edge.

Library code raises these; the CLI translates them into one-line messages and a non-zero exit.
Every message says what was wrong and what to do about it.

>>> try:
...     raise DataError("no images in /tmp/empty: expected .jpg/.png files with .pts labels")
... except AsmnetEdgeError as err:
...     str(err).startswith("no images")
True
"""

from __future__ import annotations


class AsmnetEdgeError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(AsmnetEdgeError):
    """A dataset, label file or image is missing, malformed or inconsistent."""


class ModelError(AsmnetEdgeError):
    """A model or weights file is missing, corrupt or not an ASMNet of the expected shape."""


class MetadataError(ModelError):
    """A .tflite model has no asmnet-edge metadata, or metadata this version cannot read."""


class ExportError(AsmnetEdgeError):
    """Conversion, calibration or fidelity validation failed."""


class FidelityError(ExportError):
    """An exported model drifted further from the float model than the tolerance allows."""


class InputImageError(AsmnetEdgeError):
    """An image given to the runtime cannot be used (wrong shape, dtype, NaN, empty)."""


class DeviceError(AsmnetEdgeError):
    """A benchmark target (SSH host, adb device) is unreachable or lacks what the run needs."""


class ConfigError(AsmnetEdgeError):
    """A recipe or configuration file has an unknown key, a wrong type or a bad value."""


class MissingDependencyError(AsmnetEdgeError):
    """An optional dependency is not installed.

    >>> str(MissingDependencyError("tensorflow", "export", "converting models"))
    "converting models needs 'tensorflow', which is not installed: pip install 'asmnet-edge[export]'"
    """

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        self.module = module
        self.extra = extra
        self.purpose = purpose
        super().__init__(
            f"{purpose} needs '{module}', which is not installed: pip install 'asmnet-edge[{extra}]'"
        )
