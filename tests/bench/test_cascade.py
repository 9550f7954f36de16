"""``asmnet-edge bench --refine``: ASMNet + refine as one row (TF-free, on the committed micro fixtures).

Stage 1 is ``tests/fixtures/micro68_{fp32,int8}.tflite`` re-embedded with the weights sha256 that the
refine fixture ``micro_refine68_fp32.tflite`` names (micro68's own metadata has none; see
``tests/fixtures/make_refine_fixture.py``), written by the test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from asmnet_edge.bench.cascade import cascade_rows
from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.bench.report_files import markdown_report
from asmnet_edge.bench.results import BenchReport
from asmnet_edge.bench.run import run_bench
from asmnet_edge.bench.static import describe_model
from asmnet_edge.cli import main
from asmnet_edge.runtime.metadata import embed_metadata, read_tflite_metadata

MODELS = Path(__file__).resolve().parents[1] / "fixtures"
REFINE = MODELS / "micro_refine68_fp32.tflite"
FIXTURE_SHA = hashlib.sha256(b"micro68 fixture").hexdigest()  # make_refine_fixture.STAGE1_SHA256


def write_stage1(folder: Path, precision: str, sha: str = FIXTURE_SHA) -> Path:
    """micro68 of ``precision`` with ``sha`` as its weights sha256 (its refine stage's stage 1)."""
    source = MODELS / f"micro68_{precision}.tflite"
    meta = dataclasses.replace(read_tflite_metadata(source), weights_sha256=sha)
    out = folder / f"stage1_{precision}.tflite"
    out.write_bytes(embed_metadata(source.read_bytes(), meta))
    return out


@pytest.fixture(scope="module")
def stage1(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stage1")
    return {precision: write_stage1(folder, precision) for precision in ("fp32", "int8")}


@pytest.fixture(scope="module")
def report(stage1: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> BenchReport:
    from tests.conftest import write_face_folder

    faces = write_face_folder(tmp_path_factory.mktemp("faces"), count=6)
    config = BenchConfig(
        models=(stage1["int8"], stage1["fp32"]), refines=(REFINE,), runs=6, warmup=1, accuracy_data=faces
    )
    return run_bench(config)


def test_the_cascade_is_one_row_with_both_stages_summed(report: BenchReport, stage1: dict[str, Path]) -> None:
    first, refine = describe_model(stage1["fp32"]), describe_model(REFINE)
    row = report.models[-1]
    # the refine stage is fp32: it pairs with the fp32 stage 1, though int8 was given first
    assert row.name == "stage1_fp32+micro_refine68_fp32" and row.precision == "fp32" and row.ok
    assert [part["path"] for part in row.stages or []] == [str(stage1["fp32"]), str(REFINE)]
    assert row.macs == first.macs + refine.macs and row.size_bytes == first.size_bytes + refine.size_bytes
    assert row.parameters == first.parameters + refine.parameters
    assert row.per_op["FULLY_CONNECTED"]["count"] == (
        first.per_op["FULLY_CONNECTED"]["count"] + refine.per_op["FULLY_CONNECTED"]["count"]
    )


def test_the_cascade_is_timed_end_to_end_with_its_parts(report: BenchReport) -> None:
    row, alone = report.models[-1], report.models[1]
    entry = row.latency_for(1)
    assert entry is not None and entry.runs == 6 and entry.outputs_finite
    assert row.latency_for(1, xnnpack=False) is not None
    parts = entry.parts_median_ms or {}
    assert set(parts) == {"stage1", "between", "refine"} and all(value > 0 for value in parts.values())
    # a run is the sum of its parts, so the median is at least the largest part's median
    assert entry.median_ms >= max(parts.values())
    # the warp, the heatmap and a second interpreter cost more than the stage-1 interpreter alone
    assert entry.median_ms > alone.latency_for(1).median_ms
    ratio = next(item for item in report.ratios if item["model"] == row.name and item["versus"] == alone.name)
    assert ratio["latency_ratio"] > 1 and ratio["size_ratio"] > 1


def test_the_cascade_scores_the_refined_points_and_stage1s_pose(report: BenchReport) -> None:
    row, alone = report.models[-1], report.models[1]
    scores, plain = row.accuracy or {}, alone.accuracy or {}
    assert scores["count"] == 6 and "Cascade.run" in scores["per_face"]["what"]
    # the fixture moves every point 0.05 of the aligned crop to the right: the NME changes, the pose not
    assert abs(scores["nme_percent"] - plain["nme_percent"]) > 0.5
    assert scores["pose_mae_deg"] == plain["pose_mae_deg"]


def test_report_files_list_the_cascade_parts(report: BenchReport) -> None:
    text = markdown_report(report)
    assert "## Cascades" in text and "stage1_fp32 + micro_refine68_fp32" in text
    again = BenchReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.models[-1].stages == report.models[-1].stages
    assert again.models[-1].latency[0].parts_median_ms == report.models[-1].latency[0].parts_median_ms


def test_a_refine_stage_without_its_stage1_is_an_error_row(tmp_path: Path) -> None:
    other = write_stage1(tmp_path, "fp32", sha="ab" * 32)
    rows = cascade_rows([describe_model(other), describe_model(MODELS / "micro68_int8.tflite")], [REFINE])
    assert len(rows) == 1 and not rows[0].ok and rows[0].name == "cascade:micro_refine68_fp32"
    error = rows[0].error or ""
    assert error.startswith("no --model is the stage 1 micro_refine68_fp32 was trained behind")
    assert "weights sha256 6d5161357b14 (given abababababab)" in error and "(given )" in error
    not_refine = cascade_rows([describe_model(other)], [other])[0]
    assert not not_refine.ok and "is not a refine stage (architecture 'asmnet')" in (not_refine.error or "")


def test_cli_refine_adds_the_row(stage1: dict[str, Path]) -> None:
    args = ["bench", "--model", str(stage1["int8"]), "--refine", str(REFINE), "--runs", "3"]
    result = CliRunner().invoke(main, [*args, "--warmup", "0", "--no-xnnpack-compare", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    cascade = data["models"][-1]
    assert cascade["name"] == "stage1_int8+micro_refine68_fp32" and cascade["precision"] == "int8+fp32"
    assert cascade["latency"][0]["ok"] and set(cascade["latency"][0]["parts_median_ms"]) == {
        "stage1",
        "between",
        "refine",
    }


def _adb_config(stage1: Path, **changes: object) -> BenchConfig:
    from asmnet_edge.bench.config import RemoteOptions

    values = {
        "models": (stage1,),
        "refines": (REFINE,),
        "target": "adb:R58M12345",
        "runs": 3,
        "warmup": 0,
        "xnnpack_compare": False,
        "remote": RemoteOptions(connect_timeout_s=5, step_timeout_s=60),
        **changes,
    }
    return BenchConfig(**values)  # type: ignore[arg-type]


def test_a_phone_with_python_times_the_cascade_there(  # type: ignore[no-untyped-def]
    fake_adb, stage1: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ADB_PYTHON", "1")  # the SIMULATED phone runs this machine's Python
    report = run_bench(_adb_config(stage1["fp32"]))
    row = report.models[-1]
    assert report.error is None and row.ok and row.latency_for(1).runs == 3
    shell = [call for call in fake_adb.shell_calls() if "asmnet_edge.bench.cascade_runner" in call]
    assert len(shell) == 1 and shell[0][:3] == ["python3", "-m", "asmnet_edge.bench.cascade_runner"]
    assert fake_adb.device_files() == []  # both copied models were removed


def test_benchmark_model_cannot_time_a_cascade_and_says_so(fake_adb, stage1: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    from asmnet_edge.bench.config import RemoteOptions

    remote = RemoteOptions(adb_benchmark_binary="/data/local/tmp/benchmark_model")
    report = run_bench(_adb_config(stage1["fp32"], remote=remote))
    plain, cascade = report.models
    assert plain.ok and report.error is None
    assert not cascade.ok and "benchmark_model times one graph" in (cascade.error or "")
