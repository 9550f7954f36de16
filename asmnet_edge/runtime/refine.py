"""The refinement stage behind ASMNet: re-align the stage-1 crop by stage 1's points, correct them.

Stage 1 (ASMNet) gives points in its crop. A similarity transform ``T`` (least squares, as DAN
estimates it) takes them onto the refine model's mean shape; the stage-1 crop is warped by ``T`` into
an ``A x A`` aligned crop (OpenCV's ``warpAffine``, or the numpy sampler of
:func:`~asmnet_edge.runtime.geometry.warp_image`), a heatmap of ``T(points)`` is drawn as a fourth
channel, and the refine network (a plain CNN) predicts the correction of every point in the aligned
frame; ``T^-1`` brings the corrected points back to the crop. The geometry runs here, in numpy, so the
.tflite holds convolutions only and quantises like any CNN (DAN's in-graph warp does not survive int8).

Training (:mod:`asmnet_edge.training.refine`) builds its inputs with these same functions.

>>> import numpy as np
>>> source = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
>>> matrix = similarity_matrix(source, source * 3 + 1)
>>> apply_affine(source, matrix).round(6).tolist()
[[1.0, 1.0], [7.0, 1.0], [1.0, 7.0]]
>>> apply_affine(apply_affine(source, matrix), invert_affine(matrix)).round(6).tolist() == source.tolist()
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmnet_edge.errors import DataError, ModelError, StageMismatchError
from asmnet_edge.runtime.geometry import warp_image
from asmnet_edge.runtime.metadata import ModelMetadata, RefineInfo, Stage1Facts
from asmnet_edge.runtime.model import LiteModel

HEATMAP_LEVELS = 255.0  # the heatmap channel is stored like the pixels: uint8, times the input scale


def similarity_matrix(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2x3 matrix ``[[a, -b, tx], [b, a, ty]]`` of the least-squares similarity taking ``source``
    (n x 2) onto ``target`` (n x 2): in complex numbers ``a + ib = sum(conj(s) m) / sum(|s|^2)`` of
    the centred shapes (DAN's closed form, :func:`asmnet_edge.model.dan_layers.similarity_params`)."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2:
        raise DataError(f"similarity needs two (n, 2) shapes of the same size, got {src.shape} {dst.shape}")
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    s, m = src - src_mean, dst - dst_mean
    norm = float(np.sum(s * s))
    if not np.isfinite(norm) or norm < 1e-12:
        raise DataError("the stage-1 points have no spread (all in one place): nothing to align")
    a = float(np.sum(s[:, 0] * m[:, 0] + s[:, 1] * m[:, 1])) / norm
    b = float(np.sum(s[:, 0] * m[:, 1] - s[:, 1] * m[:, 0])) / norm
    rotation = np.array([[a, -b], [b, a]])
    return np.column_stack([rotation, dst_mean - rotation @ src_mean])


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``points`` (..., 2) through a 2x3 affine ``matrix``."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """The 2x3 inverse of a 2x3 affine matrix."""
    linear = np.linalg.inv(matrix[:, :2])
    return np.column_stack([linear, -linear @ matrix[:, 2]])


def landmark_heatmap(points: np.ndarray, size: int, patch_half: float) -> np.ndarray:
    """(size, size) float32: ``max_i 1 / (1 + d_i)`` over the points whose square patch (half-width
    ``patch_half`` px) holds the pixel, 0 elsewhere: DAN's landmark image, drawn patch by patch.

    >>> heat = landmark_heatmap(np.array([[2.0, 1.0]]), 5, 1.0)
    >>> heat[1].round(3).tolist(), float(heat[1, 2]), float(heat[3, 2])
    ([0.0, 0.5, 1.0, 0.5, 0.0], 1.0, 0.0)
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    low = int(np.floor(patch_half))
    pad = 2 * (low + 1)  # a frame around the map, so that no patch index needs a bounds check
    width = size + 2 * pad
    offsets = np.arange(-low, low + 2)  # floor(x) - low ... floor(x) + low + 1 covers |c - x| <= half
    # each patch is placed around its point clipped into the frame; a point far outside then draws
    # only zeros (its distances are the true ones, beyond the patch)
    base = np.clip(np.floor(pts), -low - 1, size + low).astype(np.int64)
    cols = base[:, 0:1] + offsets  # (n, k)
    rows = base[:, 1:2] + offsets
    far = np.float32(np.inf)  # outside the patch: 1 / (1 + inf) = 0
    dx = (cols - pts[:, 0:1]).astype(np.float32)
    dy = (rows - pts[:, 1:2]).astype(np.float32)
    dx = np.where(np.abs(dx) <= patch_half, dx, far)
    dy = np.where(np.abs(dy) <= patch_half, dy, far)
    values = 1.0 / (1.0 + np.sqrt(dy[:, :, None] ** 2 + dx[:, None, :] ** 2))
    index = (rows[:, :, None] + pad) * width + (cols[:, None, :] + pad)
    heat = np.zeros(width * width, dtype=np.float32)
    np.maximum.at(heat, index.reshape(-1), values.reshape(-1))
    return heat.reshape(width, width)[pad : pad + size, pad : pad + size]


def aligned_input(
    crop: np.ndarray, crop_points: np.ndarray, mean_shape: np.ndarray, size: int, patch_half: float
) -> tuple[np.ndarray, np.ndarray]:
    """The refine model's input for one stage-1 crop: ``(size, size, 4)`` uint8 (the aligned RGB crop
    and the heatmap of the aligned stage-1 points, times 255) and the 2x3 matrix crop -> aligned."""
    matrix = similarity_matrix(crop_points, np.asarray(mean_shape, dtype=np.float64).reshape(-1, 2))
    pixels = warp_image(np.ascontiguousarray(crop), matrix, size)
    heat = landmark_heatmap(apply_affine(crop_points, matrix), size, patch_half)
    channel = np.clip(np.rint(heat * HEATMAP_LEVELS), 0, 255).astype(np.uint8)[:, :, None]
    return np.concatenate([pixels, channel], axis=2), matrix


def corrected_points(
    crop_points: np.ndarray, matrix: np.ndarray, values: np.ndarray, size: int
) -> np.ndarray:
    """Stage-1 crop points moved by the refine output ``values`` (flat, aligned pixels / ``size``)."""
    aligned = apply_affine(crop_points, matrix) + np.asarray(values, dtype=np.float64).reshape(-1, 2) * size
    return apply_affine(aligned, invert_affine(matrix))


def stage1_facts(meta: ModelMetadata) -> Stage1Facts:
    """The facts of an exported stage-1 ASMNet that a refine model is checked against."""
    return Stage1Facts(
        weights_sha256=meta.weights_sha256,
        num_landmarks=meta.num_landmarks,
        input_size=meta.input_size,
        crop_margin=meta.crop_margin,
        landmark_sign=meta.landmark_sign,
    )


def check_stage1(info: RefineInfo, stage1: Stage1Facts, architecture: str = "asmnet") -> None:
    """Raise :class:`StageMismatchError` unless ``stage1`` is the stage 1 ``info`` was trained behind.

    >>> facts = Stage1Facts("ab" * 32, 68, 128, 0.05, 1.0)
    >>> check_stage1(RefineInfo(facts, 6.0), facts)
    >>> check_stage1(RefineInfo(facts, 6.0), Stage1Facts("cd" * 32, 68, 128, 0.05, 1.0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    asmnet_edge.errors.StageMismatchError: this refine model was trained behind the stage-1 ASMNet ...
    """
    if architecture != "asmnet":
        raise StageMismatchError(
            f"a refine model refines an ASMNet, not a model of architecture {architecture!r}"
        )
    wanted = info.stage1
    checks = (
        ("landmarks", wanted.num_landmarks, stage1.num_landmarks),
        ("input size", wanted.input_size, stage1.input_size),
        ("crop margin", wanted.crop_margin, stage1.crop_margin),
        ("landmark sign", wanted.landmark_sign, stage1.landmark_sign),
        ("weights sha256", wanted.weights_sha256[:12], stage1.weights_sha256[:12]),
    )
    differ = [f"{name} {mine} (given {theirs})" for name, mine, theirs in checks if mine != theirs]
    if differ or wanted.weights_sha256 != stage1.weights_sha256:
        trained = f" ({wanted.source})" if wanted.source else ""
        raise StageMismatchError(
            f"this refine model was trained behind the stage-1 ASMNet{trained} with "
            + ", ".join(differ)
            + ": its corrections would be garbage behind another stage 1; use the refine model "
            "trained for this stage 1 (asmnet-edge train --arch refine --stage1 WEIGHTS)"
        )


class RefineModel:
    """An exported refine stage on its own interpreter: stage-1 crop + points in, corrected points out.

    >>> refiner = RefineModel.from_file("refine68_int8.tflite")  # doctest: +SKIP
    >>> refiner.check(stage1.metadata)  # doctest: +SKIP
    >>> better = refiner.refine(crop, stage1_points)  # doctest: +SKIP
    """

    def __init__(self, lite: LiteModel) -> None:
        meta = lite.metadata
        if meta.architecture != "refine" or meta.refine is None or meta.mean_shape is None:
            raise ModelError(
                f"{meta.model_name} is a model of architecture {meta.architecture!r}, not a refine stage: "
                "pass it as the model, and a refine .tflite (asmnet-edge export of a refine run) as refine"
            )
        self.lite = lite
        self.metadata = meta
        self.info: RefineInfo = meta.refine
        self.mean_shape = np.asarray(meta.mean_shape, dtype=np.float64).reshape(-1, 2)

    @classmethod
    def from_file(
        cls, path: str | Path | bytes, num_threads: int | None = 1, use_xnnpack: bool = True
    ) -> RefineModel:
        """Load a refine .tflite (its embedded metadata says which stage 1 it belongs to)."""
        return cls(LiteModel.from_file(path, num_threads=num_threads, use_xnnpack=use_xnnpack))

    def check(self, stage1: ModelMetadata | Stage1Facts) -> None:
        """:class:`StageMismatchError` unless ``stage1`` (metadata or facts) is this model's stage 1."""
        if isinstance(stage1, ModelMetadata):
            check_stage1(self.info, stage1_facts(stage1), stage1.architecture)
        else:
            check_stage1(self.info, stage1)

    def prepare(self, crop: np.ndarray, crop_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(input tensor, crop -> aligned matrix) for one stage-1 crop and its points (crop pixels)."""
        size = self.metadata.input_size
        pixels, matrix = aligned_input(crop, crop_points, self.mean_shape, size, self.info.heatmap_patch_half)
        return self.lite.input_tensor(pixels), matrix

    def refine(self, crop: np.ndarray, crop_points: np.ndarray) -> np.ndarray:
        """Corrected points (n, 2) in stage-1 crop pixels."""
        tensor, matrix = self.prepare(crop, crop_points)
        values, _ = self.lite.run_tensor(tensor)
        return corrected_points(crop_points, matrix, values, self.metadata.input_size)

    def refine_batch(self, crops: np.ndarray, crop_points: np.ndarray) -> np.ndarray:
        """:meth:`refine` for N crops (N, S, S, 3) and their points (N, n, 2)."""
        return np.stack([self.refine(crop, points) for crop, points in zip(crops, crop_points, strict=True)])


@dataclass(frozen=True)
class Cascade:
    """A stage-1 LiteModel and its checked refine stage: ``run(crops)`` like ``LiteModel.run``."""

    stage1: LiteModel
    refiner: RefineModel

    def __post_init__(self) -> None:
        self.refiner.check(self.stage1.metadata)

    def run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Refined landmarks in crop pixels (N, n, 2) and stage 1's pose in degrees (N, 3)."""
        batch = np.asarray(crops)
        batch = batch[None] if batch.ndim == 3 else batch
        points, poses = self.stage1.run(batch)
        return self.refiner.refine_batch(batch, points), poses
