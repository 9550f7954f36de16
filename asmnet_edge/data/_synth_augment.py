"""Backgrounds, occluders and photometric jitter for synthetic renders.

Every random choice comes from the ``numpy.random.Generator`` passed in, so an image depends only on the
generator's seed. Background photos are read from installed packages (scikit-image and matplotlib sample
data); images that show people are left out so the renders contain no unlabelled face.

>>> import numpy as np

from asmnet_edge._lazy import package_dir
from asmnet_edge.runtime.image import load_image
>>> background(np.random.default_rng(0), 64).shape
(64, 64, 3)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from asmnet_edge._lazy import package_dir
from asmnet_edge.data._headpose import FLIP_68, flip_labels
from asmnet_edge.runtime.image import load_image

# file names (in skimage/data and matplotlib's sample_data) that show people or faces, or are not photos
_EXCLUDED = {"astronaut.png", "camera.png", "grace_hopper.jpg", "lfw_subset.npy", "logo.png", "logo2.png"}
_PHOTO_SUFFIXES = {".png", ".jpg"}


@functools.lru_cache(maxsize=1)
def background_photos() -> tuple[np.ndarray, ...]:
    """Face-free RGB photos (uint8) from installed scikit-image and matplotlib data folders."""
    folders = []
    skimage_dir = package_dir("skimage")
    if skimage_dir is not None:
        folders.append(skimage_dir / "data")
    matplotlib_dir = package_dir("matplotlib")
    if matplotlib_dir is not None:
        folders.append(matplotlib_dir / "mpl-data" / "sample_data")
    photos = []
    for folder in folders:
        for path in sorted(folder.glob("*")):
            if path.suffix.lower() not in _PHOTO_SUFFIXES or path.name in _EXCLUDED:
                continue
            rgb = load_image(path)
            if min(rgb.shape[:2]) >= 64:
                photos.append(rgb)
    return tuple(photos)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def photo_crop(rng: np.random.Generator, size: int) -> np.ndarray | None:
    """A random square crop of a random background photo, resized to ``size``; None if none installed."""
    photos = background_photos()
    if not photos:
        return None
    photo = photos[int(rng.integers(len(photos)))]
    height, width = photo.shape[:2]
    side = int(min(height, width) * rng.uniform(0.3, 1.0))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    crop = photo[top : top + side, left : left + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return _resize(np.ascontiguousarray(crop), size)


def _smooth_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    import cv2

    cells = int(rng.integers(2, 24))
    coarse = rng.uniform(0, 255, (cells, cells, 3)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 255)


def _gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    rows, cols = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    ramp = np.cos(angle) * cols + np.sin(angle) * rows
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    start, end = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    return start + ramp[..., None] * (end - start)


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A float (size, size, 3) background in 0-255: photo crop, smooth noise, gradient or a blend."""
    kind = rng.choice(["photo", "photo", "noise", "gradient", "blend"])
    photo = photo_crop(rng, size)
    if kind == "photo" and photo is not None:
        result = photo.astype(np.float32)
    elif kind == "noise":
        result = _smooth_noise(rng, size)
    elif kind == "gradient":
        result = _gradient(rng, size)
    else:
        base = photo.astype(np.float32) if photo is not None else _smooth_noise(rng, size)
        result = 0.5 * base + 0.5 * _gradient(rng, size)
    grain = rng.normal(0, rng.uniform(0, 6), result.shape)
    return np.clip(result + grain, 0, 255).astype(np.float32)


def occluder_mask(rng: np.random.Generator, size: int, centre: np.ndarray, scale: float) -> np.ndarray:
    """Boolean mask of a rectangle or ellipse of about ``scale`` pixels placed near ``centre``."""
    import cv2

    mask = np.zeros((size, size), dtype=np.uint8)
    half_w, half_h = (scale * rng.uniform(0.25, 0.6, 2)).astype(int) + 2
    cx, cy = (centre + rng.normal(0, scale * 0.15, 2)).astype(int)
    if rng.random() < 0.5:
        angle = float(rng.uniform(0, 180))
        cv2.ellipse(mask, (int(cx), int(cy)), (int(half_w), int(half_h)), angle, 0, 360, 1, -1)
    else:
        cv2.rectangle(mask, (int(cx - half_w), int(cy - half_h)), (int(cx + half_w), int(cy + half_h)), 1, -1)
    return mask.astype(bool)


def maybe_occlude(
    rng: np.random.Generator, image: np.ndarray, points: np.ndarray, probability: float
) -> tuple[np.ndarray, np.ndarray]:
    """With ``probability``, draw an occluder near a random inner landmark; returns the image and which
    of the 68 points it covers. Sized from the inner points only, so that the image never depends on
    how the jaw is labelled."""
    occluded = np.zeros(len(points), dtype=bool)
    if rng.random() >= probability:
        return image, occluded
    size = image.shape[0]
    inner = points[17:]
    centre = points[int(rng.integers(17, 68))]
    mask = occluder_mask(rng, size, centre, float(np.ptp(inner, axis=0).max()))
    image = np.where(mask[:, :, None], occluder_fill(rng, size), image)
    cells = np.clip(np.round(points).astype(int), 0, size - 1)
    return image, mask[cells[:, 1], cells[:, 0]]


def occluder_fill(rng: np.random.Generator, size: int) -> np.ndarray:
    """Texture for an occluder: a photo crop, noise, or a flat colour."""
    choice = rng.random()
    photo = photo_crop(rng, size)
    if choice < 0.5 and photo is not None:
        return photo.astype(np.float32)
    if choice < 0.75:
        return _smooth_noise(rng, size)
    return np.broadcast_to(rng.uniform(0, 255, 3), (size, size, 3)).astype(np.float32)


def photometric(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Colour jitter, gamma, blur, sensor noise and resolution loss on a float 0-255 image; returns uint8."""
    import cv2

    size = image.shape[0]
    gains = rng.uniform(0.8, 1.2, 3) * rng.uniform(0.7, 1.3)
    result = image * gains + rng.uniform(-20, 20)
    grey = result.mean(axis=2, keepdims=True)
    result = grey + (result - grey) * rng.uniform(0.4, 1.3)  # saturation
    mean = result.mean()
    result = mean + (result - mean) * rng.uniform(0.7, 1.3)  # contrast
    result = 255.0 * (np.clip(result, 0, 255) / 255.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.3:
        sigma = float(rng.uniform(0.3, 1.8))
        result = cv2.GaussianBlur(result.astype(np.float32), (0, 0), sigma)
    elif rng.random() < 0.1:
        length = int(rng.integers(3, 9))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        centre = (length / 2 - 0.5, length / 2 - 0.5)
        rotation = cv2.getRotationMatrix2D(centre, float(rng.uniform(0, 180)), 1)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        result = cv2.filter2D(result.astype(np.float32), -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < 0.15:
        small = int(size * rng.uniform(0.35, 0.7))
        shrunk = cv2.resize(result.astype(np.float32), (small, small), interpolation=cv2.INTER_AREA)
        result = cv2.resize(shrunk, (size, size), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        result = result + rng.normal(0, rng.uniform(1, 8), result.shape)
    return np.clip(np.round(result), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class FinishedRender:
    """A render on its background, occluded, jittered and perhaps mirrored, with labels to match."""

    pixels: np.ndarray  # uint8 (size, size, 3)
    points: np.ndarray  # (68, 2) pixels
    yaw: float
    roll: float
    visible: np.ndarray
    occluded: np.ndarray
    mirrored: bool


def finish_render(
    rng: np.random.Generator,
    rgba: np.ndarray,
    points: np.ndarray,
    visible: np.ndarray,
    yaw: float,
    roll: float,
    occlusion: float,
) -> FinishedRender:
    """Composite an RGBA render over a :func:`background`, occlude it with probability ``occlusion``,
    apply :func:`photometric` jitter, and mirror it (labels too) half the time."""
    size = rgba.shape[0]
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    image = alpha * rgba[:, :, :3] + (1 - alpha) * background(rng, size)
    image, occluded = maybe_occlude(rng, image, points, occlusion)
    pixels = photometric(rng, image)
    mirrored = bool(rng.random() < 0.5)
    if mirrored:
        pixels = np.ascontiguousarray(pixels[:, ::-1])
        points, yaw, roll = flip_labels(points, size, yaw, roll)
        visible, occluded = visible[list(FLIP_68)], occluded[list(FLIP_68)]
    return FinishedRender(pixels, points, yaw, roll, visible, occluded, mirrored)
