"""The CLI group: lists working subcommands, --json prints one object, errors exit non-zero."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from asmnet_edge.cli import SUBCOMMANDS, main


def test_help_lists_every_subcommand() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert f"  {name} " in result.output


def test_help_does_not_import_tensorflow() -> None:
    code = "import sys; from asmnet_edge.cli import main; print('tensorflow' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "False"


def test_eval_error_is_one_json_object_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    model = tmp_path / "m.tflite"
    model.write_bytes(
        Path(__file__).resolve().parents[1].joinpath("fixtures", "micro68_int8.tflite").read_bytes()
    )
    result = CliRunner().invoke(
        main, ["eval", "--model", str(model), "--data", str(tmp_path / "empty"), "--json"]
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and "no image with a .pts file" in payload["error"]


def test_eval_on_a_tflite_fixture(face_folder: Path) -> None:
    model = Path(__file__).resolve().parents[1] / "fixtures" / "micro68_int8.tflite"
    result = CliRunner().invoke(main, ["eval", "--model", str(model), "--data", str(face_folder), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["all"]["count"] == 6 and payload["all"]["nme_percent"] > 0
    assert set(payload["all"]["pose_mae_deg"]) == {"yaw", "pitch", "roll", "mean"}
    assert len(payload["per_image_nme_percent"]) == 6
