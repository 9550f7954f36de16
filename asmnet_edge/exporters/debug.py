"""int8 quantisation diagnosis and selective float layers, with TensorFlow's quantisation debugger.

The ranking orders layers by RMSE of the quantised activation against the float one, divided by the
quantisation step (``rmse/scale``: about 0.29 is the error of rounding alone; much more means the
layer loses information). Keeping a layer in float (``--float-layers O_L,O_P``) uses the debugger's
``denylisted_nodes``: the listed layers' ops run in float, with (de)quantise ops around them.

>>> result = debug_int8(source, "float32", calibration, ("O_L",), top_k=10)  # doctest: +SKIP
>>> result.report["layers"][0]["rmse_over_scale"]  # doctest: +SKIP
1.7
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from asmnet_edge._lazy import require
from asmnet_edge.errors import ConfigError
from asmnet_edge.exporters.calibration import CropSet
from asmnet_edge.exporters.converter import new_converter
from asmnet_edge.exporters.graph import TfliteGraph, float_nodes
from asmnet_edge.exporters.source import ModelSource

ROUNDING_ONLY = 1.0 / np.sqrt(12.0)  # rmse/scale of uniform rounding noise


@dataclass(frozen=True)
class DebugResult:
    content: bytes | None  # the selectively quantised model, when float layers were asked for
    float_nodes: tuple[str, ...]
    report: dict[str, Any]


def _rmse_over_scale(float_values: np.ndarray, quantised: np.ndarray, scale: float, zero_point: int) -> float:
    dequantised = (quantised.astype(np.float64) - zero_point) * scale
    return float(np.sqrt(np.mean((dequantised - float_values) ** 2)) / scale) if scale > 0 else 0.0


def _options(tf: Any, denylisted: list[str]) -> Any:
    return tf.lite.experimental.QuantizationDebugOptions(
        layer_direct_compare_metrics={
            "rmse_over_scale": _rmse_over_scale,
            "scale": lambda float_values, quantised, scale, zero_point: float(scale),
        },
        denylisted_nodes=denylisted or None,
    )


def debug_int8(
    source: ModelSource,
    io_type: str,
    calibration: CropSet,
    float_layers: tuple[str, ...],
    top_k: int,
) -> DebugResult:
    """Calibrate once; keep ``float_layers`` in float; rank the ``top_k`` worst layers if asked."""
    tf = require("tensorflow", extra="export", purpose="the quantisation debugger")
    if float_layers and io_type != "float32":
        raise ConfigError("float layers need float32 model inputs/outputs (--io float32)")
    converter = new_converter(source, "int8", "float32", calibration)
    dataset = calibration.representative_dataset()
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=dataset, debug_options=_options(tf, [])
    )
    calibrated = TfliteGraph(debugger.calibrated_model)
    nodes = list(float_nodes(calibrated, float_layers))
    if nodes:
        debugger.options = _options(tf, nodes)  # re-quantises the calibrated model
    report: dict[str, Any] = {"float_layers": list(float_layers), "float_nodes": nodes}
    if top_k:
        debugger.run()
        report["layers"] = _ranking(debugger.layer_statistics, calibrated, top_k)
        report["rounding_only_rmse_over_scale"] = round(float(ROUNDING_ONLY), 4)
    content = bytes(debugger.get_nondebug_quantized_model()) if nodes else None
    return DebugResult(content, tuple(nodes), report)


def _ranking(statistics: dict[str, dict[str, float]], graph: TfliteGraph, top_k: int) -> list[dict[str, Any]]:
    names = {graph.tensor_name(index) for index in range(len(graph.subgraph.tensors))}
    rows: list[dict[str, Any]] = []
    for key, metrics in statistics.items():
        tensor = re.sub(r":\d+$", "", key.removeprefix("NumericVerify/"))
        for cut in (1, 2):  # the verify op's name appends a counter to the tensor's name
            if tensor not in names and tensor[:-cut] in names:
                tensor = tensor[:-cut]
        rows.append(
            {
                "tensor": tensor,
                "layers": _layer_names(tensor, graph),
                "rmse_over_scale": round(float(metrics.get("rmse_over_scale", 0.0)), 4),
                "scale": float(metrics.get("scale", 0.0)),
                "max_abs_error": float(metrics.get("max_abs_error", 0.0)),
                "mean_squared_error": float(metrics.get("mean_squared_error", 0.0)),
            }
        )
    rows.sort(key=lambda row: (-row["rmse_over_scale"], row["tensor"]))
    return rows[:top_k]


def _layer_names(tensor: str, graph: TfliteGraph) -> list[str]:
    """Keras layer names behind a tensor: from its own name, else from its op's weight names."""
    names = [tensor]
    for index in range(len(graph.subgraph.tensors)):
        if graph.tensor_name(index) == tensor:
            op = graph.producer(index)
            if op is not None:  # its weights and biases: inputs no op produces
                names += [
                    graph.tensor_name(int(item))
                    for item in op.inputs
                    if item >= 0 and graph.producer(int(item)) is None
                ]
            break
    layers: list[str] = []
    for name in names:
        for piece in name.split(";"):
            parts = piece.split("/")
            if len(parts) >= 3:  # model scope / layer / op
                layer = re.sub(r"_\d+$", "", parts[1])
                if layer not in layers:
                    layers.append(layer)
        if layers:
            break
    return layers
