"""Shared fixtures (tiny labelled datasets the tests write themselves, a real photo) and the test tiers.

Tiers, by marker (``pyproject.toml`` lists them; ``--strict-markers`` refuses others):

- unmarked: fast and TensorFlow-free, on tiny .tflite files the tests build or commit
  (``tests/fixtures``): ``tests/unit``, ``tests/runtime``, ``tests/bench``, ``tests/android/test_static.py``,
  and the TF-free parts of ``tests/export`` (recipes) and ``tests/data``;
- ``tf``: needs TensorFlow/Keras, on a small ASMNet (alpha 0.35, 96 px): ``tests/tf`` and the
  exporter tests in ``tests/export``;
- ``slow``: minutes each (fresh virtual environments, whole exports, labelling with dlib); skipped
  unless ``pytest --run-slow`` (``scripts/test.sh``, which CI runs, passes it);
- ``synth`` (pyrender/OSMesa, in a process of its own: it cannot share one with TensorFlow),
  ``teacher`` (dlib), ``ssh`` (a local OpenSSH server), ``java`` (javac + JUnit): skipped with a
  reason when what they need is missing.

Folders group tests by the part of the package they check; a folder holds one tier except
``tests/export`` and ``tests/data``, whose modules carry their markers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.data.pts import write_pts


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="also run the tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with pytest --run-slow (scripts/test.sh does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real photo with one frontal face (scikit-image ships it; never committed here)."""
    data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(data.astronaut())


def mean_face_68(size: float = 100.0) -> np.ndarray:
    """A rough frontal 68-point face (iBUG order) spanning about ``size`` pixels, centred on 0."""
    jaw = np.column_stack([np.linspace(-0.5, 0.5, 17), 0.1 + 0.4 * np.cos(np.linspace(-1.3, 1.3, 17))])
    jaw[:, 1] = -0.1 + 0.55 * np.sqrt(1 - np.clip((jaw[:, 0] / 0.52) ** 2, 0, 1))
    brows = np.column_stack(
        [np.r_[np.linspace(-0.4, -0.08, 5), np.linspace(0.08, 0.4, 5)], np.full(10, -0.28)]
    )
    nose = np.column_stack([np.zeros(4), np.linspace(-0.15, 0.1, 4)])
    nostrils = np.column_stack([np.linspace(-0.1, 0.1, 5), np.full(5, 0.15)])
    eye = np.column_stack(
        [np.cos(np.linspace(np.pi, -np.pi, 7)[:6]) * 0.1, np.sin(np.linspace(np.pi, -np.pi, 7)[:6]) * 0.04]
    )
    eyes = np.vstack([eye + [-0.22, -0.15], eye + [0.22, -0.15]])
    mouth_outer = np.column_stack(
        [
            np.cos(np.linspace(np.pi, -np.pi, 13)[:12]) * 0.2,
            np.sin(np.linspace(np.pi, -np.pi, 13)[:12]) * 0.08 + 0.3,
        ]
    )
    mouth_inner = np.column_stack(
        [
            np.cos(np.linspace(np.pi, -np.pi, 9)[:8]) * 0.12,
            np.sin(np.linspace(np.pi, -np.pi, 9)[:8]) * 0.03 + 0.3,
        ]
    )
    shape = np.vstack([jaw, brows, nose, nostrils, eyes, mouth_outer, mouth_inner])
    assert shape.shape == (68, 2)
    return shape * size


def write_face_folder(
    folder: Path, count: int = 6, size: int = 160, seed: int = 0, poses: bool = True
) -> Path:
    """A 300W-style folder of synthetic 'faces' (an ellipse with dots) and their .pts (+ poses.csv)."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = ["file,yaw,pitch,roll,visible,source"]
    for index in range(count):
        scale = rng.uniform(0.45, 0.6) * size
        centre = np.array([size / 2, size / 2]) + rng.uniform(-8, 8, size=2)
        points = mean_face_68(scale) + centre
        image = np.full((size, size, 3), rng.integers(20, 80), np.uint8)
        cv2.ellipse(
            image,
            (int(centre[0]), int(centre[1] + 0.1 * scale)),
            (int(0.55 * scale), int(0.7 * scale)),
            0,
            0,
            360,
            (190, 160, 140),
            -1,
        )
        for x, y in points:
            cv2.circle(image, (int(round(x)), int(round(y))), 1, (30, 30, 30), -1)
        name = f"face_{index:03d}.png"
        cv2.imwrite(str(folder / name), image)
        write_pts(folder / name.replace(".png", ".pts"), points)
        rows.append(
            f"{name},{rng.uniform(-40, 40):.2f},{rng.uniform(-20, 20):.2f},{rng.uniform(-20, 20):.2f},,test"
        )
    if poses:
        (folder / "poses.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture
def face_folder(tmp_path: Path) -> Path:
    return write_face_folder(tmp_path / "faces")
