"""How face-like a predicted shape is: a confidence for ASMNet, which has no face-score output.

The exported model's metadata carries the training run's PCA shape model (the ASM of the loss), in the
network's own output units (crop-normalised, flat ``[x0, y0, ...]``). A prediction's squared
Mahalanobis distance adds the kept components (``b_i^2 / lambda_i``) and the residual outside them
(``|r|^2 / residual_variance``, per dimension); divided by the degrees of freedom it is about 1 for
training-like faces and grows when the network sees something it was not trained on (no face, half a
face, a crop far off the face). ``score = exp(-d / 2)`` maps it to (0, 1]: about 0.6 for typical
faces and falling for the rest, with no flat top, so that scores rank crops (and a threshold can be
tuned on them: ``TrackingPolicy.min_score``).

>>> import numpy as np
>>> model = ShapeModel(np.zeros(4), np.eye(4)[:1], np.array([1.0]), 0.01)
>>> round(model.score(np.array([0.5, 0.0, 0.0, 0.0])), 3)
0.969
>>> round(model.score(np.array([0.0, 0.5, 0.5, 0.5])), 3) < 0.01
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from asmnet_edge.errors import MetadataError


@dataclass(frozen=True, eq=False)
class ShapeModel:
    """Mean (2n,), components (k, 2n) orthonormal rows, eigenvalues (k,), residual variance per dim."""

    mean: np.ndarray
    components: np.ndarray
    eigenvalues: np.ndarray
    residual_variance: float

    def distance(self, values: np.ndarray) -> float:
        """Squared Mahalanobis distance per degree of freedom (about 1 for training-like shapes)."""
        centred = np.asarray(values, dtype=np.float64).reshape(-1) - self.mean
        coefficients = self.components @ centred
        residual = centred - coefficients @ self.components
        inside = float(np.sum(coefficients**2 / self.eigenvalues))
        outside = float(residual @ residual) / self.residual_variance
        return (inside + outside) / len(self.mean)

    def score(self, values: np.ndarray) -> float:
        """Plausibility in (0, 1]: ``exp(-distance / 2)``, about 0.6 for a typical face."""
        return float(math.exp(-self.distance(values) / 2.0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": [round(float(value), 6) for value in self.mean],
            "components": [[round(float(value), 6) for value in row] for row in self.components],
            "eigenvalues": [float(value) for value in self.eigenvalues],
            "residual_variance": float(self.residual_variance),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShapeModel:
        """Strict load; raises :class:`MetadataError` on missing keys or inconsistent shapes."""
        expected = {"mean", "components", "eigenvalues", "residual_variance"}
        if not isinstance(data, dict) or set(data) != expected:
            found = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise MetadataError(f"shape_model must have exactly the keys {sorted(expected)}, got {found}")
        mean = np.asarray(data["mean"], dtype=np.float64)
        components = np.asarray(data["components"], dtype=np.float64).reshape(-1, len(mean))
        eigenvalues = np.asarray(data["eigenvalues"], dtype=np.float64)
        residual = float(data["residual_variance"])
        if len(components) != len(eigenvalues) or np.any(eigenvalues <= 0) or residual <= 0:
            raise MetadataError("shape_model: components, eigenvalues and residual variance do not agree")
        return cls(mean, components, eigenvalues, residual)

    @classmethod
    def from_pca(
        cls, mean: np.ndarray, components: np.ndarray, eigenvalues: np.ndarray, accuracy: float
    ) -> ShapeModel:
        """From a kept-components PCA that explains ``accuracy`` % of the variance.

        The variance left out is ``sum(kept) * (100 / accuracy - 1)``, spread over the remaining dimensions.
        """
        kept = float(np.sum(eigenvalues))
        left_out = kept * (100.0 / accuracy - 1.0)
        dimensions = max(len(mean) - len(eigenvalues), 1)
        return cls(
            np.asarray(mean, np.float64),
            np.asarray(components, np.float64),
            np.asarray(eigenvalues, np.float64),
            max(left_out / dimensions, 1e-12),
        )
