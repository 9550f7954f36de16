"""Colour layouts: the OpenCV and numpy paths agree; the detector copy is small and scaled right."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from asmnet_edge.runtime.image import detection_copy, prepare_image, to_rgb

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("pixels", "layout", "expected"),
    [
        (RGB[..., ::-1], "bgr", RGB),
        (np.concatenate([RGB, np.full((7, 9, 1), 9, np.uint8)], axis=2), "rgba", RGB),
        (np.concatenate([RGB[..., ::-1], np.full((7, 9, 1), 9, np.uint8)], axis=2), "bgra", RGB),
        (RGB[..., 0], "gray", np.repeat(RGB[..., :1], 3, axis=2)),
        (RGB[..., :1], "gray", np.repeat(RGB[..., :1], 3, axis=2)),
    ],
)
def test_to_rgb_with_and_without_opencv(monkeypatch, pixels, layout, expected):
    with_cv2 = to_rgb(pixels, layout)
    monkeypatch.setitem(sys.modules, "cv2", None)
    without = to_rgb(pixels, layout)
    np.testing.assert_array_equal(with_cv2, expected)
    np.testing.assert_array_equal(without, expected)
    assert with_cv2.flags.c_contiguous and without.flags.c_contiguous


@pytest.mark.parametrize("opencv", [True, False])
def test_detection_copy_is_bounded(monkeypatch, opencv):
    if not opencv:
        monkeypatch.setitem(sys.modules, "cv2", None)
    frame = prepare_image(np.zeros((3000, 1200), np.uint8))
    small, factor = detection_copy(frame, 640)
    assert max(small.shape[:2]) <= 640 and small.shape[2] == 3
    assert small.shape[0] * factor == pytest.approx(3000, rel=0.01)


def test_float_image_is_scaled_and_rounded():
    frame = prepare_image(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert frame.pixels.dtype == np.uint8 and frame.pixels.tolist() == [[0, 128, 255]]
    assert frame.layout == "gray"
