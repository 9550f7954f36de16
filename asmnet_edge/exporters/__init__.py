"""Keras ASMNet -> TFLite per precision, with calibration, metadata and a fidelity check.

Importing this package does not import TensorFlow (conversion imports it when it runs).

>>> from asmnet_edge.exporters import ExportRecipe, export_model  # doctest: +SKIP
>>> result = export_model(ExportRecipe(precisions=("int8",)), "my.keras", "exported")  # doctest: +SKIP
>>> result.models["int8"].size_bytes  # doctest: +SKIP
1810000
"""

from asmnet_edge.exporters.pipeline import ExportedModel, ExportResult, export_model
from asmnet_edge.exporters.precisions import PRECISIONS, PrecisionSpec
from asmnet_edge.exporters.recipe import ExportRecipe, load_recipe

__all__ = [
    "PRECISIONS",
    "ExportRecipe",
    "ExportResult",
    "ExportedModel",
    "PrecisionSpec",
    "export_model",
    "load_recipe",
]
