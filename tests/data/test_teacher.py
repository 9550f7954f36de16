"""Teacher labels: PnP pose convention, crop geometry, the held-out person, missing packages."""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.errors import MissingDependencyError


def _teacher_module():
    pytest.importorskip("dlib")
    pytest.importorskip("cv2")
    if importlib.util.find_spec("face_recognition_models") is None:
        pytest.skip("face_recognition_models (the dlib .dat) is not installed")
    if importlib.util.find_spec("menpo3d") is None:
        pytest.skip("menpo3d (the 3-D model for PnP) is not installed")
    from asmnet_edge.data import teacher

    return teacher


def _synth_module():
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    pytest.importorskip("pyrender")
    from asmnet_edge.data import synth

    return synth


@pytest.mark.teacher
def test_pnp_recovers_exact_pose_from_exact_points() -> None:
    teacher = _teacher_module()
    from asmnet_edge.data._headpose import rotation_from_pose
    from asmnet_edge.data._render import load_james, project

    model = teacher.Teacher()
    for pose in [(35.0, 0.0, 0.0), (-20.0, 15.0, -10.0), (10.0, -20.0, 25.0)]:
        camera_points = load_james().landmarks @ rotation_from_pose(*pose).T + [10.0, -5.0, -900.0]
        points = project(camera_points, 640.0, 480)
        estimate, error = model.pose(points, 480, 480, focal=640.0)
        assert estimate == pytest.approx(pose, abs=0.5)
        assert error < 0.1


@pytest.mark.teacher
@pytest.mark.synth
def test_teacher_on_renders_agrees_with_exact_pose() -> None:
    teacher, synth = _teacher_module(), _synth_module()
    model = teacher.Teacher()
    errors = []
    for pose in [(25.0, 0.0, 0.0), (-25.0, 10.0, 0.0), (0.0, 0.0, 20.0), (10.0, 10.0, -15.0)]:
        face = synth.render_pose(*pose, size=256)
        found = model.label(face.rgba[:, :, :3])
        assert len(found) == 1, pose
        errors.append(np.subtract(found[0]["pose"], pose))
        inter_ocular = np.linalg.norm(face.points[36] - face.points[45])
        inner_nme = np.linalg.norm(found[0]["points"][17:] - face.points[17:], axis=1).mean() / inter_ocular
        assert inner_nme < 0.08, (pose, inner_nme)
    # focal = image width here, while the renders use a 25° field of view: a few degrees of bias is
    # expected, a sign error would show as 2x the angle
    assert np.abs(errors).max() < 8.0


def test_square_crop_maps_points_onto_the_same_pixels() -> None:
    pytest.importorskip("cv2")
    from asmnet_edge.data import teacher as module

    image = np.zeros((300, 500, 3), dtype=np.uint8)
    points = np.array([[200.0, 100.0], [260.0, 160.0], [230.0, 130.0]])
    image[130, 230] = 255  # one bright pixel at the third point
    crop, mapped = module._square_crop(image, points, 120)
    row, col = np.unravel_index(int(np.argmax(crop[:, :, 0])), crop.shape[:2])
    assert mapped[2] == pytest.approx([col, row], abs=0.75)
    assert mapped[2] == pytest.approx([59.5, 59.5], abs=1e-6)  # the landmark box is centred


@pytest.mark.teacher
def test_holdout_person_goes_to_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    teacher = _teacher_module()
    if importlib.util.find_spec("insightface") is None:
        pytest.skip("insightface (a source image) is not installed")
    monkeypatch.setattr(
        teacher,
        "FACE_SOURCES",
        (
            ("skimage", "data/astronaut.png", "astronaut"),
            ("insightface", "data/images/Tom_Hanks_54745.png", "tom-hanks"),
        ),
    )
    monkeypatch.setattr(teacher, "HOLDOUT_PERSON", "tom-hanks")
    result = teacher.label_dataset(tmp_path / "train", tmp_path / "holdout", size=128, progress=False)
    assert (result.train_count, result.holdout_count) == (1, 1)
    assert (tmp_path / "train" / "astronaut__astronaut-png_0000_0.jpg").is_file()
    with open(tmp_path / "holdout" / "poses.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows[0]["file"] == "tom-hanks__Tom_Hanks_54745-png_0000_0.jpg"
    assert rows[0]["visible"] == "1" * 68 and rows[0]["source"] == "teacher-dlib"
    assert abs(float(rows[0]["yaw"])) < 45


def test_missing_dlib_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from asmnet_edge.data import teacher

    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(MissingDependencyError, match=r"asmnet-edge\[teacher\].*dlib-bin"):
        teacher.Teacher()


@pytest.mark.slow
@pytest.mark.teacher
@pytest.mark.synth
def test_jaw_anchor_calibration_is_reproducible() -> None:
    teacher, synth = _teacher_module(), _synth_module()
    from asmnet_edge.data._render import JAW_ANCHOR_VERTICES, load_james, project

    vertices = load_james().vertices
    view = synth.neutral_view(0.0, 0.0, 0.0, 256)
    focal = 128 / np.tan(view["yfov"] / 2)

    def frontal_pixels(indices: tuple[int, ...]) -> np.ndarray:
        return project(vertices[list(indices)] @ view["rotation"].T + view["translation"], focal, 256)

    constant = frontal_pixels(JAW_ANCHOR_VERTICES)
    recomputed = frontal_pixels(teacher.calibrate_jaw_anchors(size=256))
    inter_ocular = np.linalg.norm(synth.render_view(view, 256).points[[36, 45]] @ [1, -1])
    # at another render size dlib may pick a neighbouring vertex along the outline, not another place
    distances = np.linalg.norm(recomputed - constant, axis=1) / inter_ocular
    assert distances.mean() < 0.04 and distances.max() < 0.10
