"""Tracking test clips with exact ground truth, made from labelled stills by smooth affine motion.

Each clip places one labelled photo's face on a 640x480 frame and moves it along a smooth path: pan,
zoom (the face's size varies between ``scale_range`` times its size in the first frame), in-plane roll;
landmarks move with the same affine map, so every frame has exact labels. Kinds:

- ``smooth``: slow pan, zoom and roll ±18°;
- ``fast``: the same path four times as fast (a face crossing the frame in about a second);
- ``exit``: the face slides out of the frame and comes back (frames without a face have ``None``);
- ``static``: a still face with sensor noise only (for jitter).

>>> import numpy as np
>>> clip = make_clip(np.zeros((200, 200, 3), np.uint8), 40 + 120 * np.random.rand(68, 2), "smooth", 5)
>>> len(clip.frames), clip.frames[0].shape, clip.landmarks[0].shape
(5, (480, 640, 3), (68, 2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asmnet_edge.errors import DataError

KINDS = ("smooth", "fast", "exit", "static")
FRAME_SIZE = (640, 480)


@dataclass(frozen=True)
class Clip:
    """Frames (RGB uint8) and per-frame ground-truth landmarks (None where the face is out of view)."""

    name: str
    kind: str
    frames: list[np.ndarray]
    landmarks: list[np.ndarray | None]


def _path(kind: str, index: int, count: int) -> tuple[float, float, float, float]:
    """(x offset px, y offset px, zoom factor, roll degrees) of frame ``index``."""
    if kind == "static":
        return 0.0, 0.0, 1.0, 0.0
    speed = 4.0 if kind == "fast" else 1.0
    phase = 2 * math.pi * speed * index / max(count, 1)
    zoom = math.exp(0.37 * math.sin(0.7 * phase))  # 0.69 .. 1.45 of the first frame's size
    roll = 18.0 * math.sin(0.5 * phase)
    shift_x, shift_y = 150.0 * math.sin(phase), 70.0 * math.sin(1.3 * phase)
    if kind == "exit":
        # a third of the way in, slide right until out of the frame, then come back
        progress = index / max(count, 1)
        if 0.3 <= progress <= 0.7:
            shift_x += 900.0 * math.sin(math.pi * (progress - 0.3) / 0.4)
    return shift_x, shift_y, zoom, roll


def make_clip(
    image: np.ndarray,
    landmarks: np.ndarray,
    kind: str,
    count: int,
    face_height: float = 170.0,
    seed: int = 0,
    name: str = "clip",
) -> Clip:
    """A ``count``-frame clip of ``kind`` (see the module docstring) from one labelled RGB image.

    ``face_height`` is the landmark box's height in pixels at zoom 1. Raises :class:`DataError` on an
    unknown kind or landmarks that are not (n, 2).
    """
    import cv2

    if kind not in KINDS:
        raise DataError(f"unknown clip kind {kind!r}: expected one of {KINDS}")
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise DataError(f"landmarks must be (n, 2), got {points.shape}")
    width, height = FRAME_SIZE
    rng = np.random.default_rng(seed)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    base = face_height / max(float(np.ptp(points[:, 1])), 1.0)
    frames: list[np.ndarray] = []
    truths: list[np.ndarray | None] = []
    for index in range(count):
        shift_x, shift_y, zoom, roll = _path(kind, index, count)
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), roll, base * zoom)
        matrix[:, 2] += np.array([width / 2 + shift_x, height / 2 + shift_y]) - centre
        frame = cv2.warpAffine(
            image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        noise = rng.normal(0.0, 2.0, frame.shape)
        frames.append(np.clip(frame + noise, 0, 255).astype(np.uint8))
        moved = points @ matrix[:, :2].T + matrix[:, 2]
        inside = (moved[:, 0] >= 0) & (moved[:, 0] < width) & (moved[:, 1] >= 0) & (moved[:, 1] < height)
        truths.append(moved if inside.mean() >= 0.5 else None)
    return Clip(name, kind, frames, truths)
