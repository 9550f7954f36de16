"""FaceAligner on the committed micro models: colour layouts, exact mapping back, JSON, default model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asmnet_edge.errors import InputImageError, ModelError
from asmnet_edge.runtime.aligner import DEFAULT_MODEL_DIR, Face, FaceAligner
from asmnet_edge.runtime.geometry import Box, crop_image, crop_to_image
from asmnet_edge.runtime.model import LiteModel

# where BlazeFace + the fitted box map put the astronaut's face (checked by eye once, +-15 px)
ASTRONAUT_FACE = (174.0, 80.0, 276.0, 182.0)


def test_astronaut_one_face_with_plausible_box(aligner_int8, astronaut):
    faces = aligner_int8.predict(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert isinstance(face, Face)
    assert np.allclose(face.box.as_list(), ASTRONAUT_FACE, atol=15)
    assert face.landmarks.shape == (68, 2)
    # the micro model's output is a mean face filling the crop: every point lies inside the crop box
    assert face.landmarks[:, 0].min() >= face.box.x0 and face.landmarks[:, 0].max() <= face.box.x1
    assert face.landmarks[:, 1].min() >= face.box.y0 and face.landmarks[:, 1].max() <= face.box.y1
    # the fixture's pose head is biased to (10, -5, 3) degrees with a small input-dependent term
    assert np.allclose(face.pose_deg, [10.0, -5.0, 3.0], atol=3.0)
    assert (face.yaw, face.pitch, face.roll) == tuple(face.pose_deg)
    assert face.detector_box is not None and 0.5 < face.score <= 1.0
    assert face.timing.detect > 0 and face.timing.inference > 0 and face.timing.total >= face.timing.inference


def test_landmarks_map_back_exactly(micro_fp32, astronaut):
    aligner = FaceAligner.from_file(micro_fp32, detector=None)
    box = Box(170.5, 75.25, 280.0, 190.0)
    face = aligner.predict(astronaut, box=box)[0]
    lite = LiteModel.from_file(micro_fp32)
    crop_points, pose = lite.run(crop_image(astronaut, box, 96))
    np.testing.assert_array_equal(face.landmarks, crop_to_image(crop_points[0], box, 96))
    np.testing.assert_array_equal(face.pose_deg, pose[0])
    assert face.box == box and face.detector_box is None


@pytest.mark.parametrize("layout", ["bgr", "gray2d", "gray3d", "rgba", "bgra", "float01"])
def test_colour_layouts_give_the_same_result(aligner_int8, astronaut, layout):
    box = [170.0, 75.0, 280.0, 190.0]
    if layout.startswith("gray"):
        grey = astronaut.mean(axis=2).round().astype(np.uint8)
        reference = aligner_int8.predict(np.repeat(grey[..., None], 3, axis=2), box=box)[0]
        image = grey if layout == "gray2d" else grey[..., None]
        color = "rgb"
    else:
        reference = aligner_int8.predict(astronaut, box=box)[0]
        alpha = np.full(astronaut.shape[:2] + (1,), 255, np.uint8)
        image, color = {
            "bgr": (astronaut[..., ::-1], "bgr"),
            "rgba": (np.concatenate([astronaut, alpha], axis=2), "rgb"),
            "bgra": (np.concatenate([astronaut[..., ::-1], alpha], axis=2), "bgr"),
            "float01": (astronaut.astype(np.float32) / 255.0, "rgb"),
        }[layout]
    face = aligner_int8.predict(image, box=box, color=color)[0]
    np.testing.assert_allclose(face.landmarks, reference.landmarks, atol=1e-9)
    np.testing.assert_allclose(face.pose_deg, reference.pose_deg, atol=1e-9)


def test_to_dict_is_json(aligner_int8, astronaut):
    data = json.loads(json.dumps(aligner_int8.predict(astronaut)[0].to_dict()))
    assert len(data["landmarks"]) == 68 and set(data["pose_deg"]) == {"yaw", "pitch", "roll"}
    assert set(data["timing_ms"]) == {"detect", "preprocess", "inference", "postprocess", "total"}
    assert len(data["box"]) == 4 and len(data["detector_box"]) == 4


def test_no_detector_uses_whole_image(micro_fp32, astronaut):
    face = FaceAligner.from_file(micro_fp32, detector=None).predict(astronaut)[0]
    assert face.box.as_list() == [0.0, 0.0, 512.0, 512.0]


def test_unknown_detector_name(micro_fp32):
    with pytest.raises(ModelError, match="unknown detector 'yolo'"):
        FaceAligner.from_file(micro_fp32, detector="yolo")


def test_default_model_missing_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr("asmnet_edge.runtime.contract.DEFAULT_MODEL_DIR", tmp_path)
    monkeypatch.setattr("asmnet_edge.runtime.aligner.DEFAULT_MODEL_DIR", tmp_path)
    with pytest.raises(
        ModelError, match=r"no embedded model 'asmnet68' in precision 'int8'.*FaceAligner.from_file"
    ):
        FaceAligner.default("int8")
    with pytest.raises(ModelError, match=r"no embedded model 'asmnet68_96'"):
        FaceAligner.default("int8", model="asmnet68_96")
    with pytest.raises(ModelError, match="unknown precision 'int4'"):
        FaceAligner.default("int4")


@pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "asmnet68_int8.tflite").is_file(),
    reason="the default int8 model is not embedded yet (assets/default/asmnet68_int8.tflite)",
)
def test_default_model_finds_the_astronaut(astronaut):
    faces = FaceAligner.default("int8").predict(astronaut)
    assert len(faces) == 1
    face = faces[0]
    # a trained model puts the eyes above the mouth and the face roughly frontal
    eyes_y = face.landmarks[36:48, 1].mean()
    mouth_y = face.landmarks[48:68, 1].mean()
    assert eyes_y < mouth_y
    assert abs(face.yaw) < 30 and abs(face.roll) < 20


def test_bad_box_is_a_clear_error(aligner_int8, astronaut):
    with pytest.raises(InputImageError, match="has no area"):
        aligner_int8.predict(astronaut, box=[10, 10, 5, 20])
    with pytest.raises(InputImageError, match="four finite numbers"):
        aligner_int8.predict(astronaut, box=[10, 10, 20])


def test_quantisation_table_equals_the_float_formula(micro_int8):
    lite = LiteModel.from_file(micro_int8)
    size = lite.metadata.input_size
    crop = (np.arange(size * size * 3) % 256).astype(np.uint8).reshape(size, size, 3)
    scale, zero_point = lite._input.scale, lite._input.zero_point
    real = crop.astype(np.float32) * np.float32(lite.metadata.input_scale)
    expected = np.clip(np.rint(real / scale) + zero_point, -128, 127).astype(np.int8)
    tensor = lite.input_tensor(crop[..., ::-1])  # a strided (BGR->RGB) view must work too
    assert tensor.dtype == np.int8 and tensor.shape == (1, size, size, 3)
    np.testing.assert_array_equal(tensor[0], expected[..., ::-1])


def test_runtime_works_without_opencv(monkeypatch, micro_int8, astronaut):
    import sys

    with_cv2 = FaceAligner.from_file(micro_int8).predict(astronaut)[0]
    monkeypatch.setitem(sys.modules, "cv2", None)
    aligner = FaceAligner.from_file(micro_int8)
    faces = aligner.predict(astronaut[..., ::-1], color="bgr")
    assert len(faces) == 1  # numpy crop, resize and colour fallbacks, BlazeFace on the interpreter
    assert np.abs(faces[0].landmarks - with_cv2.landmarks).max() < 6.0
