"""Multiply-adds, FLOPs and stored weights counted op by op from a .tflite flatbuffer, without TensorFlow.

Conventions (the same in :mod:`asmnet_edge.bench.keras_flops`, so the two counts agree):

- convolution MACs = out_h * out_w * out_c * k_h * k_w * in_c / groups (bias adds not counted);
  depthwise = out_h * out_w * out_c * k_h * k_w; dense = rows * in * out; batch matmul = out * K;
- FLOPs = 2 * MACs + one per output element of element-wise arithmetic (ADD, SUB, MUL, ...) + one per
  input element of reductions (MEAN, SUM) and pools; activations, padding, reshapes, concatenations and
  (de)quantisation are free. Batch-norm and fused activations are folded away in a .tflite anyway.

>>> cost = count_tflite("asmnet68_fp32.tflite")  # doctest: +SKIP
>>> round(cost.macs / 1e6, 1)  # doctest: +SKIP
256.5
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._lazy import require
from asmnet_edge.errors import ModelError

ELEMENTWISE_OPS = frozenset({"ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "POW"})
REDUCTION_OPS = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"})
POOL_OPS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"})
# ops whose constant inputs (after DEQUANTIZE, for fp16 models) are the model's weights
WEIGHTED_OPS = frozenset(
    {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "CONV_3D", "BATCH_MATMUL"}
)


@dataclass(frozen=True)
class OpCost:
    """Aggregate cost of one op type."""

    count: int
    macs: int
    flops: int


@dataclass(frozen=True)
class ComputeCost:
    """What a model costs to run once (batch 1) and to store."""

    macs: int
    flops: int
    parameters: int
    per_op: dict[str, OpCost] = field(default_factory=dict)
    source: str = "tflite"
    input_shapes: tuple[tuple[int, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "macs": self.macs,
            "flops": self.flops,
            "parameters": self.parameters,
            "source": self.source,
            "input_shapes": [list(shape) for shape in self.input_shapes],
            "per_op": {name: vars(cost) for name, cost in sorted(self.per_op.items())},
        }


def _schema() -> Any:
    require("flatbuffers", extra="runtime", purpose="reading .tflite flatbuffers")
    return require("ai_edge_litert.schema_py_generated", "runtime", "counting multiply-adds in a .tflite")


def _op_names(schema: Any) -> dict[int, str]:
    return {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}


def _shape(tensor: Any) -> tuple[int, ...]:
    if tensor.ShapeLength() == 0:
        return ()
    return tuple(int(value) for value in tensor.ShapeAsNumpy())


def _elements(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def op_macs(op_name: str, inputs: list[tuple[int, ...]], outputs: list[tuple[int, ...]]) -> int:
    """Multiply-adds of one TFLite op, from its input and output shapes (batch included).

    >>> op_macs("CONV_2D", [(1, 8, 8, 3), (16, 3, 3, 3)], [(1, 8, 8, 16)])  # 8*8*16 * 3*3*3
    27648
    >>> op_macs("FULLY_CONNECTED", [(1, 10), (4, 10)], [(1, 4)])
    40
    """
    out = _elements(outputs[0]) if outputs else 0
    if op_name == "CONV_2D":
        _, k_h, k_w, group_in = inputs[1]
        return out * k_h * k_w * group_in
    if op_name == "DEPTHWISE_CONV_2D":
        _, k_h, k_w, _ = inputs[1]
        return out * k_h * k_w
    if op_name == "FULLY_CONNECTED":
        return out * inputs[1][-1]
    if op_name == "TRANSPOSE_CONV":  # inputs: output_shape, weights (oc, kh, kw, ic), activations
        out_c, k_h, k_w, _ = inputs[1]
        return _elements(inputs[2]) * k_h * k_w * out_c
    if op_name == "CONV_3D":
        k_d, k_h, k_w, group_in, _ = inputs[1]
        return out * k_d * k_h * k_w * group_in
    if op_name == "BATCH_MATMUL":
        return out * inputs[0][-1]
    return 0


def op_extra_flops(op_name: str, inputs: list[tuple[int, ...]], outputs: list[tuple[int, ...]]) -> int:
    """FLOPs of an op beyond ``2 * MACs``: element-wise arithmetic, reductions and pools."""
    if op_name in ELEMENTWISE_OPS:
        return _elements(outputs[0])
    if op_name in REDUCTION_OPS:
        return _elements(inputs[0])
    if op_name in POOL_OPS:
        return _elements(inputs[0])
    return 0


def count_tflite(model: str | Path | bytes) -> ComputeCost:
    """Count MACs, FLOPs and stored weights of a .tflite model's main subgraph.

    Raises :class:`ModelError` when the file is not a TFLite flatbuffer.
    """
    content = model if isinstance(model, bytes) else _read(Path(model))
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ModelError("not a TFLite model (missing the 'TFL3' identifier): check the file or re-export it")
    schema = _schema()
    try:
        return _count(schema, schema.Model.GetRootAsModel(content, 0))
    except (IndexError, ValueError, TypeError, struct.error) as err:  # truncated or garbled tables
        raise ModelError(f"corrupt TFLite flatbuffer, cannot count its ops: {err}") from err


def _count(schema: Any, model: Any) -> ComputeCost:
    names = _op_names(schema)
    if model.SubgraphsLength() == 0:
        raise ModelError("the .tflite has no subgraph: re-export it")
    graph = model.Subgraphs(0)
    codes = [model.OperatorCodes(index) for index in range(model.OperatorCodesLength())]
    producers: dict[int, tuple[str, list[int]]] = {}
    operators = []
    for index in range(graph.OperatorsLength()):
        operator = graph.Operators(index)
        code = codes[operator.OpcodeIndex()]
        name = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        inputs = [int(value) for value in operator.InputsAsNumpy()] if operator.InputsLength() else []
        outputs = [int(value) for value in operator.OutputsAsNumpy()] if operator.OutputsLength() else []
        operators.append((name, inputs, outputs))
        for output in outputs:
            producers[output] = (name, inputs)

    def shape(tensor_index: int) -> tuple[int, ...]:
        return _shape(graph.Tensors(tensor_index)) if tensor_index >= 0 else ()

    def constant_root(tensor_index: int) -> int | None:
        """The tensor holding a constant's data, following DEQUANTIZE (fp16 weights); None if computed."""
        if tensor_index < 0:
            return None
        buffer = model.Buffers(graph.Tensors(tensor_index).Buffer())
        if buffer is not None and (buffer.DataLength() > 0 or buffer.Size() > 0):
            return tensor_index
        producer = producers.get(tensor_index)
        if producer is not None and producer[0] == "DEQUANTIZE":
            return constant_root(producer[1][0])
        return None

    totals: dict[str, list[int]] = {}
    macs = flops = parameters = 0
    for name, inputs, outputs in operators:
        in_shapes = [shape(index) for index in inputs]
        out_shapes = [shape(index) for index in outputs]
        op_mac = op_macs(name, in_shapes, out_shapes)
        op_flop = 2 * op_mac + op_extra_flops(name, in_shapes, out_shapes)
        if name in WEIGHTED_OPS:
            # TRANSPOSE_CONV's inputs are (output_shape, weights, activations[, bias])
            weights = [inputs[1], *inputs[3:]] if name == "TRANSPOSE_CONV" else inputs[1:]
            # counted per use: the converter merges identical constants (zero biases of an
            # untrained model), which must not make a model look smaller than it is
            roots = [constant_root(index) for index in weights]
            parameters += sum(_elements(shape(root)) for root in roots if root is not None)
        entry = totals.setdefault(name, [0, 0, 0])
        entry[0] += 1
        entry[1] += op_mac
        entry[2] += op_flop
        macs += op_mac
        flops += op_flop
    per_op = {name: OpCost(*values) for name, values in totals.items()}
    inputs = graph.InputsAsNumpy() if graph.InputsLength() else []
    return ComputeCost(
        macs=macs,
        flops=flops,
        parameters=parameters,
        per_op=per_op,
        source="tflite",
        input_shapes=tuple(shape(int(index)) for index in inputs),
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read model file {path}: {err.strerror}") from err
