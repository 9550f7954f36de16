"""OpenCV Haar cascades (frontal + profile, the profile cascade mirrored for the other side).

Only OpenCV 4.x wheels ship the cascades (``cv2.data.haarcascades``); OpenCV 5 removed
``cv2.CascadeClassifier``. The built-in default detector is therefore BlazeFace
(:mod:`asmnet_edge.runtime.blazeface`); this one stays for boards that pin ``opencv-python<5``.
Its box map is ``box_maps/haar.json`` when present (fit it under OpenCV 4 with
``asmnet-edge bench fit-box-map --detector haar``), else the identity map.

>>> HaarDetector().detect(rgb_image)  # doctest: +SKIP
[DetectedBox(x0=..., source='haar-frontal')]
"""

from __future__ import annotations

import numpy as np

from asmnet_edge._lazy import require
from asmnet_edge.errors import MissingDependencyError
from asmnet_edge.runtime.detect import BOX_MAP_DIR, IDENTITY_MAP, BoxMap, DetectedBox, non_max_suppression

CASCADES = {"frontal": "haarcascade_frontalface_default.xml", "profile": "haarcascade_profileface.xml"}


class HaarDetector:
    """Frontal and profile Haar cascades; boxes in the given image's pixels, largest first."""

    name = "haar"
    max_side = 480  # cascades are slow: detect on a small copy

    def __init__(self, min_size: int = 24, profiles: bool = True, box_map: BoxMap | None = None) -> None:
        cv2 = require("cv2", extra="runtime", purpose="Haar face detection")
        folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if not hasattr(cv2, "CascadeClassifier") or folder is None:
            raise MissingDependencyError(
                "opencv-python-headless<5 (OpenCV 5 has no Haar cascades)", "runtime", "Haar face detection"
            )
        self._cv2 = cv2
        self.min_size = min_size
        self._cascades = {kind: cv2.CascadeClassifier(folder + file) for kind, file in CASCADES.items()}
        if not profiles:
            del self._cascades["profile"]
        if box_map is None:
            box_map = BoxMap.load(self.name) if (BOX_MAP_DIR / "haar.json").is_file() else IDENTITY_MAP
        self.box_map = box_map

    def detect(self, rgb: np.ndarray) -> list[DetectedBox]:
        cv2 = self._cv2
        grey = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY))
        width = grey.shape[1]
        boxes: list[tuple[float, float, float, float]] = []
        sources: list[str] = []
        for kind, cascade in self._cascades.items():
            views = [(grey, False)] + ([(grey[:, ::-1].copy(), True)] if kind == "profile" else [])
            for view, mirrored in views:
                found = cascade.detectMultiScale(view, 1.1, 5, minSize=(self.min_size, self.min_size))
                for x, y, w, h in found if len(found) else []:
                    x0 = width - (x + w) if mirrored else x
                    boxes.append((float(x0), float(y), float(x0 + w), float(y + h)))
                    sources.append(f"haar-{kind}")
        if not boxes:
            return []
        array = np.array(boxes)
        areas = (array[:, 2] - array[:, 0]) * (array[:, 3] - array[:, 1])
        # frontal hits win over profile hits of the same face; then larger faces first
        priority = areas + np.array([1e9 if source == "haar-frontal" else 0.0 for source in sources])
        keep = non_max_suppression(array, priority, 0.3)
        return [DetectedBox.from_array(array[index], 1.0, sources[index]) for index in keep]
