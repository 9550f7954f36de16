"""What a .tflite file tells without running it: size, gzip size, hash, compute, precision, variant.

>>> precision_from_name("asmnet68_a0.5_128_int16x8.tflite")
'int16x8'
>>> precision_from_name("face.tflite")
'unknown'
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from asmnet_edge.bench.flops import count_tflite
from asmnet_edge.bench.results import ModelResult
from asmnet_edge.errors import AsmnetEdgeError, MetadataError
from asmnet_edge.runtime.metadata import PRECISIONS, read_tflite_metadata

# longest first, so "int16x8" is not read as "int8"
_PRECISION_TOKENS = sorted(PRECISIONS, key=len, reverse=True)


def precision_from_name(name: str) -> str:
    """The precision a file name announces (``..._int8.tflite``), for models without metadata."""
    lowered = name.lower()
    for token in _PRECISION_TOKENS:
        if re.search(rf"(^|[^a-z0-9]){token}([^a-z0-9]|$)", lowered):
            return token
    return "unknown"


def describe_model(path: Path) -> ModelResult:
    """A :class:`ModelResult` with the static facts filled in, or with the reason they could not be."""
    row = ModelResult(name=path.stem, path=str(path))
    try:
        content = path.read_bytes()
    except OSError as err:
        row.fail(f"cannot read {path}: {err.strerror or err}")
        return row
    row.size_bytes = len(content)
    row.gzip_bytes = len(gzip.compress(content, compresslevel=9, mtime=0))
    row.sha256 = hashlib.sha256(content).hexdigest()
    row.precision = precision_from_name(path.name)
    try:
        metadata = read_tflite_metadata(content)
    except MetadataError:
        metadata = None  # a plain .tflite: still benchmarked, but no accuracy (it needs the metadata)
    if metadata is not None:
        row.precision = metadata.precision
        row.num_landmarks = metadata.num_landmarks
        row.input_size = metadata.input_size
        row.alpha = metadata.alpha
        row.variant = f"a{metadata.alpha:g}_{metadata.input_size}_{metadata.num_landmarks}pt"
    try:
        cost = count_tflite(content)
    except AsmnetEdgeError as err:
        row.fail(str(err))
        return row
    row.macs, row.flops, row.parameters = cost.macs, cost.flops, cost.parameters
    row.per_op = cost.to_dict()["per_op"]
    if metadata is None and cost.input_shapes and len(cost.input_shapes[0]) == 4:
        row.variant = "input{1}x{2}".format(*cost.input_shapes[0])  # pairs plain models of the same input
    return row
