"""Keras ASMNet -> .tflite bytes for one precision, builtin ops only.

Always ``TFLiteConverter.from_keras_model``: ``from_concrete_functions`` keeps variables as
READ_VARIABLE ops (NaN outputs, failed calibration). The signature must come out with input
``image`` and outputs ``landmarks`` and ``pose``, which every later step looks up by name.

>>> tflite_bytes = convert(source, "int8", "float32", calibration)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from asmnet_edge.errors import ConfigError, ExportError
from asmnet_edge.exporters.calibration import CropSet
from asmnet_edge.exporters.converter import new_converter
from asmnet_edge.exporters.debug import debug_int8
from asmnet_edge.exporters.graph import TfliteGraph
from asmnet_edge.exporters.precisions import PRECISIONS
from asmnet_edge.exporters.source import ModelSource
from asmnet_edge.runtime.contract import INPUT_NAME, OUTPUT_NAMES


@dataclass(frozen=True)
class Converted:
    """A converted model: its bytes (no metadata yet) and what selective quantisation kept in float."""

    content: bytes
    float_nodes: tuple[str, ...] = ()
    debug: dict[str, object] = field(default_factory=dict)
    log: str = ""  # what TensorFlow printed while converting (hundreds of lines; kept for the report)


@contextlib.contextmanager
def captured_output(log: list[str]) -> Iterator[None]:
    """Capture everything written to stdout and stderr (Python and C level) while converting.

    TensorFlow prints "Saved artifact at ..." and hundreds of ``TensorSpec`` lines; ``--json`` promises
    one JSON object on stdout, and a user wants one line per model on the console. The captured text
    is appended to ``log`` (the export report keeps it; ``ASMNET_EDGE_VERBOSE=1`` echoes it to stderr).
    """
    import tempfile

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with contextlib.redirect_stdout(sys.stderr):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
            log.append(text)
            if os.environ.get("ASMNET_EDGE_VERBOSE"):
                sys.stderr.write(text)


def convert(
    source: ModelSource,
    precision: str,
    io_type: str,
    calibration: CropSet | None = None,
    float_layers: tuple[str, ...] = (),
    debug_top_k: int = 0,
    ranges: str = "minmax",
) -> Converted:
    """Convert ``source`` to ``precision``; TensorFlow errors become one-line :class:`ExportError`.

    ``float_layers`` (int8 only) keeps those Keras layers in float through the quantisation
    debugger's selective quantisation; ``debug_top_k`` > 0 (int8 only) adds the per-layer error
    ranking of :mod:`asmnet_edge.exporters.debug`; ``ranges`` (int8 only) is ``minmax``
    (TensorFlow's calibration) or ``mse`` (:mod:`asmnet_edge.exporters.ranges`).
    """
    spec = PRECISIONS[precision]
    if spec.needs_calibration and calibration is None:
        raise ExportError(f"{precision} export needs a calibration set")
    if (float_layers or debug_top_k) and precision != "int8":
        float_layers, debug_top_k = (), 0  # both are int8 tools; other precisions ignore them
    log: list[str] = []
    try:
        with captured_output(log):
            if precision == "int8" and ranges == "mse":
                converted = _mse(source, io_type, calibration, float_layers, debug_top_k)  # type: ignore[arg-type]
            elif float_layers or debug_top_k:
                result = debug_int8(source, io_type, calibration, float_layers, debug_top_k)  # type: ignore[arg-type]
                content = (
                    result.content
                    if result.content is not None
                    else _plain(source, precision, io_type, calibration)
                )
                converted = Converted(content, result.float_nodes, result.report)
            else:
                converted = Converted(_plain(source, precision, io_type, calibration))
    except (ExportError, ConfigError):
        raise
    except Exception as err:  # TensorFlow raises many types; the user needs one line and the cause
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ExportError(f"TensorFlow could not convert the model to {precision}: {first_line}") from err
    TfliteGraph(converted.content).check_signature(INPUT_NAME, OUTPUT_NAMES)
    return dataclasses.replace(converted, log="".join(log))


def _mse(
    source: ModelSource, io_type: str, calibration: CropSet, float_layers: tuple[str, ...], debug_top_k: int
) -> Converted:
    """int8 from MSE-chosen ranges; the debugger's ranking (of the min/max model) when asked for."""
    from asmnet_edge.exporters.ranges import mse_int8

    content, nodes, report = mse_int8(source, io_type, calibration, float_layers)
    debug: dict[str, object] = {"ranges": report, "float_layers": list(float_layers)}
    debug["float_nodes"] = list(nodes)
    if debug_top_k:
        ranking = debug_int8(source, io_type, calibration, (), debug_top_k).report
        debug.update({key: value for key, value in ranking.items() if key not in debug})
    return Converted(content, nodes, debug)


def _plain(source: ModelSource, precision: str, io_type: str, calibration: CropSet | None) -> bytes:
    converter = new_converter(source, precision, io_type, calibration)
    return bytes(converter.convert())  # type: ignore[attr-defined]
