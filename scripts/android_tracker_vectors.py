"""The tracker and shape-score parts of the Android vectors (``scripts/android_vectors.py`` writes them).

Each function returns a JSON-ready entry of ``manifest.json`` computed with the Python runtime, which
``TrackerParityTest.java`` checks ``BoxTracker`` and ``ShapeScore`` against:

- ``tracker_guards``: random (next box, crop, anchor, score) cases and the guard ``guard_reason`` fires;
- ``tracker_predictions``: ``_predict`` (the motion prediction) on random boxes and shares;
- ``tracker_recrops``: ``needs_recrop`` on random (next box, crop) pairs around the threshold;
- ``tracker_sequence``: a scripted video (a face accelerating, lost, found again, cutting to another
  place) through ``FaceTracker`` with a stand-in model, and every crop the model was run on per frame;
- ``shape_scores``: a shape model and the scores ``ShapeModel.score`` gives some shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asmnet_edge.runtime.aligner import Face, Timing
from asmnet_edge.runtime.detect import DetectedBox
from asmnet_edge.runtime.geometry import Box, expand_box
from asmnet_edge.runtime.image import Frame
from asmnet_edge.runtime.smoothing import SmoothingConfig
from asmnet_edge.runtime.tracking import FaceTracker, TrackingPolicy, _predict, guard_reason, needs_recrop

SEQUENCE_SIZE = (640, 480)  # frame width, height
SEQUENCE_MARGIN = 0.1  # the stand-in model's crop margin
FACE_SCORE, NO_FACE_SCORE = 0.9, 0.05


def _moved(box: Box, shift: np.ndarray, scale_x: float, scale_y: float) -> Box:
    """``box`` with its top-left corner moved by ``shift`` and its sides scaled from that corner."""
    x0, y0 = box.x0 + shift[0], box.y0 + shift[1]
    return Box(x0, y0, x0 + box.width * scale_x, y0 + box.height * scale_y)


def tracker_guard_cases(count: int = 400) -> list[dict[str, Any]]:
    """Random (next box, crop, anchor, score) cases and the guard Python's tracker says fires."""
    rng = np.random.default_rng(11)
    policy = TrackingPolicy()
    cases = []
    for _ in range(count):
        side = rng.uniform(10, 300)
        x0, y0 = rng.uniform(-150, 700), rng.uniform(-150, 550)
        crop = Box(x0, y0, x0 + side * rng.uniform(0.9, 1.1), y0 + side * rng.uniform(0.9, 1.3))
        scale_x, scale_y = np.exp(rng.normal(0, 0.35, 2))
        shift = rng.normal(0, 0.3 * side, 2)
        next_box = _moved(crop, shift, scale_x, scale_y)
        anchor = (
            None if rng.random() < 0.2 else Box(*(np.array(crop.as_list()) + rng.normal(0, 0.2 * side, 4)))
        )
        if anchor is not None and (anchor.width <= 1 or anchor.height <= 1):
            anchor = None
        score = float(rng.uniform(0, 1))
        reason = guard_reason(next_box, crop, anchor, score, 640, 480, policy)
        cases.append(
            {
                "next": next_box.as_list(),
                "crop": crop.as_list(),
                "anchor": anchor.as_list() if anchor is not None else None,
                "score": score,
                "width": 640,
                "height": 480,
                "reason": reason,
            }
        )
    return cases


def tracker_prediction_cases(count: int = 200) -> list[dict[str, Any]]:
    """Random (observed, last, share) triples and the crop ``_predict`` moves the face on to.

    The size changes span the 0.8..1.25 area clip on both sides; a few have no last box or share 0.
    """
    rng = np.random.default_rng(13)
    shares = (TrackingPolicy().motion_prediction, 0.0, 0.3, 1.0)
    cases = []
    for index in range(count):
        side = rng.uniform(30, 250)
        x0, y0 = rng.uniform(-50, 600), rng.uniform(-50, 450)
        last = Box(x0, y0, x0 + side * rng.uniform(0.8, 1.2), y0 + side * rng.uniform(0.9, 1.4))
        grow_x, grow_y = np.exp(rng.normal(0, 0.15, 2))
        shift = rng.normal(0, 0.2 * side, 2)
        observed = _moved(last, shift, grow_x, grow_y)
        share = shares[index % len(shares)] if index % 10 else shares[0]
        previous = None if index % 17 == 5 else last
        predicted = _predict(observed, previous, share)
        cases.append(
            {
                "observed": observed.as_list(),
                "last": previous.as_list() if previous is not None else None,
                "share": share,
                "predicted": predicted.as_list(),
            }
        )
    return cases


def tracker_recrop_cases(count: int = 200) -> list[dict[str, Any]]:
    """Random (next box, crop) pairs, overlapping from not at all to fully, and ``needs_recrop``'s answer."""
    rng = np.random.default_rng(14)
    policy = TrackingPolicy()
    cases = []
    for _ in range(count):
        side = rng.uniform(30, 250)
        x0, y0 = rng.uniform(0, 500), rng.uniform(0, 400)
        crop = Box(x0, y0, x0 + side, y0 + side * rng.uniform(1.0, 1.3))
        shift = rng.normal(0, 0.1 * side, 2)  # about half the pairs overlap less than 0.7
        scale = float(np.exp(rng.normal(0, 0.1)))
        next_box = _moved(crop, shift, scale, scale)
        recrop = bool(needs_recrop(next_box, crop, policy))  # numpy floats give a numpy bool
        cases.append({"next": next_box.as_list(), "crop": crop.as_list(), "recrop": recrop})
    return cases


def _sequence_truth() -> list[Box | None]:
    """Landmark boxes of a face per frame (None: no face): accelerating, gone, back, then a cut."""
    truth: list[Box | None] = []
    x0 = 100.0
    for index in range(18):  # 3 px a frame at first, 45 at the end, growing from 120 to 154 px
        width = 120.0 + 2.0 * index
        truth.append(Box(x0, 140.0 + index, x0 + width, 140.0 + index + 1.2 * width))
        x0 += 3.0 + 2.5 * index
    truth += [None] * 4
    for index in range(20):  # back elsewhere, 18 px a frame up and left, 1 % smaller a frame
        width = 110.0 * 0.99**index
        left, top = 380.0 - 18.0 * index, 220.0 - 6.0 * index
        truth.append(Box(left, top, left + width, top + 1.18 * width))
    for index in range(18):  # a cut to another place, then a face that barely moves
        left, top = 150.0 + 1.5 * np.sin(index), 120.0 + np.cos(0.7 * index)
        truth.append(Box(left, top, left + 130.0, top + 150.0))
    return truth


class _SequenceMeta:
    crop_margin = SEQUENCE_MARGIN


class _SequenceAligner:
    """Stands in for ``FaceAligner``: the 'model' finds the scripted face whatever the crop.

    With no face it returns the crop's corners with a low score (the score guard ends the track); the
    Java replay makes the same stand-in from the recorded boxes and this file's constants.
    """

    metadata = _SequenceMeta()

    def __init__(self, truth: list[Box | None]) -> None:
        self.truth = truth
        self.frame = -1
        self.runs: list[list[list[float]]] = []

    def detect_frame(self, frame: Frame) -> list[DetectedBox]:
        observed = self.observed()
        if observed is None:
            return []
        return [DetectedBox(observed.x0, observed.y0, observed.x1, observed.y1, 0.9, "scripted")]

    def crop_box(self, detected: DetectedBox) -> Box:
        return detected.as_box()

    def observed(self) -> Box | None:
        box = self.truth[self.frame]
        return None if box is None else expand_box(box, SEQUENCE_MARGIN)

    def align(self, frame: Frame, box: Box, detected: DetectedBox | None = None, _ms: float = 0.0) -> Face:
        self.runs[self.frame].append(box.as_list())
        face = self.truth[self.frame]
        corners, score = (box, NO_FACE_SCORE) if face is None else (face, FACE_SCORE)
        points = np.array([[corners.x0, corners.y0], [corners.x1, corners.y1]])
        return Face(points, np.zeros(3), box, detected, score, Timing())


def tracker_sequence() -> dict[str, Any]:
    """A scripted video through ``FaceTracker``: per frame, the boxes the model ran on and the one kept."""
    truth = _sequence_truth()
    aligner = _SequenceAligner(truth)
    policy = TrackingPolicy(smoothing=SmoothingConfig(enabled=False))  # BoxTracker's constants
    tracker = FaceTracker(aligner, policy=policy)  # type: ignore[arg-type]
    width, height = SEQUENCE_SIZE
    image = np.zeros((height, width, 3), np.uint8)
    frames = []
    for index in range(len(truth)):
        aligner.frame = index
        aligner.runs.append([])
        faces = tracker.update(image)
        observed = aligner.observed()
        frames.append(
            {
                "observed": observed.as_list() if observed is not None else None,
                "runs": aligner.runs[index],
                "kept": faces[0].box.as_list() if faces else None,
            }
        )
    stats = tracker.stats
    return {
        "width": width,
        "height": height,
        "margin": SEQUENCE_MARGIN,
        "face_score": FACE_SCORE,
        "no_face_score": NO_FACE_SCORE,
        "frames": frames,
        "recrops": stats.recrops,
        "detections": stats.detections,
        "reasons": stats.reasons,
    }


def shape_score_cases() -> dict[str, Any]:
    """A shape model and shapes with the scores Python gives them (the default model's PCA if present)."""
    from asmnet_edge.runtime.shape_score import ShapeModel

    rng = np.random.default_rng(12)
    mean = np.concatenate([rng.uniform(-0.4, 0.4, 136)])
    basis, _ = np.linalg.qr(rng.normal(size=(136, 5)))
    model = ShapeModel(mean, basis.T, np.array([4e-3, 2e-3, 1e-3, 5e-4, 2e-4]), 2e-5)
    shapes = [mean + rng.normal(0, scale, 136) for scale in (0.0, 0.002, 0.005, 0.01, 0.05, 0.2)]
    shapes += [mean + basis[:, 0] * 0.1, mean + basis[:, 1] * 0.3]
    return {
        "model": model.to_dict(),
        "shapes": [[float(value) for value in shape] for shape in shapes],
        "scores": [ShapeModel.from_dict(model.to_dict()).score(shape) for shape in shapes],
    }


def tracker_entries() -> dict[str, Any]:
    """Every entry of this module, keyed by its name in ``manifest.json``."""
    return {
        "tracker_guards": tracker_guard_cases(),
        "tracker_predictions": tracker_prediction_cases(),
        "tracker_recrops": tracker_recrop_cases(),
        "tracker_sequence": tracker_sequence(),
        "shape_scores": shape_score_cases(),
    }
