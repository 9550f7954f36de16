"""One-Euro filtering (Casiez et al., CHI 2012) of landmarks and pose: smooth when still, no lag when moving.

Each value is low-pass filtered with a cut-off that rises with its own speed: ``cutoff = min_cutoff +
beta * |speed|``. A face's landmarks are filtered as rigid motion (centre, size, in-plane angle) and
shape in the face's own frame, each with its own setting (:class:`SmoothingConfig`); speeds are in face
sizes per second (so one setting works for any face size; the values themselves stay in pixels) and
pose in degrees.

>>> import numpy as np
>>> smoother = OneEuro(min_cutoff=1.0, beta=0.0)
>>> [round(float(smoother(np.array([value]), 1 / 30)[0]), 3) for value in (0.0, 1.0, 1.0)]
[0.0, 0.173, 0.316]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _alpha(cutoff: np.ndarray | float, interval: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / interval)


class OneEuro:
    """A One-Euro filter over an array of any shape; call with each new sample and its time step (s)."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, derivative_cutoff: float = 1.0) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivative_cutoff = derivative_cutoff
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def reset(self) -> None:
        self._value = None
        self._speed = None

    def __call__(self, sample: np.ndarray, interval: float, speed_unit: float = 1.0) -> np.ndarray:
        """Filter one sample; speeds are divided by ``speed_unit`` before ``beta`` applies."""
        current = np.asarray(sample, dtype=np.float64)
        if self._value is None or self._value.shape != current.shape or interval <= 0:
            self._value, self._speed = current.copy(), np.zeros_like(current)
            return current.copy()
        assert self._speed is not None
        raw_speed = (current - self._value) / interval
        self._speed = self._speed + _alpha(self.derivative_cutoff, interval) * (raw_speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed) / speed_unit
        self._value = self._value + _alpha(cutoff, interval) * (current - self._value)
        return self._value.copy()


@dataclass(frozen=True)
class SmoothingConfig:
    """One-Euro settings for tracked faces. ``enabled=False`` passes the model's output through.

    The landmarks are split into the face's rigid motion (centre, size, in-plane angle: a similarity
    transform, estimated from all points and so far less noisy than any one point) and its shape in
    its own frame (the points with that motion taken out). Motion is filtered with a fast-opening
    filter, so a moving face is not trailed; the shape, where the per-point noise lives, is filtered
    harder (it changes only with expression and out-of-plane turns). Motion speeds are in face sizes
    per second (centre) and per second (log size, radians); shape speeds in face sizes per second;
    pose speeds in degrees per second.
    """

    enabled: bool = True
    # tuned on the tracking clips (benchmarks/results/tracking/default_main128b_swa17_23_int8_split.md):
    # one filter on the raw points had to choose between lag and jitter (beta 60: tracking NME 1.34x the
    # model's own on fast clips, jitter 0.35 % of the eye distance); split, the fast clips are 1.20x at
    # jitter 0.37 %, the smooth ones 1.03x (with the tracker's crop hold, default_main128b_swa33_40_int8.md:
    # jitter 0.07 %)
    motion_min_cutoff: float = 1.0
    motion_beta: float = 60.0
    landmark_min_cutoff: float = 0.5
    landmark_beta: float = 10.0
    pose_min_cutoff: float = 1.0
    pose_beta: float = 0.05


def _turn(points: np.ndarray, angle: float) -> np.ndarray:
    """(n, 2) points turned by ``angle`` radians (x right, y down: clockwise on screen)."""
    cos, sin = math.cos(angle), math.sin(angle)
    return points @ np.array([[cos, sin], [-sin, cos]])


class FaceSmoother:
    """Smooths one track's landmarks (pixels) and pose (degrees): rigid motion and shape apart."""

    def __init__(self, config: SmoothingConfig) -> None:
        self.config = config
        self.centre = OneEuro(config.motion_min_cutoff, config.motion_beta)
        self.frame = OneEuro(config.motion_min_cutoff, config.motion_beta)  # log size, angle
        self.shape = OneEuro(config.landmark_min_cutoff, config.landmark_beta)
        self.pose = OneEuro(config.pose_min_cutoff, config.pose_beta)
        self._reference: np.ndarray | None = None  # the first frame's normalised shape (angle zero)
        self._angle = 0.0  # the last angle, unwrapped (a face turned past 180 degrees does not jump)

    def __call__(
        self, landmarks: np.ndarray, pose: np.ndarray, scale: float, interval: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed (landmarks in pixels, pose in degrees).

        ``scale`` (the face's size in pixels) is kept for the caller's convenience; the split uses
        the points' own RMS radius.

        >>> import numpy as np
        >>> smoother = FaceSmoother(SmoothingConfig())
        >>> square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
        >>> points, _ = smoother(square, np.zeros(3), 10.0, 1 / 30)
        >>> bool(np.allclose(points, square))
        True
        >>> moved, _ = smoother(square + 5.0, np.zeros(3), 10.0, 1 / 30)
        >>> bool(np.allclose(moved - moved.mean(axis=0), square - square.mean(axis=0)))
        True
        """
        if not self.config.enabled:
            return landmarks, pose
        points = np.asarray(landmarks, dtype=np.float64)
        centre = points.mean(axis=0)
        offsets = points - centre
        radius = max(float(np.sqrt((offsets * offsets).sum(axis=1).mean())), 1e-9)
        normalised = offsets / radius
        if self._reference is None or self._reference.shape != normalised.shape:
            self._reference, self._angle = normalised.copy(), 0.0
        ref = self._reference
        angle = math.atan2(
            float((ref[:, 0] * normalised[:, 1] - ref[:, 1] * normalised[:, 0]).sum()),
            float((ref * normalised).sum()),
        )
        angle = self._angle + math.remainder(angle - self._angle, 2 * math.pi)
        self._angle = angle
        centre_f = self.centre(centre, interval, speed_unit=radius)
        log_size, angle_f = self.frame(np.array([math.log(radius), angle]), interval)
        shape_f = self.shape(_turn(normalised, -angle), interval)
        smoothed = math.exp(log_size) * _turn(shape_f, angle_f) + centre_f
        return smoothed, self.pose(np.asarray(pose), interval)
