"""The ASMNet crop convention and landmark normalisation, shared by training, export and the runtime.

A face is cut out of the image along an axis-aligned box (the tight box of the landmarks grown by a
margin on each side) and resized to ``size x size`` without keeping the aspect ratio. Landmarks inside
the crop are normalised as ``value = sign * (u - size / 2) / size``, so they lie in about +-0.5.
Pixel coordinates follow the pixel-centre convention: pixel (col, row) is centred on (col, row).

>>> import numpy as np
>>> box = Box(10.0, 20.0, 110.0, 220.0)
>>> pts = np.array([[60.0, 120.0], [10.0, 20.0]])
>>> norm = normalise_landmarks(image_to_crop(pts, box, 224), 224, sign=1.0)
>>> norm.round(3).tolist()
[[0.0, 0.0], [-0.5, -0.5]]
>>> crop_to_image(denormalise_landmarks(norm, 224, sign=1.0), box, 224).round(9).tolist()
[[60.0, 120.0], [10.0, 20.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asmnet_edge.errors import DataError


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in image pixels, ``x0 < x1`` and ``y0 < y1``."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def as_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]


def landmark_box(points: np.ndarray) -> Box:
    """Tight box of ``points`` (n x 2).

    >>> landmark_box(np.array([[1.0, 5.0], [3.0, 2.0]]))
    Box(x0=1.0, y0=2.0, x1=3.0, y1=5.0)
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2 or not np.all(np.isfinite(pts)):
        raise DataError(f"landmarks must be a finite (n, 2) array with n >= 2, got shape {pts.shape}")
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    if x1 <= x0 or y1 <= y0:
        raise DataError("landmarks span no area: all points lie on one line")
    return Box(float(x0), float(y0), float(x1), float(y1))


def expand_box(box: Box, margin: float | tuple[float, float, float, float]) -> Box:
    """Grow ``box`` by ``margin`` times its width/height on each side (left, top, right, bottom).

    >>> expand_box(Box(0.0, 0.0, 100.0, 50.0), 0.1)
    Box(x0=-10.0, y0=-5.0, x1=110.0, y1=55.0)
    """
    if isinstance(margin, tuple):
        left, top, right, bottom = margin
    else:
        left = top = right = bottom = float(margin)
    return Box(
        box.x0 - left * box.width,
        box.y0 - top * box.height,
        box.x1 + right * box.width,
        box.y1 + bottom * box.height,
    )


def crop_matrix(box: Box, size: int) -> np.ndarray:
    """2x3 affine matrix mapping image pixels to crop pixels (``box`` onto ``[0, size]``)."""
    scale_x = size / box.width
    scale_y = size / box.height
    return np.array([[scale_x, 0.0, -box.x0 * scale_x], [0.0, scale_y, -box.y0 * scale_y]], dtype=np.float64)


def image_to_crop(points: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Map image-pixel points into the ``size x size`` crop of ``box``."""
    pts = np.asarray(points, dtype=np.float64)
    return (pts - [box.x0, box.y0]) * [size / box.width, size / box.height]


def crop_to_image(points: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Exact inverse of :func:`image_to_crop`."""
    pts = np.asarray(points, dtype=np.float64)
    return pts * [box.width / size, box.height / size] + [box.x0, box.y0]


def normalise_landmarks(crop_points: np.ndarray, size: int, sign: float) -> np.ndarray:
    """Crop pixels -> network target: ``sign * (u - size/2) / size``."""
    return sign * (np.asarray(crop_points, dtype=np.float64) - size / 2.0) / size


def denormalise_landmarks(values: np.ndarray, size: int, sign: float) -> np.ndarray:
    """Network output -> crop pixels; exact inverse of :func:`normalise_landmarks`."""
    return size / 2.0 + sign * np.asarray(values, dtype=np.float64) * size


def crop_image(image: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Cut ``box`` out of an H x W x C uint8 image and resize it to ``size x size`` (bilinear).

    Parts of the box outside the image are black, in training and at inference alike. OpenCV is
    used when installed; the numpy fallback samples the same bilinear grid (within 1 grey level).

    >>> img = np.zeros((50, 80, 3), np.uint8); img[:, 40:] = 255
    >>> crop = crop_image(img, Box(0.0, 0.0, 80.0, 50.0), 8)
    >>> crop.shape, int(crop[0, 0, 0]), int(crop[0, 7, 0])
    ((8, 8, 3), 0, 255)
    """
    return warp_image(image, crop_matrix(box, size), size)


def warp_image(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The ``size x size`` uint8 image whose pixel ``p`` reads ``image`` at ``matrix^-1 p`` (bilinear,
    black outside): ``matrix`` (2x3) maps ``image`` pixels to output pixels, as ``cv2.warpAffine``
    takes it. OpenCV when installed, else a numpy bilinear sampler (within 1 grey level).

    >>> warp_image(np.full((4, 4, 3), 9, np.uint8), np.array([[2.0, 0, 0], [0, 2.0, 0]]), 8).shape
    (8, 8, 3)
    """
    try:
        import cv2  # optional: faster and the same bilinear sampling as the fallback
    except ImportError:
        return _crop_numpy(image, matrix, size)
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return out if out.ndim == 3 else out[:, :, None]


def _crop_numpy(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    grid_u, grid_v = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64))
    src_x = inverse[0, 0] * grid_u + inverse[0, 1] * grid_v + inverse[0, 2]
    src_y = inverse[1, 0] * grid_u + inverse[1, 1] * grid_v + inverse[1, 2]
    height, width = image.shape[:2]
    col0 = np.floor(src_x).astype(np.int64)
    row0 = np.floor(src_y).astype(np.int64)
    frac_x = (src_x - col0)[..., None]
    frac_y = (src_y - row0)[..., None]
    padded = np.zeros((height + 2, width + 2, image.shape[2]), dtype=np.float64)
    padded[1:-1, 1:-1] = image
    # clip into the padded frame: samples outside the image read the black border
    c0 = np.clip(col0 + 1, 0, width + 1)
    c1 = np.clip(col0 + 2, 0, width + 1)
    r0 = np.clip(row0 + 1, 0, height + 1)
    r1 = np.clip(row0 + 2, 0, height + 1)
    top = padded[r0, c0] * (1 - frac_x) + padded[r0, c1] * frac_x
    bottom = padded[r1, c0] * (1 - frac_x) + padded[r1, c1] * frac_x
    out = top * (1 - frac_y) + bottom * frac_y
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
