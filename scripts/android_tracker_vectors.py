"""The tracker and shape-score parts of the Android vectors (``scripts/android_vectors.py`` writes them).

Each function returns a JSON-ready entry of ``manifest.json`` computed with the Python runtime, which
``TrackerParityTest.java`` checks ``BoxTracker`` and ``ShapeScore`` against (``SmoothingParityTest.java``
``FaceSmoother``):

- ``tracker_guards``: random (next box, crop, anchor, score) cases and the guard ``guard_reason`` fires;
- ``tracker_predictions``: ``_predict`` (the motion prediction) on random boxes and shares;
- ``tracker_recrops``: ``needs_recrop`` on random (next box, crop) pairs around the threshold;
- ``tracker_plausible``: ``plausible_detection`` on random detector crops (the detections tracked);
- ``tracker_sequence``: a scripted video (a face accelerating, lost, found again, cutting to another
  place, turning away from the detector, shaking, jumping out of its crop) through ``FaceTracker``
  with a stand-in model and detector, and every crop the model was run on per frame;
  ``tracker_sequence_blind``: a face the detector stops seeing, and one elsewhere (re-detection every
  5 frames: the missed track ends after ``max_misses`` + 1 runs);
- ``smoothing``: ``FaceSmoother`` on a noisy still face, a noisy moving one with uneven intervals and
  a face turning past 180 degrees, frame by frame;
- ``shape_scores``: a shape model and the scores ``ShapeModel.score`` gives some shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asmnet_edge.runtime.aligner import Face, Timing
from asmnet_edge.runtime.detect import DetectedBox, box_iou
from asmnet_edge.runtime.geometry import Box, expand_box
from asmnet_edge.runtime.image import Frame, prepare_image
from asmnet_edge.runtime.smoothing import FaceSmoother, SmoothingConfig
from asmnet_edge.runtime.tracking import (
    FaceTracker,
    TrackingPolicy,
    _predict,
    guard_reason,
    needs_recrop,
    plausible_detection,
)

SEQUENCE_SIZE = (640, 480)  # frame width, height
SEQUENCE_MARGIN = 0.1  # the stand-in model's crop margin
FACE_SCORE, NO_FACE_SCORE = 0.9, 0.05


def _moved(box: Box, shift: np.ndarray, scale_x: float, scale_y: float) -> Box:
    """``box`` with its top-left corner moved by ``shift`` and its sides scaled from that corner."""
    x0, y0 = box.x0 + shift[0], box.y0 + shift[1]
    return Box(x0, y0, x0 + box.width * scale_x, y0 + box.height * scale_y)


def tracker_guard_cases(count: int = 400, near: int = 200) -> list[dict[str, Any]]:
    """Random (next box, crop, anchor, score) cases and the guard Python's tracker says fires.

    The first ``count`` span every guard; the ``near`` others are faces inside the frame that move a
    little (around the "moved" and drift thresholds, which the first ones rarely reach).
    """
    wide, close = np.random.default_rng(11), np.random.default_rng(17)
    policy = TrackingPolicy()
    cases = []
    for index in range(count + near):
        rng = wide if index < count else close
        if index < count:
            side = rng.uniform(10, 300)
            x0, y0 = rng.uniform(-150, 700), rng.uniform(-150, 550)
            crop = Box(x0, y0, x0 + side * rng.uniform(0.9, 1.1), y0 + side * rng.uniform(0.9, 1.3))
            scale_x, scale_y = np.exp(rng.normal(0, 0.35, 2))
            shift = rng.normal(0, 0.3 * side, 2)
            anchor_spread = 0.2
        else:
            side = rng.uniform(40, 250)
            x0, y0 = rng.uniform(0, 640 - side), rng.uniform(0, 480 - side)
            crop = Box(x0, y0, x0 + side, y0 + side * rng.uniform(1.0, 1.2))
            scale_x = scale_y = float(np.exp(rng.normal(0, 0.08)))
            shift = rng.normal(0, 0.25 * side, 2)
            anchor_spread = 0.25
        next_box = _moved(crop, shift, scale_x, scale_y)
        anchor = (
            None
            if rng.random() < 0.2
            else Box(*(np.array(crop.as_list()) + rng.normal(0, anchor_spread * side, 4)))
        )
        if anchor is not None and (anchor.width <= 1 or anchor.height <= 1):
            anchor = None
        score = float(rng.uniform(0, 1) if index < count else rng.uniform(0.2, 1))
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
        shift = rng.normal(0, 0.05 * side, 2)  # about half the pairs overlap less than recrop_iou (0.85)
        scale = float(np.exp(rng.normal(0, 0.05)))
        next_box = _moved(crop, shift, scale, scale)
        recrop = bool(needs_recrop(next_box, crop, policy))  # numpy floats give a numpy bool
        cases.append({"next": next_box.as_list(), "crop": crop.as_list(), "recrop": recrop})
    return cases


# per frame: the landmark boxes of the faces the model can find, and the detector's crop (None: none)
Script = list[tuple[list[Box], Box | None]]


def _seen(truth: list[Box | None]) -> Script:
    """Frames with one face (or none) that the detector finds exactly as the model does."""
    return [([], None) if box is None else ([box], expand_box(box, SEQUENCE_MARGIN)) for box in truth]


def _sequence_script() -> Script:
    """A face accelerating, gone, back, cut elsewhere, turning away, shaking, cut again, jumping."""
    script: Script = []
    x0 = 100.0
    for index in range(18):  # 3 px a frame at first, 45 at the end, growing from 120 to 154 px
        width = 120.0 + 2.0 * index
        script += _seen([Box(x0, 140.0 + index, x0 + width, 140.0 + index + 1.2 * width)])
        x0 += 3.0 + 2.5 * index
    script += _seen([None] * 4)
    script[-2] = ([], Box(600.0, 450.0, 700.0, 560.0))  # centre outside the frame: not a face to track
    for index in range(20):  # back elsewhere, 18 px a frame up and left, 1 % smaller a frame
        width = 110.0 * 0.99**index
        left, top = 380.0 - 18.0 * index, 220.0 - 6.0 * index
        script += _seen([Box(left, top, left + width, top + 1.18 * width)])
    for index in range(18):  # a cut to another place, then a face that barely moves
        left, top = 150.0 + 1.5 * np.sin(index), 120.0 + np.cos(0.7 * index)
        script += _seen([Box(left, top, left + 130.0, top + 150.0)])
    for index in range(20):  # turning away: the detector misses it, the model still follows it
        half_w, half_h = 65.0 * 0.96**index, 75.0 * 0.96**index  # shrinking: a drift forgiven, a second not
        script.append(([Box(215.0 - half_w, 196.0 - half_h, 215.0 + half_w, 196.0 + half_h)], None))
    for index in range(12):  # shaking: 40 px jumps every third frame, each re-cropped
        left = 150.0 + (40.0 if index % 6 in (1, 2, 3) else 0.0)
        script += _seen([Box(left, 121.0, left + 130.0, 271.0)])
    for index in range(24):  # a cut, then a jump the detector sees behind the face, one it misses twice
        left = 470.0 - 2.0 * index - (80.0 + 6.0 * (index - 8) if index >= 8 else 0.0)
        left -= 55.0 if index >= 16 else 0.0
        box = Box(left, 160.0, left + 130.0, 310.0)
        seen = expand_box(
            Box(left + 70.0, 160.0, left + 200.0, 310.0) if index == 8 else box, SEQUENCE_MARGIN
        )
        script.append(([box], None if index in (16, 17) else seen))
    return script


def _blind_script() -> Script:
    """A face the detector sees once, then never (a turned head); then a face elsewhere it does see,
    moving, from frame 15 a little off (the periodic run moves the crop to it, keeping the motion)."""
    ghost = Box(100.0, 80.0, 220.0, 230.0)
    script: Script = _seen([ghost]) + [([ghost], None)] * 8
    for index in range(11):
        face = Box(400.0 + 4.0 * index, 200.0, 500.0 + 4.0 * index, 320.0)
        off = Box(face.x0 + 30.0, face.y0 + 8.0, face.x1 + 30.0, face.y1 + 8.0) if index >= 6 else face
        script.append(([ghost, face], expand_box(off, SEQUENCE_MARGIN)))
    return script


class _SequenceMeta:
    crop_margin = SEQUENCE_MARGIN


class _SequenceAligner:
    """Stands in for ``FaceAligner``: the 'model' finds the scripted face its crop overlaps most.

    With none overlapping it returns the crop's corners with a low score (the score guard ends the
    track); the detector returns the script's detection. The Java replay makes the same stand-in from
    the recorded boxes and this file's constants.
    """

    metadata = _SequenceMeta()

    def __init__(self, script: Script) -> None:
        self.script = script
        self.frame = -1
        self.runs: list[list[list[float]]] = []

    def detect_frame(self, frame: Frame) -> list[DetectedBox]:
        found = self.script[self.frame][1]
        if found is None:
            return []
        return [DetectedBox(found.x0, found.y0, found.x1, found.y1, 0.9, "scripted")]

    def crop_box(self, detected: DetectedBox) -> Box:
        return detected.as_box()

    def observed(self) -> list[Box]:
        """The crops the model's landmarks ask for, one per scripted face."""
        return [expand_box(box, SEQUENCE_MARGIN) for box in self.script[self.frame][0]]

    def align(self, frame: Frame, box: Box, detected: DetectedBox | None = None, _ms: float = 0.0) -> Face:
        self.runs[self.frame].append(box.as_list())
        overlaps = [box_iou(seen, box) for seen in self.observed()]
        best = int(np.argmax(overlaps)) if overlaps and max(overlaps) > 0 else None
        corners, score = (
            (box, NO_FACE_SCORE) if best is None else (self.script[self.frame][0][best], FACE_SCORE)
        )
        points = np.array([[corners.x0, corners.y0], [corners.x1, corners.y1]])
        return Face(points, np.zeros(3), box, detected, score, Timing())


def tracker_sequence(script: Script | None = None, redetect_interval: int = 30) -> dict[str, Any]:
    """A scripted video through ``FaceTracker``: per frame, the boxes the model ran on and the one kept."""
    script = _sequence_script() if script is None else script
    aligner = _SequenceAligner(script)
    policy = TrackingPolicy(  # BoxTracker's constants
        redetect_interval=redetect_interval, smoothing=SmoothingConfig(enabled=False)
    )
    tracker = FaceTracker(aligner, policy=policy)  # type: ignore[arg-type]
    width, height = SEQUENCE_SIZE
    image = np.zeros((height, width, 3), np.uint8)
    frames, shown = [], None  # shown: the track of the last face returned (a new one: a new smoother)
    for index, (_, detection) in enumerate(script):
        aligner.frame = index
        aligner.runs.append([])
        faces = tracker.update(image)
        track = tracker._tracks[0] if faces else None
        frames.append(
            {
                "faces": [seen.as_list() for seen in aligner.observed()],
                "detection": detection.as_list() if detection is not None else None,
                "runs": aligner.runs[index],
                "kept": faces[0].box.as_list() if faces else None,
                "new_track": track is not None and track is not shown,
            }
        )
        shown = track or shown
    stats = tracker.stats
    return {
        "width": width,
        "height": height,
        "redetect_interval": redetect_interval,
        "margin": SEQUENCE_MARGIN,
        "face_score": FACE_SCORE,
        "no_face_score": NO_FACE_SCORE,
        "frames": frames,
        "recrops": stats.recrops,
        "detections": stats.detections,
        "lost": stats.lost,
        "reasons": stats.reasons,
    }


def tracker_plausible_cases(count: int = 300) -> list[dict[str, Any]]:
    """Random detector crops (inside, across the border, outside, tiny, huge) and ``plausible_detection``."""
    rng = np.random.default_rng(15)
    policy = TrackingPolicy()
    width, height = SEQUENCE_SIZE
    frame = prepare_image(np.zeros((height, width, 3), np.uint8))
    cases = []
    for _ in range(count):
        side = float(np.exp(rng.uniform(np.log(8.0), np.log(4.0 * width))))
        centre_x, centre_y = rng.uniform(-0.2 * width, 1.2 * width), rng.uniform(-0.2 * height, 1.2 * height)
        half_w, half_h = side / 2, side * rng.uniform(0.8, 1.4) / 2
        crop = Box(centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)
        plausible = bool(plausible_detection(crop, frame, policy))
        cases.append({"crop": crop.as_list(), "width": width, "height": height, "plausible": plausible})
    return cases


def _smoothing_frames(name: str, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(landmarks (68, 2), pose, interval) per frame of one smoothing sequence."""
    shape = rng.uniform(-0.5, 0.5, (68, 2)) * [110.0, 130.0]
    frames = []
    for index in range(45):
        if name == "still_noisy":  # jitter only: the shape filter's job
            angle, scale, centre, interval = 0.0, 1.0, np.array([320.0, 240.0]), 1 / 30
            noise, pose = 1.0, np.array([10.0, -5.0, 3.0]) + rng.normal(0.0, 1.0, 3)
        elif name == "moving_noisy":  # sliding and growing, uneven intervals, one of 0 (a restart)
            angle, scale = 0.0, 1.01**index
            centre, noise = np.array([150.0 + 12.0 * index, 200.0 - 3.0 * index]), 0.8
            interval = (1 / 30, 1 / 15, 1 / 60)[index % 3] if index != 30 else 0.0
            pose = np.array([-20.0 + 1.5 * index, 4.0, 0.0]) + rng.normal(0.0, 0.5, 3)
        else:  # turning: 7 degrees a frame, past 180 and on to 308 (the unwrapped angle must not jump)
            angle, scale = np.radians(7.0 * index), 1.0
            centre, noise, interval = np.array([300.0 + 2.0 * index, 250.0]), 0.5, 1 / 30
            pose = np.array([0.0, 0.0, 7.0 * index]) + rng.normal(0.0, 0.3, 3)
        turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
        points = scale * shape @ turn + centre + rng.normal(0.0, noise, shape.shape)
        frames.append((points, pose, interval))
    return frames


def smoothing_cases() -> list[dict[str, Any]]:
    """Python's ``FaceSmoother`` (default ``SmoothingConfig``) on noisy, moving and turning sequences."""
    rng = np.random.default_rng(16)
    config = SmoothingConfig()
    sequences = []
    for name in ("still_noisy", "moving_noisy", "turning_past_180"):
        smoother = FaceSmoother(config)
        frames = []
        for points, pose, interval in _smoothing_frames(name, rng):
            scale = float(np.ptp(points[:, 0]) + np.ptp(points[:, 1])) / 2.0
            smoothed, smoothed_pose = smoother(points, pose, scale, interval)
            frames.append(
                {
                    "landmarks": [float(value) for value in points.ravel()],
                    "pose": [float(value) for value in pose],
                    "interval": interval,
                    "smoothed": [float(value) for value in np.asarray(smoothed).ravel()],
                    "smoothed_pose": [float(value) for value in smoothed_pose],
                }
            )
        sequences.append({"name": name, "frames": frames})
    return sequences


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
        "tracker_plausible": tracker_plausible_cases(),
        "tracker_sequence": tracker_sequence(),
        "tracker_sequence_blind": tracker_sequence(_blind_script(), redetect_interval=5),
        "smoothing": smoothing_cases(),
        "shape_scores": shape_score_cases(),
    }
