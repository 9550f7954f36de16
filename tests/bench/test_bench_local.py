"""run_bench on this machine: rows, error rows, ratios, accuracy against the float model, report files."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.bench.report_files import CSV_COLUMNS, write_reports
from asmnet_edge.bench.results import SCHEMA_VERSION, BenchReport, LatencyEntry
from asmnet_edge.bench.run import run_bench
from asmnet_edge.errors import ConfigError


@pytest.fixture(scope="module")
def report(fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> BenchReport:
    folder = tmp_path_factory.mktemp("models")
    not_tflite = folder / "notes_int8.tflite"
    not_tflite.write_text("this is a text file, not a model")
    from tests.conftest import write_face_folder

    faces = write_face_folder(folder / "faces", count=6)
    models = tuple(fixtures / f"bench68_{name}.tflite" for name in ("fp32", "fp16", "int8"))
    too_many = len(os.sched_getaffinity(0)) + 1
    config = BenchConfig(
        models=(*models, not_tflite, folder / "missing.tflite", fixtures / "dense_10_4.tflite"),
        threads=(1, too_many),
        runs=8,
        warmup=1,
        accuracy_data=faces,
    )
    return run_bench(config)


def test_good_models_have_latency_per_thread_and_xnnpack_mode(report: BenchReport) -> None:
    fp32 = report.models[0]
    assert fp32.ok and fp32.precision == "fp32" and fp32.variant == "a1_32_68pt"
    assert [(e.threads, e.xnnpack, e.ok) for e in fp32.latency][:2] == [
        (1, True, True),
        (1, False, True),
    ]
    entry = fp32.latency_for(1)
    assert entry.min_ms <= entry.median_ms <= entry.p90_ms <= entry.max_ms
    assert fp32.macs == 8 * 8 * 8 * 27 + 8 * 139 and fp32.size_bytes == Path(fp32.path).stat().st_size
    assert 0 < fp32.gzip_bytes < fp32.size_bytes and len(fp32.sha256) == 64
    assert fp32.rss_peak_mb > fp32.rss_baseline_mb > 0 and fp32.init_ms > 0


def test_thread_count_above_cores_is_an_error_for_that_row_only(report: BenchReport) -> None:
    too_many = len(os.sched_getaffinity(0)) + 1
    failed = [e for e in report.models[0].latency if e.threads == too_many]
    assert failed and all(not e.ok and "cores" in e.error for e in failed)
    assert report.models[0].ok


def test_bad_files_are_rows_with_their_error(report: BenchReport) -> None:
    by_name = {row.name: row for row in report.models}
    assert by_name["notes_int8"].ok is False and "not a TFLite model" in by_name["notes_int8"].error
    assert by_name["missing"].ok is False and "cannot read" in by_name["missing"].error
    assert by_name["notes_int8"].latency == [] and not report.failed


def test_model_without_metadata_is_timed_but_has_no_accuracy(report: BenchReport) -> None:
    plain = next(row for row in report.models if row.name == "dense_10_4")
    assert plain.ok and plain.latency_for(1) is not None and plain.variant == "unknown"
    assert plain.accuracy is None and "metadata" in plain.accuracy_error


def test_accuracy_and_change_against_fp32(report: BenchReport) -> None:
    fp32, fp16, int8 = report.models[:3]
    # the fixtures predict the test face's mean shape: close to the labels, far from perfect
    assert 0.1 < fp32.accuracy["nme_percent"] < 8.0
    assert fp32.accuracy["count"] == 6 and set(fp32.accuracy["pose_mae_deg"]) >= {"yaw", "pitch", "roll"}
    assert fp32.vs_fp32 is None and fp16.vs_fp32["fp32_model"] == "bench68_fp32"
    assert abs(fp16.vs_fp32["nme_percent_change"]) < 0.05 and fp16.vs_fp32["nme_vs_fp32_percent"] < 0.1
    assert int8.vs_fp32["nme_vs_fp32_percent"] > fp16.vs_fp32["nme_vs_fp32_percent"]
    assert int8.vs_fp32["nme_percent_change"] == pytest.approx(
        int8.accuracy["nme_percent"] - fp32.accuracy["nme_percent"]
    )
    assert fp32.accuracy["per_face"]["faces"] == 6


def test_ratios_against_fp32_of_the_same_variant(report: BenchReport) -> None:
    ratios = {(item["model"], item["threads"]): item for item in report.ratios}
    int8 = ratios[("bench68_int8", 1)]
    fp32, model = report.models[0], report.models[2]
    assert int8["versus"] == "bench68_fp32"
    assert int8["latency_ratio"] == pytest.approx(
        model.latency_for(1).median_ms / fp32.latency_for(1).median_ms, rel=1e-2
    )
    assert int8["size_ratio"] == pytest.approx(model.size_bytes / fp32.size_bytes, rel=1e-2)
    assert ("bench68_fp32", 1) not in ratios


def test_reports_are_written_and_parseable(report: BenchReport, tmp_path: Path) -> None:
    paths = [tmp_path / "out" / name for name in ("r.json", "r.md", "r.csv", "r.png")]
    written = write_reports(report, *paths)
    assert written == [str(path) for path in paths]
    data = json.loads(paths[0].read_text())
    assert data["schema_version"] == SCHEMA_VERSION and data["tool"] == "asmnet-edge bench"
    assert BenchReport.from_dict(data).models == report.models  # typed entries survive the JSON
    entry = data["models"][0]["latency"][0]
    assert {"threads", "xnnpack", "ok", "error", "median_ms", "p90_ms", "samples_ms"} <= set(entry)
    assert len(entry["samples_ms"]) == entry["runs"] and entry["error"] is None
    markdown = paths[1].read_text()
    assert "| model | precision | variant | size MB |" in markdown and "## Errors" in markdown
    assert "## Accuracy not measured" in markdown and "dense_10_4" in markdown
    assert "not a TFLite model" in markdown
    rows = list(csv.DictReader(io.StringIO(paths[2].read_text())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert {row["model"] for row in rows} >= {"bench68_fp32", "notes_int8", "missing"}
    assert paths[3].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "out").glob(".*tmp*"))  # atomic writes leave no temp file


def test_report_from_a_newer_schema_is_refused() -> None:
    with pytest.raises(ConfigError, match="schema version 99"):
        BenchReport.from_dict({"schema_version": 99})


def test_latency_entries_load_strictly() -> None:
    failed = LatencyEntry.from_dict({"threads": 8, "xnnpack": True, "ok": False, "error": "8 > 4 cores"})
    assert failed.to_dict() == {"threads": 8, "xnnpack": True, "ok": False, "error": "8 > 4 cores"}
    with pytest.raises(ConfigError, match="latency entry: unknown key 'median'"):
        LatencyEntry.from_dict({"threads": 1, "xnnpack": True, "median": 3.0})
    with pytest.raises(ConfigError, match="latency entry: key 'median_ms' must be number or null"):
        LatencyEntry.from_dict({"threads": 1, "xnnpack": True, "median_ms": "3"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"runs": 0}, "runs must be at least 1"),
        ({"warmup": -1}, "warmup must be 0 or more"),
        ({"threads": (0,)}, "thread counts must be positive"),
        ({"models": ()}, "no model given"),
        ({"peers": ("opencv",), "accuracy_data": "x"}, "unknown peers"),
        ({"peers": ("dlib",)}, "give --data DATA"),
    ],
)
def test_bad_configuration_is_a_config_error(kwargs: dict, message: str) -> None:
    values = {"models": ("m.tflite",), **kwargs}
    with pytest.raises(ConfigError, match=message):
        BenchConfig(**values)


def test_unknown_target_fails_before_anything_runs(fixtures: Path) -> None:
    with pytest.raises(ConfigError, match="unknown target 'ftp://host'"):
        run_bench(BenchConfig(models=(fixtures / "bench68_fp32.tflite",), target="ftp://host"))


def test_bench_never_imports_tensorflow(fixtures: Path, face_folder: Path) -> None:
    """The whole no-TF path (static facts, timing, accuracy, reports) in a fresh interpreter."""
    import subprocess
    import sys

    model, faces = str(fixtures / "bench68_int8.tflite"), str(face_folder)
    code = (
        "import sys\n"
        "from asmnet_edge.bench.config import BenchConfig\n"
        "from asmnet_edge.bench.run import run_bench\n"
        "from asmnet_edge.bench.report_files import markdown_report\n"
        f"config = BenchConfig(models=({model!r},), runs=2, warmup=0, accuracy_data={faces!r})\n"
        "report = run_bench(config)\n"
        "markdown_report(report)\n"
        "assert report.models[0].accuracy is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
