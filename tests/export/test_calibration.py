"""Calibration and evaluation faces and crops (no TensorFlow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.errors import DataError
from asmnet_edge.exporters.calibration import build_crops, labelled_crops
from asmnet_edge.exporters.faces import detected_faces, labelled_faces, packaged_face_images, split_faces
from tests.conftest import write_face_folder


def test_augmented_crops_are_seeded_and_varied(tmp_path: Path) -> None:
    faces = labelled_faces(write_face_folder(tmp_path / "f", count=3), "300w", 68).faces
    first = build_crops(faces, 12, 64, seed=0, source="t")
    again = build_crops(faces, 12, 64, seed=0, source="t")
    other = build_crops(faces, 12, 64, seed=1, source="t")
    assert first.images.shape == (12, 64, 64, 3) and first.faces == 3
    assert np.array_equal(first.images, again.images)
    assert not np.array_equal(first.images[3:], other.images[3:])
    brightness = first.images.reshape(12, -1).mean(axis=1)
    assert brightness.max() - brightness.min() > 10  # lighting varies across crops


def test_unreadable_images_are_skipped_and_listed(tmp_path: Path) -> None:
    folder = write_face_folder(tmp_path / "f", count=4)
    (folder / "face_001.png").write_bytes(b"broken")
    faces = labelled_faces(folder, "300w", 68).faces
    crops = build_crops(faces, 8, 64, seed=0, source="t")
    assert list(crops.skipped) == [str(folder / "face_001.png")] and crops.faces == 3
    assert len(crops) == 8  # the readable faces fill every requested crop
    evaluation = labelled_crops(faces, 10, 64, seed=0, source="t")
    assert (
        len(evaluation) == 3 and evaluation.landmarks is not None and evaluation.landmarks.shape == (3, 68, 2)
    )
    assert np.isfinite(evaluation.poses).all()


def test_all_images_unreadable_is_a_data_error(tmp_path: Path) -> None:
    folder = write_face_folder(tmp_path / "f", count=2)
    for image in folder.glob("*.png"):
        image.write_bytes(b"")
    with pytest.raises(DataError, match="none of the images of t could be decoded"):
        build_crops(labelled_faces(folder, "300w", 68).faces, 4, 64, seed=0, source="t")


def test_held_out_split_never_shares_a_file(tmp_path: Path) -> None:
    faces = labelled_faces(write_face_folder(tmp_path / "f", count=10), "300w", 68).faces
    calib, held = split_faces(faces, 0.2, seed=3)
    assert len(held) == 2 and len(calib) == 8
    assert not {f.image_path for f in calib} & {f.image_path for f in held}
    with pytest.raises(DataError, match="cannot hold out evaluation faces from 1 image file"):
        split_faces(faces[:1], 0.2, seed=0)


def test_default_set_finds_the_astronaut(tmp_path: Path) -> None:
    pytest.importorskip("skimage")
    astronaut = packaged_face_images()["skimage"]
    assert [path.name for path in astronaut] == ["astronaut.png"]
    copy = tmp_path / "astronaut.png"
    shutil.copy(astronaut[0], copy)
    (tmp_path / "broken.jpg").write_bytes(b"nope")
    found = detected_faces([copy, tmp_path / "broken.jpg"], "t")
    assert len(found.faces) == 1 and found.skipped == {
        str(tmp_path / "broken.jpg"): "not a decodable image or video"
    }
    box = found.faces[0].box
    assert 150 < (box.x0 + box.x1) / 2 < 280 and 60 < (box.y0 + box.y1) / 2 < 220  # the face, not the suit
