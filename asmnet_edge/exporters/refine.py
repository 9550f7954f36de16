"""Refine stage (Keras) -> one .tflite per precision, with metadata naming its stage 1, and fidelity.

The refine network is a plain CNN (the warp and the heatmap run in the runtime), so it converts with
the precision table's settings unchanged (:data:`asmnet_edge.exporters.precisions.PRECISIONS`; float32
input and output, int8 fully quantised inside). Calibration and evaluation inputs are made as the
runtime makes them: the stage-1 Keras model on labelled faces' runtime crops, re-aligned
(:func:`asmnet_edge.runtime.refine.aligned_input`); calibration also sees tighter and looser crops.

The metadata (``architecture: refine``) carries the aligned mean shape, the heatmap patch and the
stage-1 facts (weights sha256, landmarks, input size, crop margin, sign), so the runtime refuses a
refine model behind any other stage 1 (:class:`~asmnet_edge.errors.StageMismatchError`).

>>> report = export_refine("runs/refine", "exported", ("fp32", "int8"), calib="data/300w")  # doctest: +SKIP
>>> report["models"]["fp32"]["nme_vs_keras_percent"]  # doctest: +SKIP
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
from asmnet_edge.exporters import cascade
from asmnet_edge.exporters.precisions import PRECISIONS
from asmnet_edge.model.io import LoadedASMNet, load_asmnet
from asmnet_edge.model.refine import (
    ARCHITECTURE,
    LoadedRefine,
    load_refine,
    predict_corrections,
    stage1_facts_of,
)
from asmnet_edge.runtime.contract import CROP_MARGIN, INPUT_NAME
from asmnet_edge.runtime.geometry import denormalise_landmarks
from asmnet_edge.runtime.metadata import ModelMetadata, RefineInfo, embed_metadata
from asmnet_edge.runtime.model import LiteModel
from asmnet_edge.runtime.refine import aligned_input, check_stage1, corrected_points

REFINE_PRECISIONS = cascade.CASCADE_PRECISIONS
CALIBRATION_MARGINS = (0.05, -0.03, 0.15)  # runtime crops, then tighter and looser ones


def load_stage1_for(refine: LoadedRefine, stage1: str | Path | None = None) -> LoadedASMNet:
    """The Keras stage 1 of ``refine`` (``stage1``, else the weights its run recorded), checked."""
    path = stage1 if stage1 is not None else refine.assets.stage1.source
    if not path:
        raise ConfigError("the refine run does not say where its stage 1 is: pass --stage1 WEIGHTS")
    loaded = load_asmnet(path)
    check_stage1(
        RefineInfo(refine.assets.stage1, refine.assets.spec.patch_half), stage1_facts_of(loaded, str(path))
    )
    return loaded


class RefineInputs:
    """Runtime-made refine inputs of labelled faces: stage-1 crops, their points, aligned inputs."""

    def __init__(
        self, refine: LoadedRefine, stage1: LoadedASMNet, samples: list[Any], margin: float = CROP_MARGIN
    ):
        from asmnet_edge.model.asmnet import predict_crops

        crops = make_crops(samples, stage1.input_size, margin)
        values, _ = predict_crops(stage1.model, crops.images)
        self.crops = crops
        self.truth = crops.landmarks
        self.points = denormalise_landmarks(
            values.reshape(len(samples), -1, 2), stage1.input_size, stage1.landmark_sign
        )
        spec, mean = refine.assets.spec, refine.assets.mean_points
        made = [
            aligned_input(crop, points, mean, spec.aligned_size, spec.patch_half)
            for crop, points in zip(crops.images, self.points, strict=True)
        ]
        self.inputs = np.stack([item[0] for item in made])
        self.matrices = [item[1] for item in made]

    def corrected(self, values: np.ndarray, size: int) -> np.ndarray:
        """Stage-1 points moved by per-face outputs ``values`` (N, 2n), in crop pixels."""
        return np.stack(
            [
                corrected_points(points, matrix, value, size)
                for points, matrix, value in zip(self.points, self.matrices, values, strict=True)
            ]
        )


def convert_refine(model: Any, precision: str, calibration: np.ndarray | None = None) -> bytes:
    """Convert a Keras refine network to ``precision`` (float32 input and output); int8 needs
    ``calibration``: uint8 aligned inputs (N, A, A, 4)."""
    cascade.check_precisions((precision,), "a refine stage")
    if PRECISIONS[precision].needs_calibration and calibration is None:
        raise ExportError(f"{precision} export needs calibration inputs")

    def representative() -> Iterator[dict[str, np.ndarray]]:
        for item in calibration if calibration is not None else []:
            yield {INPUT_NAME: item[None].astype(np.float32) / np.float32(255.0)}

    return cascade.convert_float_io(model, precision, representative, "the refine stage")


def refine_metadata(
    refine: LoadedRefine, precision: str, content: bytes, calibration_source: str, calibration_count: int
) -> ModelMetadata:
    """The runtime's metadata for a refine .tflite."""
    assets = refine.assets
    return ModelMetadata(
        num_landmarks=assets.spec.num_landmarks,
        input_size=assets.spec.aligned_size,
        precision=precision,
        model_name=f"refine{assets.spec.num_landmarks}",
        pose_output="",
        crop_convention="stage-1 crop warped by the similarity of stage 1's points onto mean_shape",
        crop_margin=assets.stage1.crop_margin,
        architecture=ARCHITECTURE,
        mean_shape=assets.mean_shape,
        refine=RefineInfo(assets.stage1, assets.spec.patch_half),
        **cascade.recorded_facts(content, refine.model, calibration_source, calibration_count),
    )


def export_refine(
    model: str | Path | LoadedRefine,
    out_dir: str | Path,
    precisions: tuple[str, ...] = ("fp32",),
    calib: str | Path | None = None,
    calib_format: str = "300w",
    calib_count: int = 200,
    eval_count: int = 100,
    stage1: str | Path | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Export a refine stage (run folder, ``refine.weights.h5`` or a :class:`LoadedRefine`).

    ``calib`` (labelled faces) gives calibration and evaluation inputs; the first ``eval_count`` (files
    sorted) are held out from calibration. Returns a JSON-ready dict: per precision the file, size, and
    NME (%) of the cascade's points against the Keras cascade's and against the ground truth.
    """
    refine = model if isinstance(model, LoadedRefine) else load_refine(model)
    cascade.check_precisions(precisions, "a refine stage")
    if calib is None:
        raise ConfigError(
            "a refine export needs labelled faces (--calib DIR) to calibrate and check fidelity"
        )
    first = load_stage1_for(refine, stage1)
    samples = read_dataset(calib, calib_format, expected_points=refine.assets.spec.num_landmarks)
    held, rest = cascade.held_out(samples, eval_count)
    size = refine.assets.spec.aligned_size
    evaluation = RefineInputs(refine, first, held)
    keras_points = evaluation.corrected(predict_corrections(refine.model, evaluation.inputs), size)
    calibration = None
    if any(PRECISIONS[name].needs_calibration for name in precisions):
        per_margin = max(1, calib_count // len(CALIBRATION_MARGINS))
        parts = [
            RefineInputs(refine, first, rest[:per_margin], margin).inputs for margin in CALIBRATION_MARGINS
        ]
        calibration = np.concatenate(parts)[:calib_count]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "architecture": ARCHITECTURE,
        "model": refine.path,
        "stage1": refine.assets.stage1.source,
        "evaluation": {"source": str(calib), "count": len(held)},
        "calibration": {"source": str(calib), "count": 0 if calibration is None else len(calibration)},
        "stage1_nme_percent": cascade.vs_truth(evaluation.points, evaluation.truth),
        "keras_nme_percent": cascade.vs_truth(keras_points, evaluation.truth),
        "models": {},
    }
    for name in precisions:
        log(f"{name}: converting the refine stage")
        quantised = PRECISIONS[name].needs_calibration
        content = convert_refine(refine.model, name, calibration if quantised else None)
        count = len(calibration) if quantised and calibration is not None else 0
        metadata = refine_metadata(refine, name, content, str(calib) if count else "", count)
        content = embed_metadata(content, metadata)
        path = out / f"refine{refine.assets.spec.num_landmarks}{PRECISIONS[name].suffix}.tflite"
        atomic_write_bytes(path, content)
        lite = LiteModel.from_file(content, num_threads=1)
        values = np.stack([lite.run_tensor(lite.input_tensor(item))[0] for item in evaluation.inputs])
        points = (evaluation.corrected(values, size), keras_points, evaluation.truth)
        report["models"][name] = cascade.record_model(
            name, path, content, metadata, points, first.input_size, log
        )
    return report
