"""Fidelity of an exported model against the Keras model (and ground truth, when the data has it).

Run on evaluation crops that were not used for calibration. Every number of the report comes from
the .tflite run through the runtime's :class:`LiteModel` (the code users run), metrics from
:mod:`asmnet_edge.eval.metrics`. The gate compares the NME increase (%, inter-ocular) and the pose
MAE increase (degrees) with the tolerances: against ground truth when the evaluation set has labels,
else the exported model's NME and pose MAE taking the Keras predictions as the truth (an upper
bound of the increase).

>>> report = validate(tflite_bytes, keras_predictions, eval_set, Tolerance(0.5, 1.0))  # doctest: +SKIP
>>> report.passed, report.gate.basis, round(report.vs_keras.nme_percent, 2)  # doctest: +SKIP
(True, 'vs_ground_truth', 0.21)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from asmnet_edge.errors import DataError
from asmnet_edge.eval import metrics
from asmnet_edge.exporters.calibration import CropSet
from asmnet_edge.exporters.graph import TfliteGraph
from asmnet_edge.runtime.geometry import normalise_landmarks
from asmnet_edge.runtime.model import LiteModel


@dataclass(frozen=True)
class Tolerance:
    """Largest allowed NME increase (% points; against the ground truth when the evaluation faces are
    labelled), pose MAE increase (degrees), and NME of the exported outputs against the float model's."""

    max_nme_increase: float
    max_pose_increase_deg: float
    max_nme_vs_float: float = float("inf")


@dataclass(frozen=True)
class KerasPredictions:
    """The Keras model's outputs on the evaluation crops, computed once per export."""

    landmarks: np.ndarray  # (N, n, 2) crop pixels
    poses: np.ndarray  # (N, 3) degrees


def nme_percent(pred: np.ndarray, reference: np.ndarray, size: int) -> tuple[np.ndarray, str]:
    """Per-image NME in %, inter-ocular when the layout has eye corners and they are apart, else
    normalised by the crop size (untrained models, other layouts); returns the normalisation used.

    >>> ref = np.zeros((1, 68, 2)); ref[0, 45] = [50.0, 0.0]
    >>> values, norm = nme_percent(ref + [1.0, 0.0], ref, 96)
    >>> round(float(values[0]), 3), norm
    (2.0, 'inter-ocular')
    """
    try:
        distance = metrics.normalising_distance(reference, "inter-ocular")
        if np.all(distance >= 0.05 * size):
            return 100.0 * metrics.nme(pred, reference, "inter-ocular"), "inter-ocular"
    except DataError:
        pass
    errors = np.linalg.norm(np.asarray(pred) - np.asarray(reference), axis=-1).mean(axis=1)
    return 100.0 * errors / size, "crop-size"


@dataclass(frozen=True)
class VsFloat:
    """The exported model's outputs against the float (Keras) model's on the evaluation crops."""

    normalisation: str  # "inter-ocular" or "crop-size" (see nme_percent)
    nme_percent: float
    nme_max_percent: float
    pose_mae_deg: dict[str, float]  # per angle and "mean"; empty when there is no pose
    max_abs_landmark_diff_px: float
    max_abs_pose_diff_deg: float


@dataclass(frozen=True)
class Gate:
    """What the pass/fail decision compared: the increases, the tolerances, and what went over."""

    basis: str  # "vs_ground_truth" when the evaluation faces are labelled, else "vs_keras"
    nme_increase_percent: float
    pose_mae_increase_deg: float
    max_nme_increase: float
    max_pose_increase_deg: float
    max_nme_vs_float: float
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class FidelityReport:
    """The fidelity of one exported model; :meth:`to_dict` is the ``fidelity`` of its report JSON."""

    eval_source: str
    eval_count: int
    eval_faces: int
    vs_keras: VsFloat
    gate: Gate
    saturation: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    # {"keras": scores, "tflite": scores} against the labels, when the evaluation faces have them
    vs_ground_truth: dict[str, dict[str, Any]] | None = None

    @property
    def passed(self) -> bool:
        return not self.gate.failures

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["gate"]["failures"] = list(self.gate.failures)
        if self.vs_ground_truth is None:
            del data["vs_ground_truth"]
        data["passed"] = self.passed
        return data


def validate(
    content: bytes, keras: KerasPredictions, eval_set: CropSet, tolerance: Tolerance
) -> FidelityReport:
    """Run the exported model on ``eval_set`` and compare; the report says whether it passed."""
    lite = LiteModel.from_file(content, num_threads=1)
    size, sign = lite.metadata.input_size, lite.metadata.landmark_sign
    landmarks, poses = lite.run(eval_set.images)
    vs_keras, norm = nme_percent(landmarks, keras.landmarks, size)
    pose_vs_keras = metrics.pose_mae(poses, keras.poses)
    versus_float = VsFloat(
        normalisation=norm,
        nme_percent=float(vs_keras.mean()),
        nme_max_percent=float(vs_keras.max()),
        pose_mae_deg=pose_vs_keras,
        max_abs_landmark_diff_px=float(np.abs(landmarks - keras.landmarks).max()),
        max_abs_pose_diff_deg=float(np.abs(poses - keras.poses).max()),
    )
    nme_increase, pose_increase = versus_float.nme_percent, pose_vs_keras.get("mean", 0.0)
    basis, vs_ground_truth = "vs_keras", None
    if eval_set.landmarks is not None:
        truth_poses = eval_set.poses if eval_set.poses is not None else np.full((len(eval_set), 3), np.nan)
        keras_gt = _summary(keras.landmarks, keras.poses, eval_set.landmarks, truth_poses, size)
        lite_gt = _summary(landmarks, poses, eval_set.landmarks, truth_poses, size)
        nme_increase = lite_gt["nme_percent"] - keras_gt["nme_percent"]
        pose_increase = lite_gt.get("pose_mae_mean_deg", 0.0) - keras_gt.get("pose_mae_mean_deg", 0.0)
        basis, vs_ground_truth = "vs_ground_truth", {"keras": keras_gt, "tflite": lite_gt}
    graph = TfliteGraph(content)
    raw = {
        "landmarks": normalise_landmarks(landmarks, size, sign).reshape(len(landmarks), -1),
        "pose": poses / lite.metadata.pose_scale_deg,
    }
    failures = []
    if nme_increase > tolerance.max_nme_increase:
        failures.append(f"NME increase {nme_increase:.3f} % > {tolerance.max_nme_increase} %")
    if pose_increase > tolerance.max_pose_increase_deg:
        failures.append(f"pose MAE increase {pose_increase:.3f} deg > {tolerance.max_pose_increase_deg} deg")
    if versus_float.nme_percent > tolerance.max_nme_vs_float:
        failures.append(
            f"NME vs the float model {versus_float.nme_percent:.3f} % > {tolerance.max_nme_vs_float} %"
        )
    gate = Gate(
        basis=basis,
        nme_increase_percent=nme_increase,
        pose_mae_increase_deg=pose_increase,
        max_nme_increase=tolerance.max_nme_increase,
        max_pose_increase_deg=tolerance.max_pose_increase_deg,
        max_nme_vs_float=tolerance.max_nme_vs_float,
        failures=tuple(failures),
    )
    return FidelityReport(
        eval_source=eval_set.source,
        eval_count=len(eval_set),
        eval_faces=eval_set.faces,
        vs_keras=versus_float,
        gate=gate,
        saturation={name: _saturation(graph, name, values) for name, values in raw.items()},
        vs_ground_truth=vs_ground_truth,
    )


def _summary(
    landmarks: np.ndarray, poses: np.ndarray, truth: np.ndarray, truth_poses: np.ndarray, size: int
) -> dict[str, Any]:
    values, norm = nme_percent(landmarks, truth, size)
    result: dict[str, Any] = {"normalisation": norm, "nme_percent": float(values.mean())}
    if norm == "inter-ocular":
        fractions = values / 100.0
        result["failure_rate_008"] = metrics.failure_rate(fractions, 0.08)
        result["auc_008"] = metrics.auc(fractions, 0.08)
    pose = metrics.pose_mae(poses, truth_poses)
    if pose:
        result["pose_mae_deg"] = pose
        result["pose_mae_mean_deg"] = pose["mean"]
    return result


def _saturation(graph: TfliteGraph, name: str, values: np.ndarray) -> dict[str, Any] | None:
    """How many output values sit at the quantised range's ends (clipped by calibration)."""
    tensor = graph.quantised_output(name)
    if tensor is None:
        return None
    quantised = np.rint(values / tensor.params.scale + tensor.params.zero_point)
    at_ends = (quantised <= tensor.qmin) | (quantised >= tensor.qmax)
    return {
        "dtype": tensor.params.dtype,
        "saturated_values": int(at_ends.sum()),
        "values": int(at_ends.size),
        "saturated_images": int(at_ends.any(axis=1).sum()),
        "range": [
            float((tensor.qmin - tensor.params.zero_point) * tensor.params.scale),
            float((tensor.qmax - tensor.params.zero_point) * tensor.params.scale),
        ],
    }
