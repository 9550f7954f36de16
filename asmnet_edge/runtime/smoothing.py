"""One-Euro filtering (Casiez et al., CHI 2012) of landmarks and pose: smooth when still, no lag when moving.

Each value is low-pass filtered with a cut-off that rises with its own speed: ``cutoff = min_cutoff +
beta * |speed|``. Landmark speeds are measured in face sizes per second (so one setting works for any
face size; the values themselves stay in pixels) and pose in degrees.

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

    Landmark speeds are in face sizes per second; pose speeds in degrees per second.
    """

    enabled: bool = True
    # tuned on the tracking clips (benchmarks/results/tracking/default_main128b_swa17_23_int8*.md): at beta
    # 4 the filter's lag made tracking NME 1.5x (smooth clips) to 3.8x (fast) the model's own from the
    # ground-truth box, jitter 0.12 % of the eye distance; at beta 60: 1.04x / 1.36x, jitter 0.35 %
    landmark_min_cutoff: float = 0.5
    landmark_beta: float = 60.0
    pose_min_cutoff: float = 1.0
    pose_beta: float = 0.05


class FaceSmoother:
    """Smooths one track's landmarks (pixels; speed in face sizes per second) and pose (degrees)."""

    def __init__(self, config: SmoothingConfig) -> None:
        self.config = config
        self.landmarks = OneEuro(config.landmark_min_cutoff, config.landmark_beta)
        self.pose = OneEuro(config.pose_min_cutoff, config.pose_beta)

    def __call__(
        self, landmarks: np.ndarray, pose: np.ndarray, scale: float, interval: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed (landmarks in pixels, pose in degrees); ``scale`` is the face's size in pixels."""
        if not self.config.enabled:
            return landmarks, pose
        smoothed = self.landmarks(np.asarray(landmarks), interval, speed_unit=max(scale, 1e-6))
        return smoothed, self.pose(np.asarray(pose), interval)
