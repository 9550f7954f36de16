"""``asmnet-edge export`` end to end, and every bad input's one-line message."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from asmnet_edge.commands.export import export
from tests.export.conftest import LOOSE_GATES

pytestmark = pytest.mark.tf


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(export, list(args))
    return result.exit_code, result.output


def test_cli_json_int8_with_float_layers_and_debug(
    tiny_model_path: Path, face_folders, tmp_path: Path
) -> None:
    calib, evaluation = face_folders
    out = tmp_path / "out"
    command = [
        "asmnet-edge",
        "export",
        "--model",
        str(tiny_model_path),
        "--int8",
        "--calib",
        str(calib),
        "--eval",
        str(evaluation),
        "--calib-count",
        "16",
        "--eval-count",
        "4",
        "--float-layers",
        "O_L",
        "--int8-float",
        "none",  # only the listed layer in float, not the recipe's default set too
        "--debug",
        "--max-nme-increase",
        "50",
        "--max-pose-increase",
        "50",
        "--max-nme-vs-float",
        "50",
        "--out",
        str(out),
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert result["ok"] and list(result["models"]) == ["int8"]
    assert "warning: calib_count 16 is below 100" in done.stderr
    report = json.loads(Path(result["models"]["int8"]["report"]).read_text())
    assert report["debug"]["float_layers"] == ["O_L"] and report["debug"]["float_nodes"]
    ranking = report["debug"]["layers"]
    assert 1 <= len(ranking) <= 10
    assert ranking == sorted(ranking, key=lambda row: -row["rmse_over_scale"])
    assert report["io"] == "float32" and report["ops"]["FULLY_CONNECTED"] == 2


def test_missing_model_json_error(tmp_path: Path) -> None:
    code, output = _run(
        "--model", str(tmp_path / "nope.keras"), "--fp16", "--out", str(tmp_path / "o"), "--json"
    )
    assert code == 1
    error = json.loads(output)
    assert error["ok"] is False and error["error_type"] == "ModelError"
    assert error["error"] == f"model file {tmp_path / 'nope.keras'} does not exist"


def test_corrupt_model(tmp_path: Path) -> None:
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip archive")
    code, output = _run("--model", str(bad), "--fp16", "--out", str(tmp_path / "o"))
    assert code == 1 and "is not a loadable Keras 3 model archive" in output
    assert not list((tmp_path / "o").glob("*.tflite"))


def test_not_an_asmnet(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((8,), name="image")
    other = keras.Model(inputs, keras.layers.Dense(3, name="head")(inputs), name="other")
    path = tmp_path / "other.keras"
    other.save(path)
    code, output = _run("--model", str(path), "--fp16", "--out", str(tmp_path / "o"))
    assert code == 1 and "is not an ASMNet" in output and "O_L" in output


def test_empty_and_imageless_calibration_folders(tiny_model_path: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "o"
    code, output = _run("--model", str(tiny_model_path), "--int8", "--calib", str(empty), "--out", str(out))
    assert code == 1 and f"no image with a .pts file in {empty}" in output
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("no faces here")
    code, output = _run(
        "--model",
        str(tiny_model_path),
        "--int8",
        "--calib",
        str(notes),
        "--format",
        "images",
        "--out",
        str(out),
    )
    assert code == 1 and "no usable face in images:notes" in output and "not a decodable image" in output
    assert not list(out.glob("*.tflite"))


def test_unwritable_output_folder(tiny_model_path: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, output = _run("--model", str(tiny_model_path), "--fp16", "--out", str(blocker / "sub"))
    assert code == 1 and f"cannot write to output folder {blocker / 'sub'}" in output


def test_io_without_an_integer_precision(tiny_model_path: Path, tmp_path: Path) -> None:
    code, output = _run("--model", str(tiny_model_path), "--fp16", "--io", "uint8", "--out", str(tmp_path))
    assert code == 1 and "--io uint8 needs an integer precision (int8)" in output


def test_tensorflow_conversion_error_is_one_line(keras_source, monkeypatch: pytest.MonkeyPatch) -> None:
    import tensorflow as tf

    from asmnet_edge.errors import ExportError
    from asmnet_edge.exporters import convert as convert_module
    from asmnet_edge.exporters import converter as converter_module

    def broken(converter, precision, io_type, dataset):  # full-integer ops without a calibration set
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter

    monkeypatch.setattr(converter_module, "configure_converter", broken)
    with pytest.raises(ExportError) as err:
        convert_module.convert(keras_source, "fp32", "float32")
    message = str(err.value)
    assert message.startswith("TensorFlow could not convert the model to fp32: ") and "\n" not in message
    assert "representative" in message.lower()


def test_keras_predictions_match_runtime_convention(keras_source) -> None:
    crops = np.zeros((2, 96, 96, 3), np.uint8)
    points, poses = keras_source.predict(crops)
    assert points.shape == (2, 68, 2) and poses.shape == (2, 3)
    assert np.all((points > 0) & (points < 96))  # the mean-face bias puts every point inside the crop


@pytest.mark.slow
def test_default_calibration_set_needs_no_user_data(tiny_model_path: Path, tmp_path: Path) -> None:
    pytest.importorskip("skimage")
    from asmnet_edge.exporters.pipeline import export_model
    from asmnet_edge.exporters.recipe import ExportRecipe

    recipe = ExportRecipe(
        precisions=("int8",),
        calib_count=32,
        eval_count=8,
        **LOOSE_GATES,
    )
    result = export_model(recipe, tiny_model_path, tmp_path)
    # the package's own labelled renders first, topped up with photos from installed packages
    assert result.calibration["source"].startswith("default:bundled-renders+skimage")
    assert result.calibration["count"] == 32 and result.evaluation["labelled"] is True
    assert "(held-out files)" in result.evaluation["source"]
    meta = json.loads(result.models["int8"].sidecar.read_text())["metadata"]
    assert meta["calibration_source"] == result.calibration["source"] and meta["calibration_count"] == 32
