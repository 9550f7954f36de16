"""``asmnet-edge bench``: ``run`` (the default), ``suite`` and ``fit-box-map``, each loaded when invoked.

``bench run``: parse options, build a BenchConfig, call run_bench, print and write the reports.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.cli import LazyGroup
from asmnet_edge.commands._bench_options import measure_options, measure_settings, model_option
from asmnet_edge.commands._common import emit, handle_errors, json_option, log
from asmnet_edge.commands._options import library_default

BENCH_COMMANDS = {
    "run": "asmnet_edge.commands.bench:run",
    "suite": "asmnet_edge.commands.bench_suite:suite",
    "fit-box-map": "asmnet_edge.commands.box_map:fit_box_map",
}
BENCH_HELP = {
    "run": "Benchmark .tflite models (the default: 'asmnet-edge bench --model m.tflite' runs this).",
    "suite": "Export (or take) every precision of every variant, benchmark all, write the results folder.",
    "fit-box-map": "Fit a face detector's box-to-crop map on labelled faces.",
}


@click.group(
    name="bench",
    cls=LazyGroup,
    commands_table=BENCH_COMMANDS,
    commands_help=BENCH_HELP,
    default_command="run",
)
def bench() -> None:
    """Benchmark models; without a subcommand, 'run' (asmnet-edge bench --model m.tflite --json)."""


def _human(report: Any, written: list[str]) -> str:
    from asmnet_edge.bench.table import render_table

    text = render_table(report)
    if written:
        text += "written: " + ", ".join(written) + "\n"
    return text.rstrip("\n")


@click.command("run")
@model_option(".tflite model, or a folder of them; repeat for several (default: the embedded models).")
@click.option(
    "--refine",
    "refines",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A refine-stage .tflite (or a folder of them): one more row, the cascade behind the --model it "
    "was trained behind (same precision if given), timed end to end; repeat for several.",
)
@measure_options(BenchConfig)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Write bench.json, bench.md, bench.csv and bench.png (Pareto + sizes) into this folder.",
)
@click.option("--no-plot", is_flag=True, help="With --out: no bench.png (no matplotlib needed).")
@click.option(
    "--install-runtime",
    is_flag=True,
    help="ssh:// targets: download wheels for the target's platform here, copy them, install them into a "
    "venv there (no network needed on the target), then benchmark with that venv's Python.",
)
@click.option(
    "--runtime-dir",
    default=None,
    help="With --install-runtime: the folder on the target (default ~/.asmnet-edge; the venv is "
    "<dir>/runtime).",
)
@json_option
@handle_errors
def run(
    models: tuple[Path, ...],
    refines: tuple[Path, ...],
    out_dir: Path | None,
    no_plot: bool,
    install_runtime: bool,
    runtime_dir: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Benchmark .tflite models: MACs/FLOPs, size, latency (XNNPACK on/off), memory, accuracy, peers.

    Example: asmnet-edge bench --model asmnet68_fp32.tflite --model asmnet68_int8.tflite
    --threads 1 --threads 2 --out reports/

    An offline Pi: asmnet-edge bench --target ssh://pi@raspberrypi.local --install-runtime --device pi4

    ASMNet + refine as one row: asmnet-edge bench --model asmnet68_int8.tflite --refine refine68_int8.tflite
    """
    from asmnet_edge.bench.config import default_models, expand_models
    from asmnet_edge.bench.report_files import write_report_dir
    from asmnet_edge.bench.run import run_bench
    from asmnet_edge.errors import DeviceError

    settings = measure_settings(options, fallback_threads=library_default(BenchConfig, "threads"))
    settings["remote"] = dataclasses.replace(settings["remote"], runtime_dir=runtime_dir)
    config = BenchConfig(
        models=expand_models(models) if models else default_models(),
        install_runtime=install_runtime,
        refines=expand_models(refines) if refines else (),
        **settings,
    )
    report = run_bench(config, progress=log, command="asmnet-edge " + shlex.join(sys.argv[1:]))
    written = write_report_dir(report, out_dir, plot=not no_plot) if out_dir is not None else []
    failures = [row.name for row in report.models if not row.ok]
    if failures:
        log(f"{len(failures)} model(s) failed and are rows with their error: {', '.join(failures)}")
    result = {"ok": not report.failed, "written": written, **report.to_dict()}
    emit(result, as_json, human=lambda _: _human(report, written))
    if report.failed:
        message = report.error or "no model could be timed: see the error column"
        if as_json:
            sys.exit(1)
        raise DeviceError(message) if report.error else click.ClickException(message)
