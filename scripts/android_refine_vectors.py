"""The refine-stage part of the Android vectors (``scripts/android_vectors.py`` writes them).

``RefineParityTest.java`` checks the Java core's ``RefineStage`` (similarity, warp, heatmap, input
tensor, correction, stage-1 check) against these entries, computed with ``asmnet_edge.runtime.refine``:

- ``geometry``: the stage-1 crops and points of the main cases (a real model on real photos), and the
  first case's points rotated, shrunk and pushed half out of the crop, re-aligned at two aligned sizes /
  patch half-widths: the similarity matrix, the aligned input with the numpy warp (the one the Java code
  mirrors) and OpenCV's aligned RGB (what the runtime takes when OpenCV is installed), the int8, uint8
  and float32 input tensors (``RefineModel.prepare``), random corrections through ``corrected_points``;
- ``run``: the micro fixtures (stage 1 ``micro68_int8``, refine ``micro_refine68_fp32``) on real LiteRT
  interpreters through ``FaceAligner``: both stages' recorded tensors and the refined landmarks;
- ``checks``: stage-1 metadata variants and the ``StageMismatchError`` message each gives (or none).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
from android_vector_model import FIXTURES, quant_entry

from asmnet_edge._atomic import atomic_write_bytes
from asmnet_edge.errors import StageMismatchError
from asmnet_edge.model.refine import RefineSpec, aligned_mean_shape
from asmnet_edge.runtime.aligner import FaceAligner
from asmnet_edge.runtime.geometry import Box, crop_image, expand_box, landmark_box
from asmnet_edge.runtime.image import prepare_image
from asmnet_edge.runtime.metadata import ModelMetadata, RefineInfo, Stage1Facts
from asmnet_edge.runtime.model import LiteModel
from asmnet_edge.runtime.refine import RefineModel, aligned_input, corrected_points

# (aligned size, heatmap patch half-width): the default spec's, and a larger crop with a fractional one
ALIGNED = ((RefineSpec().aligned_size, RefineSpec().patch_half), (96, 4.5))
# the refine stage's 4-channel input encodings: (label, dtype, scale, zero point)
ENCODINGS = (
    ("int8", "int8", 1.0 / 255.0, -128),
    ("uint8", "uint8", 1.0 / 255.0, 0),
    ("float32", "float32", 0.0, 0),
)
PERTURBATIONS = ("rotated", "shrunk", "outside")
RUN_STAGE1 = FIXTURES / "micro68_int8.tflite"
RUN_REFINE = FIXTURES / "micro_refine68_fp32.tflite"

Stub = Callable[..., Any]  # android_vectors._StubInterpreter: (metadata, input io) -> interpreter
NumpyCrop = Callable[[], AbstractContextManager[None]]  # android_vectors.numpy_crop


def perturbed(points: np.ndarray, size: int, kind: str) -> np.ndarray:
    """Points as a worse stage 1 gives them: rotated 25 deg, shrunk to 0.6, or half outside the crop."""
    centre = points.mean(axis=0)
    if kind == "rotated":
        angle = np.deg2rad(25.0)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        return (points - centre) @ rotation.T + centre
    if kind == "shrunk":
        return (points - centre) * 0.6 + centre
    return points + [0.55 * size, -0.3 * size]


def refine_metadata(size: int, patch_half: float, mean: np.ndarray, stage1: Stage1Facts) -> ModelMetadata:
    """A refine stage's metadata for an aligned size, patch half-width and mean shape (n, 2)."""
    return ModelMetadata(
        num_landmarks=len(mean),
        input_size=size,
        precision="fp32",
        model_name="refine-vectors",
        pose_output="",
        architecture="refine",
        mean_shape=tuple(float(value) for value in mean.reshape(-1)),
        refine=RefineInfo(stage1, patch_half),
    )


def geometry_entries(
    out: Path, cases: list[dict[str, Any]], stage1: ModelMetadata, stub: Stub, numpy_crop: NumpyCrop
) -> list[dict[str, Any]]:
    """Every main case's stage-1 crop re-aligned by its points (and the first case's perturbed ones)."""
    size1 = stage1.input_size
    inputs = []
    for case in cases:
        crop = np.frombuffer((out / case["crop"]).read_bytes(), np.uint8).reshape(size1, size1, 3)
        points = np.asarray(case["runs"][0]["landmarks_crop"], np.float64).reshape(-1, 2)
        inputs.append((case["name"], case["crop"], crop, points))
    name, file, crop, points = inputs[0]
    inputs += [(f"{name}_{kind}", file, crop, perturbed(points, size1, kind)) for kind in PERTURBATIONS]
    shapes = np.stack([item[3] for item in inputs[: len(cases)]])
    facts = Stage1Facts(
        stage1.weights_sha256, stage1.num_landmarks, size1, stage1.crop_margin, stage1.landmark_sign
    )
    rng = np.random.default_rng(12)
    entries = []
    for size, patch_half in ALIGNED:
        meta = refine_metadata(
            size, patch_half, aligned_mean_shape(shapes, size1, RefineSpec(aligned_size=size)), facts
        )
        mean = np.asarray(meta.mean_shape).reshape(-1, 2)
        for name, file, crop, points in inputs:
            prefix = f"refine/{name}_{size}"
            with numpy_crop():
                aligned, matrix = aligned_input(crop, points, mean, size, patch_half)
                tensors = [
                    RefineModel(LiteModel(stub(meta, encoding[1:]), meta)).prepare(crop, points)[0]
                    for encoding in ENCODINGS
                ]
            atomic_write_bytes(out / f"{prefix}_aligned.rgbh", aligned.tobytes())
            opencv = _opencv_aligned(crop, matrix, size)
            if opencv is not None:
                atomic_write_bytes(out / f"{prefix}_aligned_opencv.rgb", opencv.tobytes())
            values = rng.normal(0.0, 0.02, points.size)
            entry = {
                "name": f"{name}_{size}",
                "crop": file,
                "crop_size": size1,
                "points": points.reshape(-1).tolist(),
                "metadata": json.loads(meta.to_json()),
                "matrix": matrix.reshape(-1).tolist(),
                "aligned": f"{prefix}_aligned.rgbh",
                "aligned_opencv": None if opencv is None else f"{prefix}_aligned_opencv.rgb",
                "inputs": [],
                "values": values.tolist(),
                "corrected": corrected_points(points, matrix, values, size).reshape(-1).tolist(),
            }
            for (label, dtype, scale, zero_point), tensor in zip(ENCODINGS, tensors, strict=True):
                atomic_write_bytes(out / f"{prefix}_input_{label}.bin", tensor.tobytes())
                entry["inputs"].append(
                    dict(
                        label=label,
                        dtype=dtype,
                        scale=scale,
                        zero_point=zero_point,
                        file=f"{prefix}_input_{label}.bin",
                    )
                )
            entries.append(entry)
    return entries


def _opencv_aligned(crop: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray | None:
    """OpenCV's aligned RGB, as ``geometry.warp_image`` makes it when OpenCV is installed (else None)."""
    try:
        import cv2
    except ImportError:
        return None
    return cv2.warpAffine(crop, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _tensor_entry(out: Path, file: str, tensor: np.ndarray, detail: dict[str, Any]) -> dict[str, Any]:
    """Write ``tensor``'s bytes to ``out/file``; the manifest entry with its dtype and quantisation."""
    atomic_write_bytes(out / file, np.ascontiguousarray(tensor).tobytes())
    return {**quant_entry(detail), "file": file}


def _runner(lite: LiteModel) -> Any:
    return lite.interpreter.get_signature_runner(lite.signature)


def run_entry(
    out: Path, cases: list[tuple[str, str, np.ndarray, Box]], numpy_crop: NumpyCrop
) -> dict[str, Any]:
    """The two micro fixtures through ``FaceAligner`` on real interpreters, every tensor recorded."""
    refiner = RefineModel.from_file(RUN_REFINE, num_threads=1)
    plain = LiteModel.from_file(RUN_STAGE1, num_threads=1)
    # micro68's own metadata has no weights sha256 (see make_refine_fixture.py): hand it the one the
    # refine fixture names, as the runtime tests do
    meta = dataclasses.replace(plain.metadata, weights_sha256=refiner.info.stage1.weights_sha256)
    stage1 = LiteModel(plain.interpreter, meta)
    aligner = FaceAligner(stage1, detector=None, refiner=refiner)
    size = meta.input_size
    runs = []
    runner, refine_runner = _runner(stage1), _runner(refiner.lite)
    inputs, outputs = runner.get_input_details(), runner.get_output_details()
    refine_in, refine_out = refine_runner.get_input_details(), refine_runner.get_output_details()
    for name, image_file, image, box in cases:
        with numpy_crop():
            face = aligner.predict(image, box=box.as_list())[0]
            crop = crop_image(prepare_image(image, "rgb").pixels, box, size)
            tensor = stage1.input_tensor(crop)
            raw = runner(**{meta.input_name: tensor})
            points, _ = stage1.run(crop[None])
            refine_tensor, _ = refiner.prepare(crop, points[0])
            refine_raw = refine_runner(**{refiner.metadata.input_name: refine_tensor})
        prefix = f"refine_run/{name}"
        runs.append(
            {
                "name": name,
                "image": image_file,
                "box": box.as_list(),
                "stage1_input": _tensor_entry(
                    out, f"{prefix}/stage1_input.bin", tensor, inputs[meta.input_name]
                ),
                "stage1_landmarks": _tensor_entry(
                    out,
                    f"{prefix}/stage1_landmarks.bin",
                    raw[meta.landmarks_output],
                    outputs[meta.landmarks_output],
                ),
                "stage1_pose": _tensor_entry(
                    out, f"{prefix}/stage1_pose.bin", raw[meta.pose_output], outputs[meta.pose_output]
                ),
                "refine_input": _tensor_entry(
                    out, f"{prefix}/refine_input.bin", refine_tensor, refine_in[refiner.metadata.input_name]
                ),
                "refine_landmarks": _tensor_entry(
                    out,
                    f"{prefix}/refine_landmarks.bin",
                    refine_raw[refiner.metadata.landmarks_output],
                    refine_out[refiner.metadata.landmarks_output],
                ),
                "stage1_landmarks_crop": points[0].reshape(-1).tolist(),
                "landmarks": face.landmarks.reshape(-1).tolist(),
                "pose_deg": face.pose_deg.tolist(),
                "score": face.score,
                "next_box": expand_box(landmark_box(face.landmarks), meta.crop_margin).as_list(),
            }
        )
    return {
        "stage1": json.loads(meta.to_json()),
        "refine": json.loads(refiner.metadata.to_json()),
        "cases": runs,
    }


def check_entries(refiner: RefineModel, stage1: ModelMetadata) -> list[dict[str, Any]]:
    """Stage-1 metadata variants against ``refiner`` and the error each gives (None: accepted)."""
    plain = dataclasses.replace(stage1, shape_model=None)
    variants = {
        "trained_stage1": plain,
        "no_sha256": dataclasses.replace(plain, weights_sha256=""),
        "other_weights": dataclasses.replace(plain, weights_sha256="ab" * 32),
        "input_size": dataclasses.replace(plain, input_size=128),
        "margin_and_sign": dataclasses.replace(plain, crop_margin=0.1, landmark_sign=-1.0),
        "dan": dataclasses.replace(plain, architecture="dan", stages=2, pose_output=""),
        "refine_as_stage1": refiner.metadata,
    }
    entries = []
    for name, meta in variants.items():
        try:
            refiner.check(meta)
            error = None
        except StageMismatchError as err:
            error = str(err)
        entries.append({"name": name, "stage1": json.loads(meta.to_json()), "error": error})
    return entries


def refine_entries(
    out: Path,
    cases: list[dict[str, Any]],
    images: dict[str, np.ndarray],
    stage1: ModelMetadata,
    stub: Stub,
    numpy_crop: NumpyCrop,
) -> dict[str, Any]:
    """The manifest's ``refine`` entry: ``images`` maps the cases' image files to their pixels."""
    picked = [(case["name"], case["image"], images[case["image"]], Box(*case["box"])) for case in cases]
    run = run_entry(out, picked, numpy_crop)
    refiner = RefineModel.from_file(RUN_REFINE, num_threads=1)
    checks = check_entries(refiner, ModelMetadata.from_dict(run["stage1"]))
    return {
        "refine": {
            "geometry": geometry_entries(out, cases, stage1, stub, numpy_crop),
            "run": run,
            "checks": checks,
        }
    }
