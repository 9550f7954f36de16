"""The Deep Alignment Network's custom steps as Keras layers (Kowalski et al., CVPR-W 2017).

Landmarks are flat ``[x0, y0, x1, y1, ...]`` in crop pixels (pixel (col, row) is centred on (col, row)).
A similarity transform is four numbers ``[a, b, tx, ty]``: ``p -> [[a, -b], [b, a]] p + [tx, ty]``.

- :class:`TransformEstimation`: the closed-form least-squares similarity from the current landmarks to
  the mean shape.
- :class:`ImageWarp`: the image resampled into the mean shape's frame, bilinear, built from GATHER and
  arithmetic only (so the .tflite holds builtin ops only); samples outside the image read 0.
- :class:`LandmarkTransform`: landmarks through the transform (or its inverse).
- :class:`LandmarkHeatmap`: ``1 / (1 + d)`` with ``d`` the distance to the nearest landmark whose
  square patch (``2 * patch_half + 1`` px) holds the pixel, 0 elsewhere; computed on a coarser grid
  when ``resolution`` < ``size`` and upsampled (bilinear).

Every layer takes the dtype policy of its inputs' layer (``dtype="float64"`` for gradient checks).
This module imports Keras at import time: import it from inside functions (``model/dan.py`` does).

>>> layer = TransformEstimation(mean_shape=[0.0, 0.0, 1.0, 0.0])  # doctest: +SKIP
>>> layer(np.array([[0.0, 0.0, 2.0, 0.0]])).numpy().tolist()  # doctest: +SKIP
[[0.5, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

EPSILON = 1e-12  # keeps sqrt differentiable at 0 and divisions finite for a degenerate shape


def _points(flat: Any) -> Any:
    """(B, 2n) -> (B, n, 2)."""
    return ops.reshape(flat, (-1, ops.shape(flat)[-1] // 2, 2))


def similarity_params(source: Any, target: Any) -> Any:
    """Least-squares ``[a, b, tx, ty]`` (B, 4) mapping ``source`` (B, n, 2) onto ``target`` (B or 1, n, 2).

    In complex numbers ``target ~ (a + ib) source + t``: with both centred,
    ``a + ib = sum(conj(s) m) / sum(|s|^2)`` and ``t = mean(m) - (a + ib) mean(s)``.
    """
    source_mean = ops.mean(source, axis=1, keepdims=True)
    target_mean = ops.mean(target, axis=1, keepdims=True)
    centred = source - source_mean
    target_centred = target - target_mean
    sx, sy = centred[..., 0], centred[..., 1]
    mx, my = target_centred[..., 0], target_centred[..., 1]
    norm = ops.sum(sx * sx + sy * sy, axis=1) + EPSILON
    a = ops.sum(sx * mx + sy * my, axis=1) / norm
    b = ops.sum(sx * my - sy * mx, axis=1) / norm
    source_x, source_y = source_mean[:, 0, 0], source_mean[:, 0, 1]
    tx = target_mean[:, 0, 0] - (a * source_x - b * source_y)
    ty = target_mean[:, 0, 1] - (b * source_x + a * source_y)
    return ops.stack([a, b, tx, ty], axis=-1)


def apply_similarity(points: Any, params: Any, inverse: bool = False) -> Any:
    """``points`` (B, n, 2) through ``params`` (B, 4), or through its inverse."""
    a, b = params[:, 0:1], params[:, 1:2]
    tx, ty = params[:, 2:3], params[:, 3:4]
    x, y = points[..., 0], points[..., 1]
    if inverse:
        det = a * a + b * b
        x, y = x - tx, y - ty
        return ops.stack([(a * x + b * y) / det, (a * y - b * x) / det], axis=-1)
    return ops.stack([a * x - b * y + tx, b * x + a * y + ty], axis=-1)


@keras.saving.register_keras_serializable(package="asmnet_edge")
class TransformEstimation(keras.layers.Layer):
    """Current landmarks (B, 2n) -> the similarity (B, 4) that maps them onto the mean shape."""

    def __init__(self, mean_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mean_shape = [float(value) for value in np.asarray(mean_shape).reshape(-1)]

    def call(self, landmarks: Any) -> Any:
        target = ops.reshape(ops.convert_to_tensor(self.mean_shape, dtype=landmarks.dtype), (1, -1, 2))
        return similarity_params(_points(landmarks), target)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], 4)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean_shape": self.mean_shape}


@keras.saving.register_keras_serializable(package="asmnet_edge")
class LandmarkTransform(keras.layers.Layer):
    """``[landmarks (B, 2n), params (B, 4)]`` -> landmarks through the transform (or its inverse)."""

    def __init__(self, inverse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inverse = bool(inverse)

    def call(self, inputs: Any) -> Any:
        landmarks, params = inputs
        moved = apply_similarity(_points(landmarks), params, self.inverse)
        return ops.reshape(moved, (-1, ops.shape(landmarks)[-1]))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "inverse": self.inverse}


@keras.saving.register_keras_serializable(package="asmnet_edge")
class ImageWarp(keras.layers.Layer):
    """``[image (B, H, W, C), params (B, 4)]`` -> the image seen through the transform.

    Output pixel ``p`` reads the input at ``T^-1(p)`` (T maps input pixels to output pixels), bilinear,
    0 outside the input. The four neighbours are fetched with one GATHER each from the flattened batch;
    the weights are products of the fractional parts, so the gradient reaches the image and the
    transform (not through ``floor``, whose derivative is 0 almost everywhere).
    """

    def call(self, inputs: Any) -> Any:
        image, params = inputs
        height, width, channels = image.shape[1], image.shape[2], image.shape[3]
        dtype = image.dtype
        batch = ops.shape(image)[0]
        cols, rows = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
        grid = np.stack([cols.reshape(-1), rows.reshape(-1)], axis=-1)[None]  # (1, HW, 2)
        grid = ops.broadcast_to(ops.convert_to_tensor(grid, dtype=dtype), (batch, height * width, 2))
        source = apply_similarity(grid, params, inverse=True)
        x, y = source[..., 0], source[..., 1]
        x0, y0 = ops.floor(x), ops.floor(y)
        fx, fy = x - x0, y - y0
        flat = ops.reshape(image, (-1, channels))
        offsets = ops.cast(ops.arange(batch) * (height * width), "int32")[:, None]
        result = None
        for dy, weight_y in ((0.0, 1.0 - fy), (1.0, fy)):
            for dx, weight_x in ((0.0, 1.0 - fx), (1.0, fx)):
                col, row = x0 + dx, y0 + dy
                inside = (col >= 0) & (col <= width - 1) & (row >= 0) & (row <= height - 1)
                col_index = ops.cast(ops.clip(col, 0, width - 1), "int32")
                row_index = ops.cast(ops.clip(row, 0, height - 1), "int32")
                index = ops.reshape(offsets + row_index * width + col_index, (-1,))
                values = ops.reshape(ops.take(flat, index, axis=0), (batch, height * width, channels))
                weight = weight_x * weight_y * ops.cast(inside, dtype)
                term = values * weight[..., None]
                result = term if result is None else result + term
        return ops.reshape(result, (-1, height, width, channels))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]


def bilinear_matrix(source: int, size: int) -> np.ndarray:
    """(size, source) matrix of half-pixel-centre bilinear resampling (edges clamped), as
    ``tf.image.resize`` defines it: out[i] reads the input at (i + 0.5) * source / size - 0.5.

    >>> bilinear_matrix(2, 4).round(2).tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    coords = np.clip((np.arange(size) + 0.5) * source / size - 0.5, 0, source - 1)
    low = np.floor(coords).astype(int)
    high = np.minimum(low + 1, source - 1)
    matrix = np.zeros((size, source))
    matrix[np.arange(size), low] += 1.0 - (coords - low)
    matrix[np.arange(size), high] += coords - low
    return matrix


@keras.saving.register_keras_serializable(package="asmnet_edge")
class LandmarkHeatmap(keras.layers.Layer):
    """Landmarks (B, 2n) in ``size``-px crop pixels -> heatmap (B, size, size, 1).

    Each pixel holds ``max_i 1 / (1 + d_i)`` over the landmarks whose square patch of half-width
    ``patch_half`` contains it (0 if none): DAN's landmark image. With ``resolution`` < ``size`` the map
    is computed on a ``resolution``-px grid of the same extent (patch and distances scaled) and
    resized up bilinearly, which cuts its cost by (size / resolution)^2.
    """

    def __init__(self, size: int = 112, resolution: int = 112, patch_half: float = 8.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.size, self.resolution, self.patch_half = int(size), int(resolution), float(patch_half)

    def call(self, landmarks: Any) -> Any:
        scale = self.resolution / self.size
        dtype = landmarks.dtype
        # pixel centres of the coarse grid, in coarse pixels; landmarks mapped onto the same grid
        centres = np.arange(self.resolution, dtype=np.float64)
        points = (_points(landmarks) + 0.5) * scale - 0.5  # (B, n, 2)
        grid = ops.convert_to_tensor(centres, dtype=dtype)
        dx = grid[None, :, None] - points[:, None, :, 0]  # (B, R, n): column minus landmark x
        dy = grid[None, :, None] - points[:, None, :, 1]  # (B, R, n): row minus landmark y
        half = self.patch_half * scale
        in_x = ops.cast(ops.abs(dx) <= half, dtype)
        in_y = ops.cast(ops.abs(dy) <= half, dtype)
        # (B, R_rows, R_cols, n) distances: rows from dy, columns from dx
        squared = dy[:, :, None, :] ** 2 + dx[:, None, :, :] ** 2
        inside = in_y[:, :, None, :] * in_x[:, None, :, :]
        values = inside / (1.0 + ops.sqrt(squared * (scale**-2) + EPSILON))
        heat = ops.max(values, axis=-1)  # (B, R, R)
        if self.resolution != self.size:
            # bilinear upsampling as two constant matrix products: exact gradients in any dtype (TF's
            # float64 ResizeBilinear gradient is wrong: 6 % off in the layer test) and plain MATMULs
            upsample = ops.convert_to_tensor(bilinear_matrix(self.resolution, self.size), dtype=dtype)
            batch = ops.shape(heat)[0]
            left = ops.broadcast_to(upsample[None], (batch, self.size, self.resolution))
            heat = ops.matmul(ops.matmul(left, heat), ops.transpose(left, (0, 2, 1)))
        return heat[..., None]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.size, self.size, 1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "size": self.size,
            "resolution": self.resolution,
            "patch_half": self.patch_half,
        }


@keras.saving.register_keras_serializable(package="asmnet_edge")
class ImageNormalisation(keras.layers.Layer):
    """``(image - mean_image) / std_image`` with both images stored as non-trainable weights.

    The weights are created empty (mean 0, std 1); :func:`asmnet_edge.model.dan.build_dan` sets them
    from the training set and refuses to build without them.
    """

    def build(self, input_shape: Any) -> None:
        shape = tuple(int(value) for value in input_shape[1:])
        self.mean_image = self.add_weight(shape=shape, initializer="zeros", trainable=False, name="mean")
        self.std_image = self.add_weight(shape=shape, initializer="ones", trainable=False, name="std")

    def call(self, image: Any) -> Any:
        return (image - ops.cast(self.mean_image, image.dtype)) / ops.cast(self.std_image, image.dtype)


@keras.saving.register_keras_serializable(package="asmnet_edge")
class ShapeOffset(keras.layers.Layer):
    """``offset + scale * values`` with a fixed offset (the mean shape, or a unit change) and scale."""

    def __init__(self, offset: Any, scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.offset = [float(value) for value in np.asarray(offset).reshape(-1)]
        self.scale = float(scale)

    def call(self, values: Any) -> Any:
        return ops.convert_to_tensor(self.offset, dtype=values.dtype) + self.scale * values

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "offset": self.offset, "scale": self.scale}
