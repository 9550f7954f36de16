"""The benchmark suite: every precision of every variant, one run, every report and plot, one command.

With ``models`` (.tflite files or folders of them) the suite benchmarks those (the usual case: the
export pipeline made them). Without them, it exports them first through
:func:`asmnet_edge.exporters.pipeline.export_model` (every precision of the default model, of each
given Keras model, and of small untrained variants that are measured for size and speed only), into
``work_dir``, never into the results folder. ``asmnet-edge bench suite`` is its command.

>>> config = SuiteConfig(out_dir="benchmarks/results/x86_64-2c", models=("exported/",))  # doctest: +SKIP
>>> run_suite(config).models[0].name  # doctest: +SKIP
'asmnet68_fp16'
"""

from __future__ import annotations

import platform
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from asmnet_edge._atomic import atomic_write_text
from asmnet_edge.bench.config import BenchConfig, RemoteOptions, expand_models
from asmnet_edge.bench.profiles import DeviceProfile
from asmnet_edge.bench.report_files import write_report_dir
from asmnet_edge.bench.results import BenchReport, ModelResult
from asmnet_edge.bench.run import host_info, ratios, run_bench
from asmnet_edge.errors import AsmnetEdgeError, ConfigError, ExportError
from asmnet_edge.exporters.pipeline import export_model
from asmnet_edge.exporters.precisions import PRECISIONS as EXPORT_PRECISIONS
from asmnet_edge.exporters.recipe import ExportRecipe
from asmnet_edge.runtime.metadata import PRECISIONS

Progress = Callable[[str], None]
UNTRAINED = "untrained"
DEFAULT_UNTRAINED_VARIANTS = ((0.5, 160), (0.35, 128))


@dataclass(frozen=True)
class SuiteConfig:
    """What the suite exports, how it benchmarks (fields as in :class:`BenchConfig`), where it writes."""

    out_dir: str | Path
    target: str = "local"
    threads: tuple[int, ...] = (1, 2)
    runs: int = 100
    warmup: int = 10
    xnnpack_compare: bool = True
    accuracy_data: str | Path | None = None
    accuracy_format: str = "300w"
    accuracy_limit: int | None = None
    peers: tuple[str, ...] = ()
    mediapipe_python: str | None = None
    device: DeviceProfile | None = None
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    models: tuple[str | Path, ...] = ()  # .tflite files or folders: benchmark these, export nothing
    work_dir: str | Path | None = None
    include_default: bool = True
    keras_models: tuple[tuple[str, str], ...] = ()  # (variant name, .keras / .weights.h5 / .h5 path)
    untrained_variants: tuple[tuple[float, int], ...] = DEFAULT_UNTRAINED_VARIANTS
    precisions: tuple[str, ...] = PRECISIONS
    calib: str | None = None
    command: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.precisions) - set(PRECISIONS))
        if unknown or not self.precisions:
            raise ConfigError(f"unknown precisions {unknown}: choose among {', '.join(PRECISIONS)}")


def machine_name() -> str:
    """A folder name for this machine's results, e.g. ``x86_64-amd-epyc-2c``."""
    info = host_info()
    slug = re.sub(r"[^a-z0-9]+", "-", str(info["cpu"]).lower()).strip("-")[:40]
    return f"{platform.machine()}-{slug}-{info['cores']}c"


# random weights: the fidelity gate of the exporter would (rightly) fail them, and their landmark sign
# cannot be detected; they are exported for size and speed only
UNTRAINED_GATES = {"max_nme_increase": 1e9, "max_pose_increase_deg": 1e9, "max_nme_vs_float": 1e9}
UNTRAINED_SIGN = 1.0


def _export(
    model: str | None, out: Path, precision: str, calib: str | None, untrained: bool, log: Progress
) -> None:
    """One precision of one model through the library's export pipeline (its errors propagate)."""
    recipe = ExportRecipe(precisions=(precision,), calib=calib, **(UNTRAINED_GATES if untrained else {}))
    export_model(recipe, model, out, landmark_sign=UNTRAINED_SIGN if untrained else None, log=log)


def _exported(target: Path, precision: str) -> bool:
    """Already exported under ``target`` (re-running with the same --work resumes)."""
    suffix = EXPORT_PRECISIONS[precision].suffix
    return any(target.glob(f"*{suffix}.tflite"))


def _untrained_model(alpha: float, size: int, folder: Path) -> str:
    from asmnet_edge.model.asmnet import build_asmnet

    path = folder / f"asmnet68_a{alpha:g}_{size}_{UNTRAINED}.keras"
    if not path.exists():  # a re-run with the same --work resumes
        build_asmnet(68, alpha=alpha, input_size=size).save(path)
    return str(path)


def export_models(
    config: SuiteConfig,
    work: Path,
    progress: Callable[[str], None],
    failures: list[ModelResult] | None = None,
) -> Path:
    """Export every variant in every precision under ``work``; returns the folder of .tflite files.

    One :func:`~asmnet_edge.exporters.pipeline.export_model` call per precision, so that one failing
    precision does not sink the others: with ``failures`` given, each failure becomes an error row
    there; without it, it raises an :class:`ExportError`.
    """
    jobs: list[tuple[str, str | None]] = []
    if config.include_default:
        jobs.append(("default", None))
    jobs += [(name, path) for name, path in config.keras_models]
    for alpha, size in config.untrained_variants:
        jobs.append((f"a{alpha:g}_{size}_{UNTRAINED}", _untrained_model(alpha, size, work)))
    out = work / "models"
    for name, model in jobs:
        target = out / name
        for precision in config.precisions:
            if _exported(target, precision):
                progress(f"{name} {precision}: already exported in {target}")
                continue
            progress(f"exporting {name} {precision}")
            try:
                _export(model, target, precision, config.calib, UNTRAINED in name, progress)
            except AsmnetEdgeError as err:
                if failures is None:
                    raise ExportError(f"exporting {name} {precision} failed: {err}") from err
                failures.append(
                    ModelResult(
                        name=f"{name}__{precision}",
                        path="",
                        ok=False,
                        precision=precision,
                        variant=name,
                        error=f"{type(err).__name__}: {err}",
                    )
                )
        for file in target.glob("*.tflite"):  # the variant in the file name keeps names unique in one report
            if not file.name.startswith(name):
                file.rename(target / f"{name}__{file.name}")
    return out


def collect_models(folder: Path) -> tuple[Path, ...]:
    models = tuple(sorted(folder.rglob("*.tflite")))
    if not models:
        raise ConfigError(f"no .tflite file in {folder}: export models there or drop --model")
    return models


def _forget_untrained_accuracy(report: BenchReport) -> None:
    """Random weights give meaningless scores: keep the per-face latency, drop the rest, redo the ratios."""
    for row in report.models:
        if UNTRAINED in row.name and row.accuracy is not None:
            row.accuracy = {"per_face": row.accuracy["per_face"]} if "per_face" in row.accuracy else None
            row.vs_fp32 = None
            row.accuracy_error = "untrained weights: measured for size and speed only"
    report.ratios = ratios(report)


def results_readme(report: BenchReport, command: str) -> str:
    host = report.host
    return "\n".join(
        [
            f"# Benchmark results: {machine_name()}",
            "",
            "Made by this exact command, from the repository root:",
            "",
            "```",
            command,
            "```",
            "",
            f"- date (UTC): {report.created_utc}; asmnet-edge {report.tool_version}",
            f"- host: {host.get('cpu')}, {host.get('cores')} cores, {host.get('system')}, "
            f"Python {host.get('python')}",
            f"- load average at start {host.get('load_average_start')}, "
            f"at end {host.get('load_average_end')} "
            "(a shared machine: latency figures are only as quiet as this load)",
            f"- target: {report.target.get('label')}; "
            f"accuracy data: {(report.dataset or {}).get('path', 'none')}",
            "",
            "Files: `bench.json` (schema_version 1, every number and every raw timing), `bench.md` (tables), "
            "`bench.csv`, `bench.png` (Pareto + sizes), `pareto.png`, `sizes.png`.",
            "Models whose name contains 'untrained' have random weights: their size and speed are real, "
            "their accuracy is not reported. Device profiles' reference figures are published numbers, not "
            "measurements.",
            "",
        ]
    )


def run_suite(config: SuiteConfig, progress: Callable[[str], None] = lambda message: None) -> BenchReport:
    """Export (unless ``models`` are given), benchmark everything in one run, write every report."""
    out = Path(config.out_dir)
    failures: list[ModelResult] = []
    with tempfile.TemporaryDirectory(prefix="asmnet-suite-") as scratch:
        if config.models:
            models = expand_models(config.models)
        else:
            work = Path(config.work_dir) if config.work_dir else Path(scratch)
            work.mkdir(parents=True, exist_ok=True)
            folder = export_models(config, work, progress, failures)
            if failures and not list(folder.rglob("*.tflite")):
                raise ExportError(f"every export failed; the first: {failures[0].error}")
            models = collect_models(folder)
        bench = BenchConfig(
            models=models,
            target=config.target,
            threads=config.threads,
            runs=config.runs,
            warmup=config.warmup,
            xnnpack_compare=config.xnnpack_compare,
            accuracy_data=config.accuracy_data,
            accuracy_format=config.accuracy_format,
            accuracy_limit=config.accuracy_limit,
            peers=config.peers,
            mediapipe_python=config.mediapipe_python,
            device=config.device,
            remote=config.remote,
        )
        report = run_bench(bench, progress=progress, command=config.command)
    report.models += failures  # a precision that did not export is a row with its error
    _forget_untrained_accuracy(report)
    from asmnet_edge.bench.plots import write_plot

    write_report_dir(report, out)
    write_plot(report, out / "pareto.png", panels="pareto")
    write_plot(report, out / "sizes.png", panels="sizes")
    atomic_write_text(out / "README.md", results_readme(report, config.command))
    return report
