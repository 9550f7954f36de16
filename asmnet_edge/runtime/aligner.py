"""FaceAligner: image in, per-face landmarks (image pixels), head pose (degrees), box and timing out.

Pre-processing (crop by the model's convention, colour to RGB, scale and quantise) and
post-processing (dequantise, de-normalise, map back to the image) happen here and in
:class:`~asmnet_edge.runtime.model.LiteModel`, with every constant read from the model's metadata.

>>> aligner = FaceAligner.from_file("tests/fixtures/micro68_int8.tflite")  # doctest: +SKIP
>>> faces = aligner.predict(rgb_image)  # doctest: +SKIP
>>> faces[0].landmarks.shape, faces[0].yaw  # doctest: +SKIP
((68, 2), 10.4)

Pose convention (degrees): camera x right, y up, z toward the camera; yaw > 0 the nose moves toward
image right, pitch > 0 the subject looks up, roll > 0 the face turns clockwise in the image.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.errors import InputImageError, MissingDependencyError, ModelError
from asmnet_edge.runtime.contract import DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, default_model_path
from asmnet_edge.runtime.detect import IDENTITY_MAP, BoxMap, DetectedBox, Detector
from asmnet_edge.runtime.geometry import (
    Box,
    crop_image,
    crop_to_image,
    denormalise_landmarks,
    normalise_landmarks,
)
from asmnet_edge.runtime.image import Frame, detection_copy, prepare_image, to_rgb
from asmnet_edge.runtime.metadata import PRECISIONS, ModelMetadata
from asmnet_edge.runtime.model import LiteModel
from asmnet_edge.runtime.refine import RefineModel, corrected_points
from asmnet_edge.runtime.shape_score import ShapeModel

DETECTORS = ("auto", "blazeface", "haar")
BoxLike = Box | DetectedBox | Sequence[float]


@dataclass(frozen=True)
class Timing:
    """Milliseconds spent per stage for one face (``detect`` is the whole image's detector call)."""

    detect: float = 0.0
    preprocess: float = 0.0
    inference: float = 0.0
    postprocess: float = 0.0

    @property
    def total(self) -> float:
        return self.detect + self.preprocess + self.inference + self.postprocess

    def as_dict(self) -> dict[str, float]:
        return {
            "detect": self.detect,
            "preprocess": self.preprocess,
            "inference": self.inference,
            "postprocess": self.postprocess,
            "total": self.total,
        }


@dataclass(frozen=True)
class Face:
    """One aligned face. ``box`` is the crop box the model saw; ``detector_box`` what the detector said."""

    landmarks: np.ndarray  # (n, 2) float64, image pixels (pixel-centre convention)
    pose_deg: np.ndarray  # (3,) yaw, pitch, roll in degrees, project convention
    box: Box
    detector_box: DetectedBox | None
    # how face-like the predicted shape is, in (0, 1] (asmnet_edge.runtime.shape_score); the detector's
    # score for models exported without a shape model
    score: float
    timing: Timing

    @property
    def yaw(self) -> float:
        return float(self.pose_deg[0])

    @property
    def pitch(self) -> float:
        return float(self.pose_deg[1])

    @property
    def roll(self) -> float:
        return float(self.pose_deg[2])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: lists and floats only."""
        detected = self.detector_box
        return {
            "landmarks": np.round(self.landmarks, 3).tolist(),
            "pose_deg": {"yaw": self.yaw, "pitch": self.pitch, "roll": self.roll},
            "box": self.box.as_list(),
            "detector_box": None if detected is None else detected.as_box().as_list(),
            "score": self.score,
            "timing_ms": self.timing.as_dict(),
        }


class FaceAligner:
    """An exported ASMNet plus a face detector: ``predict(image)`` gives a :class:`Face` per face.

    With a ``refiner`` (:class:`~asmnet_edge.runtime.refine.RefineModel`, checked against ``model``'s
    metadata) every face's points are corrected by the refine stage on a second interpreter.
    """

    def __init__(
        self,
        model: LiteModel,
        detector: Detector | str | None = "auto",
        num_threads: int | None = 1,
        refiner: RefineModel | None = None,
    ) -> None:
        self.model = model
        self.metadata: ModelMetadata = model.metadata
        if refiner is not None:
            refiner.check(self.metadata)
        self.refiner = refiner
        shape = self.metadata.shape_model
        self.shape_model: ShapeModel | None = ShapeModel.from_dict(shape) if shape is not None else None
        self._detector_spec = detector
        self._detector: Detector | None = detector if not isinstance(detector, str | None) else None
        self._num_threads = num_threads
        if isinstance(detector, str) and detector not in DETECTORS:
            raise ModelError(f"unknown detector {detector!r}: use one of {DETECTORS}, None or a Detector")

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        num_threads: int | None = 1,
        detector: Detector | str | None = "auto",
        metadata: ModelMetadata | None = None,
        use_xnnpack: bool = True,
        refine: str | Path | None = None,
    ) -> FaceAligner:
        """Load an exported .tflite; ``metadata`` overrides (or stands in for) the embedded metadata.
        ``refine`` names a refine-stage .tflite trained behind this model (else a ``StageMismatchError``).

        ``detector`` is ``"auto"`` (BlazeFace when its model file is installed, else OpenCV 4's Haar
        cascades), ``"blazeface"``, ``"haar"``, a
        :class:`~asmnet_edge.runtime.detect.Detector`, or ``None`` (the whole image is the face crop
        unless a box is given). The detector is created on first use.

        >>> FaceAligner.from_file("tests/fixtures/micro68_fp32.tflite").metadata.num_landmarks
        68
        """
        model = LiteModel.from_file(path, num_threads=num_threads, use_xnnpack=use_xnnpack, metadata=metadata)
        refiner = None
        if refine is not None:
            refiner = RefineModel.from_file(refine, num_threads=num_threads, use_xnnpack=use_xnnpack)
        return cls(model, detector=detector, num_threads=num_threads, refiner=refiner)

    @classmethod
    def default(
        cls,
        precision: str = "int8",
        num_threads: int | None = 1,
        detector: Detector | str | None = "auto",
        model: str = DEFAULT_MODEL_NAME,
        refine: bool = False,
    ) -> FaceAligner:
        """A model embedded in the package (``assets/default/<model>_<precision>.tflite``): ``asmnet68``
        (224 px, the paper's model) or, where shipped, ``asmnet68_128`` (128 px, for small boards).
        ``refine`` adds its embedded refine stage (``<model>_refine_<precision>.tflite``)."""
        if precision not in PRECISIONS:
            raise ModelError(f"unknown precision {precision!r}: expected one of {PRECISIONS}")
        path = default_model_path(model, precision)
        if not path.is_file():
            shipped = sorted(item.stem for item in DEFAULT_MODEL_DIR.glob("asmnet*.tflite"))
            raise ModelError(
                f"no embedded model {model!r} in precision {precision!r} ({path.name} is not in this "
                f"installation; embedded: {shipped or 'none'}): pass a .tflite to FaceAligner.from_file"
            )
        refine_path = default_model_path(f"{model}_refine", precision) if refine else None
        if refine_path is not None and not refine_path.is_file():
            raise ModelError(
                f"no embedded refine stage for {model!r} in precision {precision!r} ({refine_path.name} is "
                "not in this installation): pass one with FaceAligner.from_file(model, refine=PATH)"
            )
        return cls.from_file(path, num_threads=num_threads, detector=detector, refine=refine_path)

    @property
    def detector(self) -> Detector | None:
        """The face detector, created on first use (so box-only callers never load it)."""
        if self._detector is None and isinstance(self._detector_spec, str):
            self._detector = make_detector(self._detector_spec, num_threads=self._num_threads)
        return self._detector

    def detect(self, image: np.ndarray, color: str = "rgb") -> list[DetectedBox]:
        """Face boxes in image pixels (the detector runs on a downscaled copy), best first."""
        return self.detect_frame(prepare_image(image, color))

    def detect_frame(self, frame: Frame) -> list[DetectedBox]:
        """Like :meth:`detect` for an image already prepared by ``prepare_image``."""
        detector = self.detector
        if detector is None:
            whole = DetectedBox(0.0, 0.0, float(frame.width), float(frame.height), 1.0, "whole-image")
            return [whole]
        small, factor = detection_copy(frame, detector.max_side)
        return [found.scaled(factor) for found in detector.detect(small)]

    def crop_box(self, detected: DetectedBox) -> Box:
        """The ASMNet crop for a detector box, through the detector's fitted box map."""
        if detected.source == "whole-image":
            return detected.as_box()
        detector = self.detector
        box_map: BoxMap = detector.box_map if detector is not None else IDENTITY_MAP
        return box_map.apply(detected, crop_margin=self.metadata.crop_margin)

    def predict(self, image: np.ndarray, box: BoxLike | None = None, color: str = "rgb") -> list[Face]:
        """Landmarks and pose for every face found, or for the face in ``box``.

        ``box`` is either the crop box itself (a :class:`Box` or ``[x0, y0, x1, y1]``: the tight
        landmark box grown by ``metadata.crop_margin``) or a :class:`DetectedBox`, which goes through
        the detector's box map. No face found gives an empty list.

        >>> aligner = FaceAligner.from_file("tests/fixtures/micro68_fp32.tflite")
        >>> aligner.predict(np.zeros((100, 120, 3), np.uint8), box=[10, 10, 90, 90])[0].landmarks.shape
        (68, 2)
        """
        frame = prepare_image(image, color)
        if box is not None:
            if isinstance(box, DetectedBox):
                return [self.align(frame, self.crop_box(box), detected=box)]
            return [self.align(frame, as_box(box))]
        start = time.perf_counter_ns()
        found = self.detect_frame(frame)
        detect_ms = (time.perf_counter_ns() - start) / 1e6
        return [self.align(frame, self.crop_box(item), detected=item, detect_ms=detect_ms) for item in found]

    def align(
        self, frame: Frame, box: Box, detected: DetectedBox | None = None, detect_ms: float = 0.0
    ) -> Face:
        """Run the model on one crop box of a prepared frame (the per-frame path of tracking)."""
        meta = self.metadata
        size = meta.input_size
        start = time.perf_counter_ns()
        crop = to_rgb(crop_image(frame.pixels, box, size), frame.layout)
        tensor = self.model.input_tensor(crop)
        prepared = time.perf_counter_ns()
        values, pose = self.model.run_tensor(tensor)
        inferred = time.perf_counter_ns()
        crop_points = denormalise_landmarks(values.reshape(-1, 2), size, meta.landmark_sign)
        refine_prepare = refine_inference = 0
        if self.refiner is not None:  # stage 2: re-align by these points, correct them
            first = time.perf_counter_ns()
            refine_tensor, matrix = self.refiner.prepare(crop, crop_points)
            second = time.perf_counter_ns()
            corrections, _ = self.refiner.lite.run_tensor(refine_tensor)
            third = time.perf_counter_ns()
            crop_points = corrected_points(crop_points, matrix, corrections, self.refiner.metadata.input_size)
            values = normalise_landmarks(crop_points, size, meta.landmark_sign).reshape(-1)
            refine_prepare, refine_inference = second - first, third - second
        landmarks = crop_to_image(crop_points, box, size)
        pose_deg = pose * meta.pose_scale_deg
        done = time.perf_counter_ns()
        timing = Timing(  # a refine stage's warp counts as pre-processing, its network as inference
            detect=detect_ms,
            preprocess=(prepared - start + refine_prepare) / 1e6,
            inference=(inferred - prepared + refine_inference) / 1e6,
            postprocess=(done - inferred - refine_prepare - refine_inference) / 1e6,
        )
        if self.shape_model is not None:
            score = self.shape_model.score(values)
        else:  # a model exported without its shape model: the detector's word is all there is
            score = detected.score if detected is not None else 1.0
        return Face(landmarks, pose_deg, box, detected, score, timing)


def as_box(box: BoxLike) -> Box:
    """A :class:`Box` from a Box or four numbers, checked.

    >>> as_box([0, 0, 0, 5])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    asmnet_edge.errors.InputImageError: box [0.0, 0.0, 0.0, 5.0] has no area: ...
    """
    if isinstance(box, Box):
        values = box.as_list()
    elif isinstance(box, DetectedBox):
        values = [box.x0, box.y0, box.x1, box.y1]
    else:
        try:
            values = [float(value) for value in box]
        except (TypeError, ValueError) as err:
            raise InputImageError(f"box must be [x0, y0, x1, y1] numbers, got {box!r}") from err
    if len(values) != 4 or not all(np.isfinite(values)):
        raise InputImageError(f"box must be four finite numbers [x0, y0, x1, y1], got {values}")
    if values[2] <= values[0] or values[3] <= values[1]:
        raise InputImageError(f"box {values} has no area: expected [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
    return Box(*values)


def make_detector(name: str, num_threads: int | None = 1, box_map: BoxMap | None = None) -> Detector:
    """A built-in detector by name: ``"auto"``, ``"blazeface"`` or ``"haar"`` (``box_map`` overrides
    the shipped one). ``"auto"`` takes BlazeFace when its model file is installed, else Haar."""
    if name == "auto":
        from asmnet_edge.runtime import blazeface

        if blazeface.available():
            name = "blazeface"
        else:
            from asmnet_edge.runtime.haar import HaarDetector

            try:
                return HaarDetector(box_map=box_map)
            except MissingDependencyError as err:
                raise MissingDependencyError(
                    "a face detector",
                    "runtime",
                    f"finding faces ({blazeface.INSTALL_HINT}; or OpenCV 4: {err})",
                ) from err
    if name == "blazeface":
        from asmnet_edge.runtime.blazeface import BlazeFaceDetector

        return BlazeFaceDetector(num_threads=num_threads, box_map=box_map)
    if name == "haar":
        from asmnet_edge.runtime.haar import HaarDetector

        return HaarDetector(box_map=box_map)
    raise ModelError(f"unknown detector {name!r}: use one of {DETECTORS}")
