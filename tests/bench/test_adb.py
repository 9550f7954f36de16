"""The adb target against a FAKE adb (no phone exists here): command lines, parsing, errors.

What is real: the argv given to adb, the quoting the device's shell would see, the parser run on
output in benchmark_model's documented format. What is simulated: the device and its timings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from asmnet_edge.bench.adb import parse_benchmark_output
from asmnet_edge.bench.config import BenchConfig, RemoteOptions
from asmnet_edge.bench.profiles import load_profile
from asmnet_edge.bench.run import run_bench
from asmnet_edge.errors import DeviceError

BINARY = "/data/local/tmp/benchmark_model"


def test_parse_documented_output(fixtures: Path) -> None:
    parsed = parse_benchmark_output((fixtures / "benchmark_model_output.txt").read_text())
    assert parsed["init_ms"] == 41.386 and parsed["first_inference_ms"] == 24.817
    assert parsed["warmup_mean_ms"] == 13.8046 and parsed["mean_ms"] == 10.9173
    assert (parsed["runs"], parsed["min_ms"], parsed["max_ms"], parsed["std_ms"]) == (
        50,
        10.422,
        12.931,
        0.412,
    )
    assert parsed["median_ms"] == 10.851 and parsed["p90_ms"] is None  # benchmark_model prints no p90
    assert parsed["memory_init_mb"] == 6.84375 and parsed["memory_overall_mb"] == 18.5078
    assert parsed["delegated_nodes"] == "70/70" and parsed["delegate_partitions"] == 1


def test_parse_older_output_with_scientific_notation() -> None:
    text = (
        "count=50 first=2990275 curr=2913402 min=2727568 max=3189954 avg=2.95034e+06 std=109798\n"
        "Inference timings in us: Init: 17187, First inference: 3512391, Warmup (avg): 3.51239e+06, "
        "Inference (avg): 2.95034e+06\nPeak memory footprint (MB): init=4.2 overall=46.1\n"
    )
    parsed = parse_benchmark_output(text)
    assert (
        parsed["mean_ms"] == 2950.34 and parsed["median_ms"] is None and parsed["memory_overall_mb"] == 46.1
    )


def test_output_without_summary_is_a_device_error() -> None:
    with pytest.raises(DeviceError, match="no timing summary: .*Failed to allocate tensors"):
        parse_benchmark_output("INFO: Loaded model m.tflite\nERROR: Failed to allocate tensors!\n")


def _config(fixtures: Path, **changes: object) -> BenchConfig:
    values = {
        "models": (fixtures / "bench68_int8.tflite",),
        "target": "adb:R58M12345",
        "threads": (1, 4, 16),
        "runs": 50,
        "warmup": 5,
        "device": load_profile("android_midrange"),
        "remote": RemoteOptions(connect_timeout_s=5, step_timeout_s=30),
        **changes,
    }
    return BenchConfig(**values)  # type: ignore[arg-type]


def test_benchmark_model_path_end_to_end(fake_adb, fixtures: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    weird = tmp_path / "a;touch pwned $(id).tflite"
    shutil.copy(fixtures / "bench68_int8.tflite", weird)
    report = run_bench(_config(fixtures, models=(weird,)))
    row = report.models[0]
    assert report.error is None and row.ok and row.backend == "benchmark_model"
    assert report.target["info"] == {
        "backend": "benchmark_model",
        "binary": BINARY,
        "cores": 8,
        "taskset": "f0",
    }
    good = [entry for entry in row.latency if entry.ok]
    assert [(e.threads, e.xnnpack) for e in good] == [(1, True), (1, False), (4, True), (4, False)]
    assert good[0].median_ms == 10.851 and row.init_ms == 41.386 and row.rss_peak_mb == 18.5078
    too_many = [entry for entry in row.latency if entry.threads == 16]
    assert all(e.error == "16 threads requested but adb:R58M12345 has 8 cores" for e in too_many)
    calls = fake_adb.calls()
    assert all(call[:2] == ["-s", "R58M12345"] for call in calls)
    pushes = [call for call in calls if call[2] == "push"]
    assert pushes[0][3] == str(weird) and pushes[0][4].endswith(
        "/model_0.tflite"
    )  # the phone never sees the name
    runs = [argv for argv in fake_adb.shell_calls() if argv[0] == "taskset"]
    assert runs[0][:3] == ["taskset", "f0", BINARY]
    assert (
        f"--graph={pushes[0][4]}" in runs[0]
        and "--num_threads=1" in runs[0]
        and "--use_xnnpack=false" in runs[1]
    )
    assert {"--num_runs=50", "--warmup_runs=5", "--min_secs=0"} <= set(runs[0])
    assert fake_adb.device_files() == []  # model and temp folder removed afterwards
    assert not list(Path.cwd().glob("pwned*"))


def test_device_offline_is_a_clear_error(fake_adb, fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_ADB_OFFLINE", "1")
    report = run_bench(_config(fixtures))
    assert "no usable adb device adb:R58M12345" in report.error and "adb devices" in report.error
    assert report.failed and report.models[0].macs is not None  # static facts still reported


def test_missing_benchmark_binary_names_the_fix(fake_adb, fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    report = run_bench(
        _config(fixtures, remote=RemoteOptions(adb_benchmark_binary="/data/local/tmp/bm_missing"))
    )
    assert "/data/local/tmp/bm_missing is not an executable" in report.error and "adb push" in report.error


def test_no_binary_and_no_python_on_the_phone(fake_adb, fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    report = run_bench(_config(fixtures, device=None, threads=(1,)))
    assert "has no 'python3'" in report.error and "--remote-python" in report.error
    assert fake_adb.device_files() == []  # the runner copied there was cleaned up


def test_adb_not_installed(fixtures: Path) -> None:
    report = run_bench(_config(fixtures, remote=RemoteOptions(adb_executable="/nonexistent/adb")))
    assert "adb executable '/nonexistent/adb' not found" in report.error


def test_phone_with_python_uses_the_runner(fake_adb, fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_ADB_PYTHON", "1")
    report = run_bench(_config(fixtures, device=None, threads=(1,), runs=4, warmup=1))
    row = report.models[0]
    assert report.error is None and row.ok and row.backend in ("ai_edge_litert", "tflite_runtime")
    assert report.target["kind"] == "adb" and row.latency_for(1).runs == 4
    pushed = [call[4] for call in fake_adb.calls() if call[2] == "push"]
    assert pushed[0].endswith("/remote_runner.py") and pushed[1].endswith("/model_0.tflite")
    assert all(path.startswith("/data/local/tmp/asmnet-bench.") for path in pushed)
    assert fake_adb.device_files() == []
