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
        str(fixtures / "bench68_fp32.tflite"),
        str(fixtures / "bench68_int8.tflite"),
        "--runs",
        "5",
        "--warmup",
        "1",
        "--json",
        str(tmp_path / "b.json"),
        "--markdown",
        str(tmp_path / "b.md"),
        "--csv",
        str(tmp_path / "b.csv"),
        "--plot",
        str(tmp_path / "b.png"),
    )
    assert result.exit_code == 0, result.output
    assert "bench68_int8" in result.output and "median ms" in result.output
    assert json.loads((tmp_path / "b.json").read_text())["schema_version"] == 1
    assert all((tmp_path / name).stat().st_size > 0 for name in ("b.md", "b.csv", "b.png"))


def test_json_stdout_is_one_object(fixtures: Path) -> None:
    result = _invoke(
        str(fixtures / "dense_10_4.tflite"), "--runs", "3", "--no-xnnpack-compare", "--json-stdout"
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)  # click >= 8.2 keeps stderr (progress logs) out of stdout
    assert data["ok"] is True and data["models"][0]["macs"] == 40
    assert [entry["xnnpack"] for entry in data["models"][0]["latency"]] == [True]


def test_only_failing_models_exit_1_but_still_write_reports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"nope")
    result = _invoke(str(bad), "--runs", "2", "--markdown", str(tmp_path / "b.md"))
    assert result.exit_code == 1
    assert "no model could be timed" in result.output
    assert "not a TFLite model" in (tmp_path / "b.md").read_text()


def test_user_errors_are_one_line(fixtures: Path) -> None:
    model = str(fixtures / "bench68_fp32.tflite")
    cases = {
        ("--target", "ftp://x"): "unknown target 'ftp://x'",
        ("--runs", "0"): "runs must be at least 1",
        ("--threads", "1,x"): "threads must be comma-separated integers",
        ("--device", "toaster"): "no device profile 'toaster'",
        ("--target", "ssh://-oProxyCommand=evil@host"): "bad user",
    }
    for args, message in cases.items():
        result = _invoke(model, *args)
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
