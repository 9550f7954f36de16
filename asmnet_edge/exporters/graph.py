"""Facts read back from a converted .tflite flatbuffer: signature, quantisation, op list.

Uses the TFLite schema that ships in ``ai-edge-litert`` (no TensorFlow): the metadata records what
the converter actually produced, not what was asked of it.

>>> graph = TfliteGraph(open("asmnet68_int8.tflite", "rb").read())  # doctest: +SKIP
>>> graph.io_quant("landmarks").dtype  # doctest: +SKIP
'float32'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from asmnet_edge._lazy import require
from asmnet_edge.errors import ConfigError, ExportError
from asmnet_edge.runtime.metadata import QuantParams

_INTEGER_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


@dataclass(frozen=True)
class QuantTensor:
    """An integer tensor's quantisation and its representable range."""

    params: QuantParams
    qmin: int
    qmax: int


class TfliteGraph:
    """The first subgraph of a .tflite, with its signature names resolved to tensor indices."""

    def __init__(self, model: bytes) -> None:
        schema = require("ai_edge_litert.schema_py_generated", "runtime", "reading converted models")
        self._schema = schema
        self.tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
        if not self.tree.signatureDefs:
            raise ExportError("the converted model has no signature: conversion did not keep input names")
        signature = self.tree.signatureDefs[0]
        self.subgraph = self.tree.subgraphs[signature.subgraphIndex]
        self.inputs = {_text(item.name): item.tensorIndex for item in signature.inputs}
        self.outputs = {_text(item.name): item.tensorIndex for item in signature.outputs}
        self._type_names = {
            value: name.lower() for name, value in vars(schema.TensorType).items() if not name.startswith("_")
        }
        self._op_names = {
            value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")
        }

    def check_signature(self, input_name: str, output_names: tuple[str, ...]) -> None:
        """Raise :class:`ExportError` unless the signature has exactly these input and output names."""
        if set(self.inputs) != {input_name} or set(self.outputs) != set(output_names):
            raise ExportError(
                f"the converted model's signature has inputs {sorted(self.inputs)} and outputs "
                f"{sorted(self.outputs)}; expected input '{input_name}' and outputs {sorted(output_names)}"
            )

    def tensor_dtype(self, index: int) -> str:
        return self._type_names[self.subgraph.tensors[index].type]

    def tensor_name(self, index: int) -> str:
        return _text(self.subgraph.tensors[index].name)

    def tensor_quant(self, index: int) -> QuantParams:
        tensor = self.subgraph.tensors[index]
        dtype = self._type_names[tensor.type]
        quant = tensor.quantization
        if dtype not in _INTEGER_RANGES or quant is None or quant.scale is None or len(quant.scale) == 0:
            return QuantParams(dtype=dtype)
        return QuantParams(dtype=dtype, scale=float(quant.scale[0]), zero_point=int(quant.zeroPoint[0]))

    def io_quant(self, name: str) -> QuantParams:
        """Quantisation of a signature input or output, as the runtime sees it."""
        index = self.inputs.get(name, self.outputs.get(name))
        if index is None:
            raise ExportError(f"the converted model has no input or output named '{name}'")
        return self.tensor_quant(index)

    def op_name(self, op: Any) -> str:
        code = self.tree.operatorCodes[op.opcodeIndex]
        return self._op_names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "CUSTOM")

    def producer(self, index: int) -> Any | None:
        for op in self.subgraph.operators or []:
            if index in list(op.outputs):
                return op
        return None

    def quantised_output(self, name: str) -> QuantTensor | None:
        """The integer tensor an output is read from: the output itself if it is an integer tensor,
        else the input of the DEQUANTIZE that produces it; ``None`` for float models."""
        index = self.outputs[name]
        params = self.tensor_quant(index)
        if params.dtype not in _INTEGER_RANGES:
            op = self.producer(index)
            if op is None or self.op_name(op) != "DEQUANTIZE":
                return None
            params = self.tensor_quant(int(op.inputs[0]))
            if params.dtype not in _INTEGER_RANGES or params.scale <= 0:
                return None
        qmin, qmax = _INTEGER_RANGES[params.dtype]
        return QuantTensor(params, qmin, qmax)

    def op_counts(self) -> dict[str, int]:
        """How many ops of each kind the graph has (for the report)."""
        counts: dict[str, int] = {}
        for op in self.subgraph.operators or []:
            name = self.op_name(op)
            counts[name] = counts.get(name, 0) + 1
        return dict(sorted(counts.items()))

    def layer_output_tensors(self, layer: str) -> list[str]:
        """Names of the op outputs that belong to Keras layer ``layer``: ops whose output name, or
        whose constant (weight) input names, contain ``layer`` as a path component."""
        produced = {int(index) for op in self.subgraph.operators or [] for index in op.outputs}
        names: list[str] = []
        for op in self.subgraph.operators or []:
            outputs = [self.tensor_name(int(index)) for index in op.outputs]
            constants = [
                self.tensor_name(int(index))
                for index in op.inputs
                if index >= 0 and index not in produced and int(index) not in self.inputs.values()
            ]
            if any(_has_component(name, layer) for name in outputs + constants):
                names.extend(outputs)
        return names


def float_nodes(graph: TfliteGraph, layers: tuple[str, ...]) -> tuple[str, ...]:
    """The tensors of ``graph`` (a calibrated model) that the Keras layers ``layers`` produce, each once:
    the nodes to keep in float; a name that matches no op (a typo) is a :class:`ConfigError`."""
    nodes: list[str] = []
    for layer in layers:
        found = graph.layer_output_tensors(layer)
        if not found:
            raise ConfigError(
                f"float layer {layer!r} matches no op of the model: use Keras layer names "
                f"(for example O_L, O_P, taps, block_15_project)"
            )
        nodes.extend(node for node in found if node not in nodes)
    return tuple(nodes)


def _has_component(tensor_name: str, layer: str) -> bool:
    """Is ``layer`` one of the path components of a (possibly fused, ``;``-joined) tensor name?

    Keras 3 adds ``_<n>`` to names while tracing (``O_L`` becomes ``O_L_1``).

    >>> _has_component("model_1/O_L_1/MatMul;model_1/O_L_1/BiasAdd", "O_L")
    True
    >>> _has_component("model_1/O_P_1/MatMul", "O_L")
    False
    """
    pattern = re.compile(rf"^{re.escape(layer)}(_\d+)?$")
    return any(pattern.match(part) for piece in tensor_name.split(";") for part in piece.split("/"))


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
