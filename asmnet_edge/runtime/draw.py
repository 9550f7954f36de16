"""Drawing results: landmarks, the crop box and a 3-D head-pose axis (needs OpenCV).

The axis follows the project's pose convention: head-to-camera rotation
``R = Rz(-roll) Rx(-pitch) Ry(yaw)`` in a camera frame with x right, y up, z toward the camera,
projected orthographically (image v = -y). Red is the head's x axis (toward image right at zero pose),
green its y axis (up), blue its z axis (out of the face, along the nose): yaw > 0 swings the blue axis
toward image right, pitch > 0 up, roll > 0 turns the red axis clockwise.

>>> axes = pose_axes(np.array([30.0, 0.0, 0.0]))  # yaw 30: the nose axis points right
>>> bool(axes[2, 0] > 0.49)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from asmnet_edge._lazy import require
from asmnet_edge.runtime.aligner import Face

AXIS_COLORS_BGR = ((0, 0, 255), (0, 200, 0), (255, 80, 0))  # x red, y green, z blue
NOSE_TIP = {68: 30, 98: 54}


def rotation_matrix(pose_deg: np.ndarray) -> np.ndarray:
    """Head-to-camera rotation for (yaw, pitch, roll) in degrees: ``Rz(-roll) Rx(-pitch) Ry(yaw)``."""
    yaw, pitch, roll = np.radians(np.asarray(pose_deg, dtype=np.float64))
    cos_y, sin_y = np.cos(yaw), np.sin(yaw)
    cos_p, sin_p = np.cos(-pitch), np.sin(-pitch)
    cos_r, sin_r = np.cos(-roll), np.sin(-roll)
    rot_y = np.array([[cos_y, 0.0, sin_y], [0.0, 1.0, 0.0], [-sin_y, 0.0, cos_y]])
    rot_x = np.array([[1.0, 0.0, 0.0], [0.0, cos_p, -sin_p], [0.0, sin_p, cos_p]])
    rot_z = np.array([[cos_r, -sin_r, 0.0], [sin_r, cos_r, 0.0], [0.0, 0.0, 1.0]])
    return rot_z @ rot_x @ rot_y


def pose_axes(pose_deg: np.ndarray) -> np.ndarray:
    """The head's x, y, z unit axes projected to image directions (3 x 2, image u right, v down).

    >>> pose_axes(np.array([0.0, 20.0, 0.0]))[2, 1] < 0  # pitch up: the nose axis points up
    np.True_
    >>> pose_axes(np.array([0.0, 0.0, 30.0]))[0, 1] > 0  # roll clockwise: the x axis dips
    np.True_
    """
    rotation = rotation_matrix(pose_deg)
    return np.stack([rotation[0, :], -rotation[1, :]], axis=1)


def draw_faces(image: np.ndarray, faces: Sequence[Face], inplace: bool = False) -> np.ndarray:
    """Draw each face's box, landmarks and pose axis on a BGR uint8 image (returns the image drawn on)."""
    cv2 = _cv2()
    canvas = image if inplace else image.copy()
    if canvas.ndim == 2 or canvas.shape[2] == 1:
        canvas = cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)
    for face in faces:
        box = face.box
        scale = max(box.width, box.height)
        thickness = max(1, round(scale / 150))
        cv2.rectangle(canvas, _pt(box.x0, box.y0), _pt(box.x1, box.y1), (200, 200, 200), thickness)
        radius = max(1, round(scale / 120))
        for x_pos, y_pos in face.landmarks:
            cv2.circle(canvas, _pt(x_pos, y_pos), radius, (0, 255, 255), -1, cv2.LINE_AA)
        nose = NOSE_TIP.get(len(face.landmarks))
        origin = face.landmarks[nose] if nose is not None else face.landmarks.mean(axis=0)
        length = 0.45 * scale
        for axis, color in zip(pose_axes(face.pose_deg), AXIS_COLORS_BGR, strict=True):
            tip = origin + length * axis
            cv2.arrowedLine(canvas, _pt(*origin), _pt(*tip), color, thickness + 1, cv2.LINE_AA, 0, 0.15)
        label = f"yaw {face.yaw:+.0f} pitch {face.pitch:+.0f} roll {face.roll:+.0f}"
        draw_text(canvas, label, (box.x0, box.y0 - 6), scale / 400)
    return canvas


def draw_text(canvas: np.ndarray, text: str, where: tuple[float, float] = (8, 24), size: float = 0.6) -> None:
    """Outlined text (readable on any background), in place."""
    cv2 = _cv2()
    size = max(0.4, size)
    origin = _pt(max(0.0, where[0]), max(14.0, where[1]))
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), 1, cv2.LINE_AA)


def _pt(x_pos: float, y_pos: float) -> tuple[int, int]:
    return round(float(x_pos)), round(float(y_pos))


def _cv2() -> Any:
    return require("cv2", extra="runtime", purpose="drawing landmarks and pose")
