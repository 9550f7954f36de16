"""``asmnet-edge export``: Keras ASMNet -> TFLite per precision, with metadata and a fidelity check.

Parses options into an :class:`ExportRecipe` (CLI flags override ``--recipe`` fields), calls
:func:`asmnet_edge.exporters.pipeline.export_model` and prints its result.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from asmnet_edge.commands._common import emit, handle_errors, json_option, log

PRECISION_HELP = {
    "fp32": "float32 (reference).",
    "fp16": "float16 weights.",
    "int8": "full-integer int8, calibrated.",
    "dynamic": "dynamic-range (int8 weights, float activations).",
    "int16x8": "int16 activations, int8 weights, calibrated.",
}


def _precision_switches(command: Any) -> Any:
    for name in reversed(PRECISION_HELP):
        command = click.option(
            f"--{name}", "precisions", flag_value=name, multiple=True, help=PRECISION_HELP[name]
        )(command)
    return command


@click.command(name="export")
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keras model: .keras, .weights.h5 or Keras-2 .h5 (default: the embedded model).",
)
@_precision_switches
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="exported",
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--recipe", default=None, help="Recipe JSON file, or a packaged preset name (raspberry_pi_int8, ...)."
)
@click.option(
    "--calib",
    type=click.Path(),
    default=None,
    help="Calibration faces: a 300W folder, a WFLW list file, or a folder of photos (--calib-format images).",
)
@click.option(
    "--calib-format",
    type=click.Choice(["300w", "wflw", "images"]),
    default=None,
    help="Format of --calib and --eval (default 300w).",
)
@click.option(
    "--calib-count", type=int, default=None, help="Calibration crops (default 300; below 100 warns)."
)
@click.option(
    "--eval",
    "eval_dir",
    type=click.Path(),
    default=None,
    help="Evaluation faces, same format as --calib (default: held-out files of the calibration source).",
)
@click.option("--eval-count", type=int, default=None, help="Evaluation crops (default 100).")
@click.option(
    "--io",
    "io_type",
    type=click.Choice(["float32", "int8", "uint8"]),
    default=None,
    help="int8 model input/output type (default float32: quantise/dequantise inside).",
)
@click.option(
    "--max-nme-increase",
    type=float,
    default=None,
    help="Fail if NME (%, inter-ocular) rises more than this (default per precision).",
)
@click.option("--max-pose-increase", type=float, default=None, help="Fail if pose MAE rises more (degrees).")
@click.option(
    "--max-nme-vs-float",
    type=float,
    default=None,
    help="Fail if the outputs sit further than this NME (%) from the float model's (default per precision).",
)
@click.option("--debug", is_flag=True, default=None, help="Rank the layers that add the most int8 error.")
@click.option(
    "--float-layers",
    default=None,
    help="Comma-separated Keras layer names kept in float in int8 (e.g. O_L,O_P).",
)
@click.option(
    "--landmark-sign",
    type=click.Choice(["1", "-1"]),
    default=None,
    help="Landmark sign of --model when it has no config.json and cannot be detected.",
)
@click.option("--seed", type=int, default=None, help="Calibration sampling/augmentation seed (default 0).")
@json_option
@handle_errors
def export(
    model_path: str | None,
    precisions: tuple[str, ...],
    out_dir: str,
    recipe: str | None,
    calib: str | None,
    calib_format: str | None,
    calib_count: int | None,
    eval_dir: str | None,
    eval_count: int | None,
    io_type: str | None,
    max_nme_increase: float | None,
    max_pose_increase: float | None,
    max_nme_vs_float: float | None,
    debug: bool | None,
    float_layers: str | None,
    landmark_sign: str | None,
    seed: int | None,
    as_json: bool,
) -> None:
    """Export an ASMNet to TFLite (no precision switch: --fp32 --fp16 --int8)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from asmnet_edge.errors import FidelityError
    from asmnet_edge.exporters.pipeline import export_model
    from asmnet_edge.exporters.recipe import ExportRecipe, load_recipe

    base = load_recipe(recipe) if recipe else ExportRecipe()
    settings = base.with_overrides(
        precisions=tuple(precisions) or None,
        io=io_type,
        calib=calib,
        calib_format=calib_format,
        calib_count=calib_count,
        eval=eval_dir,
        eval_count=eval_count,
        max_nme_increase=max_nme_increase,
        max_pose_increase_deg=max_pose_increase,
        max_nme_vs_float=max_nme_vs_float,
        debug=debug or None,
        float_layers=tuple(name.strip() for name in float_layers.split(",") if name.strip())
        if float_layers
        else None,
        seed=seed,
    )
    sign = float(landmark_sign) if landmark_sign else None
    try:
        result = export_model(settings, model_path, out_dir, landmark_sign=sign, log=log)
    except FidelityError as err:
        partial = getattr(err, "result", None)
        if as_json and partial is not None:
            click.echo(
                json.dumps(
                    {**partial.to_dict(), "ok": False, "error": str(err), "error_type": "FidelityError"},
                    indent=2,
                    sort_keys=True,
                    default=str,
                )
            )
            sys.exit(1)
        if partial is not None:
            click.echo(_human(partial.to_dict()))
        raise
    emit(result.to_dict(), as_json, _human)


def _human(result: dict[str, Any]) -> str:
    lines = []
    for name, model in result["models"].items():
        metrics = model["metrics"]
        status = "ok" if model["passed"] else "OVER TOLERANCE"
        lines.append(
            f"{name:8s} {model['path']}  {model['size_bytes'] / 1e6:.2f} MB  io {model['io']}  "
            f"NME +{metrics['nme_increase_percent']:.3f} %  pose +{metrics['pose_mae_increase_deg']:.2f} deg "
            f"({metrics['gate_basis']})  {status}"
        )
    calibration = result["calibration"]
    if calibration["count"]:
        count, faces, source = calibration["count"], calibration["faces"], calibration["source"]
        lines.append(f"calibration: {count} crops of {faces} faces from {source}")
    evaluation = result["evaluation"]
    lines.append(
        f"evaluation: {evaluation['count']} crops of {evaluation['faces']} faces from {evaluation['source']}"
    )
    lines += [f"warning: {message}" for message in result["warnings"]]
    return "\n".join(lines)
