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


def test_image_files_decode_to_rgb_with_one_error_type(tmp_path):
    import cv2

    from asmnet_edge.errors import DataError, InputImageError
    from asmnet_edge.runtime.image import load_image

    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), RGB[..., ::-1])  # OpenCV writes BGR
    decoded = load_image(path)
    assert decoded.dtype == np.uint8 and decoded.shape == (7, 9, 3)
    np.testing.assert_array_equal(decoded, RGB)
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), RGB[..., 0])
    assert load_image(grey).shape == (7, 9, 3)
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    for bad, message in (
        (tmp_path / "bad.jpg", "not a decodable image"),
        (tmp_path / "no.png", "no such file"),
    ):
        with pytest.raises(InputImageError, match=message) as err:
            load_image(bad)
        assert isinstance(err.value, DataError)  # dataset readers that skip bad images catch it


def test_video_frames_in_order_by_index_and_in_either_colour(tmp_path):
    import cv2

    from asmnet_edge.errors import InputImageError
    from asmnet_edge.runtime.video import evenly_spaced, frame_count, video_frames

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    for level in range(0, 250, 25):  # ten frames of growing red (BGR order on disk)
        writer.write(np.dstack([np.zeros((24, 32), np.uint8)] * 2 + [np.full((24, 32), level, np.uint8)]))
    writer.release()
    assert frame_count(path) == 10
    frames = list(video_frames(path))
    assert [index for index, _ in frames] == list(range(10))
    red = [int(frame[..., 0].mean()) for _, frame in frames]  # RGB: red is channel 0
    assert red == sorted(red) and abs(red[4] - 100) <= 3
    assert [index for index, _ in video_frames(path, limit=3)] == [0, 1, 2]
    picked = list(video_frames(path, evenly_spaced(10, 3), color="bgr"))
    assert [index for index, _ in picked] == [0, 4, 9]
    assert abs(int(picked[-1][1][..., 2].mean()) - 225) <= 3  # BGR: red is channel 2
    (tmp_path / "broken.mp4").write_bytes(b"no video here")
    with pytest.raises(InputImageError, match="not a readable video"):
        frame_count(tmp_path / "broken.mp4")
