"""Accuracy of exported models on labelled faces, and how far each drifts from the float model.

Models run through :class:`asmnet_edge.runtime.model.LiteModel` (the runtime's own quantisation and
decoding) on ASMNet crops from :mod:`asmnet_edge.data.dataset`; predictions are mapped back to image
pixels and scored with :mod:`asmnet_edge.eval.metrics` (NME normalised by the outer-eye distance,
failure rate at 8 % and 10 %, AUC@0.08, pose MAE). Accuracy is computed on the host, whatever the
target: the numbers of a model do not depend on where it is timed.

>>> faces = load_faces("/data/300w/test", "300w")  # doctest: +SKIP
>>> scores, predictions = evaluate_model("asmnet68_int8.tflite", faces)  # doctest: +SKIP
>>> scores["nme_percent"]  # doctest: +SKIP
5.9
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.bench.timing import latency_stats
from asmnet_edge.data.dataset import FaceCrops, Sample, crop_box, make_crops, read_dataset
from asmnet_edge.errors import DataError
from asmnet_edge.eval import metrics
from asmnet_edge.runtime.geometry import crop_image, crop_to_image
from asmnet_edge.runtime.image import load_image
from asmnet_edge.runtime.metadata import ModelMetadata
from asmnet_edge.runtime.model import LiteModel
from asmnet_edge.runtime.refine import Cascade, RefineModel

TIMED_FACES = 30  # per-face latency is timed on this many faces (full image -> crop -> model)


@dataclass
class LabelledFaces:
    """Samples plus their crops per input size (cropping is done once per size and reused)."""

    path: str
    fmt: str
    samples: list[Sample]
    crops: dict[int, FaceCrops] = field(default_factory=dict)
    images: list[np.ndarray] = field(default_factory=list)

    def crops_for(self, size: int) -> FaceCrops:
        if size not in self.crops:
            self.crops[size] = make_crops(self.samples, size)
        return self.crops[size]

    def timing_images(self) -> list[np.ndarray]:
        if not self.images:
            self.images = [load_image(sample.image_path) for sample in self.samples[:TIMED_FACES]]
        return self.images

    @property
    def truth(self) -> np.ndarray:
        return np.stack([sample.landmarks for sample in self.samples])

    @property
    def poses(self) -> np.ndarray:
        return np.stack(
            [sample.pose if sample.pose is not None else np.full(3, np.nan) for sample in self.samples]
        )

    def describe(self) -> dict[str, Any]:
        known_pose = int(np.isfinite(self.poses).all(axis=1).sum())
        return {
            "path": self.path,
            "format": self.fmt,
            "faces": len(self.samples),
            "faces_with_pose": known_pose,
            "points": int(self.samples[0].landmarks.shape[0]),
        }


def load_faces(path: str | Path, fmt: str = "300w", limit: int | None = None) -> LabelledFaces:
    """Read a labelled dataset (see :func:`asmnet_edge.data.dataset.read_dataset`)."""
    samples = read_dataset(path, fmt)
    if limit is not None:
        samples = samples[:limit]
    counts = {sample.landmarks.shape[0] for sample in samples}
    if len(counts) != 1:
        raise DataError(f"{path} mixes faces with {sorted(counts)} landmarks: use one scheme per dataset")
    return LabelledFaces(str(path), fmt, samples)


def evaluate_model(
    model: str | Path, faces: LabelledFaces, num_threads: int = 1
) -> tuple[dict[str, Any], np.ndarray]:
    """Scores of one model and its predictions in image pixels (N, n, 2).

    Raises :class:`asmnet_edge.errors.ModelError` / ``MetadataError`` when the model cannot be run
    through the runtime (for instance a .tflite without asmnet-edge metadata).
    """
    lite = LiteModel.from_file(model, num_threads=num_threads)
    return _evaluate(lite.metadata, lite.run, faces, "crop from the full image + LiteModel.run")


def evaluate_cascade(
    stage1: str | Path, refine: str | Path, faces: LabelledFaces, num_threads: int = 1
) -> tuple[dict[str, Any], np.ndarray]:
    """:func:`evaluate_model` for a stage-1 ASMNet and its refine stage (checked to belong to it): the
    refined points, stage 1's pose; the per-face time includes the warp, heatmap and second interpreter."""
    cascade = Cascade(
        LiteModel.from_file(stage1, num_threads=num_threads), RefineModel.from_file(refine, num_threads)
    )
    what = "crop from the full image + Cascade.run (stage 1, warp, heatmap, refine stage)"
    return _evaluate(cascade.stage1.metadata, cascade.run, faces, what)


def _evaluate(
    meta: ModelMetadata,
    run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    faces: LabelledFaces,
    what: str,
) -> tuple[dict[str, Any], np.ndarray]:
    """Scores and image-pixel predictions of ``run`` (crops -> crop points, pose degrees) on ``faces``."""
    size = meta.input_size
    if meta.num_landmarks != faces.samples[0].landmarks.shape[0]:
        raise DataError(
            f"the model predicts {meta.num_landmarks} landmarks, the dataset has "
            f"{faces.samples[0].landmarks.shape[0]}: evaluate it on a matching dataset"
        )
    crops = faces.crops_for(size)
    crop_points, poses = run(crops.images)
    predictions = np.stack(
        [crop_to_image(points, box, size) for points, box in zip(crop_points, crops.boxes, strict=True)]
    )
    scores = metrics.summarize(predictions, faces.truth, poses, faces.poses)
    inner = metrics.nme_inner51_percent(predictions, faces.truth)
    if inner is not None:
        scores["nme_inner51_percent"] = inner
    timed = []
    for sample, image in zip(faces.samples, faces.timing_images(), strict=False):
        start = time.perf_counter_ns()
        run(crop_image(image, crop_box(sample.landmarks), size))
        timed.append((time.perf_counter_ns() - start) / 1e6)
    scores["per_face"] = latency_stats(timed, count_key="faces")
    scores["per_face"]["what"] = f"{what} (quantise, invoke, decode), 1 face"
    return scores, predictions


def drift(predictions: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """How far a model's landmarks are from the float model's, as NME (%) of the reference shapes."""
    values = metrics.nme(predictions, reference)
    return {
        "nme_vs_fp32_percent": float(100 * values.mean()),
        "nme_vs_fp32_max_percent": float(100 * values.max()),
    }


def compare_to_fp32(scores: dict[str, Any], fp32: dict[str, Any]) -> dict[str, Any]:
    """Change of each headline metric against the float model of the same variant (model - fp32)."""
    change: dict[str, Any] = {}
    for key in ("nme_percent", "nme_inner51_percent", "failure_rate_008", "failure_rate_010", "auc_008"):
        if key in scores and key in fp32:
            change[f"{key}_change"] = float(scores[key] - fp32[key])
    pose, pose_fp32 = scores.get("pose_mae_deg") or {}, fp32.get("pose_mae_deg") or {}
    if "mean" in pose and "mean" in pose_fp32:
        change["pose_mae_mean_deg_change"] = float(pose["mean"] - pose_fp32["mean"])
    return change
