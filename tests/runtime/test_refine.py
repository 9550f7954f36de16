"""The refine stage's runtime (TF-free): the re-alignment round trip, the heatmap against its definition,
the metadata, and FaceAligner running the committed micro model with the micro refine fixture (a second
interpreter), refused behind another stage 1."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.errors import MetadataError, ModelError, StageMismatchError
from asmnet_edge.runtime.aligner import FaceAligner
from asmnet_edge.runtime.geometry import Box
from asmnet_edge.runtime.metadata import ModelMetadata, RefineInfo, Stage1Facts, read_tflite_metadata
from asmnet_edge.runtime.model import LiteModel
from asmnet_edge.runtime.refine import (
    Cascade,
    RefineModel,
    aligned_input,
    apply_affine,
    corrected_points,
    invert_affine,
    landmark_heatmap,
    similarity_matrix,
)
from tests.conftest import mean_face_68

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REFINE = FIXTURES / "micro_refine68_fp32.tflite"
FIXTURE_SHA = __import__("hashlib").sha256(b"micro68 fixture").hexdigest()  # make_refine_fixture.py's


def test_points_to_the_aligned_frame_and_back_is_the_identity() -> None:
    rng = np.random.default_rng(3)
    mean = mean_face_68(60.0) + 48.0
    for _ in range(20):
        angle = rng.uniform(-np.pi, np.pi)
        rotation = rng.uniform(0.3, 3.0) * np.array(
            [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
        )
        points = mean_face_68(50.0) @ rotation.T + rng.uniform(-100, 100, size=2) + rng.normal(0, 2, (68, 2))
        matrix = similarity_matrix(points, mean)
        back = apply_affine(apply_affine(points, matrix), invert_affine(matrix))
        np.testing.assert_allclose(back, points, atol=1e-6)
        np.testing.assert_allclose(corrected_points(points, matrix, np.zeros(136), 96), points, atol=1e-6)
        # a correction of +1 aligned pixel in x comes back as that pixel through the inverse similarity
        moved = corrected_points(points, matrix, np.tile([1.0 / 96, 0.0], 68), 96)
        np.testing.assert_allclose(
            apply_affine(moved, matrix) - apply_affine(points, matrix),
            np.tile([1.0, 0.0], (68, 1)),
            atol=1e-6,
        )


def test_similarity_is_exact_for_a_similar_shape() -> None:
    source = mean_face_68(40.0)
    matrix = np.array([[1.2, -0.5, 7.0], [0.5, 1.2, -3.0]])
    np.testing.assert_allclose(similarity_matrix(source, apply_affine(source, matrix)), matrix, atol=1e-9)


def test_heatmap_matches_its_definition_pixel_by_pixel() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(-3, 27, size=(10, 2))  # some outside the map
    size, half = 24, 3.5
    heat = landmark_heatmap(points, size, half)
    rows, cols = np.mgrid[0:size, 0:size]
    expected = np.zeros((size, size))
    for x, y in points:
        inside = (np.abs(cols - x) <= half) & (np.abs(rows - y) <= half)
        value = 1.0 / (1.0 + np.hypot(cols - x, rows - y))
        expected = np.maximum(expected, np.where(inside, value, 0.0))
    np.testing.assert_allclose(heat, expected, atol=1e-6)


def test_aligned_input_puts_the_heatmap_in_the_fourth_channel() -> None:
    crop = np.full((96, 96, 3), 100, np.uint8)
    points = mean_face_68(70.0) + 48.0
    tensor, matrix = aligned_input(crop, points, mean_face_68(25.0) + 16.0, 32, 2.0)
    assert tensor.shape == (32, 32, 4) and tensor.dtype == np.uint8
    assert tensor[..., 3].max() == 255 and (tensor[..., 3] == 0).mean() > 0.3
    assert abs(matrix[0, 0] - 25.0 / 70.0) < 1e-6


def test_refine_metadata_round_trips_and_asmnet_metadata_keeps_its_keys() -> None:
    meta = read_tflite_metadata(REFINE)
    assert meta.architecture == "refine" and meta.input_channels == 4 and not meta.has_pose
    assert ModelMetadata.from_json(meta.to_json()) == meta
    assert "refine" not in ModelMetadata(68, 96, "fp32").to_dict()
    with pytest.raises(MetadataError, match="'refine' facts go with architecture 'refine'"):
        dataclasses.replace(meta, architecture="asmnet")
    with pytest.raises(MetadataError, match="key 'refine' must be RefineInfo or null"):
        data = meta.to_dict()
        data["refine"]["stage1"]["colour"] = "x"
        ModelMetadata.from_dict(data)


def _stage1(path: Path, sha: str = FIXTURE_SHA) -> ModelMetadata:
    return dataclasses.replace(read_tflite_metadata(path), weights_sha256=sha)


def test_face_aligner_runs_two_interpreters(micro_fp32: Path, astronaut: np.ndarray) -> None:
    box = Box(170.0, 75.0, 280.0, 190.0)
    plain = FaceAligner.from_file(micro_fp32, detector=None, metadata=_stage1(micro_fp32))
    refined = FaceAligner.from_file(micro_fp32, detector=None, metadata=_stage1(micro_fp32), refine=REFINE)
    before, after = plain.predict(astronaut, box=box)[0], refined.predict(astronaut, box=box)[0]
    np.testing.assert_array_equal(before.pose_deg, after.pose_deg)
    # the fixture moves every point 0.05 of the aligned crop to the right: about 0.05 * 32 px there,
    # which is 0.05 x the mean shape's scale back in the image (the face's size over the mean's)
    shift = after.landmarks - before.landmarks
    assert np.all(shift[:, 0] > 0.5) and np.abs(shift[:, 1]).max() < 0.5 * shift[:, 0].min()
    assert after.timing.inference > before.timing.inference * 0.5
    # the cascade helper gives the same points in crop pixels
    cascade = Cascade(
        LiteModel.from_file(micro_fp32, metadata=_stage1(micro_fp32)), RefineModel.from_file(REFINE)
    )
    from asmnet_edge.runtime.geometry import crop_image, crop_to_image

    points, _ = cascade.run(crop_image(astronaut, box, 96))
    np.testing.assert_allclose(crop_to_image(points[0], box, 96), after.landmarks, atol=1e-6)


def test_a_refine_model_behind_the_wrong_stage1_is_refused(micro_fp32: Path) -> None:
    with pytest.raises(StageMismatchError, match="weights sha256"):
        FaceAligner.from_file(micro_fp32, detector=None, refine=REFINE)  # micro68 carries no sha256
    other = dataclasses.replace(_stage1(micro_fp32), input_size=128)
    with pytest.raises(StageMismatchError, match=r"input size 96 \(given 128\)"):
        FaceAligner(
            LiteModel.from_file(micro_fp32, metadata=other),
            detector=None,
            refiner=RefineModel.from_file(REFINE),
        )
    with pytest.raises(ModelError, match="not a refine stage"):
        RefineModel.from_file(micro_fp32)
    with pytest.raises(ModelError, match="no embedded refine stage"):
        FaceAligner.default("fp16", refine=True)


def test_stage1_facts_are_compared_field_by_field() -> None:
    facts = Stage1Facts(FIXTURE_SHA, 68, 96, 0.05, 1.0)
    info = RefineInfo(facts, 2.0)
    from asmnet_edge.runtime.refine import check_stage1

    check_stage1(info, facts)
    with pytest.raises(StageMismatchError, match=r"landmark sign 1.0 \(given -1.0\)"):
        check_stage1(info, dataclasses.replace(facts, landmark_sign=-1.0))
