"""Every precision on a tiny ASMNet: converts, runs in LiteRT, carries metadata, agrees with Keras."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from asmnet_edge.runtime.metadata import read_tflite_metadata
from asmnet_edge.runtime.model import LiteModel

pytestmark = pytest.mark.tf

# largest allowed difference from the Keras model on the evaluation crops: (mean landmark error in %
# of the crop size, max pose error in degrees). The tiny model is untrained, so its input-dependent
# output is small and int8 *weights* alone move it by about its own spread (measured: fp16 0.06-0.2 %,
# int8 1.5-3.4 %, int16x8 0.8-2 %; pose: fp16 0.6, int8 3 deg); the bounds catch broken conversions (swapped
# outputs, wrong sign or order, NaN give 20-40 %), fidelity on a trained model is the benchmark's job.
AGREEMENT = {
    "fp32": (0.001, 0.001),
    "fp16": (0.5, 1.0),
    "int8": (5.0, 8.0),
    "dynamic": (5.0, 8.0),
    "int16x8": (3.0, 4.0),
}


def test_every_precision_is_written_with_sidecar_and_report(exported_all) -> None:
    models = exported_all.result.models
    assert list(models) == ["fp32", "fp16", "int8", "dynamic", "int16x8"]
    for name, model in models.items():
        content = model.path.read_bytes()
        assert model.path.name == (
            "asmnet68_int8_int8io.tflite" if name == "int8" else f"asmnet68_{name}.tflite"
        )
        sidecar = json.loads(model.sidecar.read_text())
        assert sidecar["sha256"] == hashlib.sha256(content).hexdigest() == model.sha256
        assert sidecar["size_bytes"] == len(content)
        assert sidecar["metadata"] == read_tflite_metadata(content).to_dict()
        report = json.loads(model.report.read_text())
        assert report["fidelity"]["eval_count"] == 6 and report["fidelity"]["passed"]
        assert "vs_ground_truth" in report["fidelity"]
        assert report["fidelity"] == json.loads(json.dumps(model.fidelity.to_dict(), default=float))
        assert model.fidelity.passed and model.fidelity.gate.basis == "vs_ground_truth"
    sizes = {name: model.size_bytes for name, model in models.items()}
    assert sizes["fp16"] < 0.6 * sizes["fp32"] and sizes["int8"] < 0.5 * sizes["fp32"]
    assert not list(exported_all.out.glob(".*tmp*")), "temporary files left behind"
    skipped = [
        message for message in exported_all.result.warnings if message.startswith("skipped 1 unusable")
    ]
    assert len(skipped) == 1 and "face_999.png" in skipped[0] and "not a decodable image" in skipped[0]


def test_metadata_records_what_the_converter_made(exported_all, keras_source) -> None:
    for name, model in exported_all.result.models.items():
        meta = read_tflite_metadata(model.path)
        assert (meta.precision, meta.num_landmarks, meta.input_size, meta.alpha) == (name, 68, 96, 0.35)
        assert meta.weights_sha256 == keras_source.weights_sha256 and len(meta.weights_sha256) == 64
        assert meta.landmark_sign == 1.0 and meta.tool_version
        calibrated = name in ("int8", "int16x8")
        assert meta.calibration_count == (24 if calibrated else 0)
        assert meta.calibration_source == ("300w:calib" if calibrated else "")
        details = (
            LiteModel.from_file(model.path).interpreter.get_signature_runner().get_input_details()["image"]
        )
        scale, zero_point = details["quantization"]
        assert meta.input_quant.dtype == np.dtype(details["dtype"]).name
        assert (meta.input_quant.scale, meta.input_quant.zero_point) == pytest.approx((scale, zero_point))


def test_integer_io_types(exported_all, exported_uint8) -> None:
    int8 = LiteModel.from_file(exported_all.result.models["int8"].path)
    uint8 = LiteModel.from_file(exported_uint8[0].models["int8"].path)
    assert int8.input_dtype == np.int8 and uint8.input_dtype == np.uint8
    assert read_tflite_metadata(exported_uint8[0].models["int8"].path).landmarks_quant.dtype == "uint8"
    assert int8.metadata.pose_quant.dtype == "int8" and int8.metadata.input_quant.zero_point == -128
    report = json.loads(exported_all.result.models["int8"].report.read_text())
    saturation = report["fidelity"]["saturation"]
    assert saturation["landmarks"]["dtype"] == "int8" and saturation["landmarks"]["values"] == 6 * 136
    fp32 = json.loads(exported_all.result.models["fp32"].report.read_text())
    assert fp32["fidelity"]["saturation"] == {"landmarks": None, "pose": None}


@pytest.mark.parametrize("precision", list(AGREEMENT))
def test_agreement_with_keras_on_the_same_crops(exported_all, keras_source, precision: str) -> None:
    from asmnet_edge.data.dataset import make_crops, read_dataset

    crops = make_crops(read_dataset(exported_all.eval, expected_points=68), 96).images
    keras_points, keras_pose = keras_source.predict(crops)
    lite = LiteModel.from_file(exported_all.result.models[precision].path)
    points, pose = lite.run(crops)
    landmark_error = 100.0 * np.linalg.norm(points - keras_points, axis=-1).mean() / 96
    max_landmark, max_pose = AGREEMENT[precision]
    assert landmark_error <= max_landmark, f"{precision}: {landmark_error:.4f} % of the crop"
    assert np.abs(pose - keras_pose).max() <= max_pose


def test_reexport_gives_identical_bytes(exported_uint8) -> None:
    first, second = exported_uint8
    assert first.models["int8"].path != second.models["int8"].path
    assert first.models["int8"].path.read_bytes() == second.models["int8"].path.read_bytes()
    assert first.models["int8"].sidecar.read_bytes() == second.models["int8"].sidecar.read_bytes()


def test_fidelity_failure_keeps_the_model_and_says_where(exported_uint8) -> None:
    error = exported_uint8[1].error
    assert "over the fidelity tolerance" in error and "model kept at" in error
    assert str(exported_uint8[1].models["int8"].path) in error
    assert exported_uint8[1].models["int8"].path.exists()
    failed = exported_uint8[1].reports["int8"]
    assert not failed.passed and failed.gate.max_nme_increase == -1.0
    assert any(failure.startswith("NME increase") for failure in failed.gate.failures)


def test_metadata_reads_without_tensorflow(exported_all) -> None:
    paths = [str(model.path) for model in exported_all.result.models.values()]
    code = (
        "import sys; from asmnet_edge.runtime.metadata import read_tflite_metadata; "
        "print([read_tflite_metadata(p).precision for p in sys.argv[1:]], 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['fp32', 'fp16', 'int8', 'dynamic', 'int16x8'] False"


def test_standard_tflite_metadata_reads_back_without_tensorflow(exported_all) -> None:
    """The TFLITE_METADATA entry (schema M001) and its associated files, read with no TF in the process."""
    path = str(exported_all.result.models["int8"].path)
    code = (
        "import json, sys; from asmnet_edge.exporters.standard_metadata import read_standard_metadata; "
        "meta = read_standard_metadata(open(sys.argv[1], 'rb').read()); "
        "meta['tf'] = 'tensorflow' in sys.modules; print(json.dumps(meta))"
    )
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, check=True)
    meta = json.loads(out.stdout)
    assert meta["tf"] is False and meta["name"] == "ASMNet-68" and meta["author"] == "asmnet-edge"
    assert "research" in meta["license"] and meta["min_parser_version"] == "1.0.1"
    assert meta["inputs"][0]["name"] == "image" and meta["inputs"][0]["normalisation_std"] == [255.0]
    assert sorted(item["name"] for item in meta["outputs"]) == ["landmarks", "pose"]
    lines = meta["files"]["landmark_order.txt"].splitlines()
    assert len(lines) == 136 and lines[0] == "00_jaw_0_x" and lines[73] == "36_right_eye_0_y"
    assert meta["files"]["pose_order.txt"].split() == ["yaw", "pitch", "roll"]


def test_xnnpack_takes_the_whole_graph(exported_all) -> None:
    from ai_edge_litert.compiled_model import CompiledModel

    for name in ("fp32", "fp16", "int8"):
        compiled = CompiledModel.from_buffer(exported_all.result.models[name].path.read_bytes())
        assert compiled.is_fully_accelerated(), f"{name} is split into several XNNPACK partitions"
