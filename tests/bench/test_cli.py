"""`asmnet-edge bench`: the thin command, its exit codes and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from asmnet_edge.cli import main


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["bench", *args])


def test_bench_prints_table_and_writes_files(fixtures: Path, tmp_path: Path) -> None:
    result = _invoke(
        "--model",
        str(fixtures / "bench68_fp32.tflite"),
        "--model",
        str(fixtures / "bench68_int8.tflite"),
        "--runs",
        "5",
        "--warmup",
        "1",
        "--out",
        str(tmp_path / "reports"),
    )
    assert result.exit_code == 0, result.output
    assert "bench68_int8" in result.output and "median ms" in result.output
    reports = tmp_path / "reports"
    assert json.loads((reports / "bench.json").read_text())["schema_version"] == 1
    assert sorted(path.name for path in reports.iterdir()) == [
        "bench.csv",
        "bench.json",
        "bench.md",
        "bench.png",
    ]
    assert all(path.stat().st_size > 0 for path in reports.iterdir())


def test_json_is_one_object_and_run_is_the_default_subcommand(fixtures: Path, tmp_path: Path) -> None:
    args = ["--model", str(fixtures / "dense_10_4.tflite"), "--runs", "3", "--no-xnnpack-compare", "--json"]
    for result in (_invoke(*args), _invoke("run", *args)):
        assert result.exit_code == 0
        data = json.loads(result.stdout)  # click >= 8.2 keeps stderr (progress logs) out of stdout
        assert data["ok"] is True and data["models"][0]["macs"] == 40 and data["written"] == []
        assert [entry["xnnpack"] for entry in data["models"][0]["latency"]] == [True]


def test_a_folder_stands_for_its_models_and_threads_repeat(fixtures: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "models"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(fixtures / "dense_10_4.tflite", folder / "a.tflite")
    shutil.copy(fixtures / "dense_10_4.tflite", folder / "sub" / "b.tflite")
    result = _invoke(
        "--model",
        str(folder),
        "--runs",
        "2",
        "--threads",
        "1",
        "--threads",
        "2",
        "--no-xnnpack-compare",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [row["name"] for row in data["models"]] == ["a", "b"]
    assert sorted(entry["threads"] for entry in data["models"][0]["latency"]) == [1, 2]


def test_only_failing_models_exit_1_but_still_write_reports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"nope")
    result = _invoke("--model", str(bad), "--runs", "2", "--out", str(tmp_path), "--no-plot")
    assert result.exit_code == 1
    assert "no model could be timed" in result.output
    assert "not a TFLite model" in (tmp_path / "bench.md").read_text()
    assert not (tmp_path / "bench.png").exists()


def test_user_errors_are_one_line(fixtures: Path, tmp_path: Path) -> None:
    model = str(fixtures / "bench68_fp32.tflite")
    cases = {
        ("--target", "ftp://x"): "unknown target 'ftp://x'",
        ("--runs", "0"): "runs must be at least 1",
        ("--device", "toaster"): "no device profile 'toaster'",
        ("--target", "ssh://-oProxyCommand=evil@host"): "bad user",
        ("--model", str(tmp_path)): f"no .tflite file in {tmp_path}",
    }
    for args, message in cases.items():
        result = _invoke("--model", model, *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_default_models_folder(tmp_path: Path, fixtures: Path) -> None:
    import shutil

    import pytest

    from asmnet_edge.bench.config import default_models
    from asmnet_edge.errors import ConfigError

    with pytest.raises(ConfigError, match="no model given and no embedded default model"):
        default_models(tmp_path)
    shutil.copy(fixtures / "bench68_int8.tflite", tmp_path / "asmnet68_int8.tflite")
    assert default_models(tmp_path) == (tmp_path / "asmnet68_int8.tflite",)


def test_threads_are_integers(fixtures: Path) -> None:
    result = _invoke("--model", str(fixtures / "bench68_fp32.tflite"), "--threads", "1,2")
    assert result.exit_code == 2 and "'1,2' is not a valid integer" in result.output
