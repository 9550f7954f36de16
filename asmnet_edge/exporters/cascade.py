"""What the DAN and refine-stage exports share: the precisions offered, the held-out faces, the
conversion (float32 input and output, the precision table's settings), and the per-model record.

Each exporter keeps what is its own (calibration inputs, metadata, how its outputs become points);
this module is the one place for the steps they take the same way, so that both report and write
the same fields.

>>> held, rest = held_out(list(range(10)), eval_count=3)
>>> held, rest[:2]
([0, 1, 2], [3, 4])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

import asmnet_edge
from asmnet_edge._atomic import atomic_write_bytes
from asmnet_edge._lazy import require
from asmnet_edge.errors import ConfigError, ExportError
from asmnet_edge.eval import metrics
from asmnet_edge.exporters.fidelity import nme_percent
from asmnet_edge.exporters.graph import TfliteGraph
from asmnet_edge.exporters.precisions import PRECISIONS, configure_converter
from asmnet_edge.model.io import weights_sha256
from asmnet_edge.runtime.contract import INPUT_NAME, LANDMARKS_OUTPUT
from asmnet_edge.runtime.metadata import ModelMetadata

CASCADE_PRECISIONS = ("fp32", "fp16", "int8")  # int16x8 / dynamic are not offered for cascades

Item = TypeVar("Item")


def check_precisions(precisions: Sequence[str], what: str) -> None:
    """:class:`ConfigError` naming ``what`` (e.g. ``"DAN"``) for a precision cascades do not offer.

    >>> check_precisions(("fp32", "int16x8"), "DAN")
    Traceback (most recent call last):
    asmnet_edge.errors.ConfigError: DAN exports ('fp32', 'fp16', 'int8'), not 'int16x8'
    """
    for name in precisions:
        if name not in CASCADE_PRECISIONS:
            raise ConfigError(f"{what} exports {CASCADE_PRECISIONS}, not {name!r}")


def held_out(samples: list[Item], eval_count: int) -> tuple[list[Item], list[Item]]:
    """The first ``eval_count`` samples (at most half of them, at least one) for evaluation, and the
    rest for calibration (the held ones again when nothing is left)."""
    held = samples[: max(1, min(eval_count, len(samples) // 2 if len(samples) > 1 else 1))]
    return held, samples[len(held) :] or held


def convert_float_io(
    model: Any,
    precision: str,
    representative: Callable[[], Iterator[dict[str, np.ndarray]]],
    what: str,
    convert: Callable[[Any, Any], bytes] | None = None,
) -> bytes:
    """Convert a Keras model to ``precision`` with float32 input and output; ``representative`` feeds
    calibration when the precision needs it; ``convert(tf, converter)`` replaces the plain
    ``converter.convert()``. TensorFlow's failure becomes one line: ``ExportError`` naming ``what``."""
    spec = PRECISIONS[precision]
    tf = require("tensorflow", extra="export", purpose="converting models to TFLite")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    configure_converter(converter, precision, "float32", representative if spec.needs_calibration else None)
    from asmnet_edge.exporters.convert import captured_output

    log: list[str] = []
    try:
        with captured_output(log):
            content = convert(tf, converter) if convert is not None else bytes(converter.convert())
    except Exception as err:  # TensorFlow raises many types; the user needs one line and the cause
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ExportError(f"TensorFlow could not convert {what} to {precision}: {first_line}") from err
    TfliteGraph(content).check_signature(INPUT_NAME, (LANDMARKS_OUTPUT,))
    return content


def recorded_facts(
    content: bytes, model: Any, calibration_source: str, calibration_count: int
) -> dict[str, Any]:
    """The :class:`ModelMetadata` fields a cascade export fills the same way: the io quantisation the
    converter produced (read back from ``content``), the calibration, the Keras weights' hash, the
    tool version."""
    graph = TfliteGraph(content)
    return {
        "input_quant": graph.io_quant(INPUT_NAME),
        "landmarks_quant": graph.io_quant(LANDMARKS_OUTPUT),
        "calibration_source": calibration_source,
        "calibration_count": calibration_count,
        "weights_sha256": weights_sha256(model),
        "tool_version": asmnet_edge.__version__,
    }


def record_model(
    name: str,
    path: Path,
    content: bytes,
    metadata: ModelMetadata,
    points: tuple[np.ndarray, np.ndarray, np.ndarray],
    size: int,
    log: Callable[[str], None],
    **extra: Any,
) -> dict[str, Any]:
    """The report entry of the exported ``path`` (its ``content``), with ``points`` = (the .tflite's,
    Keras', the ground truth) compared in a ``size`` px crop; writes it with the metadata beside the
    model (``.json``) and logs one line. ``extra`` entries follow the file's facts."""
    lite_points, keras_points, truth = points
    vs_keras, basis = nme_percent(lite_points, keras_points, size)
    entry = {
        "path": str(path),
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        **extra,
        "nme_vs_keras_percent": float(vs_keras.mean()),
        "nme_vs_keras_max_percent": float(vs_keras.max()),
        "nme_vs_keras_basis": basis,
        "nme_percent": vs_truth(lite_points, truth),
    }
    sidecar = {"file": path.name, "sha256": entry["sha256"], "metadata": metadata.to_dict(), "report": entry}
    atomic_write_bytes(
        path.with_suffix(".json"), (json.dumps(sidecar, indent=1, sort_keys=True) + "\n").encode()
    )
    log(f"{name}: {path} ({len(content) / 1e6:.2f} MB), NME vs Keras {entry['nme_vs_keras_percent']:.4f} %")
    return entry


def vs_truth(points: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Mean NME (%) of ``points`` against ``truth`` per normalisation; empty for a landmark set
    without known eye corners."""
    if truth.shape[1] not in metrics.OUTER_EYE_CORNERS:
        return {}
    return {norm: float(100 * metrics.nme(points, truth, norm).mean()) for norm in metrics.NORMALISATIONS}
