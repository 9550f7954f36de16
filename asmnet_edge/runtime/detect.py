"""Face boxes: the detector interface, and the fitted map from a detector's box to the ASMNet crop.

A detector's box is not the ASMNet crop: each detector frames a face its own way (BlazeFace cuts the
forehead, Haar boxes are square and loose). The map from one to the other is fitted by least squares
on labelled faces (``asmnet-edge bench fit-box-map``) and shipped as JSON in ``box_maps/``:

    crop centre = detector centre + (dx * w, dy * h),   crop size = (sx * w, sy * h)

where w, h are the detector box's width and height and the target is the landmark box grown by the
model's ``crop_margin``. Crops are then made by the same code as in training.

>>> box_map = BoxMap(name="demo", offset_x=0.0, offset_y=0.1, scale_x=1.2, scale_y=1.5)
>>> box_map.apply(DetectedBox(0.0, 0.0, 100.0, 100.0, 0.9)).as_list()
[-10.0, -15.0, 110.0, 135.0]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from asmnet_edge._config import load_dataclass, read_json
from asmnet_edge.errors import ConfigError
from asmnet_edge.runtime.contract import CROP_MARGIN
from asmnet_edge.runtime.geometry import Box

BOX_MAP_DIR = Path(__file__).resolve().parent / "box_maps"


@dataclass(frozen=True)
class DetectedBox:
    """A face found by a detector, in image pixels, with the detector's confidence in [0, 1]."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0
    source: str = ""

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @classmethod
    def from_array(cls, values: np.ndarray, score: float = 1.0, source: str = "") -> DetectedBox:
        """From ``[x0, y0, x1, y1]`` numbers (any array-like)."""
        x0, y0, x1, y1 = (float(value) for value in values)
        return cls(x0, y0, x1, y1, score=float(score), source=source)

    def as_box(self) -> Box:
        return Box(self.x0, self.y0, self.x1, self.y1)

    def scaled(self, factor: float) -> DetectedBox:
        """The same box in an image ``factor`` times larger."""
        return DetectedBox(
            self.x0 * factor, self.y0 * factor, self.x1 * factor, self.y1 * factor, self.score, self.source
        )


@runtime_checkable
class Detector(Protocol):
    """What FaceAligner needs from a face detector.

    ``detect`` takes an (H, W, 3) uint8 RGB image (the aligner passes a copy downscaled to at most
    ``max_side`` pixels) and returns boxes in that image's pixels, best first. ``box_map`` turns one
    of its boxes into the ASMNet crop; a detector without a fitted map may use :data:`IDENTITY_MAP`.
    """

    name: str
    max_side: int
    box_map: BoxMap

    def detect(self, rgb: np.ndarray) -> list[DetectedBox]: ...


@dataclass(frozen=True)
class BoxMap:
    """Detector box -> ASMNet crop box (see the module docstring); loaded strictly from JSON."""

    name: str
    offset_x: float = 0.0
    offset_y: float = 0.0
    scale_x: float = 1.0
    scale_y: float = 1.0
    crop_margin: float = CROP_MARGIN
    fit: dict[str, Any] = field(default_factory=dict)

    def apply(self, detected: DetectedBox, crop_margin: float | None = None) -> Box:
        """The crop box; ``crop_margin`` (the model's) rescales a map fitted for another margin."""
        width, height = detected.width, detected.height
        ratio = 1.0
        if crop_margin is not None and crop_margin != self.crop_margin:
            ratio = (1.0 + 2.0 * crop_margin) / (1.0 + 2.0 * self.crop_margin)
        centre_x = (detected.x0 + detected.x1) / 2.0 + self.offset_x * width
        centre_y = (detected.y0 + detected.y1) / 2.0 + self.offset_y * height
        half_w, half_h = ratio * self.scale_x * width / 2.0, ratio * self.scale_y * height / 2.0
        return Box(centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any, what: str = "box map") -> BoxMap:
        """Strict load (:func:`asmnet_edge._config.load_dataclass`)."""
        return load_dataclass(cls, data, what)

    @classmethod
    def load(cls, name_or_path: str | Path) -> BoxMap:
        """A shipped map by detector name (``"blazeface"``) or a JSON file path."""
        path = Path(name_or_path)
        if not path.suffix:
            path = BOX_MAP_DIR / f"{name_or_path}.json"
        if not path.is_file():
            shipped = ", ".join(sorted(item.stem for item in BOX_MAP_DIR.glob("*.json")))
            raise ConfigError(f"cannot read box map {path}: no such file (shipped maps: {shipped})")
        return cls.from_dict(read_json(path, "box map"), f"box map {path}")


IDENTITY_MAP = BoxMap(name="identity", fit={"note": "not fitted: the detector box is used as the crop"})


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Indices of the boxes (N x 4, x0 y0 x1 y1) kept by greedy IoU suppression, best score first.

    >>> non_max_suppression(np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30.0]]),
    ...                     np.array([0.9, 0.8, 0.7]), 0.5)
    [0, 2]
    """
    order = list(np.argsort(-scores))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(int(best))
        if not order:
            break
        rest = np.array(order)
        inter_w = np.clip(
            np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]), 0, None
        )
        inter_h = np.clip(
            np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]), 0, None
        )
        inter = inter_w * inter_h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = [int(index) for index, value in zip(rest, iou, strict=True) if value <= threshold]
    return kept


def box_iou(first: Box, second: Box) -> float:
    """Intersection over union of two boxes.

    >>> box_iou(Box(0, 0, 10, 10), Box(5, 0, 15, 10))
    0.3333333333333333
    """
    inter_w = max(0.0, min(first.x1, second.x1) - max(first.x0, second.x0))
    inter_h = max(0.0, min(first.y1, second.y1) - max(first.y0, second.y0))
    inter = inter_w * inter_h
    union = first.width * first.height + second.width * second.height - inter
    return inter / union if union > 0 else 0.0
