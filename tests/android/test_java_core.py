"""The Android demo's plain-Java core against the Python runtime, in one run.

Writes reference vectors with ``scripts/android_vectors.py`` (Python runtime, real photos from
scikit-image), then builds and runs the JUnit 4 tests with ``android_demo/core/run_tests.sh``:
crop and input tensor bytes must match exactly, landmarks within 1e-3 px, pose within 1e-4 deg; the
refine stage's aligned input (RGB + heatmap) within one grey level of the numpy warp on at most 0.1 %
of its bytes (measured: none), within 6 levels (mean 0.15) of OpenCV's, refined points within 1e-6 px;
the tracker's decisions exactly, the smoothed landmarks and pose within 1e-9.
Needs javac/java 17+ and Debian's junit4 (``apt-get install -y openjdk-17-jdk-headless junit4``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_TESTS = ROOT / "android_demo" / "core" / "run_tests.sh"
JARS = (Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest.jar"))

pytestmark = pytest.mark.java


def _require_java() -> None:
    missing = [tool for tool in ("javac", "java", "bash") if shutil.which(tool) is None]
    missing += [str(jar) for jar in JARS if not jar.exists()]
    if missing:
        pytest.skip(f"missing {missing}: apt-get install -y openjdk-17-jdk-headless junit4")
    pytest.importorskip("skimage", reason="the vectors use scikit-image's sample photos")


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_java()
    out = tmp_path_factory.mktemp("android_vectors")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "android_vectors.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_vectors_cover_real_images_edges_and_every_input_type(vectors: Path) -> None:
    manifest = json.loads((vectors / "manifest.json").read_text())
    cases = manifest["cases"]
    assert len({case["image"] for case in cases}) >= 3
    sizes = {info["file"]: (info["width"], info["height"]) for info in manifest["images"].values()}
    outside = [
        case["name"]
        for case in cases
        if case["box"][0] < 0
        or case["box"][1] < 0
        or case["box"][2] > sizes[case["image"]][0]
        or case["box"][3] > sizes[case["image"]][1]
    ]
    assert len(outside) >= 2, "boxes partly outside the image must be covered"
    for case in cases:
        assert {item["dtype"] for item in case["inputs"]} >= {"int8", "uint8", "float32"}
        assert sum(item["fed_to_model"] for item in case["inputs"]) == 1
        assert {run["outputs"]["landmarks"]["dtype"] for run in case["runs"]} >= {"uint8", "float32"}
        model_run = case["runs"][0]
        assert len(model_run["landmarks"]) == 2 * manifest["metadata"]["num_landmarks"]
    assert len(manifest["random_crops"]) >= 10


@pytest.fixture(scope="module")
def junit_output(vectors: Path) -> str:
    done = subprocess.run(
        ["bash", str(RUN_TESTS), str(vectors)], capture_output=True, text=True, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def test_java_core_reproduces_the_python_runtime(junit_output: str) -> None:
    output = junit_output
    ran = re.search(r"OK \((\d+) tests\)", output)
    assert ran is not None and int(ran.group(1)) >= 20, output[-2000:]
    parity = re.search(r"max landmark difference (\S+) px, max pose difference (\S+) deg", output)
    assert parity is not None, "the parity test did not run against the vectors"
    assert float(parity.group(1)) <= 1e-3
    assert float(parity.group(2)) <= 1e-4


def test_java_smoother_matches_python(junit_output: str) -> None:
    parity = re.search(
        r"smoothing parity: max landmark difference (\S+) px, max pose difference (\S+) deg \((\d+) frames\)",
        junit_output,
    )
    assert parity is not None, "the smoothing parity test did not run against the vectors"
    assert float(parity.group(1)) <= 1e-9 and float(parity.group(2)) <= 1e-9
    assert int(parity.group(3)) >= 100


def test_tracker_vectors_exercise_every_rule(vectors: Path) -> None:
    manifest = json.loads((vectors / "manifest.json").read_text())
    sequence, blind = manifest["tracker_sequence"], manifest["tracker_sequence_blind"]
    assert {"moved", "drift", "score"} <= set(sequence["reasons"]) and sequence["recrops"] > 3
    assert sequence["lost"] >= 2 and blind["lost"] >= 1
    frames = sequence["frames"] + blind["frames"]
    forgiven = [  # the detector missed, and the face was re-run on the same crop and kept
        frame
        for frame in frames
        if frame["detection"] is None
        and len(frame["runs"]) == 2
        and frame["runs"][0] == frame["runs"][1]
        and frame["kept"]
    ]
    assert len(forgiven) >= 2
    assert sum(frame["new_track"] for frame in frames) >= 4
    names = {entry["name"] for entry in manifest["smoothing"]}
    assert {"still_noisy", "moving_noisy", "turning_past_180"} == names


def test_refine_vectors_cover_sizes_perturbations_and_wrong_stage1s(vectors: Path) -> None:
    refine = json.loads((vectors / "manifest.json").read_text())["refine"]
    geometry = refine["geometry"]
    assert {entry["metadata"]["input_size"] for entry in geometry} >= {80, 96}
    assert {entry["metadata"]["refine"]["heatmap_patch_half"] % 1 for entry in geometry} == {0.0, 0.5}
    assert sum(entry["name"].startswith("astronaut_face_outside") for entry in geometry) == 2
    outside = next(entry for entry in geometry if entry["name"].startswith("astronaut_face_outside"))
    aligned = np.frombuffer((vectors / outside["aligned"]).read_bytes(), np.uint8).reshape(-1, 4)
    assert (aligned[:, :3] == 0).all(axis=1).mean() > 0.2, "the outside case must reach the black border"
    assert all(entry["aligned_opencv"] for entry in geometry), "OpenCV's warp is part of the comparison"
    assert len(refine["run"]["cases"]) >= 3
    errors = {entry["name"]: entry["error"] for entry in refine["checks"]}
    assert errors.pop("trained_stage1") is None
    assert all(errors.values()) and len(errors) >= 5


def test_java_refine_stage_matches_python(junit_output: str) -> None:
    parity = re.search(
        r"refine parity: max matrix difference (\S+), aligned bytes differing from numpy (\d+) of (\d+) "
        r"\(max (\d+) levels\), vs OpenCV max (\d+) levels mean (\S+) \((\d+) values\), "
        r"max point difference (\S+) px",
        junit_output,
    )
    assert parity is not None, "the refine parity test did not run against the vectors"
    matrix, differing, total, levels, opencv_max, opencv_mean, opencv_count, points = parity.groups()
    assert float(matrix) <= 1e-9
    assert int(differing) <= 1e-3 * int(total) and int(levels) <= 1
    assert int(opencv_count) > 0 and int(opencv_max) <= 6 and float(opencv_mean) <= 0.15
    assert float(points) <= 1e-6
    cascade = re.search(r"refine cascade parity: max landmark difference (\S+) px", junit_output)
    assert cascade is not None and float(cascade.group(1)) <= 1e-3


def test_run_tests_script_explains_its_usage() -> None:
    _require_java()
    done = subprocess.run(["bash", str(RUN_TESTS)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "usage:" in done.stderr and "android_vectors.py" in done.stderr
