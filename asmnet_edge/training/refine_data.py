"""The refine stage's training inputs: augmented crops, stage 1 run on them, re-aligned by its points.

For each augmented crop (the same data engine as ASMNet training, at stage 1's input size), the fixed
stage-1 Keras model predicts the points (batched, inference mode, fed as the runtime feeds it); the
points are optionally perturbed by a small random similarity (stage 1 fits its own training faces better
than new ones: the perturbation shows stage 2 the larger errors it meets on held-out faces); then
:func:`asmnet_edge.runtime.refine.aligned_input` makes the input and the target is the ground truth
minus the stage-1 points in the aligned frame, / ``aligned_size``.

>>> maker = RefineBatches(data, stage1, assets, perturb=1.0)  # doctest: +SKIP
>>> inputs, targets, points, truth = maker.batch(indices, epoch=0)  # doctest: +SKIP
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from asmnet_edge.model.asmnet import predict_crops
from asmnet_edge.model.io import LoadedASMNet
from asmnet_edge.model.refine import RefineAssets
from asmnet_edge.runtime.geometry import denormalise_landmarks
from asmnet_edge.runtime.refine import aligned_input, apply_affine
from asmnet_edge.training.pipeline import TrainingData

# the perturbation at amplitude 1: rotation (degrees), log-scale, shift (share of the shape's size)
PERTURB_ROTATION_DEG = 6.0
PERTURB_SCALE = 0.06
PERTURB_SHIFT = 0.04


def perturb_points(points: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """``points`` (n, 2) moved by a random similarity about their centre (uniform within the ranges
    above times ``amplitude``); ``amplitude`` 0 returns them unchanged."""
    if amplitude <= 0:
        return points
    centre = points.mean(axis=0)
    extent = float(np.ptp(points, axis=0).max())
    angle = np.deg2rad(rng.uniform(-1, 1) * PERTURB_ROTATION_DEG * amplitude)
    scale = np.exp(rng.uniform(-1, 1) * PERTURB_SCALE * amplitude)
    shift = rng.uniform(-1, 1, size=2) * PERTURB_SHIFT * amplitude * extent
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (points - centre) @ rotation.T + centre + shift


class RefineBatches:
    """Batches of (aligned inputs uint8 (B, A, A, 4), targets (B, 2n), stage-1 crop points, truth)."""

    def __init__(
        self,
        data: TrainingData,
        stage1: LoadedASMNet,
        assets: RefineAssets,
        perturb: float = 0.0,
        workers: int = 2,
    ) -> None:
        self.data = data
        self.stage1 = stage1
        self.assets = assets
        self.perturb = perturb
        self.workers = max(1, workers)

    def crops(self, indices: np.ndarray, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """uint8 crops (B, S, S, 3) and their ground truth in crop pixels (B, n, 2)."""
        with ThreadPoolExecutor(self.workers) as pool:  # OpenCV releases the GIL while it warps
            examples = list(pool.map(lambda index: self.data.example(int(index), epoch), indices))
        size, sign = self.data.input_size, self.data.sign
        images = np.stack([np.rint(item[0] * 255.0).astype(np.uint8) for item in examples])
        flat = np.stack([item[1] for item in examples]).reshape(len(examples), -1, 2)
        return images, denormalise_landmarks(flat, size, sign)

    def stage1_points(self, images: np.ndarray) -> np.ndarray:
        values, _ = predict_crops(self.stage1.model, images)
        points = values.reshape(len(images), -1, 2)
        return denormalise_landmarks(points, self.stage1.input_size, self.stage1.landmark_sign)

    def align(
        self, images: np.ndarray, points: np.ndarray, truth: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        spec = self.assets.spec
        inputs, targets = [], []
        for image, start, true in zip(images, points, truth, strict=True):
            pixels, matrix = aligned_input(
                image, start, self.assets.mean_points, spec.aligned_size, spec.patch_half
            )
            inputs.append(pixels)
            targets.append(
                ((apply_affine(true, matrix) - apply_affine(start, matrix)) / spec.aligned_size).reshape(-1)
            )
        return np.stack(inputs), np.stack(targets).astype(np.float32)

    def batch(self, indices: np.ndarray, epoch: int, train: bool = True) -> tuple[np.ndarray, ...]:
        """One batch for ``indices`` of the data at ``epoch`` (perturbed stage-1 points when ``train``)."""
        images, truth = self.crops(indices, epoch)
        points = self.stage1_points(images)
        if train and self.perturb > 0:
            rng = np.random.default_rng([self.data.seed, epoch, int(indices[0]), 31])
            points = np.stack([perturb_points(item, rng, self.perturb) for item in points])
        inputs, targets = self.align(images, points, truth)
        return inputs, targets, points, truth


def prefetched(maker: RefineBatches, batches: list[np.ndarray], epoch: int) -> Any:
    """Yield ``maker.batch`` for each index array, the next one built in a thread while the caller
    trains on the current one (TensorFlow and OpenCV release the GIL)."""
    if not batches:
        return
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(maker.batch, batches[0], epoch)
        for following in [*batches[1:], None]:
            current = pending.result()
            if following is not None:
                pending = pool.submit(maker.batch, following, epoch)
            yield current
