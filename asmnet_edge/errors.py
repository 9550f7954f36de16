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

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotation only: errors.py imports nothing of the package at run time
    from asmnet_edge.exporters.fidelity import FidelityReport
    from asmnet_edge.exporters.pipeline import ExportResult


class AsmnetEdgeError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(AsmnetEdgeError):
    """A dataset, label file or image is missing, malformed or inconsistent."""


class ModelError(AsmnetEdgeError):
    """A model or weights file is missing, corrupt or not an ASMNet of the expected shape."""


class MetadataError(ModelError):
    """A .tflite model has no asmnet-edge metadata, or metadata this version cannot read."""


class StageMismatchError(ModelError):
    """A refinement stage given a stage-1 model other than the one it was trained behind (weights,
    landmark count, crop size, margin or landmark sign differ, as the two models' metadata say)."""


class ExportError(AsmnetEdgeError):
    """Conversion, calibration or fidelity validation failed."""


class FidelityError(ExportError):
    """An exported model drifted further from the float model than the tolerance allows.

    ``result`` is the whole :class:`~asmnet_edge.exporters.pipeline.ExportResult` (every model was
    written and validated); :attr:`reports` the typed fidelity reports of the models that failed.
    """

    def __init__(self, message: str, result: ExportResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    @property
    def reports(self) -> dict[str, FidelityReport]:
        """Precision -> fidelity report, for the models over tolerance."""
        if self.result is None:
            return {}
        return {
            name: model.fidelity
            for name, model in self.result.models.items()
            if not model.passed and model.fidelity is not None
        }


class InputImageError(DataError):
    """An image cannot be used: a file that is missing or does not decode, or an array of the wrong
    shape or dtype, with NaN, or empty. A :class:`DataError`, so dataset readers that skip bad images
    catch it too."""


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
