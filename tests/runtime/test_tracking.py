"""FaceTracker: boxes from landmarks, detection only when needed, the lost rules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from asmnet_edge.runtime.aligner import Face, Timing
from asmnet_edge.runtime.detect import DetectedBox, box_iou
from asmnet_edge.runtime.geometry import Box, expand_box, landmark_box
from asmnet_edge.runtime.image import Frame
from asmnet_edge.runtime.smoothing import SmoothingConfig
from asmnet_edge.runtime.tracking import DEFAULT_REDETECT_INTERVAL, FaceTracker, TrackingPolicy

UNIT_FACE = np.random.default_rng(3).uniform(0.0, 1.0, (68, 2))


@dataclass
class _Meta:
    crop_margin: float = 0.05


class ScriptedAligner:
    """Stands in for FaceAligner: the 'model' returns a face whose truth moves along a script."""

    def __init__(self, truth_boxes: list[Box | None], shrink: float = 1.0) -> None:
        # shrink < 1: a biased model whose shapes follow the crop's size, this much too small
        self.metadata = _Meta()
        self.truth = truth_boxes
        self.frame_index = -1
        self.detect_calls = 0
        self.shrink = shrink

    def landmarks(self) -> np.ndarray | None:
        box = self.truth[self.frame_index]
        if box is None:
            return None
        return UNIT_FACE * [box.width, box.height] + [box.x0, box.y0]

    def detect_frame(self, frame: Frame) -> list[DetectedBox]:
        self.detect_calls += 1
        points = self.landmarks()
        if points is None:
            return []
        box = expand_box(landmark_box(points), 0.05)
        return [DetectedBox(box.x0, box.y0, box.x1, box.y1, 0.9, "scripted")]

    def crop_box(self, detected: DetectedBox) -> Box:
        return detected.as_box()

    def align(self, frame: Frame, box: Box, detected=None, detect_ms: float = 0.0) -> Face:  # type: ignore[no-untyped-def]
        points = self.landmarks()
        if points is not None and self.shrink != 1.0:
            # a biased model that barely sees the face: its shape follows the crop's size, too small
            centre = points.mean(axis=0)
            size = np.array([box.width, box.height]) / (1 + 2 * self.metadata.crop_margin)
            shape = (UNIT_FACE - UNIT_FACE.mean(axis=0)) * size * self.shrink
            return Face(centre + shape, np.zeros(3), box, detected, 0.9, Timing())
        centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
        if points is None:  # no face in the crop: the output shrinks toward the middle, implausibly
            points = centre + (UNIT_FACE - 0.5) * [0.4 * box.width, 0.4 * box.height]
            return Face(points, np.zeros(3), box, detected, 0.05, Timing())
        return Face(points, np.zeros(3), box, detected, 0.9, Timing())


def _frames(count: int) -> list[np.ndarray]:
    return [np.zeros((480, 640, 3), np.uint8) for _ in range(count)]


def _run(tracker: FaceTracker, aligner: ScriptedAligner, count: int) -> list[list[Face]]:
    results = []
    for frame in _frames(count):
        aligner.frame_index += 1
        results.append(tracker.update(frame))
    return results


RAW = TrackingPolicy(
    redetect_interval=0, motion_prediction=0.0, hold_iou=0.0, smoothing=SmoothingConfig(enabled=False)
)


def test_moving_face_is_tracked_with_few_detections():
    truth = [Box(100 + 4 * index, 80 + 2 * index, 220 + 4 * index, 230 + 2 * index) for index in range(50)]
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, policy=RAW)  # type: ignore[arg-type]
    results = _run(tracker, aligner, 50)
    # the face moves 224 px (1.9 face widths): the drift guard re-anchors it every half face width
    assert 2 <= tracker.stats.detections <= 5 and tracker.stats.reasons == {
        "drift": tracker.stats.detections - 1
    }
    assert all(len(faces) == 1 for faces in results) and tracker.stats.lost == 0
    # each frame's crop is the previous frame's landmark box grown by the margin
    for index in range(1, 50):
        if results[index][0].detector_box is not None:  # re-anchored to a detection on this frame
            continue
        expected = expand_box(landmark_box(results[index - 1][0].landmarks), 0.05)
        assert results[index][0].box == expected


def test_periodic_redetect_keeps_the_landmark_box():
    truth = [Box(100, 80, 220, 230)] * 25
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, policy=RAW, redetect_interval=10)  # type: ignore[arg-type]
    results = _run(tracker, aligner, 25)
    assert tracker.stats.detections == 3  # frames 1, 11, 21
    assert results[10][0].detector_box is None  # overlapping detection: the track's box is kept


def test_lost_face_triggers_detection_on_the_same_frame():
    truth: list[Box | None] = [Box(100, 80, 220, 230)] * 5 + [None] * 3 + [Box(300, 200, 400, 330)] * 4
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, policy=RAW)  # type: ignore[arg-type]
    results = _run(tracker, aligner, len(truth))
    assert [len(faces) for faces in results] == [1] * 5 + [0] * 3 + [1] * 4
    assert tracker.stats.reasons.get("spread", 0) == 1  # frame 6: the landmarks collapse
    assert tracker.stats.detections == 1 + 1 + 2 + 1  # start, frame 6 retry, frames 7-8, frame 9
    assert results[8][0].detector_box is not None


def test_face_leaving_the_frame_is_lost():
    truth = [Box(500 + 60 * index, 100, 620 + 60 * index, 250) for index in range(6)]
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, policy=RAW)  # type: ignore[arg-type]
    _run(tracker, aligner, 6)
    assert tracker.stats.reasons.get("left-frame", 0) >= 1


@pytest.mark.parametrize("faces", [1, 2])
def test_real_model_on_moving_photo(aligner_int8, astronaut, faces):
    from asmnet_edge.runtime.media import synthetic_motion_frames

    tracker = FaceTracker(aligner_int8, max_faces=faces, redetect_interval=10)
    results = [tracker.update(frame) for frame in synthetic_motion_frames(astronaut, 20)]
    assert all(len(found) == 1 for found in results)  # one face in the photo, never duplicated
    # frames 1 and 11 (interval), plus re-detections when the micro model's drift trips a guard
    assert 2 <= tracker.stats.detections <= 20


def test_slowly_flattening_landmarks_are_lost():
    truth = [Box(100, 100, 300, 300 - 12 * index) for index in range(15)]  # 200 px tall down to 32
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, policy=RAW)  # type: ignore[arg-type]
    _run(tracker, aligner, 15)
    assert tracker.stats.reasons.get("aspect", 0) >= 1


def test_a_model_that_shrinks_faces_does_not_collapse_the_track():
    """A model 12 % too small shrinks a landmark-driven crop geometrically; the anchor stops it."""
    truth = [Box(200 + index, 120, 330 + index, 270) for index in range(120)]
    aligner = ScriptedAligner(truth, shrink=0.88)
    tracker = FaceTracker(aligner, policy=RAW)  # type: ignore[arg-type]
    results = _run(tracker, aligner, len(truth))
    assert all(len(faces) == 1 for faces in results)
    true_crops = [
        expand_box(landmark_box(UNIT_FACE * [b.width, b.height] + [b.x0, b.y0]), 0.05) for b in truth
    ]
    overlaps = [box_iou(faces[0].box, crop) for faces, crop in zip(results, true_crops, strict=True)]
    assert min(overlaps) >= 0.5, min(overlaps)
    assert tracker.stats.reasons.get("drift", 0) >= 5
    # without the anchor (drift guard off) the same model collapses the crop onto the middle
    loose = TrackingPolicy(
        redetect_interval=0,
        max_scale_drift=1e9,
        max_shift_drift=1e9,
        smoothing=SmoothingConfig(enabled=False),
    )
    aligner = ScriptedAligner(truth, shrink=0.88)
    collapsed = _run(FaceTracker(aligner, policy=loose), aligner, 40)  # type: ignore[arg-type]
    pairs = zip(collapsed, true_crops[:40], strict=True)
    assert any(not faces or box_iou(faces[0].box, crop) < 0.5 for faces, crop in pairs)


def test_implausible_shape_triggers_detection_and_ends_the_track():
    truth: list[Box | None] = [Box(100, 80, 220, 230)] * 3 + [None] * 2
    aligner = ScriptedAligner(truth)
    policy = TrackingPolicy(
        redetect_interval=0, spread_range=(0.01, 100.0), smoothing=SmoothingConfig(enabled=False)
    )
    tracker = FaceTracker(aligner, policy=policy)  # type: ignore[arg-type]
    results = _run(tracker, aligner, len(truth))
    assert [len(faces) for faces in results] == [1, 1, 1, 0, 0]
    assert tracker.stats.reasons.get("score", 0) == 1 and tracker.stats.lost == 1


def test_smoothing_reduces_jitter_without_lagging_a_moving_face():
    rng = np.random.default_rng(0)
    static = [Box(200 + rng.normal(0, 1.0), 100 + rng.normal(0, 1.0), 330, 250) for _ in range(60)]
    jitter = {}
    for enabled in (False, True):
        aligner = ScriptedAligner(static)
        policy = TrackingPolicy(redetect_interval=0, smoothing=SmoothingConfig(enabled=enabled))
        results = _run(FaceTracker(aligner, policy=policy), aligner, len(static))  # type: ignore[arg-type]
        points = np.stack([faces[0].landmarks for faces in results[10:]])
        jitter[enabled] = float(np.diff(points, axis=0).std())
    assert jitter[True] < 0.5 * jitter[False], jitter
    moving = [Box(100 + 6 * index, 100, 230 + 6 * index, 250) for index in range(40)]
    aligner = ScriptedAligner(moving)
    results = _run(FaceTracker(aligner, policy=TrackingPolicy(redetect_interval=0)), aligner, 40)  # type: ignore[arg-type]
    truth_x = np.array([UNIT_FACE[:, 0].mean() * b.width + b.x0 for b in moving])
    seen_x = np.array([faces[0].landmarks[:, 0].mean() for faces in results])
    lag_frames = float(np.mean(truth_x[20:] - seen_x[20:]) / 6.0)
    assert lag_frames <= 1.0, lag_frames


def test_the_cli_and_the_library_share_the_redetect_default():
    from asmnet_edge.commands.predict import predict
    from asmnet_edge.runtime.media import run_video

    option = next(param for param in predict.params if param.name == "redetect_interval")
    assert option.default == DEFAULT_REDETECT_INTERVAL == FaceTracker(ScriptedAligner([])).redetect_interval  # type: ignore[arg-type]
    assert run_video.__defaults__ is not None and DEFAULT_REDETECT_INTERVAL in run_video.__defaults__


def test_motion_prediction_keeps_a_fast_face_in_its_crop():
    """A face moving 40 px a frame: without prediction each crop lags a frame behind it."""
    truth = [Box(60 + 40 * index, 120, 200 + 40 * index, 280) for index in range(12)]
    overlaps = {}
    for share in (0.0, 0.7):
        aligner = ScriptedAligner(truth)
        policy = TrackingPolicy(
            redetect_interval=0,
            motion_prediction=share,
            recrop_iou=0.0,  # measured alone: no same-frame re-alignment
            max_shift_drift=1e9,  # no re-anchoring: the crop follows the landmarks alone
            smoothing=SmoothingConfig(enabled=False),
        )
        results = _run(FaceTracker(aligner, policy=policy), aligner, len(truth))  # type: ignore[arg-type]
        crops = [
            expand_box(landmark_box(UNIT_FACE * [b.width, b.height] + [b.x0, b.y0]), 0.05) for b in truth
        ]
        overlaps[share] = np.mean(
            [box_iou(faces[0].box, crop) for faces, crop in zip(results[2:], crops[2:], strict=True) if faces]
        )
    assert overlaps[0.7] > overlaps[0.0] + 0.1, overlaps


def test_a_single_face_track_that_drifted_off_moves_to_the_detection():
    """The face jumps by more than a crop (a cut, a fast turn): the drifted track follows the detector."""
    truth = [Box(100, 100, 230, 250)] * 5 + [Box(420, 200, 550, 350)] * 5
    aligner = ScriptedAligner(truth)
    results = _run(FaceTracker(aligner, policy=RAW), aligner, len(truth))  # type: ignore[arg-type]
    assert all(len(faces) == 1 for faces in results)
    crop = expand_box(landmark_box(UNIT_FACE * [130, 150] + [420, 200]), 0.05)
    assert box_iou(results[5][0].box, crop) > 0.9 and results[5][0].detector_box is not None


def test_a_fast_face_is_realigned_on_its_own_crop_in_the_same_frame():
    """40 px a frame on a 140 px face: the crop it was found in is a frame behind; one more call fixes it."""
    truth = [Box(60 + 40 * index, 120, 200 + 40 * index, 280) for index in range(12)]
    crops = [expand_box(landmark_box(UNIT_FACE * [b.width, b.height] + [b.x0, b.y0]), 0.05) for b in truth]
    overlaps, recrops = {}, {}
    for recrop in (0.0, 0.7):
        aligner = ScriptedAligner(truth)
        policy = TrackingPolicy(
            redetect_interval=0,
            motion_prediction=0.0,
            recrop_iou=recrop,
            max_shift_drift=1e9,
            smoothing=SmoothingConfig(enabled=False),
        )
        tracker = FaceTracker(aligner, policy=policy)  # type: ignore[arg-type]
        results = _run(tracker, aligner, len(truth))
        pairs = zip(results[1:], crops[1:], strict=True)
        overlaps[recrop] = min(box_iou(faces[0].box, crop) for faces, crop in pairs)
        recrops[recrop] = tracker.stats.recrops
    assert overlaps[0.0] < 0.7 and overlaps[0.7] > 0.99, overlaps
    assert recrops == {0.0: 0, 0.7: len(truth) - 1}


def test_a_still_face_is_never_realigned():
    truth = [Box(100, 100, 230, 250)] * 10
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, policy=TrackingPolicy(smoothing=SmoothingConfig(enabled=False)))  # type: ignore[arg-type]
    _run(tracker, aligner, len(truth))
    assert tracker.stats.recrops == 0


class _BlindDetectorAligner(ScriptedAligner):
    """The model keeps finding a plausible face; the detector stops seeing one after ``seen`` frames."""

    def __init__(self, truth_boxes: list[Box | None], seen: int) -> None:
        super().__init__(truth_boxes)
        self.seen = seen

    def detect_frame(self, frame: Frame) -> list[DetectedBox]:
        if self.frame_index >= self.seen:
            self.detect_calls += 1
            return []
        return super().detect_frame(frame)


def test_a_track_the_detector_never_confirms_ends_after_max_misses():
    truth = [Box(100, 80, 220, 230)] * 20
    aligner = _BlindDetectorAligner(truth, seen=1)
    policy = TrackingPolicy(redetect_interval=5, max_misses=1, smoothing=SmoothingConfig(enabled=False))
    results = _run(FaceTracker(aligner, policy=policy), aligner, len(truth))  # type: ignore[arg-type]
    counts = [len(faces) for faces in results]
    # periodic runs on frames 6 (first miss: forgiven) and 11 (second: the track ends)
    assert counts[:10] == [1] * 10 and counts[10:] == [0] * 10, counts


def test_a_face_that_left_its_crop_asks_for_the_detector():
    from asmnet_edge.runtime.tracking import guard_reason, moved

    crop, policy = Box(100, 100, 200, 200), TrackingPolicy()
    far = Box(160, 100, 260, 200)  # overlaps the crop by a quarter: the network saw part of the face
    assert moved(far, crop, policy) and not moved(Box(105, 100, 205, 200), crop, policy)
    assert guard_reason(far, crop, crop, 0.9, 640, 480, policy) == "moved"
    assert guard_reason(far, crop, None, 0.9, 640, 480, policy) is None  # no anchor: recrop's check
    assert guard_reason(far, crop, crop, 0.9, 640, 480, TrackingPolicy(moved_iou=0.0)) != "moved"


def test_smoothing_damps_per_point_noise_and_keeps_a_rigidly_moving_shape():
    from asmnet_edge.runtime.smoothing import FaceSmoother

    rng = np.random.default_rng(1)
    shape = UNIT_FACE * 120.0
    smoother = FaceSmoother(SmoothingConfig())
    raw, smoothed = [], []
    for _ in range(60):
        noisy = shape + 300.0 + rng.normal(0.0, 1.0, shape.shape)
        raw.append(noisy)
        smoothed.append(smoother(noisy, np.zeros(3), 120.0, 1 / 30)[0])
    assert np.diff(smoothed[10:], axis=0).std() < 0.35 * np.diff(raw[10:], axis=0).std()
    # a noise-free face turning and sliding fast: the shape is kept, and the points follow within 2 %
    smoother = FaceSmoother(SmoothingConfig())
    errors = []
    for index in range(40):
        angle = np.radians(0.8 * index)
        turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
        truth = (shape - shape.mean(axis=0)) @ turn + [200.0 + 12.0 * index, 240.0]
        seen = smoother(truth, np.zeros(3), 120.0, 1 / 30)[0]
        errors.append(float(np.abs(seen - truth).max()))
    assert max(errors[10:]) < 0.02 * 120.0, errors


def test_a_still_face_keeps_its_crop_through_landmark_noise():
    rng = np.random.default_rng(2)
    noisy = [Box(200 + rng.normal(0, 1.5), 100 + rng.normal(0, 1.5), 330, 250) for _ in range(30)]
    crops = {}
    for hold in (0.0, 0.9):
        aligner = ScriptedAligner(noisy)
        policy = TrackingPolicy(redetect_interval=0, hold_iou=hold, smoothing=SmoothingConfig(enabled=False))
        results = _run(FaceTracker(aligner, policy=policy), aligner, len(noisy))  # type: ignore[arg-type]
        crops[hold] = {faces[0].box for faces in results[1:]}
    assert len(crops[0.9]) == 1 and len(crops[0.0]) > 20, (len(crops[0.9]), len(crops[0.0]))
