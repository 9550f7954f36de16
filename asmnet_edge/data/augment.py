"""Training augmentation that moves the landmarks (and the pose) with the image.

One affine warp makes the crop: random rotation and x/y scale about the face centre, then the
ASMNet crop of the moved landmarks with a random margin per side (a random translation). Then
photometric changes: brightness, contrast, gamma, colour, grey, blur, noise. A horizontal flip
mirrors the points with the dataset's permutation and negates yaw and roll.

Rotating the image counter-clockwise by theta changes roll by -theta (the pose convention puts the
in-plane rotation leftmost: R = Rz(-roll) Rx(-pitch) Ry(yaw)).

>>> import numpy as np
>>> bool(np.all(MIRROR_68[MIRROR_68] == np.arange(68))), bool(np.all(MIRROR_98[MIRROR_98] == np.arange(98)))
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asmnet_edge.errors import ConfigError
from asmnet_edge.runtime.contract import CROP_MARGIN
from asmnet_edge.runtime.geometry import Box, crop_matrix, expand_box, landmark_box


def _mirror_68() -> np.ndarray:
    pairs = [(i, 16 - i) for i in range(8)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lips
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lips
    return _from_pairs(68, pairs)


def _mirror_98() -> np.ndarray:
    pairs = [(i, 32 - i) for i in range(16)]  # jaw
    pairs += [(33 + i, 46 - i) for i in range(5)] + [(38 + i, 50 - i) for i in range(4)]  # brows
    pairs += [(55, 59), (56, 58)]  # nostrils
    pairs += [(60, 72), (61, 71), (62, 70), (63, 69), (64, 68), (65, 75), (66, 74), (67, 73)]  # eyes
    pairs += [(76, 82), (77, 81), (78, 80), (83, 87), (84, 86)]  # outer lips
    pairs += [(88, 92), (89, 91), (93, 95), (96, 97)]  # inner lips, pupils
    return _from_pairs(98, pairs)


def _from_pairs(count: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    permutation = np.arange(count)
    for left, right in pairs:
        permutation[left], permutation[right] = right, left
    return permutation


MIRROR_68 = _mirror_68()
MIRROR_98 = _mirror_98()
MIRRORS = {68: MIRROR_68, 98: MIRROR_98}


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random changes; ``AugmentConfig.none()`` gives the deterministic eval crop."""

    # in-plane rotation: uniform within +-rotation_deg, but with probability small_rotation_share
    # within +-rotation_deg / 3 (most faces in use are near upright)
    rotation_deg: float = 45.0
    small_rotation_share: float = 0.6
    scale_range: tuple[float, float] = (0.9, 1.1)
    # per-side margins of the crop box, as a share of the landmark box: the runtime crops at 0.05, and
    # (-0.08, 0.22) covers a detector-mapped box 20 % too tight or too loose, shifted by up to ~15 %
    margin_range: tuple[float, float] = (-0.08, 0.22)
    # with this probability the crop is instead the runtime's crop (landmark box + CROP_MARGIN) scaled
    # by a log-uniform factor in box_scale_range and shifted by up to box_shift of its size per axis:
    # the crops a tracker hands over when a face moved fast or a detector box was off
    box_jitter_probability: float = 0.0
    box_scale_range: tuple[float, float] = (0.75, 1.35)
    box_shift: float = 0.25
    flip_probability: float = 0.5
    brightness: float = 0.25
    contrast: float = 0.3
    gamma: float = 0.3
    colour: float = 0.1
    grey_probability: float = 0.1
    blur_probability: float = 0.2
    noise_probability: float = 0.3
    low_light_probability: float = 0.1
    jpeg_probability: float = 0.3
    occluder_probability: float = 0.2

    @classmethod
    def none(cls, margin: float = CROP_MARGIN) -> AugmentConfig:
        return cls(
            rotation_deg=0.0,
            small_rotation_share=0.0,
            scale_range=(1.0, 1.0),
            margin_range=(margin, margin),
            flip_probability=0.0,
            brightness=0.0,
            contrast=0.0,
            gamma=0.0,
            colour=0.0,
            grey_probability=0.0,
            blur_probability=0.0,
            noise_probability=0.0,
            low_light_probability=0.0,
            jpeg_probability=0.0,
            occluder_probability=0.0,
        )


def _draw_geometry(
    landmarks: np.ndarray, size: int, rng: np.random.Generator, config: AugmentConfig
) -> tuple[np.ndarray, float, bool]:
    """The random image->crop affine (2x3), the rotation angle and whether to flip."""
    centre = landmarks.mean(axis=0)
    limit = config.rotation_deg / 3.0 if rng.uniform() < config.small_rotation_share else config.rotation_deg
    angle = rng.uniform(-limit, limit)
    scale_x, scale_y = rng.uniform(*config.scale_range, size=2)
    radians = np.deg2rad(angle)
    # counter-clockwise on screen (image y points down), then anisotropic scale, about the centre
    rotate = np.array([[np.cos(radians), np.sin(radians)], [-np.sin(radians), np.cos(radians)]])
    linear = np.diag([scale_x, scale_y]) @ rotate
    moved = (landmarks - centre) @ linear.T + centre
    margins = tuple(rng.uniform(*config.margin_range, size=4))
    box = expand_box(landmark_box(moved), margins)  # type: ignore[arg-type]
    if config.box_jitter_probability > 0 and rng.uniform() < config.box_jitter_probability:
        box = _jittered_box(landmark_box(moved), rng, config)
    affine = np.hstack([linear, (centre - linear @ centre)[:, None]])
    full = crop_matrix(box, size) @ np.vstack([affine, [0.0, 0.0, 1.0]])
    return full, float(angle), bool(rng.uniform() < config.flip_probability)


def _jittered_box(tight: Box, rng: np.random.Generator, config: AugmentConfig) -> Box:
    base = expand_box(tight, CROP_MARGIN)
    low, high = config.box_scale_range
    scale = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    shift_x, shift_y = rng.uniform(-config.box_shift, config.box_shift, size=2)
    centre_x = (base.x0 + base.x1) / 2 + shift_x * base.width
    centre_y = (base.y0 + base.y1) / 2 + shift_y * base.height
    half_w, half_h = base.width * scale / 2, base.height * scale / 2
    return Box(centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)


def augment_preset(name: str) -> AugmentConfig:
    """The augmentation of a training preset: ``default`` (deployment-like box jitter, rotation,
    photometric changes), ``tracking`` (the same plus, for half the crops, the runtime crop scaled
    0.75-1.35x and shifted up to a quarter of its size: what a tracker or an off detector hands over)
    or ``none``.

    >>> augment_preset("tracking").box_jitter_probability
    0.5
    """
    presets = {
        "default": AugmentConfig(),
        "tracking": AugmentConfig(box_jitter_probability=0.5),
        "none": AugmentConfig.none(),
    }
    if name not in presets:
        raise ConfigError(f"unknown augment preset {name!r}: expected one of {sorted(presets)}")
    return presets[name]


def _flip_points(points: np.ndarray, size: int) -> np.ndarray:
    mirrored = points[MIRRORS[len(points)]] if len(points) in MIRRORS else points
    return np.column_stack([size - 1.0 - mirrored[:, 0], mirrored[:, 1]])  # pixel centres: i -> S-1-i


def augment_landmarks(
    landmarks: np.ndarray, size: int, rng: np.random.Generator, config: AugmentConfig
) -> np.ndarray:
    """Crop-pixel landmarks of a random training crop, without touching pixels (for the PCA)."""
    full, _, flip = _draw_geometry(landmarks, size, rng, config)
    points = landmarks @ full[:, :2].T + full[:, 2]
    return _flip_points(points, size) if flip else points


def augment_crop(
    image: np.ndarray,
    landmarks: np.ndarray,
    pose: np.ndarray,
    size: int,
    rng: np.random.Generator,
    config: AugmentConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One random training crop: (size x size x 3 uint8, landmarks in crop pixels, pose degrees)."""
    import cv2

    full, angle, flip = _draw_geometry(landmarks, size, rng, config)
    crop = cv2.warpAffine(image, full, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    points = landmarks @ full[:, :2].T + full[:, 2]
    new_pose = np.array(pose, dtype=np.float64).copy()
    new_pose[2] -= angle
    if flip:
        crop = crop[:, ::-1]
        points = _flip_points(points, size)
        new_pose[[0, 2]] *= -1.0
    return _photometric(np.ascontiguousarray(crop), rng, config), points, new_pose


def _photometric(crop: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    import cv2

    # contrast, brightness, per-channel colour and gamma are pointwise: one 256-entry table per channel
    levels = np.arange(256, dtype=np.float64)[:, None] / 255.0
    table = levels * (1.0 + rng.uniform(-config.contrast, config.contrast))
    table = table + rng.uniform(-config.brightness, config.brightness)
    table = table * (1.0 + rng.uniform(-config.colour, config.colour, size=3))
    table = np.clip(table, 0.0, 1.0) ** np.exp(rng.uniform(-config.gamma, config.gamma))
    lut = np.clip(np.rint(table * 255.0), 0, 255).astype(np.uint8).reshape(256, 1, 3)
    pixels = cv2.LUT(crop, lut)
    if rng.uniform() < config.low_light_probability:  # dim, noisy, slightly warm: a dark room
        pixels = (pixels.astype(np.float32) * rng.uniform(0.15, 0.45)).astype(np.uint8)
    if rng.uniform() < config.occluder_probability:
        _occlude(pixels, rng)
    if rng.uniform() < config.grey_probability:
        pixels = np.repeat(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    if rng.uniform() < config.blur_probability:
        pixels = cv2.GaussianBlur(pixels, (0, 0), sigmaX=rng.uniform(0.5, 2.0))
    if rng.uniform() < config.noise_probability:
        if rng.uniform() < 0.5:
            noise = rng.normal(0.0, rng.uniform(3.0, 15.0), size=pixels.shape)
            pixels = np.clip(pixels + noise, 0, 255).astype(np.uint8)
        else:  # salt and pepper, as in the reference augmentation
            mask = rng.uniform(size=pixels.shape[:2]) < rng.uniform(0.002, 0.02)
            pixels[mask] = rng.integers(0, 2, size=(int(mask.sum()), 1)).astype(np.uint8) * 255
    if rng.uniform() < config.jpeg_probability:
        quality = int(rng.integers(15, 70))
        ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            pixels = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED).reshape(pixels.shape)
    return np.ascontiguousarray(pixels)


def _occlude(pixels: np.ndarray, rng: np.random.Generator) -> None:
    """Draw one solid or noisy rectangle or ellipse over up to a quarter of the crop (a hand, a cup, hair)."""
    import cv2

    size = pixels.shape[0]
    width, height = (rng.uniform(0.15, 0.5, size=2) * size).astype(int)
    left, top = rng.integers(0, size - width), rng.integers(0, size - height)
    colour = tuple(int(value) for value in rng.integers(0, 256, size=3))
    mask = np.zeros(pixels.shape[:2], dtype=np.uint8)
    if rng.uniform() < 0.5:
        cv2.rectangle(mask, (int(left), int(top)), (int(left + width), int(top + height)), 255, -1)
    else:
        centre = (int(left + width // 2), int(top + height // 2))
        cv2.ellipse(
            mask, centre, (int(width // 2), int(height // 2)), float(rng.uniform(0, 180)), 0, 360, 255, -1
        )
    fill = np.empty_like(pixels)
    fill[:] = colour
    if rng.uniform() < 0.5:
        fill = np.clip(fill + rng.normal(0, 25, size=fill.shape), 0, 255).astype(np.uint8)
    pixels[mask > 0] = fill[mask > 0]
