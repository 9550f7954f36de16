"""DAN (Keras) -> one .tflite per precision, builtin ops only, with metadata and a fidelity measurement.

The same converter settings as ASMNet (:data:`asmnet_edge.exporters.precisions.PRECISIONS`), the same
metadata entry (``architecture: dan``, ``stages``, ``mean_shape``, ``color_order: GRAY``, no pose
output); the op list of every converted flatbuffer is checked (no CUSTOM / Flex op), and its outputs
are compared with the Keras model's on labelled faces (NME of the .tflite against Keras, and each
against the ground truth).

>>> result = export_dan("runs/dan", "exported", ("fp32", "int8"), calib="data/300w")  # doctest: +SKIP
>>> result["models"]["fp32"]["nme_vs_keras_percent"]  # doctest: +SKIP
1e-05
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._atomic import atomic_write_bytes
from asmnet_edge.data.dataset import make_crops, read_dataset
from asmnet_edge.errors import ConfigError, ExportError
from asmnet_edge.eval.evaluate import predict_dan
from asmnet_edge.exporters import cascade
from asmnet_edge.exporters.graph import TfliteGraph
from asmnet_edge.exporters.precisions import PRECISIONS
from asmnet_edge.model.dan import ARCHITECTURE, LoadedDAN, load_dan
from asmnet_edge.runtime.contract import INPUT_NAME, LANDMARKS_OUTPUT
from asmnet_edge.runtime.metadata import ModelMetadata, embed_metadata
from asmnet_edge.runtime.model import LiteModel, grey_crop

DAN_PRECISIONS = cascade.CASCADE_PRECISIONS


def builtin_ops(content: bytes) -> dict[str, int]:
    """The op counts of a converted model; :class:`ExportError` if any op is CUSTOM or Flex."""
    counts = TfliteGraph(content).op_counts()
    foreign = sorted(
        name for name in counts if name == "CUSTOM" or name.upper().startswith(("FLEX", "DELEGATE"))
    )
    if foreign:
        raise ExportError(
            f"the converted DAN has non-builtin ops {foreign}: a standalone runtime cannot run it"
        )
    return counts


CALIBRATION_MARGINS = (0.05, -0.05, 0.15, 0.25)  # crops tighter and looser than the runtime's


def calibration_images(samples: list[Any], size: int, count: int) -> np.ndarray:
    """``count`` grey calibration inputs: the faces cropped at the runtime's margin, then tighter and
    looser (int8 ranges must cover detector-made boxes too)."""
    out: list[np.ndarray] = []
    for margin in CALIBRATION_MARGINS:
        if len(out) >= count:
            break
        crops = make_crops(samples[: count - len(out)], size, margin).images
        out.extend(grey_crop(crop) for crop in crops)
    return np.stack(out).astype(np.float32) / np.float32(255.0)


def convert_dan(
    model: Any, precision: str, calibration: np.ndarray | None = None, float_geometry: bool = True
) -> bytes:
    """Convert a Keras DAN to ``precision`` with builtin ops only (float32 input and output).

    For int8, ``float_geometry`` keeps the cascade's geometric layers (:func:`geometry_layers`) in
    float through selective quantisation: in int8 the transform estimation's sums of squared pixel
    coordinates and the warp's sampling positions lose everything (measured: 52 % NME against Keras
    on the test model, fully quantised).
    """
    cascade.check_precisions((precision,), "DAN")
    spec = PRECISIONS[precision]
    if spec.needs_calibration and calibration is None:
        raise ExportError(f"{precision} export needs calibration images")

    def representative() -> Iterator[dict[str, np.ndarray]]:
        for image in calibration if calibration is not None else []:
            yield {INPUT_NAME: image[None]}

    def with_float_geometry(tf: Any, converter: Any) -> bytes:
        return _int8_with_float_geometry(tf, converter, representative, model)

    keep_float = spec.needs_calibration and float_geometry
    return cascade.convert_float_io(
        model, precision, representative, "the DAN", with_float_geometry if keep_float else None
    )


def geometry_layers(model: Any) -> list[str]:
    """Names of the layers that compute in pixel coordinates: shapes, corrections, transforms, warps,
    heatmaps and the output."""
    kinds = ("_shape", "_delta", "_transform", "_warp", "_align_shape", "_heatmap", "_corrected")
    names = [layer.name for layer in model.layers if layer.name.endswith(kinds)]
    return names + [LANDMARKS_OUTPUT]


def _int8_with_float_geometry(tf: Any, converter: Any, representative: Any, model: Any) -> bytes:
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=representative)
    calibrated = TfliteGraph(debugger.calibrated_model)
    nodes: list[str] = []
    for layer in geometry_layers(model):
        nodes.extend(node for node in calibrated.layer_output_tensors(layer) if node not in nodes)
    debugger.options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=nodes)
    return bytes(debugger.get_nondebug_quantized_model())


def dan_metadata(
    loaded: LoadedDAN, precision: str, content: bytes, calibration_source: str, calibration_count: int
) -> ModelMetadata:
    """The runtime's metadata for a DAN .tflite: grey input, landmarks only, the mean shape."""
    spec = loaded.spec
    return ModelMetadata(
        num_landmarks=spec.num_landmarks,
        input_size=spec.input_size,
        precision=precision,
        model_name=f"dan{spec.num_landmarks}",
        alpha=1.0,
        pose_output="",
        color_order="GRAY",
        architecture=ARCHITECTURE,
        stages=spec.stages,
        mean_shape=tuple(float(value) for value in np.asarray(loaded.assets.mean_shape).reshape(-1)),
        **cascade.recorded_facts(content, loaded.model, calibration_source, calibration_count),
    )


def export_dan(
    model: str | Path | LoadedDAN,
    out_dir: str | Path,
    precisions: tuple[str, ...] = ("fp32",),
    calib: str | Path | None = None,
    calib_format: str = "300w",
    calib_count: int = 200,
    eval_count: int = 100,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Export a DAN (run folder, ``dan.weights.h5`` or a :class:`LoadedDAN`) to ``out_dir``.

    ``calib`` (a labelled folder) gives the calibration faces for int8 and the evaluation faces: the
    first ``eval_count`` (files sorted) are held out from calibration. Returns a JSON-ready dict with,
    per precision, the file, size, op counts and NME (%) against Keras and against the ground truth.
    """
    loaded = model if isinstance(model, LoadedDAN) else load_dan(model)
    cascade.check_precisions(precisions, "DAN")
    if calib is None:
        raise ConfigError(
            "a DAN export needs labelled faces (--calib DIR) to calibrate and to check fidelity"
        )
    samples = read_dataset(calib, calib_format, expected_points=loaded.spec.num_landmarks)
    held, rest = cascade.held_out(samples, eval_count)
    size = loaded.spec.input_size
    evaluation = make_crops(held, size)
    keras_points = predict_dan(loaded.model, evaluation.images)
    truth = evaluation.landmarks
    calibration = None
    if any(PRECISIONS[name].needs_calibration for name in precisions):
        calibration = calibration_images(rest, size, calib_count)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "architecture": ARCHITECTURE,
        "stages": loaded.spec.stages,
        "model": loaded.path,
        "evaluation": {"source": str(calib), "count": len(held)},
        "calibration": {"source": str(calib), "count": 0 if calibration is None else len(calibration)},
        "keras_nme_percent": cascade.vs_truth(keras_points, truth),
        "models": {},
    }
    for name in precisions:
        log(f"{name}: converting the DAN")
        content = convert_dan(loaded.model, name, calibration if PRECISIONS[name].needs_calibration else None)
        ops = builtin_ops(content)
        count = 0 if calibration is None or not PRECISIONS[name].needs_calibration else len(calibration)
        metadata = dan_metadata(loaded, name, content, str(calib) if count else "", count)
        content = embed_metadata(content, metadata)
        path = out / f"dan{loaded.spec.num_landmarks}{PRECISIONS[name].suffix}.tflite"
        atomic_write_bytes(path, content)
        lite = LiteModel.from_file(content, num_threads=1)
        lite_points, _ = lite.run(evaluation.images)
        points = (lite_points, keras_points, truth)
        report["models"][name] = cascade.record_model(
            name, path, content, metadata, points, size, log, ops=ops
        )
    return report
