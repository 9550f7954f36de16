"""``asmnet-edge bench suite``: parse options, build a SuiteConfig, call run_suite, print the table.

Writes this machine's results folder (``benchmarks/results/<machine>/`` by default) with every report,
plot and a README holding the exact command.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from asmnet_edge.bench.suite import SuiteConfig
from asmnet_edge.commands._bench_options import measure_options, measure_settings, model_option
from asmnet_edge.commands._common import emit, handle_errors, json_option, log
from asmnet_edge.commands._options import library_default, precision_switches

RESULTS_DIR = Path("benchmarks") / "results"


@click.command("suite")
@model_option(".tflite model, or a folder of them, to benchmark instead of exporting; repeat for several.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Results folder (default {RESULTS_DIR}/<machine>).",
)
@click.option(
    "--work",
    "work_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for exported models; re-running with the same one resumes (default: a temporary one).",
)
@click.option(
    "--keras",
    "keras_models",
    nargs=2,
    multiple=True,
    type=(str, click.Path(exists=True, dir_okay=False)),
    metavar="NAME PATH",
    help="Also export and benchmark this Keras model under NAME; repeat for several.",
)
@click.option("--no-default", is_flag=True, help="Do not export the embedded default model.")
@click.option(
    "--untrained",
    "untrained_variants",
    nargs=2,
    multiple=True,
    type=(float, int),
    default=library_default(SuiteConfig, "untrained_variants"),
    show_default=True,
    metavar="ALPHA SIZE",
    help="A small untrained variant exported for size and speed only; repeat for several.",
)
@click.option("--no-untrained", is_flag=True, help="No untrained variant.")
@click.option("--calib", default=None, help="Calibration faces for the exports (a 300W-style folder).")
@precision_switches(multiple=True)
@measure_options(SuiteConfig)
@json_option
@handle_errors
def suite(
    models: tuple[Path, ...],
    out_dir: Path | None,
    work_dir: Path | None,
    keras_models: tuple[tuple[str, str], ...],
    no_default: bool,
    untrained_variants: tuple[tuple[float, int], ...],
    no_untrained: bool,
    calib: str | None,
    precisions: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Export every precision of every variant (or take --model files), benchmark them in one run and
    write every report, plot and a README with this command into the results folder. The precision
    switches choose what is exported (none: every precision).

    Example: asmnet-edge bench suite --model exported/ --data /data/300w/test --peer dlib
    """
    from asmnet_edge.bench.suite import machine_name, run_suite
    from asmnet_edge.bench.table import render_table

    settings = measure_settings(options, fallback_threads=library_default(SuiteConfig, "threads"))
    config = SuiteConfig(
        out_dir=out_dir or RESULTS_DIR / machine_name(),
        models=models,
        work_dir=work_dir,
        include_default=not no_default,
        keras_models=keras_models,
        untrained_variants=() if no_untrained else untrained_variants,
        calib=calib,
        precisions=precisions or library_default(SuiteConfig, "precisions"),
        command="asmnet-edge " + shlex.join(sys.argv[1:]),
        **settings,
    )
    report = run_suite(config, progress=log)
    result = {"ok": not report.failed, "out": str(config.out_dir), **report.to_dict()}
    emit(result, as_json, human=lambda _: f"{render_table(report).rstrip()}\nwritten to {config.out_dir}")
    if report.failed:
        if as_json:
            sys.exit(1)
        raise click.ClickException(report.error or "no model could be timed: see the error column")
