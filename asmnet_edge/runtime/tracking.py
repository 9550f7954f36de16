"""Video tracking: the next frame's crop comes from this frame's landmarks, anchored to the detector.

Per frame and tracked face: crop box = tight box of the last landmarks grown by the model's
``crop_margin`` (the training convention), then one model call. Landmark-driven crops follow a face
cheaply but inherit the model's errors: a model that predicts faces 10 % too small shrinks the crop
10 % per frame onto the nose, and no single frame looks wrong. So every track is **anchored** to the
last detector box that confirmed it (mapped to the crop convention), and the detector runs again on the
same frame when (``TrackingPolicy``):

- **drift**: the next crop's size differs from the anchor's by more than ``max_scale_drift`` (either
  way), or its centre is further than ``max_shift_drift`` anchor widths from the anchor's;
- **score**: the face's shape plausibility (``Face.score``, from the shape model in the metadata) is
  below ``min_score``: the crop no longer shows a face the network knows;
- **moved**: the landmarks' own crop overlaps the crop they came from less than ``moved_iou``: the
  network saw only part of the face (a fast face that the same-frame re-crop, ``recrop_iou``, is
  not trusted to catch);
- **geometry**: the box leaves the frame, is smaller than ``min_face_px``, has an impossible aspect
  ratio, or changes size implausibly in one frame (``spread_range``);
- **periodic**: every ``redetect_interval`` frames (also in the CLI and the Android core).

A detection that overlaps a track re-anchors it (the track keeps its motion); when the track's crop
and the detection disagree (IoU < ``reanchor_iou``) the crop is replaced by the detection's and the
face re-aligned on the same frame. When a guard fired, a single-face track moves to the detection even
if they no longer overlap (it drifted off the face). Every detector run that does not confirm a track
counts a miss; after ``max_misses`` + 1 in a row the track ends (a track left on background once the
face went out of view stops within two periodic runs). A miss after a "drift" or "moved" guard is
forgiven within ``max_misses`` when the face still scores well (the detector misses turned heads that
the landmarks still follow); after drift the anchor moves to the current crop. Detections whose
centre lies outside the frame or that are under ``min_face_px`` are ignored. Faces of a video are
smoothed (``asmnet_edge.runtime.smoothing``: rigid motion and shape filtered apart); the crops follow
the unsmoothed landmarks, so smoothing adds no lag to tracking itself.

>>> tracker = FaceTracker(FaceAligner.from_file("model.tflite"))  # doctest: +SKIP
>>> for frame in frames:  # doctest: +SKIP
...     faces = tracker.update(frame, color="bgr")
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from asmnet_edge.runtime.aligner import Face, FaceAligner
from asmnet_edge.runtime.detect import DetectedBox, box_iou
from asmnet_edge.runtime.geometry import Box, expand_box
from asmnet_edge.runtime.image import Frame, prepare_image
from asmnet_edge.runtime.smoothing import FaceSmoother, SmoothingConfig

DEFAULT_REDETECT_INTERVAL = 30  # frames; the same default in the CLI, the library and the Android core


@dataclass(frozen=True)
class TrackingPolicy:
    """When a track is re-detected or lost; every field changes behaviour (see the module docstring)."""

    redetect_interval: int = DEFAULT_REDETECT_INTERVAL
    max_scale_drift: float = 1.35
    max_shift_drift: float = 0.5
    min_score: float = 0.25
    min_face_px: float = 24.0
    spread_range: tuple[float, float] = (1.0 / 1.6, 1.6)
    reanchor_iou: float = 0.6
    match_iou: float = 0.2
    # share of the last frame-to-frame motion (centre shift and size change) added to the next crop: a
    # fast face stays inside the crop the network was trained on (0 = crop where the face was)
    motion_prediction: float = 0.7
    # when the landmarks' own crop overlaps the crop they came from less than this (a fast face left
    # the crop's centre), the face is re-aligned on the landmarks' crop in the same frame (one more
    # model call, only on such frames; 0 = never)
    recrop_iou: float = 0.85
    # when the next crop overlaps the one this frame used at least this much, the crop is kept: the
    # landmarks' own frame-to-frame noise does not move it (a crop that follows that noise feeds it back
    # into the next prediction; 0 = always move)
    hold_iou: float = 0.9
    # when they overlap it less than this, the face moved too far for its crop (the network only saw
    # part of it): the detector runs on this frame instead of a re-crop ("moved"; 0 = never)
    moved_iou: float = 0.5
    # detector runs in a row that may find nothing on a track before it ends (a detector miss on a
    # turned head is forgiven this often; a track on background the detector never confirms ends)
    max_misses: int = 1
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)


@dataclass
class TrackerStats:
    """Counters since the tracker was made (or reset)."""

    frames: int = 0
    detections: int = 0
    lost: int = 0
    tracked_faces: int = 0
    recrops: int = 0  # frames re-aligned on the landmarks' crop (``TrackingPolicy.recrop_iou``)
    reasons: dict[str, int] = field(default_factory=dict)

    def count(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


@dataclass
class _Track:
    box: Box  # the crop for the next frame
    anchor: Box  # the last detector crop that confirmed this track
    smoother: FaceSmoother
    detected: DetectedBox | None = None  # set on the frame a detection (re)started the track
    last: Box | None = None  # the landmark box of the previous frame (for the motion prediction)
    misses: int = 0  # detector runs in a row that did not confirm this track


class FaceTracker:
    """Landmark-driven tracking on top of a :class:`FaceAligner` (see the module docstring)."""

    def __init__(
        self,
        aligner: FaceAligner,
        max_faces: int = 1,
        redetect_interval: int | None = None,
        policy: TrackingPolicy | None = None,
        fps: float = 30.0,
    ) -> None:
        chosen = policy or TrackingPolicy()
        if redetect_interval is not None:
            chosen = dataclasses.replace(chosen, redetect_interval=redetect_interval)
        self.aligner = aligner
        self.max_faces = max_faces
        self.policy = chosen
        self.frame_interval = 1.0 / fps
        self.stats = TrackerStats()
        self._tracks: list[_Track] = []
        self._detect_ms = 0.0
        self._since_detect = 0

    @property
    def redetect_interval(self) -> int:
        return self.policy.redetect_interval

    def reset(self) -> None:
        """Forget every track (the next frame runs the detector)."""
        self._tracks = []
        self._since_detect = 0

    def update(self, image: object, color: str = "rgb", interval: float | None = None) -> list[Face]:
        """Faces in this frame; ``interval`` is the time since the last frame (default 1 / fps)."""
        frame = prepare_image(image, color)  # type: ignore[arg-type]
        self.stats.frames += 1
        self._since_detect += 1
        policy = self.policy
        found_now: list[tuple[Box, DetectedBox]] | None = None
        if not self._tracks or (
            policy.redetect_interval > 0 and self._since_detect >= policy.redetect_interval
        ):
            found_now = self._detect(frame)
            self._merge_detections(found_now)
        results: list[tuple[_Track, Face]] = []
        failed: list[tuple[_Track, str]] = []
        for track in self._tracks:
            face = self._align_recrop(frame, track)
            reason = self.lost_reason(face, frame, track)
            if reason is None:
                results.append((track, face))
            else:
                failed.append((track, reason))
                self.stats.count(reason)
        if failed:
            found = found_now if found_now is not None else self._detect(frame)
            for track, reason in failed:
                kept = self._recover(frame, track, reason, found)
                if kept is not None:
                    results.append((track, kept))
                else:
                    self.stats.lost += 1
        results = _merge(results)[: self.max_faces]
        self._tracks = [track for track, _ in results]
        faces = []
        for track, face in results:
            observed = self.next_box(face)
            predicted = _predict(observed, track.last, self.policy.motion_prediction)
            track.box = _hold(predicted, face.box, self.policy)
            track.last = observed
            faces.append(self._smooth(track, face, interval or self.frame_interval))
        self.stats.tracked_faces += len(faces)
        return faces

    def _detect(self, frame: Frame) -> list[tuple[Box, DetectedBox]]:
        self._since_detect = 0
        self.stats.detections += 1
        start = time.perf_counter_ns()
        found = self.aligner.detect_frame(frame)
        self._detect_ms = (time.perf_counter_ns() - start) / 1e6
        crops = [(self.aligner.crop_box(item), item) for item in found]
        return [(crop, item) for crop, item in crops if plausible_detection(crop, frame, self.policy)]

    def _merge_detections(self, found: list[tuple[Box, DetectedBox]]) -> None:
        """Re-anchor tracks that a detection overlaps; a detection elsewhere starts a track.

        A track no detection confirms counts a miss and ends after ``max_misses`` in a row. A
        re-anchored track keeps its motion: the detection is where the moving face is now.
        """
        fresh, confirmed = [], set()
        for crop, item in found:
            track = self._matching(crop)
            if track is None:
                fresh.append(_Track(crop, crop, FaceSmoother(self.policy.smoothing), item))
                continue
            confirmed.add(id(track))
            track.anchor, track.misses = crop, 0
            if box_iou(track.box, crop) < self.policy.reanchor_iou:
                track.box, track.detected = crop, item
        kept = []
        for track in self._tracks:
            if id(track) not in confirmed:
                track.misses += 1
                if track.misses > self.policy.max_misses:
                    self.stats.lost += 1
                    continue
            kept.append(track)
        self._tracks = (kept + fresh)[: max(self.max_faces, len(kept))]

    def _matching(self, crop: Box) -> _Track | None:
        best, best_iou = None, self.policy.match_iou
        for track in self._tracks:
            overlap = max(box_iou(track.box, crop), box_iou(track.anchor, crop))
            if overlap >= best_iou:
                best, best_iou = track, overlap
        return best

    def _recover(
        self, frame: Frame, track: _Track, reason: str, found: list[tuple[Box, DetectedBox]]
    ) -> Face | None:
        """A guard fired: re-align from a confirming detection, keep a well-scored drift, or give up.

        With one face tracked, a detection anywhere is the face: a track that drifted off it (so far
        that they no longer overlap) moves to it. With several, only an overlapping detection counts.
        """
        matches = [
            (crop, item)
            for crop, item in found
            if max(box_iou(crop, track.box), box_iou(crop, track.anchor)) >= self.policy.match_iou
        ]
        jumped = not matches and bool(found) and self.max_faces == 1
        if jumped:
            matches = found
        if matches:
            crop, item = max(matches, key=lambda pair: (box_iou(pair[0], track.anchor), pair[0].width))
            track.box = track.anchor = crop
            track.detected, track.misses = item, 0
            if jumped:  # the motion up to here was not this face's (a cut, a track off the face)
                track.last = None
            face = self._align(frame, track)
            return face if self.lost_reason(face, frame, track, check_drift=False) is None else None
        track.misses += 1
        if reason in ("drift", "moved") and track.misses <= self.policy.max_misses:
            face = self._align(frame, track)
            if face.score >= self.policy.min_score:
                if reason == "drift":  # the detector cannot see it; trust landmarks that look right
                    track.anchor = track.box
                return face
        return None

    def _align_recrop(self, frame: Frame, track: _Track) -> Face:
        """Align on the track's crop; re-align once on the landmarks' crop when the two disagree.

        Only a face that passes the guards (drift aside) is re-aligned, and the second result is kept
        only when it passes them too: a crop without a face is the guards' business, not this one's.
        """
        detected = track.detected
        face = self._align(frame, track)
        observed = self.next_box(face)
        if not needs_recrop(observed, face.box, self.policy) or moved(observed, face.box, self.policy):
            return face
        if self.lost_reason(face, frame, track, check_drift=False) is not None:
            return face
        self.stats.recrops += 1
        box, track.box, track.detected = track.box, observed, detected
        again = self._align(frame, track)
        if self.lost_reason(again, frame, track, check_drift=False) is None:
            return again
        track.box = box
        return face

    def _align(self, frame: Frame, track: _Track) -> Face:
        detected, track.detected = track.detected, None
        detect_ms = self._detect_ms if detected is not None else 0.0
        return self.aligner.align(frame, track.box, detected, detect_ms)

    def _smooth(self, track: _Track, face: Face, interval: float) -> Face:
        if not self.policy.smoothing.enabled:
            return face
        scale = float(np.ptp(face.landmarks[:, 0]) + np.ptp(face.landmarks[:, 1])) / 2.0
        landmarks, pose = track.smoother(face.landmarks, face.pose_deg, scale, interval)
        return dataclasses.replace(face, landmarks=landmarks, pose_deg=pose)

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

    def lost_reason(
        self, face: Face, frame: Frame, track: _Track | None = None, check_drift: bool = True
    ) -> str | None:
        """Why this face needs the detector (see the module docstring), or None if it is fine."""
        anchor = track.anchor if (track is not None and check_drift) else None
        return guard_reason(
            self.next_box(face), face.box, anchor, face.score, frame.width, frame.height, self.policy
        )


def guard_reason(
    next_box: Box,
    crop: Box,
    anchor: Box | None,
    score: float,
    width: int,
    height: int,
    policy: TrackingPolicy,
) -> str | None:
    """The tracking guards as one pure function (the Android core's ``BoxTracker.guardReason`` too).

    ``next_box`` is the crop the landmarks ask for next, ``crop`` the one this frame used, ``anchor`` the
    last confirming detector crop (None: no "moved" or drift check). Returns the first guard that
    fires, or None.

    >>> guard_reason(Box(10, 10, 60, 70), Box(10, 10, 60, 70), None, 0.9, 640, 480, TrackingPolicy()) is None
    True
    """
    centre_x, centre_y = (next_box.x0 + next_box.x1) / 2.0, (next_box.y0 + next_box.y1) / 2.0
    if not (0.0 <= centre_x < width and 0.0 <= centre_y < height):
        return "left-frame"
    if min(next_box.width, next_box.height) < policy.min_face_px:
        return "too-small"
    if not 0.5 <= next_box.height / next_box.width <= 2.5:  # faces are never that flat or that thin
        return "aspect"
    low, high = policy.spread_range
    if not (low <= next_box.width / crop.width <= high and low <= next_box.height / crop.height <= high):
        return "spread"
    if score < policy.min_score:
        return "score"
    if anchor is not None and moved(next_box, crop, policy):
        return "moved"
    if anchor is not None and _drifted(next_box, anchor, policy):
        return "drift"
    return None


def moved(next_box: Box, crop: Box, policy: TrackingPolicy) -> bool:
    """True when the landmarks ask for a crop that overlaps theirs less than ``policy.moved_iou``.

    >>> moved(Box(0, 0, 100, 100), Box(60, 0, 160, 100), TrackingPolicy())
    True
    """
    return policy.moved_iou > 0 and box_iou(next_box, crop) < policy.moved_iou


def plausible_detection(crop: Box, frame: Frame, policy: TrackingPolicy) -> bool:
    """A detector crop worth tracking: centre inside the frame (no face cut off at the border), sides
    at least ``policy.min_face_px``, not wider than three frames (the Android core's ``isPlausible``)."""
    centre_x, centre_y = (crop.x0 + crop.x1) / 2.0, (crop.y0 + crop.y1) / 2.0
    inside = 0.0 <= centre_x < frame.width and 0.0 <= centre_y < frame.height
    longest = 3.0 * max(frame.width, frame.height)
    return inside and min(crop.width, crop.height) >= policy.min_face_px and crop.width <= longest


def needs_recrop(next_box: Box, crop: Box, policy: TrackingPolicy) -> bool:
    """True when the landmarks ask for a crop that overlaps theirs less than ``policy.recrop_iou``.

    >>> needs_recrop(Box(0, 0, 100, 100), Box(60, 0, 160, 100), TrackingPolicy())
    True
    """
    return policy.recrop_iou > 0 and box_iou(next_box, crop) < policy.recrop_iou


def _predict(observed: Box, last: Box | None, share: float) -> Box:
    """The next crop: this frame's landmark box moved on by ``share`` of the last frame's motion."""
    if last is None or share <= 0:
        return observed
    shift_x = share * ((observed.x0 + observed.x1) - (last.x0 + last.x1)) / 2
    shift_y = share * ((observed.y0 + observed.y1) - (last.y0 + last.y1)) / 2
    growth = (observed.width * observed.height) / max(last.width * last.height, 1e-9)
    scale = float(np.clip(growth, 0.8, 1.25)) ** (share / 2)  # sqrt: area ratio -> side ratio
    centre_x = (observed.x0 + observed.x1) / 2 + shift_x
    centre_y = (observed.y0 + observed.y1) / 2 + shift_y
    half_w, half_h = observed.width * scale / 2, observed.height * scale / 2
    return Box(centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)


def _hold(predicted: Box, crop: Box, policy: TrackingPolicy) -> Box:
    """The next crop: ``crop`` (this frame's) when ``predicted`` overlaps it at least ``policy.hold_iou``.

    >>> _hold(Box(1, 0, 101, 100), Box(0, 0, 100, 100), TrackingPolicy())
    Box(x0=0, y0=0, x1=100, y1=100)
    """
    if policy.hold_iou > 0 and box_iou(predicted, crop) >= policy.hold_iou:
        return crop
    return predicted


def _drifted(box: Box, anchor: Box, policy: TrackingPolicy) -> bool:
    size, anchor_size = np.sqrt(box.width * box.height), np.sqrt(anchor.width * anchor.height)
    ratio = size / max(anchor_size, 1e-6)
    if not 1.0 / policy.max_scale_drift <= ratio <= policy.max_scale_drift:
        return True
    shift = np.hypot(
        (box.x0 + box.x1 - anchor.x0 - anchor.x1) / 2, (box.y0 + box.y1 - anchor.y0 - anchor.y1) / 2
    )
    return bool(shift > policy.max_shift_drift * anchor_size)


def _merge(results: list[tuple[_Track, Face]]) -> list[tuple[_Track, Face]]:
    kept: list[tuple[_Track, Face]] = []
    for track, face in results:
        if all(box_iou(face.box, other.box) <= 0.5 for _, other in kept):
            kept.append((track, face))
    return kept
