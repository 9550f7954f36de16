"""Dataset readers, .pts files, crops and augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.data.augment import MIRROR_68, MIRROR_98, AugmentConfig, augment_crop
from asmnet_edge.data.dataset import crop_box, make_crops, read_dataset
from asmnet_edge.data.pts import read_pts, write_pts
from asmnet_edge.errors import DataError
from asmnet_edge.runtime.geometry import crop_to_image, image_to_crop
from asmnet_edge.runtime.image import load_image
from tests.conftest import mean_face_68


def test_pts_is_one_based_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "a.pts"
    path.write_text("version: 1\nn_points: 2\n{\n1 1\n10.5 20\n}\n")
    assert read_pts(path).tolist() == [[0.0, 0.0], [9.5, 19.0]]
    write_pts(tmp_path / "b.pts", read_pts(path))
    assert read_pts(tmp_path / "b.pts").tolist() == [[0.0, 0.0], [9.5, 19.0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nn_points: 3\n{\n1 1\n2 2\n}\n", "header says 3 points, found 2"),
        ("version: 1\n{\n1 1\n}\n", "malformed .pts"),
        ("version: 1\nn_points: 1\n{\n1 x\n}\n", "malformed .pts"),
    ],
)
def test_malformed_pts_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.pts"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        read_pts(path)
    assert "bad.pts" in str(info.value)


def test_300w_folder_with_poses(face_folder: Path) -> None:
    samples = read_dataset(face_folder, "300w", expected_points=68)
    assert len(samples) == 6
    assert samples[0].pose is not None and samples[0].pose.shape == (3,)
    with pytest.raises(DataError, match="has 68 landmarks, the model expects 98"):
        read_dataset(face_folder, "300w", expected_points=98)


def test_empty_folder_and_undecodable_image(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image with a .pts file"):
        read_dataset(tmp_path / "empty")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\x00\x01 not a jpeg")
    with pytest.raises(DataError, match="not a decodable image"):
        load_image(bad)
    with pytest.raises(DataError, match="unknown dataset format"):
        read_dataset(tmp_path, "afw")


def test_wflw_list_file(tmp_path: Path) -> None:
    points = np.arange(196, dtype=float).reshape(98, 2)
    line = " ".join(f"{value:g}" for value in points.reshape(-1)) + " 1 2 30 40 1 0 0 0 1 0 sub/img.jpg"
    listing = tmp_path / "list_98pt_rect_attr_test.txt"
    listing.write_text(line + "\n")
    sample = read_dataset(listing, "wflw")[0]
    assert sample.landmarks.shape == (98, 2) and sample.landmarks[1].tolist() == [2.0, 3.0]
    assert sample.box is not None and sample.box.as_list() == [1.0, 2.0, 30.0, 40.0]
    assert sample.attributes == {
        "pose": 1,
        "expression": 0,
        "illumination": 0,
        "make_up": 0,
        "occlusion": 1,
        "blur": 0,
    }
    assert sample.image_path == tmp_path / "sub/img.jpg"
    listing.write_text("1 2 3 img.jpg\n")
    with pytest.raises(DataError, match="expected 207 fields"):
        read_dataset(listing, "wflw")


def test_crop_and_its_inverse(face_folder: Path) -> None:
    samples = read_dataset(face_folder)
    crops = make_crops(samples, 64)
    assert crops.images.shape == (6, 64, 64, 3) and crops.images.dtype == np.uint8
    back = crop_to_image(crops.landmarks[0], crops.boxes[0], 64)
    np.testing.assert_allclose(back, samples[0].landmarks, atol=1e-9)
    inside = crops.landmarks.reshape(-1, 2)
    assert inside.min() > 0 and inside.max() < 64  # the 5 % margin keeps every point inside


def test_mirror_permutations_swap_left_and_right() -> None:
    assert np.all(MIRROR_68[MIRROR_68] == np.arange(68)) and np.all(MIRROR_98[MIRROR_98] == np.arange(98))
    face = mean_face_68()
    mirrored = face[MIRROR_68] * [-1.0, 1.0]
    np.testing.assert_allclose(mirrored[36:48], face[36:48], atol=1e-9)  # eyes map onto eyes
    np.testing.assert_allclose(mirrored[:17], face[:17], atol=1e-9)  # jaw onto jaw
    assert MIRROR_98[60] == 72 and MIRROR_98[96] == 97 and MIRROR_98[54] == 54


@pytest.mark.parametrize("seed", range(4))
def test_augmentation_moves_landmarks_with_the_image(seed: int) -> None:
    import cv2

    points = mean_face_68(80.0) + 100.0
    image = np.zeros((200, 200, 3), np.uint8)
    for x, y in points[[8, 30, 36, 45, 48, 54]]:
        cv2.circle(image, (int(round(x)), int(round(y))), 2, (255, 255, 255), -1)
    config = AugmentConfig(
        flip_probability=1.0 if seed % 2 else 0.0,
        brightness=0,
        contrast=0,
        gamma=0,
        colour=0,
        grey_probability=0,
        blur_probability=0,
        noise_probability=0,
        low_light_probability=0,
        jpeg_probability=0,
        occluder_probability=0,
    )
    crop, moved, pose = augment_crop(
        image, points, np.array([10.0, 5.0, 3.0]), 96, np.random.default_rng(seed), config
    )
    checked = 0
    for index in (8, 30, 36, 45, 48, 54):
        x, y = moved[index]
        if not (0 <= round(x) < 96 and 0 <= round(y) < 96):  # a tight crop (negative margin) may cut it off
            continue
        assert crop[int(round(y)), int(round(x)), 0] > 100, f"point {index} left its dot"
        checked += 1
    assert checked >= 4
    if seed % 2:  # flipped: yaw and roll change sign, the left eye corner is now on the right
        assert pose[0] == -10.0 and moved[36, 0] < moved[45, 0]
    else:
        assert pose[0] == 10.0 and pose[1] == 5.0


def test_crop_box_margin() -> None:
    box = crop_box(np.array([[0.0, 0.0], [100.0, 200.0]]), 0.1)
    assert box.as_list() == [-10.0, -20.0, 110.0, 220.0]
    np.testing.assert_allclose(image_to_crop(np.array([[50.0, 100.0]]), box, 224), [[112.0, 112.0]])


def test_the_tracking_preset_hands_over_tracker_like_boxes():
    """Half the tracking preset's crops are off by up to a quarter of the face; default ones stay centred."""
    from asmnet_edge.data.augment import augment_landmarks, augment_preset
    from asmnet_edge.errors import ConfigError

    face = np.column_stack([np.linspace(40, 160, 68), 60 + 80 * np.sin(np.linspace(0, 3, 68))])
    offsets = {}
    for name in ("default", "tracking"):
        rng = np.random.default_rng(0)
        crops = [augment_landmarks(face, 128, rng, augment_preset(name)) for _ in range(400)]
        centres = np.array([(points.min(axis=0) + points.max(axis=0)) / 2 for points in crops])
        offsets[name] = np.abs(centres - 63.5).max(axis=1) / 128
    assert np.percentile(offsets["default"], 95) < 0.12
    assert 0.15 < np.percentile(offsets["tracking"], 95) < 0.35
    with pytest.raises(ConfigError, match="unknown augment preset"):
        augment_preset("heavy")
