"""``asmnet-edge export``: Keras ASMNet -> TFLite per precision, with metadata and a fidelity check.

Parses options into an :class:`ExportRecipe` (CLI flags override ``--recipe`` fields), calls
:func:`asmnet_edge.exporters.pipeline.export_model` and prints its result.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from asmnet_edge.commands._common import emit, handle_errors, json_option, log
from asmnet_edge.commands._options import format_option, library_default, precision_switches
from asmnet_edge.exporters.pipeline import export_model
from asmnet_edge.exporters.precisions import DEFAULT_PRECISIONS, IO_TYPES
from asmnet_edge.exporters.recipe import (
    CALIB_FORMATS,
    INT8_FLOAT_SETS,
    INT8_RANGES,
    MIN_GOOD_CALIB_COUNT,
    ExportRecipe,
)

_RECIPE = ExportRecipe()  # the defaults every option falls back to


def _check_sign(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value not in (1.0, -1.0):
        raise click.BadParameter(f"the landmark sign is 1 or -1, got {value:g}")
    return value


@click.command(
    name="export",
    help="Export an ASMNet to TFLite: every precision switched on (none: the recipe's, by default "
    + ", ".join(DEFAULT_PRECISIONS)
    + "), with metadata and a fidelity check against the float model.",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keras model: .keras, .weights.h5 or Keras-2 .h5 (default: the embedded model).",
)
@precision_switches(multiple=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=library_default(export_model, "out_dir"),
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
    help="Calibration faces: a 300W folder, a WFLW list file, or a folder of photos (--format images).",
)
@format_option(
    CALIB_FORMATS, None, what="--calib and --eval", fallback=f"the recipe's, else {_RECIPE.calib_format}"
)
@click.option(
    "--calib-count",
    type=click.IntRange(min=1),
    default=None,
    help=f"Calibration crops (default {_RECIPE.calib_count}; below {MIN_GOOD_CALIB_COUNT} warns).",
)
@click.option(
    "--eval",
    "eval_dir",
    type=click.Path(),
    default=None,
    help="Evaluation faces, same format as --calib (default: held-out files of the calibration source).",
)
@click.option(
    "--eval-count",
    type=click.IntRange(min=1),
    default=None,
    help=f"Evaluation crops (default {_RECIPE.eval_count}).",
)
@click.option(
    "--io",
    "io_type",
    type=click.Choice(IO_TYPES),
    default=None,
    help=f"int8 model input/output type (default {_RECIPE.io}: quantise/dequantise inside).",
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
    "--int8-float",
    "int8_float",
    type=click.Choice(list(INT8_FLOAT_SETS)),
    default=None,
    help="int8 with float32 io: layers kept in float: ends (first block, last block, pooled taps, heads; "
    "the default), heads (pooled taps and heads) or none (full integer).",
)
@click.option(
    "--int8-ranges",
    type=click.Choice(INT8_RANGES),
    default=None,
    help=f"int8 activation ranges: mse (least quantisation error on the calibration crops) or minmax "
    f"(TensorFlow's calibration) (default {_RECIPE.int8_ranges}).",
)
@click.option(
    "--landmark-sign",
    type=click.FLOAT,
    callback=_check_sign,
    default=None,
    help="Landmark sign of --model (1 or -1) when it has no config.json and cannot be detected.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help=f"Calibration sampling/augmentation seed (default {_RECIPE.seed}).",
)
@json_option
@handle_errors
def export(
    model_path: str | None,
    precisions: tuple[str, ...],
    out_dir: str,
    recipe: str | None,
    calib: str | None,
    fmt: str | None,
    calib_count: int | None,
    eval_dir: str | None,
    eval_count: int | None,
    io_type: str | None,
    max_nme_increase: float | None,
    max_pose_increase: float | None,
    max_nme_vs_float: float | None,
    debug: bool | None,
    float_layers: str | None,
    int8_float: str | None,
    int8_ranges: str | None,
    landmark_sign: float | None,
    seed: int | None,
    as_json: bool,
) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from asmnet_edge.model.dan import is_dan
    from asmnet_edge.model.refine import is_refine

    cascade = model_path is not None and (is_dan(model_path) or is_refine(model_path))
    if model_path is not None and cascade:
        kind = "refine" if is_refine(model_path) else "DAN"
        asmnet_only = {"--recipe": recipe, "--eval": eval_dir, "--io": io_type, "--debug": debug}
        asmnet_only.update({"--float-layers": float_layers, "--landmark-sign": landmark_sign})
        asmnet_only.update({"--int8-float": int8_float, "--int8-ranges": int8_ranges})
        given = sorted(name for name, value in asmnet_only.items() if value is not None)
        if given:
            raise click.UsageError(f"{', '.join(given)}: not available for a {kind} export")
        _export_cascade(kind, model_path, precisions, out_dir, calib, fmt, calib_count, eval_count, as_json)
        return
    from asmnet_edge.errors import FidelityError
    from asmnet_edge.exporters.recipe import load_recipe

    base = load_recipe(recipe) if recipe else ExportRecipe()
    settings = base.with_overrides(
        precisions=tuple(precisions) or None,
        io=io_type,
        calib=calib,
        calib_format=fmt,
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
        int8_float=int8_float,
        int8_ranges=int8_ranges,
        seed=seed,
    )
    try:
        result = export_model(settings, model_path, out_dir, landmark_sign=landmark_sign, log=log)
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


def _export_cascade(
    kind: str,
    model_path: str,
    precisions: tuple[str, ...],
    out_dir: str,
    calib: str | None,
    fmt: str | None,
    calib_count: int | None,
    eval_count: int | None,
    as_json: bool,
) -> None:
    """A DAN run (dan.weights.h5 with dan_assets.npz beside it) or a refine run (refine.weights.h5 with
    refine_assets.json beside it, its stage 1 where the run recorded it): one .tflite per precision
    (default fp32 and int8), NME against the Keras model (the cascade's, for refine) measured on
    --calib's labelled faces."""
    from asmnet_edge.exporters.dan import export_dan
    from asmnet_edge.exporters.refine import export_refine

    export_run: Callable[..., dict[str, Any]] = export_refine if kind == "refine" else export_dan
    counts = {"calib_count": calib_count, "eval_count": eval_count}
    report = export_run(
        model_path,
        out_dir,
        tuple(precisions) or ("fp32", "int8"),
        calib=calib,
        calib_format=fmt or "300w",
        log=log,
        **{name: value for name, value in counts.items() if value is not None},
    )
    emit(
        {"ok": True, **report},
        as_json,
        lambda res: "\n".join(
            f"{name:8s} {model['path']}  {model['size_bytes'] / 1e6:.2f} MB  "
            f"NME vs Keras {model['nme_vs_keras_percent']:.4f} %"
            for name, model in res["models"].items()
        ),
    )


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
