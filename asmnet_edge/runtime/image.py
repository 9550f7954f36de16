"""Input images for the runtime: validation, colour layout, and the two small copies we ever make.

Accepted: uint8 arrays of any size shaped (H, W) or (H, W, 1) grey, (H, W, 3) RGB or BGR, (H, W, 4)
RGBA or BGRA; float arrays with values in [0, 1] (the network's own scale; float images in [0, 255]
must be divided by 255 first, and are refused with that advice), without NaN or infinity.

The full-size image is never colour-converted or copied on the uint8 path: the face crop is cut in
the image's own channel layout and only the ``size x size`` crop is turned into RGB; the detector
gets a downscaled RGB copy (longest side at most ``max_side``), so a 10000 x 10000 frame costs one
area resize, not a second full-size buffer.

>>> import numpy as np
>>> frame = prepare_image(np.zeros((4, 6), np.uint8))
>>> frame.layout, frame.width, frame.height
('gray', 6, 4)
>>> to_rgb(np.full((2, 2, 1), 7, np.uint8), "gray").shape
(2, 2, 3)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmnet_edge.errors import InputImageError

COLORS = ("rgb", "bgr")
LAYOUTS = ("rgb", "bgr", "gray", "rgba", "bgra")


@dataclass(frozen=True)
class Frame:
    """A validated uint8 image in its own channel layout (no copy of the caller's pixels)."""

    pixels: np.ndarray
    layout: str

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def prepare_image(image: np.ndarray, color: str = "rgb") -> Frame:
    """Validate ``image`` and tell its layout; ``color`` says whether 3/4-channel input is RGB or BGR.

    >>> prepare_image(np.zeros((0, 5, 3), np.uint8))
    Traceback (most recent call last):
    ...
    asmnet_edge.errors.InputImageError: the image is empty (shape (0, 5, 3)): pass an image with pixels
    """
    if color not in COLORS:
        raise InputImageError(f"color must be one of {COLORS}, got {color!r}")
    if not isinstance(image, np.ndarray):
        raise InputImageError(
            f"the image must be a numpy array (H, W[, C]), got {type(image).__name__}: "
            "read files with asmnet_edge.runtime.image.load_image"
        )
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise InputImageError(
            f"the image must be shaped (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}"
        )
    if image.size == 0:
        raise InputImageError(f"the image is empty (shape {image.shape}): pass an image with pixels")
    pixels = _as_uint8(image)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        layout = "gray"
    elif pixels.shape[2] == 3:
        layout = color
    else:
        layout = color + "a"
    return Frame(pixels, layout)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_ or not np.issubdtype(image.dtype, np.floating):
        raise InputImageError(
            f"image dtype {image.dtype} is not supported: pass uint8 (0-255) or float (0-1) pixels"
        )
    total = float(np.sum(image, dtype=np.float64))  # NaN/inf propagate; no full-size mask is made
    if not np.isfinite(total):
        raise InputImageError("the float image contains NaN or infinite values: clean it before predicting")
    low, high = float(image.min()), float(image.max())
    if low < 0.0 or high > 1.0 + 1e-6:
        raise InputImageError(
            f"float images must hold values in [0, 1], got [{low:.3g}, {high:.3g}]: "
            "divide 0-255 floats by 255, or pass uint8"
        )
    scaled = np.multiply(image, 255.0, dtype=np.float32)
    np.rint(scaled, out=scaled)
    return scaled.astype(np.uint8)


def to_rgb(pixels: np.ndarray, layout: str) -> np.ndarray:
    """A small image (crop or detector copy) in ``layout`` -> contiguous (h, w, 3) uint8 RGB.

    OpenCV's colour conversion when installed (a reversed-channel numpy view costs several times more
    to read later), numpy otherwise.
    """
    if layout == "rgb":
        return pixels
    if layout not in LAYOUTS:
        raise InputImageError(f"unknown layout {layout!r}: expected one of {LAYOUTS}")
    try:
        import cv2
    except ImportError:
        return np.ascontiguousarray(_to_rgb_numpy(pixels, layout))
    codes = {
        "bgr": cv2.COLOR_BGR2RGB,
        "gray": cv2.COLOR_GRAY2RGB,
        "rgba": cv2.COLOR_RGBA2RGB,
        "bgra": cv2.COLOR_BGRA2RGB,
    }
    return cv2.cvtColor(np.ascontiguousarray(pixels), codes[layout])  # type: ignore[no-any-return]


def _to_rgb_numpy(pixels: np.ndarray, layout: str) -> np.ndarray:
    if layout == "bgr":
        return pixels[..., ::-1]
    if layout == "gray":
        grey = pixels if pixels.ndim == 2 else pixels[..., 0]
        return np.repeat(grey[..., None], 3, axis=2)
    if layout == "rgba":
        return pixels[..., :3]
    if layout == "bgra":
        return pixels[..., 2::-1]
    return pixels


def detection_copy(frame: Frame, max_side: int) -> tuple[np.ndarray, float]:
    """An RGB uint8 copy whose longest side is at most ``max_side``, and the factor image = copy * f.

    >>> small, factor = detection_copy(prepare_image(np.zeros((1000, 500, 3), np.uint8)), 100)
    >>> small.shape, factor
    ((100, 50, 3), 10.0)
    """
    height, width = frame.pixels.shape[:2]
    factor = max(1.0, max(height, width) / float(max_side))
    if factor == 1.0:
        return np.ascontiguousarray(to_rgb(frame.pixels, frame.layout)), 1.0
    new_w, new_h = max(1, round(width / factor)), max(1, round(height / factor))
    try:
        import cv2
    except ImportError:  # nearest-neighbour by slicing: no full-size temporary
        step = int(np.ceil(factor))
        small = frame.pixels[::step, ::step]
        return np.ascontiguousarray(to_rgb(small, frame.layout)), float(step)
    small = cv2.resize(frame.pixels, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(to_rgb(small, frame.layout)), width / new_w


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file (JPEG, PNG, BMP, PPM, TIFF, WebP) to uint8 (H, W, 3) RGB with OpenCV.

    The one image decoder of the package: a missing or undecodable file is an
    :class:`~asmnet_edge.errors.InputImageError` (a :class:`~asmnet_edge.errors.DataError` too).

    >>> load_image("/nonexistent.png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    asmnet_edge.errors.InputImageError: cannot read image /nonexistent.png: no such file
    """
    from asmnet_edge._lazy import require

    source = Path(path)
    if not source.is_file():
        raise InputImageError(f"cannot read image {source}: no such file")
    cv2 = require("cv2", extra="runtime", purpose="reading image files")
    data = np.fromfile(str(source), dtype=np.uint8)
    pixels = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if pixels is None:
        raise InputImageError(
            f"cannot read image {source}: not a decodable image (expected JPEG, PNG, BMP, PPM, TIFF or WebP)"
        )
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)  # type: ignore[no-any-return]
