"""Video tracking: the next frame's crop comes from this frame's landmarks; detect only when lost.

Per frame and tracked face: crop box = tight box of the last landmarks grown by the model's
``crop_margin`` (the training convention, so no box map is involved), then one model call. The same
rules as the Android core's ``BoxTracker``. A track is **lost** (and the detector runs again on the
same frame) when:

- the new box leaves the frame (its centre is outside the image) or is smaller than ``min_face_px``;
- its height/width ratio leaves [0.5, 2.5] (a slow collapse that no single frame shows);
- the box changes size implausibly between two frames: next box / current crop outside
  ``spread_range`` (default 1/1.6 to 1.6) on either axis. On a crop with no face the landmarks
  collapse or explode, so this is the cheap confidence check (ASMNet has no face-score output).

``redetect_interval`` > 0 also runs the detector every that many frames (default 60, as on Android):
a detection that overlaps a track (IoU >= 0.3) keeps the landmark-derived box, one elsewhere starts a
new track (up to ``max_faces``), and a miss never ends a track (the detector misses turned heads that
the landmarks still follow). 0 means: detect only when there is no track. Overlapping tracks
(IoU > 0.5) are merged.

>>> tracker = FaceTracker(FaceAligner.from_file("model.tflite"))  # doctest: +SKIP
>>> for frame in frames:  # doctest: +SKIP
...     faces = tracker.update(frame, color="bgr")
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from asmnet_edge.runtime.aligner import Face, FaceAligner
from asmnet_edge.runtime.detect import DetectedBox, box_iou
from asmnet_edge.runtime.geometry import Box, expand_box
from asmnet_edge.runtime.image import Frame, prepare_image


@dataclass
class TrackerStats:
    """Counters since the tracker was made (or reset)."""

    frames: int = 0
    detections: int = 0
    lost: int = 0
    tracked_faces: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class FaceTracker:
    """Landmark-driven tracking on top of a :class:`FaceAligner` (see the module docstring)."""

    def __init__(
        self,
        aligner: FaceAligner,
        max_faces: int = 1,
        redetect_interval: int = 60,
        min_face_px: float = 24.0,
        spread_range: tuple[float, float] = (1.0 / 1.6, 1.6),
    ) -> None:
        self.aligner = aligner
        self.max_faces = max_faces
        self.redetect_interval = redetect_interval
        self.min_face_px = min_face_px
        self.spread_range = spread_range
        self.stats = TrackerStats()
        self._boxes: list[Box] = []
        self._detections: dict[int, DetectedBox] = {}
        self._detect_ms = 0.0
        self._since_detect = 0

    def reset(self) -> None:
        """Forget every track (the next frame runs the detector)."""
        self._boxes = []
        self._since_detect = 0

    def update(self, image: object, color: str = "rgb") -> list[Face]:
        """Faces in this frame; runs the detector only when needed."""
        frame = prepare_image(image, color)  # type: ignore[arg-type]
        self.stats.frames += 1
        self._since_detect += 1
        detected_now = False
        periodic = self.redetect_interval > 0 and self._since_detect >= self.redetect_interval
        if not self._boxes or periodic:
            self._add_detections(frame)
            detected_now = True
        faces = self._align_tracks(frame)
        if len(faces) < len(self._boxes) and not detected_now:
            self._boxes = [face.box for face in faces]
            self._add_detections(frame)
            known = {id(face.box) for face in faces}
            faces += self._align_tracks(frame, only=[box for box in self._boxes if id(box) not in known])
        faces = _merge(faces)[: self.max_faces]
        self._boxes = [self.next_box(face) for face in faces]
        self.stats.tracked_faces += len(faces)
        return faces

    def _add_detections(self, frame: Frame) -> None:
        """Merge a detector run into the tracks (Android ``BoxTracker`` rules, see the module doc).

        A detection overlapping a track (IoU >= 0.3) keeps the track's landmark box; one elsewhere
        starts a track ahead of the unmatched old ones; a miss never ends a track.
        """
        self._since_detect = 0
        self.stats.detections += 1
        start = time.perf_counter_ns()
        found = self.aligner.detect_frame(frame)
        self._detect_ms = (time.perf_counter_ns() - start) / 1e6
        matched: list[Box] = []
        fresh: list[Box] = []
        for item in found:
            box = self.aligner.crop_box(item)
            overlapping = [old for old in self._boxes if box_iou(box, old) >= 0.3]
            if overlapping:
                matched.extend(old for old in overlapping if old not in matched)
            else:
                fresh.append(box)
                self._detections[id(box)] = item
        unmatched = [old for old in self._boxes if old not in matched]
        self._boxes = (matched + fresh + unmatched)[: self.max_faces]

    def _align_tracks(self, frame: Frame, only: list[Box] | None = None) -> list[Face]:
        faces = []
        for box in self._boxes if only is None else only:
            detected = self._detections.pop(id(box), None)
            detect_ms = self._detect_ms if detected is not None else 0.0
            face = self.aligner.align(frame, box, detected, detect_ms)
            if self._keep(face, frame):
                faces.append(face)
        self._detections.clear()
        return faces

    def next_box(self, face: Face) -> Box:
        """The crop for the next frame: landmark box grown by the model's crop margin."""
        points = face.landmarks
        tight = Box(
            float(points[:, 0].min()),
            float(points[:, 1].min()),
            float(points[:, 0].max()),
            float(points[:, 1].max()),
        )
        return expand_box(tight, self.aligner.metadata.crop_margin)

    def _keep(self, face: Face, frame: Frame, count: bool = True) -> bool:
        reason = self.lost_reason(face, frame)
        if reason and count:
            self.stats.lost += 1
            self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
        return reason is None

    def lost_reason(self, face: Face, frame: Frame) -> str | None:
        """Why this face should not be tracked further, or None if it is fine."""
        box = self.next_box(face)
        centre_x, centre_y = (box.x0 + box.x1) / 2.0, (box.y0 + box.y1) / 2.0
        if not (0.0 <= centre_x < frame.width and 0.0 <= centre_y < frame.height):
            return "left-frame"
        if min(box.width, box.height) < self.min_face_px:
            return "too-small"
        if not 0.5 <= box.height / box.width <= 2.5:  # faces are never that flat or that thin
            return "aspect"
        # tight landmark box / crop box, relative to what the crop convention expects (1 / (1 + 2m));
        # box = tight box grown by 2m, so the ratio is simply box size / crop size
        spread_x = box.width / face.box.width
        spread_y = box.height / face.box.height
        low, high = self.spread_range
        if not (low <= spread_x <= high and low <= spread_y <= high):
            return "spread"
        return None


def _merge(faces: list[Face]) -> list[Face]:
    kept: list[Face] = []
    for face in faces:
        if all(box_iou(face.box, other.box) <= 0.5 for other in kept):
            kept.append(face)
    return kept
