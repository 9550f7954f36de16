"""Evaluate a model (Keras weights, a .tflite, or the embedded default) on a labelled dataset.

Faces are cropped from their ground-truth landmarks (ASMNet convention, margin 0.05), predictions are
mapped back to image pixels, and NME is computed there against the ground truth, on all points and on
the 51 inner points (no jaw) for 68-point faces.

>>> report = evaluate_model("asmnet68_int8.tflite", "data/300w_test", fmt="300w")  # doctest: +SKIP
>>> report["all"]["nme_percent"]  # doctest: +SKIP
4.8
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.data.dataset import FaceCrops, make_crops, read_dataset
from asmnet_edge.errors import ModelError
from asmnet_edge.eval.metrics import inner51_mask, summarize
from asmnet_edge.runtime.geometry import crop_to_image, denormalise_landmarks


def load_predictor(model: str | Path | None, num_threads: int = 1) -> tuple[Any, int, int]:
    """A function crops -> (landmarks in crop pixels, pose degrees), plus landmarks and input size.

    ``model`` is a ``.tflite`` (run by LiteRT), Keras weights, or None for the embedded default.
    """
    if model is not None and str(model).endswith(".tflite"):
        from asmnet_edge.runtime.model import LiteModel

        lite = LiteModel.from_file(model, num_threads=num_threads)
        return lite.run, lite.metadata.num_landmarks, lite.metadata.input_size
    from asmnet_edge.model.dan import is_dan

    if model is not None and is_dan(model):
        return _dan_predictor(model)
    from asmnet_edge.model import load_default
    from asmnet_edge.model.asmnet import predict_crops
    from asmnet_edge.model.io import load_asmnet
    from asmnet_edge.runtime.contract import POSE_SCALE_DEG

    loaded = load_default() if model is None else load_asmnet(model)

    def run(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, poses = predict_crops(loaded.model, images)
        points = values.reshape(len(images), -1, 2)
        return denormalise_landmarks(points, loaded.input_size, loaded.landmark_sign), poses * POSE_SCALE_DEG

    return run, loaded.num_landmarks, loaded.input_size


def predict_dan(model: Any, crops: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Landmarks in crop pixels (N, n, 2) of a Keras DAN for uint8 RGB crops (N, S, S, 3), fed exactly
    as the runtime feeds the .tflite (luma, times the float32 1/255)."""
    from asmnet_edge.runtime.contract import LANDMARKS_OUTPUT
    from asmnet_edge.runtime.model import grey_crop

    grey = grey_crop(crops).astype(np.float32) * np.float32(1.0 / 255.0)
    values = np.concatenate(
        [
            np.asarray(model(grey[start : start + batch_size], training=False)[LANDMARKS_OUTPUT])
            for start in range(0, len(grey), batch_size)
        ]
    )
    return denormalise_landmarks(values.reshape(len(crops), -1, 2), crops.shape[1], 1.0)


def _dan_predictor(model: str | Path) -> tuple[Any, int, int]:
    """A Keras DAN (run folder or dan.weights.h5): landmarks only, NaN poses."""
    from asmnet_edge.model.dan import load_dan

    loaded = load_dan(model)

    def run(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return predict_dan(loaded.model, images), np.full((len(images), 3), np.nan)

    return run, loaded.spec.num_landmarks, loaded.spec.input_size


def predict_in_image(predictor: Any, crops: FaceCrops) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks in image pixels (N, n, 2) and pose (N, 3) for every crop."""
    crop_points, poses = predictor(crops.images)
    size = crops.images.shape[1]
    points = np.stack([crop_to_image(crop_points[i], box, size) for i, box in enumerate(crops.boxes)])
    return points, poses


def evaluate_model(
    model: str | Path | None,
    data: str | Path,
    fmt: str = "300w",
    norm: str = "inter-ocular",
    limit: int | None = None,
    num_threads: int = 1,
    visible_only: bool = False,
    layout: str = "auto",
    refine: str | Path | None = None,
) -> dict[str, Any]:
    """NME/CED/AUC/failure rate/pose MAE of ``model`` on a dataset, as a JSON-ready dict.

    ``layout`` ``300w`` (or ``auto`` on a folder that has it) evaluates 300W's official test tree
    (``lfpw/testset``, ``helen/testset``, ``ibug``) and adds ``subsets``: common, challenging and full,
    each with inter-pupil and inter-ocular NME, CED, AUC@0.08 and failure rate (see
    :mod:`asmnet_edge.eval.subsets`); ``limit`` then applies to each part. ``refine`` (a refine stage
    trained behind ``model``: .tflite or refine weights) evaluates the cascade.
    """
    from asmnet_edge.eval.subsets import resolve_layout, subset_members, subset_metrics

    parts = resolve_layout(data, layout, fmt)
    if refine is not None:
        from asmnet_edge.eval.refine import load_refined_predictor

        predictor, points, size = load_refined_predictor(model, refine, num_threads)
    else:
        predictor, points, size = load_predictor(model, num_threads)
    part_names: list[str] = []
    if parts is None:
        samples = read_dataset(data, fmt)
    else:
        samples = []
        for part, folder in parts.items():
            found = read_dataset(folder, fmt)[:limit] if limit else read_dataset(folder, fmt)
            samples += found
            part_names += [part] * len(found)
    if samples[0].landmarks.shape[0] != points:
        raise ModelError(
            f"the model predicts {points} landmarks but {data} has {samples[0].landmarks.shape[0]}"
        )
    samples = samples[:limit] if limit and parts is None else samples
    crops = make_crops(samples, size)
    predicted, poses = predict_in_image(predictor, crops)
    has_pose = not np.all(np.isnan(poses))
    truth = np.stack([sample.landmarks for sample in samples])
    gt_pose = crops.poses
    mask = None
    if visible_only and all(sample.visible is not None for sample in samples):
        mask = np.stack([np.asarray(sample.visible) for sample in samples])  # all known (checked above)
    report: dict[str, Any] = {
        "model": str(model) if model is not None else "default",
        "refine": str(refine) if refine is not None else None,
        "data": str(data),
        "format": fmt,
        "layout": "flat" if parts is None else "300w",
        "all": summarize(predicted, truth, poses if has_pose else None, gt_pose, norm, mask),
    }
    if parts is not None:
        report["parts"] = {part: part_names.count(part) for part in parts}
        report["subsets"] = subset_metrics(predicted, truth, subset_members(part_names))
    inner_mask = inner51_mask(truth)
    if inner_mask is not None:
        if mask is not None:
            inner_mask &= mask
        report["inner51"] = summarize(predicted, truth, None, None, norm, inner_mask)
    report["per_image_nme_percent"] = {
        crops.files[i]: float(value) for i, value in enumerate(100 * _per_image(predicted, truth, norm, mask))
    }
    return report


def _per_image(predicted: np.ndarray, truth: np.ndarray, norm: str, mask: np.ndarray | None) -> np.ndarray:
    from asmnet_edge.eval.metrics import nme

    return nme(predicted, truth, norm, mask)
