"""Head-pose math in the project convention, shared by the synthetic renderer and the teacher labeller.

Camera frame: x = image right, y = up, z = toward the camera. A head in its frontal frame is turned into
the camera frame by ``R = Rz(-roll) @ Rx(-pitch) @ Ry(yaw)`` (angles in degrees): yaw > 0 turns the nose
toward image right (the subject turns to their left), pitch > 0 looks up, roll > 0 turns the face
clockwise in the image.

>>> import numpy as np
>>> rotation = rotation_from_pose(30.0, -10.0, 5.0)
>>> [round(float(angle), 6) for angle in pose_from_rotation(rotation)]
[30.0, -10.0, 5.0]
"""

from __future__ import annotations

import numpy as np

# iBUG-68 index of each point's mirror image (left <-> right), used to flip labels with an image
FLIP_68: tuple[int, ...] = (
    tuple(range(16, -1, -1))
    + tuple(range(26, 16, -1))
    + (27, 28, 29, 30)
    + (35, 34, 33, 32, 31)
    + (45, 44, 43, 42, 47, 46)
    + (39, 38, 37, 36, 41, 40)
    + (54, 53, 52, 51, 50, 49, 48)
    + (59, 58, 57, 56, 55)
    + (64, 63, 62, 61, 60)
    + (67, 66, 65)
)


def _axis_rotation(axis: int, degrees: float) -> np.ndarray:
    cosine, sine = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    first, second = [index for index in range(3) if index != axis]
    matrix = np.eye(3)
    # the sign pattern of a right-handed rotation about x, y or z
    sign = -1.0 if axis == 1 else 1.0
    matrix[first, first] = matrix[second, second] = cosine
    matrix[first, second] = -sign * sine
    matrix[second, first] = sign * sine
    return matrix


def rotation_from_pose(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Head-to-camera rotation for a pose in degrees (project convention).

    >>> import numpy as np
    >>> nose = rotation_from_pose(30.0, 0.0, 0.0) @ np.array([0.0, 0.0, 1.0])
    >>> bool(nose[0] > 0)  # yaw > 0: the nose points toward image right
    True
    """
    return _axis_rotation(2, -roll) @ _axis_rotation(0, -pitch) @ _axis_rotation(1, yaw)


def pose_from_rotation(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a head-to-camera rotation (inverse of ``rotation_from_pose``).

    >>> import numpy as np
    >>> pose_from_rotation(np.eye(3))
    (0.0, 0.0, 0.0)
    """
    matrix = np.asarray(rotation, dtype=np.float64)
    pitch = -np.degrees(np.arcsin(np.clip(matrix[2, 1], -1.0, 1.0)))
    yaw = np.degrees(np.arctan2(-matrix[2, 0], matrix[2, 2]))
    roll = -np.degrees(np.arctan2(-matrix[0, 1], matrix[1, 1]))
    return float(yaw) + 0.0, float(pitch) + 0.0, float(roll) + 0.0


def flip_labels(points: np.ndarray, width: int, yaw: float, roll: float) -> tuple[np.ndarray, float, float]:
    """Labels of a horizontally flipped image: mirror x, swap left/right points, negate yaw and roll.

    ``points`` are 0-based pixels (68, 2); ``width`` is the image width.

    >>> import numpy as np
    >>> points = np.zeros((68, 2)); points[36] = [10.0, 5.0]
    >>> flipped, yaw, roll = flip_labels(points, 100, 20.0, -5.0)
    >>> flipped[45].tolist(), yaw, roll
    ([89.0, 5.0], -20.0, 5.0)
    """
    mirrored = np.asarray(points, dtype=np.float64).copy()
    mirrored[:, 0] = (width - 1) - mirrored[:, 0]
    return mirrored[list(FLIP_68)], -yaw, -roll
