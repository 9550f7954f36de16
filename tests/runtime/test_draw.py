"""Pose axis projection follows the project convention; drawing needs OpenCV and says so."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from asmnet_edge.errors import MissingDependencyError
from asmnet_edge.runtime.aligner import Face, Timing
from asmnet_edge.runtime.draw import draw_faces, pose_axes, rotation_matrix
from asmnet_edge.runtime.geometry import Box


@pytest.mark.parametrize(
    ("pose", "axis", "component", "sign", "meaning"),
    [
        ((30, 0, 0), 2, 0, +1, "yaw > 0: the nose axis points to image right"),
        ((-30, 0, 0), 2, 0, -1, "yaw < 0: the nose axis points to image left"),
        ((0, 25, 0), 2, 1, -1, "pitch > 0 (looks up): the nose axis points up (v < 0)"),
        ((0, 0, 20), 0, 1, +1, "roll > 0 (clockwise): the x axis dips (v > 0)"),
        ((0, 0, 20), 1, 0, +1, "roll > 0 (clockwise): the up axis leans right"),
    ],
)
def test_pose_axes_convention(pose, axis, component, sign, meaning):
    value = pose_axes(np.array(pose, dtype=float))[axis, component]
    assert np.sign(value) == sign, meaning


def test_rotation_is_orthonormal_and_zero_pose_is_identity():
    rotation = rotation_matrix(np.array([17.0, -33.0, 71.0]))
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(pose_axes(np.zeros(3)), [[1, 0], [0, -1], [0, 0]], atol=1e-12)


def _face() -> Face:
    landmarks = np.random.default_rng(0).uniform(60, 140, (68, 2))
    return Face(landmarks, np.array([20.0, 10.0, 5.0]), Box(50, 50, 150, 150), None, 1.0, Timing())


def test_draw_faces_marks_the_image_and_leaves_the_input():
    image = np.zeros((200, 200, 3), np.uint8)
    drawn = draw_faces(image, [_face()])
    assert image.sum() == 0 and drawn.sum() > 0
    assert drawn[50, 100].any()  # the box's top edge
    grey = draw_faces(np.zeros((200, 200), np.uint8), [_face()])
    assert grey.shape == (200, 200, 3)


def test_drawing_without_opencv_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'asmnet-edge\[runtime\]'"):
        draw_faces(np.zeros((10, 10, 3), np.uint8), [_face()])
