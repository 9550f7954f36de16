"""The suite re-uses a folder of exported models and writes every report file with its command."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from asmnet_edge.bench.suite import SuiteConfig, machine_name, run_suite
from asmnet_edge.errors import ConfigError
from asmnet_edge.exporters.recipe import ExportRecipe


def test_suite_on_a_folder_of_models(fixtures: Path, tmp_path: Path, face_folder: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for precision in ("fp32", "int8"):
        shutil.copy(fixtures / f"bench68_{precision}.tflite", models)
    shutil.copy(fixtures / "bench68_fp16.tflite", models / "a0.5_160_untrained__bench68_fp16.tflite")
    out = tmp_path / "results"
    report = run_suite(
        SuiteConfig(
            out_dir=out,
            models=(models,),
            threads=(1,),
            runs=5,
            warmup=1,
            accuracy_data=face_folder,
            command="asmnet-edge bench suite --model X",
        )
    )
    assert sorted(path.name for path in out.iterdir()) == [
        "README.md",
        "bench.csv",
        "bench.json",
        "bench.md",
        "bench.png",
        "pareto.png",
        "sizes.png",
    ]
    assert "asmnet-edge bench suite --model X" in (out / "README.md").read_text()
    data = json.loads((out / "bench.json").read_text())
    assert data["schema_version"] == 1 and len(data["models"]) == 3
    untrained = next(row for row in report.models if "untrained" in row.name)
    assert set(untrained.accuracy) == {"per_face"} and "size and speed only" in untrained.accuracy_error
    assert all("nme_change" not in item for item in report.ratios if item["model"] == untrained.name)
    assert untrained.latency_for(1) is not None
    assert next(row for row in report.models if row.name == "bench68_int8").vs_fp32 is not None


def test_suite_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"no .tflite file in {tmp_path}"):
        run_suite(SuiteConfig(out_dir=tmp_path / "out", models=(tmp_path,)))


def test_unknown_precision_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown precisions \\['int4'\\]"):
        SuiteConfig(out_dir=tmp_path, precisions=("fp32", "int4"))


def test_machine_name_is_a_folder_name() -> None:
    name = machine_name()
    assert name.endswith("c") and "/" not in name and " " not in name


class FakeExport:
    """Stands in for ``export_model`` (no TF in this tier): writes one file per call, or fails."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[ExportRecipe, str | None, float | None]] = []
        self.error = error

    def __call__(self, recipe, model, out, landmark_sign=None, log=None):  # type: ignore[no-untyped-def]
        self.calls.append((recipe, model, landmark_sign))
        if self.error is not None:
            raise self.error
        (precision,) = recipe.precisions
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"asmnet68_{precision}.tflite").write_bytes(b"x")


def test_export_step_calls_the_export_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without models the suite calls ``export_model`` once per variant and precision, and resumes."""
    from asmnet_edge.bench import suite

    fake = FakeExport()
    monkeypatch.setattr(suite, "export_model", fake)
    monkeypatch.setattr(
        suite, "_untrained_model", lambda alpha, size, folder: f"{folder}/a{alpha}_{size}.keras"
    )
    config = SuiteConfig(
        out_dir=tmp_path / "out", untrained_variants=((0.5, 160),), precisions=("fp32", "int8")
    )
    folder = suite.export_models(config, tmp_path, progress=lambda message: None)
    assert [(recipe.precisions, model) for recipe, model, _ in fake.calls] == [
        (("fp32",), None),
        (("int8",), None),
        (("fp32",), f"{tmp_path}/a0.5_160.keras"),
        (("int8",), f"{tmp_path}/a0.5_160.keras"),
    ]
    trained, untrained = fake.calls[0], fake.calls[2]
    assert trained[0].max_nme_increase is None and trained[2] is None  # the precision's own gate
    assert untrained[0].max_nme_vs_float == 1e9 and untrained[2] == 1.0  # random weights: size and speed
    suite.export_models(config, tmp_path, progress=lambda message: None)
    assert len(fake.calls) == 4  # a second run with the same work folder resumes: nothing re-exported
    names = sorted(path.name for path in suite.collect_models(folder))
    assert names == [
        "a0.5_160_untrained__asmnet68_fp32.tflite",
        "a0.5_160_untrained__asmnet68_int8.tflite",
        "default__asmnet68_fp32.tflite",
        "default__asmnet68_int8.tflite",
    ]


def test_failed_export_is_an_error_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from asmnet_edge.bench import suite
    from asmnet_edge.errors import DataError, ExportError

    monkeypatch.setattr(suite, "export_model", FakeExport(DataError("no trained default model yet")))
    config = SuiteConfig(out_dir=tmp_path / "out", untrained_variants=(), precisions=("fp32", "int8"))
    with pytest.raises(ExportError, match="exporting default fp32 failed: no trained default model yet"):
        suite.export_models(config, tmp_path, progress=lambda message: None)
    failures: list = []
    suite.export_models(config, tmp_path, progress=lambda message: None, failures=failures)
    assert [(row.name, row.ok, row.precision) for row in failures] == [
        ("default__fp32", False, "fp32"),
        ("default__int8", False, "int8"),
    ]
    assert failures[0].error == "DataError: no trained default model yet"
    with pytest.raises(ExportError, match="every export failed; the first: DataError: no trained"):
        run_suite(dataclasses.replace(config, work_dir=tmp_path / "work"))


def test_suite_command_json(fixtures: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from asmnet_edge.cli import main

    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(fixtures / "bench68_int8.tflite", models)
    out = tmp_path / "results"
    args = ["bench", "suite", "--model", str(models), "--out", str(out), "--runs", "2", "--warmup", "0"]
    result = CliRunner().invoke(main, [*args, "--threads", "1", "--no-xnnpack-compare", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["out"] == str(out) and data["models"][0]["name"] == "bench68_int8"
    assert {"README.md", "bench.json", "bench.md", "pareto.png"} <= {path.name for path in out.iterdir()}
