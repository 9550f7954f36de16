"""The Active Shape Model behind ASMNet's loss: PCA of training shapes and the clamped projection.

Shapes are flattened ``[x0, y0, x1, y1, ...]`` vectors in the network's normalised coordinates.
The ASM operator projects a shape on the principal components that explain ``accuracy`` % of the
variance, clamps every coefficient to +-3 sqrt(eigenvalue), and reconstructs: a smooth, plausible
version of the shape that the network learns first.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> shapes = rng.normal(size=(200, 8)) * [3.0, 2.0, 1.0, 0.5, 0.1, 0.1, 0.1, 0.1]
>>> pca = ShapePCA.fit(shapes, accuracy=90)
>>> pca.components.shape[0] < 8
True
>>> smooth = pca.project(shapes)
>>> bool(np.abs(smooth - shapes).mean() < np.abs(shapes).mean())
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmnet_edge._atomic import atomic_path
from asmnet_edge.errors import DataError, ModelError

ACCURACIES = (80, 85, 90, 95, 97)
CLAMP_SIGMAS = 3.0


@dataclass(frozen=True)
class ShapePCA:
    """Mean shape, principal components (rows) and their eigenvalues (variances)."""

    mean: np.ndarray  # (2n,)
    components: np.ndarray  # (k, 2n), orthonormal rows
    eigenvalues: np.ndarray  # (k,)
    accuracy: float

    @property
    def num_landmarks(self) -> int:
        return int(self.mean.shape[0] // 2)

    @classmethod
    def fit(cls, shapes: np.ndarray, accuracy: float = 90) -> ShapePCA:
        """PCA of (N, 2n) shapes keeping the fewest components that explain ``accuracy`` % variance."""
        data = np.asarray(shapes, dtype=np.float64)
        if data.ndim != 2 or len(data) < 2:
            raise DataError(f"PCA needs at least 2 flattened shapes (N, 2n), got shape {data.shape}")
        if not 0 < accuracy < 100:
            raise DataError(f"the ASM accuracy is a percentage in (0, 100), got {accuracy}")
        mean = data.mean(axis=0)
        _, singular, vectors = np.linalg.svd(data - mean, full_matrices=False)
        variances = singular**2 / (len(data) - 1)
        shares = np.cumsum(variances) / variances.sum()
        keep = int(np.searchsorted(shares, accuracy / 100.0) + 1)
        return cls(mean, vectors[:keep], variances[:keep], float(accuracy))

    def coefficients(self, shapes: np.ndarray) -> np.ndarray:
        return (np.asarray(shapes, dtype=np.float64) - self.mean) @ self.components.T

    def project(self, shapes: np.ndarray) -> np.ndarray:
        """The ASM operator: project, clamp each coefficient to +-3 sqrt(lambda), reconstruct."""
        limit = CLAMP_SIGMAS * np.sqrt(self.eigenvalues)
        clamped = np.clip(self.coefficients(shapes), -limit, limit)
        return self.mean + clamped @ self.components

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the PCA as a plain ``.npz`` (no pickle), atomically."""
        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as stream:
            np.savez(
                stream,
                mean=self.mean,
                components=self.components,
                eigenvalues=self.eigenvalues,
                accuracy=np.array(self.accuracy),
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ShapePCA:
        source = Path(path)
        try:
            with np.load(source, allow_pickle=False) as data:
                pca = cls(data["mean"], data["components"], data["eigenvalues"], float(data["accuracy"]))
        except (OSError, KeyError, ValueError) as err:
            raise ModelError(
                f"{source} is not an asmnet-edge PCA file (.npz with mean, components, eigenvalues, "
                f"accuracy): {err}"
            ) from err
        if pca.components.shape[1] != pca.mean.shape[0] or len(pca.eigenvalues) != len(pca.components):
            raise ModelError(f"{source}: PCA arrays have inconsistent shapes")
        return pca


def asm_alpha(epoch: int, total_epochs: int) -> float:
    """Weight of the ASM term: 2 for the first third of the epochs, 1 for the second, 0.5 after.

    ``epoch`` counts from 0.

    >>> [asm_alpha(epoch, 6) for epoch in range(6)]
    [2.0, 2.0, 1.0, 1.0, 0.5, 0.5]
    >>> [asm_alpha(epoch, 4) for epoch in range(4)]
    [2.0, 2.0, 1.0, 0.5]
    """
    if total_epochs <= 0 or not 0 <= epoch < total_epochs:
        raise ValueError(f"epoch {epoch} is outside 0..{total_epochs - 1}")
    third = epoch * 3 // total_epochs
    return (2.0, 1.0, 0.5)[third]
