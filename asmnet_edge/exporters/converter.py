"""A configured ``TFLiteConverter`` for one precision: the piece both plain conversion and the
int8 quantisation debugger start from (kept apart so ``convert`` and ``debug`` need not import each other).

>>> converter = new_converter(source, "int8", "float32", calibration)  # doctest: +SKIP
>>> tflite_bytes = bytes(converter.convert())  # doctest: +SKIP
"""

from __future__ import annotations

from asmnet_edge._lazy import require
from asmnet_edge.exporters.calibration import CropSet
from asmnet_edge.exporters.precisions import configure_converter
from asmnet_edge.exporters.source import ModelSource


def new_converter(source: ModelSource, precision: str, io_type: str, calibration: CropSet | None) -> object:
    """A ``TFLiteConverter`` for ``source.model`` set up for ``precision`` (see the precision table)."""
    tf = require("tensorflow", extra="export", purpose="converting models to TFLite")
    converter = tf.lite.TFLiteConverter.from_keras_model(source.model)
    dataset = calibration.representative_dataset() if calibration is not None else None
    return configure_converter(converter, precision, io_type, dataset)
