"""The suite re-uses a folder of exported models and writes every report file with its command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from asmnet_edge.bench.suite import SuiteConfig, machine_name, run_suite
from asmnet_edge.errors import ConfigError


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
            models_dir=models,
            threads=(1,),
            runs=5,
            warmup=1,
            accuracy_data=face_folder,
            command="python benchmarks/run_suite.py --models X",
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
    assert "python benchmarks/run_suite.py --models X" in (out / "README.md").read_text()
    data = json.loads((out / "bench.json").read_text())
    assert data["schema_version"] == 1 and len(data["models"]) == 3
    untrained = next(row for row in report.models if "untrained" in row.name)
    assert set(untrained.accuracy) == {"per_face"} and "size and speed only" in untrained.accuracy_error
    assert all("nme_change" not in item for item in report.ratios if item["model"] == untrained.name)
    assert untrained.latency_for(1) is not None
    assert next(row for row in report.models if row.name == "bench68_int8").vs_fp32 is not None


def test_suite_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no .tflite file"):
        run_suite(SuiteConfig(out_dir=tmp_path / "out", models_dir=tmp_path))


def test_unknown_precision_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown precisions \\['int4'\\]"):
        SuiteConfig(out_dir=tmp_path, precisions=("fp32", "int4"))


def test_machine_name_is_a_folder_name() -> None:
    name = machine_name()
    assert name.endswith("c") and "/" not in name and " " not in name


def test_export_step_calls_the_export_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --models the suite runs `asmnet-edge export` per variant (faked here: no TF in this tier)."""
    import subprocess

    from asmnet_edge.bench import suite

    calls: list[list[str]] = []

    def fake_run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        calls.append(argv)
        out = Path(argv[argv.index("--out") + 1])
        out.mkdir(parents=True, exist_ok=True)
        for flag in (arg for arg in argv if arg in ("--fp32", "--int8")):
            (out / f"asmnet68_{flag[2:]}.tflite").write_bytes(b"x")
        return subprocess.CompletedProcess(argv, 0, "{}", "")

    monkeypatch.setattr(suite.subprocess, "run", fake_run)
    monkeypatch.setattr(
        suite, "_untrained_model", lambda alpha, size, folder: f"{folder}/a{alpha}_{size}.keras"
    )
    config = SuiteConfig(
        out_dir=tmp_path / "out", untrained_variants=((0.5, 160),), precisions=("fp32", "int8")
    )
    folder = suite.export_models(config, tmp_path, progress=lambda message: None)
    assert [call[3:5] for call in calls] == [["export", "--out"]] * 4  # one call per variant and precision
    assert [[arg for arg in call if arg in ("--fp32", "--int8")] for call in calls] == [
        ["--fp32"],
        ["--int8"],
    ] * 2
    assert "--model" not in calls[0] and calls[2][calls[2].index("--model") + 1].endswith("a0.5_160.keras")
    assert "--max-nme-increase" not in calls[0] and "--landmark-sign" in calls[2]
    suite.export_models(config, tmp_path, progress=lambda message: None)
    assert len(calls) == 4  # a second run with the same work folder resumes: nothing re-exported
    names = sorted(path.name for path in suite.collect_models(folder))
    assert names == [
        "a0.5_160_untrained__asmnet68_fp32.tflite",
        "a0.5_160_untrained__asmnet68_int8.tflite",
        "default__asmnet68_fp32.tflite",
        "default__asmnet68_int8.tflite",
    ]


def test_failed_export_is_an_export_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from asmnet_edge.bench import suite
    from asmnet_edge.errors import ExportError

    monkeypatch.setattr(
        suite.subprocess,
        "run",
        lambda argv, **kwargs: subprocess.CompletedProcess(
            argv, 1, "", "Error: no trained default model yet\n"
        ),
    )
    config = SuiteConfig(out_dir=tmp_path / "out", untrained_variants=(), precisions=("fp32", "int8"))
    with pytest.raises(ExportError, match="no trained default model yet"):
        suite.export_models(config, tmp_path, progress=lambda message: None)
    failures: list = []
    suite.export_models(config, tmp_path, progress=lambda message: None, failures=failures)
    assert [(row.name, row.ok, row.precision) for row in failures] == [
        ("default__fp32", False, "fp32"),
        ("default__int8", False, "int8"),
    ]
    assert "no trained default model yet" in failures[0].error
