"""Synthetic renders: pose signs, label files, visibility, resume, and the missing-extra message."""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.data._headpose import flip_labels, pose_from_rotation, rotation_from_pose
from asmnet_edge.errors import MissingDependencyError


def _render_module():
    # PyOpenGL picks its platform at first import: headless machines have only OSMesa
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    pytest.importorskip("pyrender")
    pytest.importorskip("trimesh")
    if importlib.util.find_spec("menpo3d") is None:
        pytest.skip("menpo3d (the face scan) is not installed")
    from asmnet_edge.data import synth

    return synth


def test_pose_round_trip_and_axes() -> None:
    for pose in [(30.0, -10.0, 5.0), (-70.0, 25.0, -28.0), (0.0, 0.0, 0.0)]:
        assert np.allclose(pose_from_rotation(rotation_from_pose(*pose)), pose, atol=1e-9)
    # pitch > 0 tilts the nose (head +z) upward, roll > 0 takes the head's up axis toward image right
    assert (rotation_from_pose(0, 20, 0) @ [0, 0, 1])[1] > 0
    assert (rotation_from_pose(0, 0, 20) @ [0, 1, 0])[0] > 0


def test_flip_labels_swaps_sides_and_negates_yaw_roll() -> None:
    points = np.arange(136, dtype=float).reshape(68, 2)
    flipped, yaw, roll = flip_labels(points, 100, 12.0, -3.0)
    assert (yaw, roll) == (-12.0, 3.0)
    assert flipped[0].tolist() == [99 - points[16, 0], points[16, 1]]  # jaw ends swap
    assert flipped[30].tolist() == [99 - points[30, 0], points[30, 1]]  # nose tip stays a nose tip
    assert flipped[36].tolist() == [99 - points[45, 0], points[45, 1]]  # outer eye corners swap


@pytest.mark.synth
def test_render_pose_signs() -> None:
    synth = _render_module()

    def nose_minus_eyes(yaw: float, pitch: float) -> np.ndarray:
        points = synth.render_pose(yaw, pitch, 0.0, size=128).points
        return points[30] - points[[36, 45]].mean(axis=0)

    assert nose_minus_eyes(30, 0)[0] > 5  # yaw > 0: nose tip right of the eye-corner midpoint
    assert nose_minus_eyes(-30, 0)[0] < -5
    # pitch > 0 (looking up): the nose tip rises toward the eyes (smaller row gap)
    assert nose_minus_eyes(0, 20)[1] < nose_minus_eyes(0, -20)[1] - 3
    rolled = synth.render_pose(0.0, 0.0, 20.0, size=128).points
    # roll > 0 turns the face clockwise: the image-right eye corner drops below the image-left one
    slope = (rolled[45, 1] - rolled[36, 1]) / (rolled[45, 0] - rolled[36, 0])
    assert np.degrees(np.arctan(slope)) == pytest.approx(20.0, abs=4.0)


@pytest.mark.synth
def test_flipped_render_matches_opposite_yaw() -> None:
    synth = _render_module()
    right = synth.render_pose(30.0, 0.0, 10.0, size=128)
    left = synth.render_pose(-30.0, 0.0, -10.0, size=128)
    mirrored, yaw, roll = flip_labels(right.points, 128, 30.0, 10.0)
    assert (yaw, roll) == (-30.0, -10.0)
    inter_ocular = np.linalg.norm(left.points[36] - left.points[45])
    # the scan is nearly symmetric once the measured offset is removed: inner points agree within 6 %
    error = np.linalg.norm(mirrored[17:] - left.points[17:], axis=1).mean() / inter_ocular
    assert error < 0.06


@pytest.mark.synth
def test_visibility_from_zbuffer() -> None:
    synth = _render_module()
    frontal = synth.render_pose(0.0, 0.0, 0.0, size=128)
    assert frontal.visible[30] and frontal.visible[17:].all()
    turned = synth.render_pose(70.0, 0.0, 0.0, size=128)
    # yaw 70 turns the subject's left side (image right) away: part of the left eye (42-47) hides
    # behind the nose, while the near eye (36-41) stays visible
    assert turned.visible[30]
    assert not turned.visible[42:48].all()
    assert turned.visible[36:42].all()


@pytest.mark.synth
def test_jaw_moves_to_outline_on_far_side() -> None:
    synth = _render_module()
    face = synth.render_pose(40.0, 0.0, 0.0, size=128)
    # far side (subject's left, image right) at yaw 40: contour jaw lies right of the surface jaw
    assert (face.points[11:15, 0] - face.surface_jaw[11:15, 0]).mean() > 2.0
    assert face.visible[11:15].all()


def _read_pts_file(path: Path) -> np.ndarray:
    from asmnet_edge.data.pts import read_pts

    return read_pts(path, expected_points=68)


@pytest.mark.synth
def test_dataset_files_and_pts_round_trip(tmp_path: Path) -> None:
    synth = _render_module()
    result = synth.render_dataset(tmp_path, count=2, seed=3, size=128, progress=False)
    assert (result.rendered, result.skipped) == (2, 0)
    sample = synth.make_sample(1, 3, 128)
    text = (tmp_path / "synth_000001.pts").read_text().splitlines()
    assert text[:3] == ["version: 1", "n_points: 68", "{"]
    first = [float(value) for value in text[3].split()]
    assert first == pytest.approx((sample.points[0] + 1.0).tolist(), abs=1e-3)  # 1-based on disk
    assert _read_pts_file(tmp_path / "synth_000001.pts") == pytest.approx(sample.points, abs=1e-3)
    with open(tmp_path / "poses.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["file", "yaw", "pitch", "roll", "visible", "source"]
    assert [row["file"] for row in rows] == ["synth_000000.jpg", "synth_000001.jpg"]
    assert float(rows[1]["yaw"]) == pytest.approx(sample.pose[0], abs=1e-3)
    assert len(rows[1]["visible"]) == 68 and set(rows[1]["visible"]) <= {"0", "1"}
    assert rows[1]["source"] == "synth-james"
    assert (tmp_path / "synth_000001.jpg").read_bytes() == sample.image_bytes


@pytest.mark.synth
def test_killed_run_resumes_to_identical_bytes(tmp_path: Path) -> None:
    synth = _render_module()
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    synth.render_dataset(whole, count=3, seed=7, size=128, progress=False)
    synth.render_dataset(resumed, count=1, seed=7, size=128, progress=False)
    # what a kill leaves behind: an image without labels, a half-written temp file, a stale csv
    (resumed / "synth_000001.jpg").write_bytes(b"half a jpeg")
    (resumed / ".synth_000002.abc.tmp.jpg").write_bytes(b"partial")
    second = synth.render_dataset(resumed, count=3, seed=7, size=128, progress=False)
    assert (second.rendered, second.skipped) == (2, 1)
    names = sorted(path.name for path in whole.iterdir())
    assert sorted(path.name for path in resumed.iterdir() if not path.name.startswith(".")) == names
    for name in names:
        assert (whole / name).read_bytes() == (resumed / name).read_bytes(), name


@pytest.mark.synth
def test_missing_pyrender_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    synth = _render_module()
    monkeypatch.setitem(__import__("sys").modules, "pyrender", None)
    synth._renderer.cache_clear()
    with pytest.raises(MissingDependencyError, match=r"pip install 'asmnet-edge\[synth\]'"):
        synth.render_pose(0.0, 0.0, 0.0, size=96)


def test_missing_scan_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from asmnet_edge.data import _render

    monkeypatch.setattr(_render, "package_file", lambda name, relative: None)  # menpo3d absent
    with pytest.raises(MissingDependencyError, match="menpo3d.*no-build-isolation"):
        _render.menpo3d_data_dir()


@pytest.mark.synth
def test_scan_offset_constant_matches_measurement() -> None:
    _render_module()
    from asmnet_edge.data._render import SCAN_OFFSET_DEG, estimate_scan_offset

    assert estimate_scan_offset() == pytest.approx(SCAN_OFFSET_DEG, abs=0.1)


@pytest.mark.synth
def test_cli_synth_prints_one_json_object(tmp_path: Path) -> None:
    _render_module()
    import json

    from click.testing import CliRunner

    from asmnet_edge.commands.data import data

    runner = CliRunner()
    arguments = ["synth", "--count", "2", "--out", str(tmp_path), "--size", "96", "--seed", "4", "--json"]
    result = runner.invoke(data, arguments)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rendered"], summary["count"], summary["folder"]) == (2, 2, str(tmp_path))
    again = json.loads(runner.invoke(data, arguments).stdout)
    assert (again["rendered"], again["skipped"]) == (0, 2)


def test_cli_rejects_bad_size(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from asmnet_edge.commands.data import data

    result = CliRunner().invoke(data, ["synth", "--count", "1", "--out", str(tmp_path), "--size", "8"])
    assert result.exit_code != 0 and "--size" in result.output
