"""What each int8 fix buys: one row per quantisation variant of the same model, measured in one run.

    python benchmarks/int8_fixes.py                                    # embedded default model
    python benchmarks/int8_fixes.py --model runs/main224/last.weights.h5 \
        --eval data/eval_mix --calib data/calib_mix

Variants: TensorFlow's full-integer int8 (the shipped recipe before this script), TF with Conv1 kept in
float, and ai-edge-quantizer recipes on the float .tflite: plain a8w8, 16-bit activations for the heads
(FULLY_CONNECTED), for the first convolution, for both, and a16w8 everywhere. Each row: NME of the
variant's outputs against the float (Keras) outputs, NME change against the ground truth, pose change,
size, single-thread latency with XNNPACK (median of ``--runs``), XNNPACK partitions and whether the
whole graph is delegated. Writes ``benchmarks/results/int8_fixes.json`` and ``.md`` atomically.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _bias_correction import bias_corrected_model  # noqa: E402
from _result_files import command_line, write_result  # noqa: E402
from export_targets import delegation, interleaved_latency_ms, latency_ms  # noqa: E402

from asmnet_edge.exporters import faces as face_sources  # noqa: E402
from asmnet_edge.exporters.calibration import build_crops, labelled_crops  # noqa: E402
from asmnet_edge.exporters.convert import convert  # noqa: E402
from asmnet_edge.exporters.fidelity import KerasPredictions, Tolerance, validate  # noqa: E402
from asmnet_edge.exporters.graph import TfliteGraph  # noqa: E402
from asmnet_edge.exporters.pipeline import _metadata  # noqa: E402
from asmnet_edge.exporters.ranges import mse_int8  # noqa: E402
from asmnet_edge.exporters.recipe import FIRST_BLOCK, INT8_FLOAT_SETS, LAST_BLOCK  # noqa: E402
from asmnet_edge.exporters.source import load_source  # noqa: E402
from asmnet_edge.runtime.metadata import embed_metadata  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
# layer sets of the rows (Keras names; the recipe's own sets where it has them)
TAPS_AND_HEADS = INT8_FLOAT_SETS["heads"]
BLOCK_15 = LAST_BLOCK
BLOCK_14 = tuple(f"block_14_{part}" for part in ("expand", "depthwise", "project", "add"))


def aeq_variant(
    float_model: bytes, calibration: np.ndarray, sixteen_bit: list[tuple[str, str]], everything16: bool
) -> bytes:
    """ai-edge-quantizer: a8w8 (or a16w8) everywhere, then 16-bit activations for (regex, op) pairs."""
    from ai_edge_quantizer import quantizer

    qt = quantizer.Quantizer(float_model)
    qt.add_static_config(".*", "*", 16 if everything16 else 8, 8)
    for regex, op in sixteen_bit:
        qt.add_static_config(regex, op, 16, 8)
    samples = [{"image": image[None].astype(np.float32) / 255.0} for image in calibration]
    result = qt.calibrate({"serving_default": samples}, num_threads=2)
    return bytes(qt.quantize(result, enable_progress_report=False).quantized_model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--calib", default=None, help="labelled 300w folder (default: the package's faces)")
    parser.add_argument("--eval", default=None, help="labelled 300w folder (default: held-out package faces)")
    parser.add_argument("--calib-count", type=int, default=300)
    parser.add_argument("--eval-count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--name", default="int8_fixes", help="result file stem")
    parser.add_argument("--only", action="append", default=[], help="run variants whose name contains this")
    args = parser.parse_args()
    source = load_source(args.model)
    size = source.input_size
    found = (
        face_sources.labelled_faces(args.calib, "300w", source.num_landmarks)
        if args.calib
        else face_sources.default_faces(None, size, source.num_landmarks)
    )
    if args.eval:
        calib_faces, eval_faces = (
            found.faces,
            face_sources.labelled_faces(args.eval, "300w", source.num_landmarks).faces,
        )
    else:
        labelled = [face for face in found.faces if face.landmarks is not None]
        _, eval_faces = face_sources.split_faces(labelled, 0.25, 0)
        held = {str(face.image_path) for face in eval_faces}
        calib_faces = [face for face in found.faces if str(face.image_path) not in held]
    calibration = build_crops(calib_faces, args.calib_count, size, 0, found.source)
    eval_set = labelled_crops(eval_faces, args.eval_count, size, 0, "eval")
    keras = KerasPredictions(*source.predict(eval_set.images))
    float_model = convert(source, "fp32", "float32").content

    made: dict[str, Any] = {}

    def corrected() -> Any:
        """The model with the weight-rounding bias correction (benchmarks/_bias_correction.py), made once."""
        if "source" not in made:
            model = bias_corrected_model(source.model, calibration.images)[0]
            made["source"] = dataclasses.replace(source, model=model)
        return made["source"]

    variants: dict[str, Any] = {
        "tf int8 (full integer, the previous default)": lambda: (
            convert(source, "int8", "float32", calibration).content
        ),
        "tf int8, Conv1 in float": lambda: (
            convert(source, "int8", "float32", calibration, ("Conv1",)).content
        ),
        "tf int8, heads (O_L, O_P) in float": lambda: (
            convert(source, "int8", "float32", calibration, ("O_L", "O_P")).content
        ),
        "tf int8, MSE ranges": lambda: mse_int8(source, "float32", calibration)[0],
        "tf int8, MSE ranges, heads (O_L, O_P) in float": lambda: mse_int8(
            source, "float32", calibration, ("O_L", "O_P")
        )[0],
        "tf int8, MSE ranges, pooled taps + heads in float": lambda: mse_int8(
            source, "float32", calibration, TAPS_AND_HEADS
        )[0],
        "tf int8, MSE ranges, Conv1 + pooled taps + heads in float": lambda: mse_int8(
            source, "float32", calibration, ("Conv1", *TAPS_AND_HEADS)
        )[0],
        "tf int8, MSE ranges, block 15 + pooled taps + heads in float": lambda: mse_int8(
            source, "float32", calibration, (*BLOCK_15, *TAPS_AND_HEADS)
        )[0],
        "tf int8, MSE ranges, blocks 14-15 + pooled taps + heads in float": lambda: mse_int8(
            source, "float32", calibration, (*BLOCK_14, *BLOCK_15, *TAPS_AND_HEADS)
        )[0],
        "tf int8, MSE ranges, first block + pooled taps + heads in float": lambda: mse_int8(
            source, "float32", calibration, (*FIRST_BLOCK, *TAPS_AND_HEADS)
        )[0],
        "tf int8, MSE ranges, first block + block 15 + pooled taps + heads in float": lambda: mse_int8(
            source, "float32", calibration, (*FIRST_BLOCK, *BLOCK_15, *TAPS_AND_HEADS)
        )[0],
        "tf int8, MSE ranges, first block + blocks 14-15 + pooled taps + heads in float": lambda: mse_int8(
            source, "float32", calibration, (*FIRST_BLOCK, *BLOCK_14, *BLOCK_15, *TAPS_AND_HEADS)
        )[0],
        "tf int8, MSE ranges, pooled taps + heads in float, bias correction of the weight rounding": lambda: (
            mse_int8(corrected(), "float32", calibration, TAPS_AND_HEADS)[0]
        ),
        "weights only, bias-corrected: tf dynamic range": lambda: (
            convert(corrected(), "dynamic", "float32").content
        ),
        "weights only: tf dynamic range (int8 weights, float activations; not a fix, the weights' share)": (
            lambda: convert(source, "dynamic", "float32").content
        ),
        "aeq a8w8": lambda: aeq_variant(float_model, calibration.images, [], False),
        "aeq a8w8, heads a16w8": lambda: aeq_variant(
            float_model, calibration.images, [(".*", "FULLY_CONNECTED")], False
        ),
        "aeq a8w8, Conv1 a16w8": lambda: aeq_variant(
            float_model, calibration.images, [(".*Conv1.*", "CONV_2D")], False
        ),
        "aeq a8w8, heads + Conv1 a16w8": lambda: aeq_variant(
            float_model, calibration.images, [(".*", "FULLY_CONNECTED"), (".*Conv1.*", "CONV_2D")], False
        ),
        "aeq a16w8 everywhere": lambda: aeq_variant(float_model, calibration.images, [], True),
    }
    if args.only:
        variants = {name: make for name, make in variants.items() if any(part in name for part in args.only)}
    rows = []
    work = Path(tempfile.mkdtemp())
    fp32 = work / "fp32.tflite"
    fp32.write_bytes(embed_metadata(float_model, _metadata(source, "fp32", TfliteGraph(float_model), None)))
    base_latency = latency_ms(fp32, args.runs)
    for name, make in variants.items():
        row: dict[str, Any] = {"variant": name}
        try:
            started = time.perf_counter()
            content = make()
            row["seconds"] = round(time.perf_counter() - started, 1)
            content = embed_metadata(content, _metadata(source, "int8", TfliteGraph(content), calibration))
            path = work / f"{len(rows)}.tflite"
            path.write_bytes(content)
            report = validate(content, keras, eval_set, Tolerance(0.1, 0.5))
            row.update(
                {
                    "nme_vs_float_percent": report.vs_keras.nme_percent,
                    "nme_vs_float_max_percent": report.vs_keras.nme_max_percent,
                    "delta_nme_vs_truth": report.gate.nme_increase_percent,
                    "delta_pose_deg": report.gate.pose_mae_increase_deg,
                    "pose_vs_float_deg": report.vs_keras.pose_mae_deg.get("mean"),
                    "size_mb": len(content) / 1e6,
                    "latency": latency_ms(path, args.runs),
                    "xnnpack": delegation(path),
                    "path": str(path),
                }
            )
            row["latency_vs_fp32"] = row["latency"]["median_ms"] / base_latency["median_ms"]
        except Exception as err:  # a failing variant is a row with its error, not a crash
            row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "path"}, default=float), flush=True)
    measured = [row for row in rows if "path" in row]
    if measured:  # the ratios that the latency target is about: every variant and fp32 in turns, one run
        turns = interleaved_latency_ms([fp32] + [Path(row.pop("path")) for row in measured], args.runs)
        for row, stats in zip(measured, turns[1:], strict=True):
            row["interleaved"] = stats
            row["vs_first"] = stats["median_ms"] / turns[1]["median_ms"]
        base_latency["interleaved"] = turns[0]
    report = {
        "command": command_line(),
        "model": source.path,
        "calibration": {"source": calibration.source, "crops": len(calibration), "faces": calibration.faces},
        "evaluation": {"source": eval_set.source, "crops": len(eval_set), "faces": eval_set.faces},
        "fp32_latency": base_latency,
        "rows": rows,
    }
    write_result(args.out, args.name, report, markdown)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# int8 fixes, one row each",
        "",
        f"Command: `{report['command']}`; model: {report['model']}",
        f"Calibration: {report['calibration']}; evaluation: {report['evaluation']}",
        f"fp32 latency, 1 thread, XNNPACK: {report['fp32_latency']['median_ms']:.2f} ms median "
        f"({report['fp32_latency'].get('interleaved', {}).get('median_ms', float('nan')):.3f} ms in turns). "
        "'ms in turns': every variant and fp32 timed in alternation within one run (5 calls each per "
        "turn), so a busy machine slows them alike; 'vs first row' is the ratio the latency target reads.",
        "",
        "| variant | NME vs float % (max) | ΔNME vs truth | Δpose ° | size MB | ms, 1 thread | vs fp32 "
        "| ms in turns | vs first row | XNNPACK partitions / full |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        if "error" in row:
            lines.append(f"| {row['variant']} | failed: {row['error']} | | | | | | | | |")
            continue
        lines.append(
            f"| {row['variant']} | {row['nme_vs_float_percent']:.3f} "
            f"({row['nme_vs_float_max_percent']:.2f}) | "
            f"{row['delta_nme_vs_truth']:+.3f} | {row['delta_pose_deg']:+.3f} | {row['size_mb']:.2f} | "
            f"{row['latency']['median_ms']:.2f} | {row['latency_vs_fp32']:.2f} | "
            f"{row['interleaved']['median_ms']:.3f} | {row['vs_first']:.3f} | "
            f"{row['xnnpack']['delegate_partitions']} / {row['xnnpack']['fully_accelerated']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
