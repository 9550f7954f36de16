"""The metrics face-alignment papers report: NME, CED, AUC, failure rate, pose MAE.

NME is the mean point-to-point error divided by a normalising distance: inter-ocular (outer eye
corners: points 36/45 for 68-point iBUG order, 60/72 for WFLW's 98) or inter-pupil (distance between
the eye centres, the means of each eye's contour points). Thresholds are fractions (0.08 = 8 %).

>>> import numpy as np
>>> gt = np.zeros((1, 68, 2)); gt[0, 36] = [0.0, 0.0]; gt[0, 45] = [100.0, 0.0]
>>> pred = gt.copy(); pred[0, :, 0] += 5.0
>>> float(nme(pred, gt)[0])
0.05
>>> round(auc(np.array([0.0, 0.04, 0.2])), 4)
0.5
>>> failure_rate(np.array([0.05, 0.09, 0.11]), 0.08), failure_rate(np.array([0.05, 0.09, 0.11]), 0.10)
(0.6666666666666666, 0.3333333333333333)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asmnet_edge.errors import DataError
from asmnet_edge.runtime.contract import INNER_51

# (left outer eye corner, right outer eye corner), and each eye's contour points for pupils
OUTER_EYE_CORNERS = {68: (36, 45), 98: (60, 72)}
EYE_CONTOURS = {68: (range(36, 42), range(42, 48)), 98: (range(60, 68), range(68, 76))}
NORMALISATIONS = ("inter-ocular", "inter-pupil")
POSE_NAMES = ("yaw", "pitch", "roll")


def normalising_distance(gt: np.ndarray, norm: str = "inter-ocular") -> np.ndarray:
    """Per-image normalising distance of ground-truth shapes (N, n, 2)."""
    shapes = np.asarray(gt, dtype=np.float64)
    points = shapes.shape[1]
    if points not in OUTER_EYE_CORNERS:
        raise DataError(f"NME is defined here for 68 or 98 landmarks, got {points}")
    if norm == "inter-ocular":
        left, right = OUTER_EYE_CORNERS[points]
        return np.linalg.norm(shapes[:, left] - shapes[:, right], axis=-1)
    if norm == "inter-pupil":
        left_eye, right_eye = EYE_CONTOURS[points]
        left_centre = shapes[:, list(left_eye)].mean(axis=1)
        right_centre = shapes[:, list(right_eye)].mean(axis=1)
        return np.linalg.norm(left_centre - right_centre, axis=-1)
    raise DataError(f"unknown normalisation {norm!r}: expected one of {NORMALISATIONS}")


def nme(
    pred: np.ndarray, gt: np.ndarray, norm: str = "inter-ocular", mask: np.ndarray | None = None
) -> np.ndarray:
    """Per-image NME (fraction) of predictions against ground truth, both (N, n, 2) in the same frame.

    ``mask`` (N, n) restricts the mean to chosen points (for example visible ones, or the inner 51).
    """
    predicted = np.asarray(pred, dtype=np.float64)
    truth = np.asarray(gt, dtype=np.float64)
    if predicted.shape != truth.shape or predicted.ndim != 3 or predicted.shape[-1] != 2:
        raise DataError(
            f"predictions {predicted.shape} and ground truth {truth.shape} must both be (N, n, 2)"
        )
    errors = np.linalg.norm(predicted - truth, axis=-1)
    if mask is None:
        mean_error = errors.mean(axis=1)
    else:
        weights = np.asarray(mask, dtype=np.float64)
        mean_error = (errors * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    distance = normalising_distance(truth, norm)
    if np.any(distance <= 0):
        raise DataError("a ground-truth shape has a zero normalising distance (eye points coincide)")
    return mean_error / distance


def inner51_mask(gt: np.ndarray) -> np.ndarray | None:
    """(N, 68) boolean mask of the inner 51 points of 68-point shapes (N, 68, 2); None for other layouts.

    >>> inner51_mask(np.zeros((2, 68, 2))).sum(axis=1).tolist(), inner51_mask(np.zeros((1, 98, 2)))
    ([51, 51], None)
    """
    shapes = np.asarray(gt)
    if shapes.shape[1] != 68:
        return None
    mask = np.zeros(shapes.shape[:2], dtype=bool)
    mask[:, list(INNER_51)] = True
    return mask


def nme_inner51_percent(pred: np.ndarray, gt: np.ndarray, norm: str = "inter-ocular") -> float | None:
    """Mean NME (%) over the inner 51 points of 68-point shapes; None for other layouts."""
    mask = inner51_mask(gt)
    return None if mask is None else float(100.0 * nme(pred, gt, norm, mask).mean())


def ced(nmes: np.ndarray, max_error: float = 0.08, steps: int = 161) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution: thresholds in [0, max_error] and the share of images below each."""
    thresholds = np.linspace(0.0, max_error, steps)
    values = np.asarray(nmes, dtype=np.float64)
    shares = (values[None, :] <= thresholds[:, None]).mean(axis=1)
    return thresholds, shares


def auc(nmes: np.ndarray, threshold: float = 0.08) -> float:
    """Area under the CED curve on [0, threshold], divided by ``threshold`` (1.0 = every error is 0).

    Computed exactly: an image with error e adds ``threshold - e`` to the area when e <= threshold.
    """
    values = np.asarray(nmes, dtype=np.float64)
    return float(np.maximum(threshold - values, 0.0).mean() / threshold)


def failure_rate(nmes: np.ndarray, threshold: float = 0.08) -> float:
    """Share of images whose NME exceeds ``threshold``."""
    return float((np.asarray(nmes) > threshold).mean())


def pose_mae(pred_deg: np.ndarray, gt_deg: np.ndarray) -> dict[str, float]:
    """Mean absolute error per angle (degrees) over the rows where the ground truth is known."""
    predicted = np.asarray(pred_deg, dtype=np.float64).reshape(-1, 3)
    truth = np.asarray(gt_deg, dtype=np.float64).reshape(-1, 3)
    known = np.all(np.isfinite(truth), axis=1)
    if not known.any():
        return {}
    errors = np.abs(predicted[known] - truth[known]).mean(axis=0)
    result = {name: float(value) for name, value in zip(POSE_NAMES, errors, strict=True)}
    result["mean"] = float(errors.mean())
    return result


def summarize(
    pred_landmarks: np.ndarray,
    gt_landmarks: np.ndarray,
    pred_pose: np.ndarray | None = None,
    gt_pose: np.ndarray | None = None,
    norm: str = "inter-ocular",
    mask: np.ndarray | None = None,
) -> dict[str, Any]:
    """The usual table row: NME (%), failure rates at 8 and 10 %, AUC@0.08, pose MAE, count."""
    nmes = nme(pred_landmarks, gt_landmarks, norm, mask)
    result: dict[str, Any] = {
        "count": int(len(nmes)),
        "normalisation": norm,
        "nme_percent": float(100.0 * nmes.mean()),
        "nme_median_percent": float(100.0 * np.median(nmes)),
        "nme_max_percent": float(100.0 * nmes.max()),
        "failure_rate_008": failure_rate(nmes, 0.08),
        "failure_rate_010": failure_rate(nmes, 0.10),
        "auc_008": auc(nmes, 0.08),
    }
    if pred_pose is not None and gt_pose is not None:
        result["pose_mae_deg"] = pose_mae(pred_pose, gt_pose)
    return result
