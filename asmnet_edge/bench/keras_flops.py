"""Multiply-adds and FLOPs of a Keras model counted from its layer shapes (needs TensorFlow/Keras).

Same conventions as :mod:`asmnet_edge.bench.flops` (bias adds, activations and batch-norm are free;
FLOPs = 2 * MACs + element-wise outputs + reduction/pool inputs), so that a Keras model and the
.tflite converted from it give the same numbers: the test of both counters.

>>> from asmnet_edge.model.asmnet import build_asmnet  # doctest: +SKIP
>>> round(count_keras(build_asmnet(68)).macs / 1e6, 1)  # doctest: +SKIP
256.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asmnet_edge.bench.flops import ComputeCost, OpCost

_ELEMENTWISE = frozenset({"Add", "Subtract", "Multiply", "Maximum", "Minimum"})
_REDUCTIONS = frozenset({"GlobalAveragePooling2D", "GlobalMaxPooling2D", "AveragePooling2D", "MaxPooling2D"})


def _dims(shape: Any) -> tuple[int, ...]:
    """A Keras shape with the batch dimension set to 1."""
    return tuple(1 if value is None else int(value) for value in shape)


def _elements(shape: Any) -> int:
    return int(np.prod(_dims(shape), dtype=np.int64))


def _first_shape(tensors: Any) -> Any:
    return (tensors[0] if isinstance(tensors, (list, tuple)) else tensors).shape


def layer_cost(layer: Any) -> tuple[int, int]:
    """(MACs, FLOPs) of one Keras layer at batch 1; 0 for layers this counter treats as free."""
    kind = type(layer).__name__
    if kind in ("Conv2D", "Conv1D", "Conv3D"):
        kernel = layer.kernel.shape  # (*spatial, in_c / groups, out_c)
        macs = _elements(layer.output.shape) * int(np.prod(kernel[:-1]))
        return macs, 2 * macs
    if kind == "DepthwiseConv2D":
        k_h, k_w = layer.kernel.shape[:2]
        macs = _elements(layer.output.shape) * int(k_h) * int(k_w)
        return macs, 2 * macs
    if kind == "Dense":
        macs = _elements(layer.output.shape) * int(layer.kernel.shape[0])
        return macs, 2 * macs
    if kind in _ELEMENTWISE:
        return 0, _elements(layer.output.shape)
    if kind in _REDUCTIONS:
        return 0, _elements(_first_shape(layer.input))
    return 0, 0


def _layers(model: Any) -> list[Any]:
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers") and type(layer).__name__ in ("Functional", "Model", "Sequential"):
            found.extend(_layers(layer))
        else:
            found.append(layer)
    return found


def count_keras(model: Any) -> ComputeCost:
    """Count MACs, FLOPs and parameters (Keras ``count_params``, batch-norm included) of a model."""
    totals: dict[str, list[int]] = {}
    macs = flops = 0
    for layer in _layers(model):
        layer_macs, layer_flops = layer_cost(layer)
        entry = totals.setdefault(type(layer).__name__, [0, 0, 0])
        entry[0] += 1
        entry[1] += layer_macs
        entry[2] += layer_flops
        macs += layer_macs
        flops += layer_flops
    per_op = {name: OpCost(*values) for name, values in totals.items() if values[1] or values[2]}
    return ComputeCost(
        macs=macs, flops=flops, parameters=int(model.count_params()), per_op=per_op, source="keras"
    )
