"""FaceTracker: boxes from landmarks, detection only when needed, the lost rules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from asmnet_edge.runtime.aligner import Face, Timing
from asmnet_edge.runtime.detect import DetectedBox
from asmnet_edge.runtime.geometry import Box, expand_box, landmark_box
from asmnet_edge.runtime.image import Frame
from asmnet_edge.runtime.tracking import FaceTracker

UNIT_FACE = np.random.default_rng(3).uniform(0.0, 1.0, (68, 2))


@dataclass
class _Meta:
    crop_margin: float = 0.05


class ScriptedAligner:
    """Stands in for FaceAligner: the 'model' returns a face whose truth moves along a script."""

    def __init__(self, truth_boxes: list[Box | None]) -> None:
        self.metadata = _Meta()
        self.truth = truth_boxes
        self.frame_index = -1
        self.detect_calls = 0

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
        if points is None:  # no face in the crop: the output shrinks toward the middle
            centre = [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2]
            points = centre + (UNIT_FACE - 0.5) * [0.4 * box.width, 0.4 * box.height]
        return Face(points, np.zeros(3), box, detected, 1.0, Timing())


def _frames(count: int) -> list[np.ndarray]:
    return [np.zeros((480, 640, 3), np.uint8) for _ in range(count)]


def _run(tracker: FaceTracker, aligner: ScriptedAligner, count: int) -> list[list[Face]]:
    results = []
    for frame in _frames(count):
        aligner.frame_index += 1
        results.append(tracker.update(frame))
    return results


def test_moving_face_is_tracked_with_one_detection():
    truth = [Box(100 + 4 * index, 80 + 2 * index, 220 + 4 * index, 230 + 2 * index) for index in range(50)]
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, redetect_interval=0)  # type: ignore[arg-type]
    results = _run(tracker, aligner, 50)
    assert aligner.detect_calls == 1 and tracker.stats.detections == 1
    assert all(len(faces) == 1 for faces in results)
    # each frame's crop is the previous frame's landmark box grown by the margin
    for index in range(1, 50):
        expected = expand_box(landmark_box(results[index - 1][0].landmarks), 0.05)
        assert results[index][0].box == expected


def test_periodic_redetect_keeps_the_landmark_box():
    truth = [Box(100, 80, 220, 230)] * 25
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, redetect_interval=10)  # type: ignore[arg-type]
    results = _run(tracker, aligner, 25)
    assert tracker.stats.detections == 3  # frames 1, 11, 21
    assert results[10][0].detector_box is None  # overlapping detection: the track's box is kept


def test_lost_face_triggers_detection_on_the_same_frame():
    truth: list[Box | None] = [Box(100, 80, 220, 230)] * 5 + [None] * 3 + [Box(300, 200, 400, 330)] * 4
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, redetect_interval=0)  # type: ignore[arg-type]
    results = _run(tracker, aligner, len(truth))
    assert [len(faces) for faces in results] == [1] * 5 + [0] * 3 + [1] * 4
    assert tracker.stats.reasons.get("spread", 0) == 1  # frame 6: the landmarks collapse
    assert tracker.stats.detections == 1 + 1 + 2 + 1  # start, frame 6 retry, frames 7-8, frame 9
    assert results[8][0].detector_box is not None


def test_face_leaving_the_frame_is_lost():
    truth = [Box(500 + 60 * index, 100, 620 + 60 * index, 250) for index in range(6)]
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, redetect_interval=0)  # type: ignore[arg-type]
    _run(tracker, aligner, 6)
    assert tracker.stats.reasons.get("left-frame", 0) >= 1


@pytest.mark.parametrize("faces", [1, 2])
def test_real_model_on_moving_photo(aligner_int8, astronaut, faces):
    from asmnet_edge.runtime.media import synthetic_motion_frames

    tracker = FaceTracker(aligner_int8, max_faces=faces, redetect_interval=10)
    results = [tracker.update(frame) for frame in synthetic_motion_frames(astronaut, 20)]
    assert all(len(found) == 1 for found in results)  # one face in the photo, never duplicated
    # frames 1 and 11 (interval), plus re-detections when the micro model's drift trips a lost rule
    assert 2 <= tracker.stats.detections <= 5
    assert tracker.stats.detections == 2 + tracker.stats.lost


def test_slowly_flattening_landmarks_are_lost():
    truth = [Box(100, 100, 300, 300 - 12 * index) for index in range(15)]  # 200 px tall down to 32
    aligner = ScriptedAligner(truth)
    tracker = FaceTracker(aligner, redetect_interval=0)  # type: ignore[arg-type]
    _run(tracker, aligner, 15)
    assert tracker.stats.reasons.get("aspect", 0) >= 1
