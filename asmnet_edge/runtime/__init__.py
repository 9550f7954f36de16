"""TF-free inference: interpreter loading, metadata, pre/post-processing, face boxes, FaceAligner.

Imports only numpy, the LiteRT interpreter and (optionally) OpenCV. Three lines give landmarks and pose:

>>> from asmnet_edge.runtime import FaceAligner  # doctest: +SKIP
>>> aligner = FaceAligner.default("int8")  # doctest: +SKIP
>>> faces = aligner.predict(rgb_image)  # [Face(landmarks, pose_deg, box, timing...)]  # doctest: +SKIP

The public names below are loaded on first use, so importing one submodule stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FaceAligner": "asmnet_edge.runtime.aligner",
    "Face": "asmnet_edge.runtime.aligner",
    "Timing": "asmnet_edge.runtime.aligner",
    "FaceTracker": "asmnet_edge.runtime.tracking",
    "Detector": "asmnet_edge.runtime.detect",
    "DetectedBox": "asmnet_edge.runtime.detect",
    "BoxMap": "asmnet_edge.runtime.detect",
    "BlazeFaceDetector": "asmnet_edge.runtime.blazeface",
    "HaarDetector": "asmnet_edge.runtime.haar",
    "Box": "asmnet_edge.runtime.geometry",
    "ModelMetadata": "asmnet_edge.runtime.metadata",
    "LiteModel": "asmnet_edge.runtime.model",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'asmnet_edge.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
