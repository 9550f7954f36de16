"""The standalone runner: what it measures, how it fails, and that it runs without TF or asmnet_edge."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asmnet_edge.bench.targets import RUNNER_PATH


def _run(*args: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, str(RUNNER_PATH), *args], capture_output=True, text=True, timeout=300
    )
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_runner_runs_where_asmnet_edge_and_tensorflow_cannot_be_imported(
    fixtures: Path, tmp_path: Path
) -> None:
    """What a bare device has: Python, numpy and LiteRT. Imports of the rest fail; the run must not."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    for name in ("asmnet_edge", "tensorflow", "keras", "cv2", "click"):
        (blocked / f"{name}.py").write_text("raise ImportError('the runner must not import this')\n")
    wrapper = (
        "import runpy, sys\n"
        "sys.argv = sys.argv[1:]\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted({name.split('.')[0] for name in sys.modules}), file=sys.stderr)\n"
    )
    model = str(fixtures / "bench68_int8.tflite")
    args = ["run", "--model", model, "--runs", "2", "--warmup", "0", "--no-xnnpack-compare"]
    done = subprocess.run(
        [sys.executable, "-c", wrapper, str(RUNNER_PATH), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(blocked)},
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["configs"][0]["runs"] == 2, done.stderr
    loaded = set(ast.literal_eval(done.stderr.strip().splitlines()[-1]))
    assert "numpy" in loaded and not loaded & {"asmnet_edge", "tensorflow", "keras", "cv2", "click"}


def test_probe_reports_runtime_and_cores() -> None:
    code, info = _run("probe")
    assert code == 0 and info["ok"]
    assert info["backend"] in ("ai_edge_litert", "tflite_runtime")
    assert info["cores"] == len(os.sched_getaffinity(0))


def test_latency_structure_and_ordering(fixtures: Path) -> None:
    code, result = _run(
        "run",
        "--model",
        str(fixtures / "bench68_int8.tflite"),
        "--threads",
        "1",
        "--runs",
        "15",
        "--warmup",
        "2",
    )
    assert code == 0 and result["ok"] and result["error"] is None
    on, off = result["configs"]
    assert (on["threads"], on["xnnpack"], off["xnnpack"]) == (1, True, False)
    for entry in (on, off):
        assert entry["runs"] == 15 and len(entry["samples_ms"]) == 15
        assert entry["min_ms"] <= entry["median_ms"] <= entry["p90_ms"] <= entry["max_ms"]
        assert entry["spread"] == pytest.approx(entry["p90_ms"] / entry["median_ms"], rel=1e-3)
        assert entry["init_ms"] > 0 and entry["first_inference_ms"] > 0 and entry["outputs_finite"]
        assert min(entry["samples_ms"]) == entry["min_ms"]
    assert result["rss_baseline_mb"] <= result["rss_peak_first_mb"] <= result["rss_peak_mb"]


def test_threads_above_cores_is_an_error_entry(fixtures: Path) -> None:
    too_many = len(os.sched_getaffinity(0)) + 1
    code, result = _run(
        "run",
        "--model",
        str(fixtures / "bench68_fp32.tflite"),
        "--threads",
        f"1,{too_many}",
        "--runs",
        "3",
        "--warmup",
        "0",
        "--no-xnnpack-compare",
    )
    assert code == 0 and result["ok"]
    assert [entry["ok"] for entry in result["configs"]] == [True, False]
    assert (
        result["configs"][1]["error"]
        == f"{too_many} threads requested but this device has {too_many - 1} cores"
    )


def test_corrupt_model_is_a_failed_result_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    code, result = _run("run", "--model", str(bad), "--runs", "2")
    assert code == 0 and result["ok"] is False
    assert "ValueError" in result["error"] and all(not entry["ok"] for entry in result["configs"])


def test_missing_runtime_exits_3_with_install_hint(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True, timeout=120
    )
    done = subprocess.run(
        [str(tmp_path / "bare" / "bin" / "python"), str(RUNNER_PATH), "probe"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "pip install numpy ai-edge-litert" in json.loads(done.stdout)["error"]
