"""Every bad input of the issue gives a clear, typed error (or an empty result), quickly."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from asmnet_edge.errors import InputImageError, MetadataError, ModelError
from asmnet_edge.runtime.aligner import FaceAligner
from asmnet_edge.runtime.image import load_image
from asmnet_edge.runtime.metadata import ModelMetadata, embed_metadata, read_tflite_metadata


def test_file_that_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is text, not pixels")
    with pytest.raises(InputImageError, match="not a decodable image"):
        load_image(path)
    with pytest.raises(InputImageError, match="no such file"):
        load_image(tmp_path / "missing.jpg")


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 10), (10, 0, 3)])
def test_empty_array(aligner_int8, shape):
    with pytest.raises(InputImageError, match="the image is empty"):
        aligner_int8.predict(np.zeros(shape, np.uint8))


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((5, 5, 2), np.uint8), r"must be shaped \(H, W\)"),
        (np.zeros((5,), np.uint8), r"must be shaped \(H, W\)"),
        (np.zeros((5, 5, 3), np.int32), "dtype int32 is not supported"),
        ([[1, 2], [3, 4]], "must be a numpy array"),
        (np.full((5, 5, 3), 200.0), r"float images must hold values in \[0, 1\]"),
    ],
)
def test_wrong_shape_dtype_range(aligner_int8, image, message):
    with pytest.raises(InputImageError, match=message):
        aligner_int8.predict(image)


def test_one_pixel_image(aligner_int8):
    assert aligner_int8.predict(np.zeros((1, 1, 3), np.uint8)) == []
    face = aligner_int8.predict(np.zeros((1, 1, 3), np.uint8), box=[0, 0, 1, 1])[0]
    assert face.landmarks.shape == (68, 2) and np.all(np.isfinite(face.landmarks))


def test_huge_image_is_detected_on_a_small_copy(aligner_int8, astronaut):
    cv2 = pytest.importorskip("cv2")
    huge = cv2.resize(astronaut, (10000, 10000), interpolation=cv2.INTER_NEAREST)
    start = time.perf_counter()
    faces = aligner_int8.predict(huge)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0  # one area resize of 300 MB, then a 640-px detector pass
    small = aligner_int8.predict(astronaut)
    assert len(faces) == len(small) == 1
    # the same face, 10000/512 times larger (within the detector's resampling noise)
    np.testing.assert_allclose(
        np.array(faces[0].box.as_list()) / (10000 / 512), small[0].box.as_list(), atol=6
    )


def test_nan_in_float_image(aligner_int8, astronaut):
    image = astronaut.astype(np.float32) / 255.0
    image[100, 100, 1] = np.nan
    with pytest.raises(InputImageError, match="NaN or infinite"):
        aligner_int8.predict(image)


def test_model_without_metadata(micro_nometa, micro_fp32):
    with pytest.raises(MetadataError, match="no asmnet-edge metadata.*pass explicit parameters"):
        FaceAligner.from_file(micro_nometa)
    explicit = read_tflite_metadata(micro_fp32)
    aligner = FaceAligner.from_file(micro_nometa, metadata=explicit, detector=None)
    assert aligner.predict(np.zeros((50, 50, 3), np.uint8))[0].landmarks.shape == (68, 2)


def test_unknown_metadata_version(micro_fp32, tmp_path):
    future = replace(read_tflite_metadata(micro_fp32), schema_version=99)
    path = tmp_path / "future.tflite"
    path.write_bytes(embed_metadata(micro_fp32.read_bytes(), future))
    with pytest.raises(MetadataError, match="schema version 99 is not supported.*upgrade asmnet-edge"):
        FaceAligner.from_file(path)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_tflite(micro_fp32, tmp_path, damage):
    content = micro_fp32.read_bytes()
    data = {
        "truncated": content[: len(content) // 2],
        "garbage": b"\0" * 4 + b"TFL3" + b"\xff" * 500,
        "empty": b"",
    }[damage]
    path = tmp_path / "broken.tflite"
    path.write_bytes(data)
    with pytest.raises(ModelError):  # MetadataError is a ModelError
        FaceAligner.from_file(path)


def test_corrupt_tflite_with_explicit_metadata(micro_fp32, tmp_path):
    path = tmp_path / "broken.tflite"
    path.write_bytes(micro_fp32.read_bytes()[:3000])
    with pytest.raises(ModelError, match="the interpreter cannot load this model"):
        FaceAligner.from_file(path, metadata=ModelMetadata(num_landmarks=68, input_size=96, precision="fp32"))


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="cannot read model file"):
        FaceAligner.from_file(tmp_path / "nope.tflite")


@pytest.mark.parametrize("kind", ["black", "noise"])
def test_no_face_found_is_an_empty_list(aligner_int8, kind):
    rng = np.random.default_rng(0)
    image = (
        np.zeros((480, 640, 3), np.uint8)
        if kind == "black"
        else rng.integers(0, 255, (480, 640, 3), np.uint8)
    )
    assert aligner_int8.predict(image) == []
