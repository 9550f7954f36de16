"""int8 activation ranges chosen by the error they cause, not by the extremes of the calibration set.

TensorFlow's calibration keeps each activation's absolute min/max over the calibration crops. One odd
crop then sets the quantisation step for every face: measured on the retrained default model, the six
pooled taps that feed the heads reach ±0.5 on 99.9 % of the crops but ±1.9 on one, so the concatenation
(one scale for all six) spent two of its eight bits on that crop. Here each activation's range is
re-chosen from a histogram of its values over the calibration crops, as the range that minimises the
mean squared quantisation error (rounding inside the range plus clipping outside it; the L2 search of
PyTorch's histogram observer and TensorRT's calibrators), then the model is quantised from those
ranges with the same MLIR quantiser the converter uses.

Steps: :func:`calibrated_model` (TensorFlow's calibration only, float model with min/max per tensor),
:func:`tighten_ranges` (runs that model in LiteRT with every tensor kept, histograms, new min/max),
:func:`quantize_calibrated` (full-integer int8, optional float nodes). The model's own input and
outputs keep their calibrated ranges: clipping pixels or landmarks is never right.

>>> content, float_nodes, report = mse_int8(source, "float32", calibration)  # doctest: +SKIP
>>> report["tightened"]  # doctest: +SKIP
87
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from asmnet_edge._lazy import require
from asmnet_edge.exporters.calibration import CropSet
from asmnet_edge.exporters.converter import new_converter
from asmnet_edge.exporters.graph import TfliteGraph, float_nodes
from asmnet_edge.exporters.source import ModelSource
from asmnet_edge.model.asmnet import INPUT_SCALE

BINS = 2048
LEVELS = 255  # int8 steps across a range
# share of the calibrated range searched as the new upper (lower) end: 1.0 keeps it
SHRINK = np.concatenate([np.linspace(1.0, 0.3, 71), np.linspace(0.29, 0.05, 25)])


@dataclass
class _Histogram:
    low: float
    high: float
    counts: np.ndarray

    def add(self, values: np.ndarray) -> None:
        counts, _ = np.histogram(values, bins=BINS, range=(self.low, self.high))
        self.counts += counts

    def centres(self) -> np.ndarray:
        edges = np.linspace(self.low, self.high, BINS + 1)
        return (edges[:-1] + edges[1:]) / 2


def quantisation_mse(centres: np.ndarray, counts: np.ndarray, low: float, high: float) -> float:
    """Mean squared error of int8 fake quantisation on ``[low, high]`` of a histogram.

    Inside the range the error is rounding (step**2 / 12 per value), outside it the distance to the
    nearest end.

    >>> x = np.linspace(-1, 1, 201); c = np.ones_like(x)
    >>> quantisation_mse(x, c, -1, 1) < quantisation_mse(x, c, -0.5, 0.5)
    True
    """
    step = (high - low) / LEVELS
    clipped = np.clip(centres, low, high)
    error = (centres - clipped) ** 2 + np.where(centres == clipped, step * step / 12.0, 0.0)
    return float(np.sum(counts * error) / max(np.sum(counts), 1))


def best_range(histogram: _Histogram) -> tuple[float, float]:
    """The ``[low, high]`` with the least quantisation MSE; both ends shrink toward zero independently.

    A range that does not contain 0 keeps the end it has (int8 needs 0 representable: a ReLU6
    output's low end stays 0).
    """
    centres, counts = histogram.centres(), histogram.counts
    low, high = histogram.low, histogram.high
    lows = [low * share for share in SHRINK] if low < 0 else [low]
    highs = [high * share for share in SHRINK] if high > 0 else [high]
    best = (quantisation_mse(centres, counts, low, high), low, high)
    # coordinate search: the best high for the calibrated low, then the best low for it, twice
    for _ in range(2):
        best = min((quantisation_mse(centres, counts, best[1], h), best[1], h) for h in highs)
        best = min((quantisation_mse(centres, counts, lo, best[2]), lo, best[2]) for lo in lows)
    return best[1], best[2]


def calibrated_model(source: ModelSource, calibration: CropSet) -> bytes:
    """TensorFlow's calibration alone: a float .tflite whose tensors carry min/max statistics."""
    converter = new_converter(source, "int8", "float32", calibration)
    converter._experimental_calibrate_only = True  # type: ignore[attr-defined]  # noqa: SLF001
    return bytes(converter.convert())  # type: ignore[attr-defined]


def tighten_ranges(calibrated: bytes, images: np.ndarray) -> tuple[bytes, dict[str, Any]]:
    """Re-choose every inner activation's min/max by quantisation MSE over ``images`` (uint8 crops)."""
    from ai_edge_litert.interpreter import Interpreter

    require("tensorflow", extra="export", purpose="editing calibrated ranges")
    from tensorflow.lite.tools import flatbuffer_utils as utils
    model = utils.convert_bytearray_to_object(bytearray(calibrated))
    graph = model.subgraphs[0]
    keep = set(int(index) for index in list(graph.inputs) + list(graph.outputs))
    ranged = {
        index: tensor
        for index, tensor in enumerate(graph.tensors)
        if index not in keep
        and tensor.quantization is not None
        and tensor.quantization.min is not None
        and len(tensor.quantization.min) == 1
        and tensor.type == 0  # float32 activations; weights have no min/max here
    }
    histograms = {
        index: _Histogram(
            float(tensor.quantization.min[0]), float(tensor.quantization.max[0]), np.zeros(BINS, np.int64)
        )
        for index, tensor in ranged.items()
        if float(tensor.quantization.max[0]) > float(tensor.quantization.min[0])
    }
    with warnings.catch_warnings():  # "preserve all tensors is for debugging": that is the point here
        warnings.simplefilter("ignore", UserWarning)
        interpreter = Interpreter(model_content=calibrated, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    for image in images:
        interpreter.set_tensor(input_index, (image[None].astype(np.float32) * INPUT_SCALE))
        interpreter.invoke()
        for index, histogram in histograms.items():
            histogram.add(interpreter.get_tensor(index))
    changes = []
    for index, histogram in histograms.items():
        low, high = best_range(histogram)
        if (low, high) == (histogram.low, histogram.high):
            continue
        quantization = graph.tensors[index].quantization
        quantization.min, quantization.max = [np.float32(low)], [np.float32(high)]
        changes.append((histogram.high - histogram.low) / (high - low))
    report = {
        "method": "mse",
        "crops": int(len(images)),
        "tensors": len(histograms),
        "tightened": len(changes),
        "median_step_gain": float(np.median(changes)) if changes else 1.0,
        "max_step_gain": float(np.max(changes)) if changes else 1.0,
    }
    return bytes(utils.convert_object_to_bytearray(model)), report


def quantize_calibrated(calibrated: bytes, io_type: str, float_nodes: tuple[str, ...] = ()) -> bytes:
    """Full-integer int8 from a calibrated model (TensorFlow's MLIR quantiser, per-channel weights)."""
    tf = require("tensorflow", extra="export", purpose="quantising to int8")
    from tensorflow.lite.python.convert import mlir_quantize

    dtype = {"float32": tf.float32, "int8": tf.int8, "uint8": tf.uint8}[io_type]
    return bytes(
        mlir_quantize(
            calibrated,
            disable_per_channel=False,
            input_data_type=dtype,
            output_data_type=dtype,
            denylisted_nodes=list(float_nodes) or None,
        )
    )


def mse_int8(
    source: ModelSource, io_type: str, calibration: CropSet, float_layers: tuple[str, ...] = ()
) -> tuple[bytes, tuple[str, ...], dict[str, Any]]:
    """int8 with MSE-chosen activation ranges (see the module docstring), ``float_layers`` (Keras
    layer names) kept in float; returns the bytes, the graph tensors kept in float and the ranges report."""
    calibrated = calibrated_model(source, calibration)
    tightened, report = tighten_ranges(calibrated, calibration.images)
    nodes = float_nodes(TfliteGraph(calibrated), float_layers)
    return quantize_calibrated(tightened, io_type, nodes), nodes, report
