"""``run_bench``: the one library call behind ``asmnet-edge bench``.

Static facts of every model first (a file that is not TFLite becomes an error row; each ``refines``
entry becomes a cascade row behind its stage 1, :mod:`asmnet_edge.bench.cascade`), then timing on
the target (one fresh process per model), then accuracy on the host and the peers, then ratios.
A device that fails mid-run stops the timing; the rows measured so far are kept and the report
carries the device's error, so the caller can still write every report file.

>>> from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.bench.connect import open_target
>>> report = run_bench(BenchConfig(models=("asmnet68_int8.tflite",), threads=(1, 2)))  # doctest: +SKIP
>>> report.models[0].latency_for(1).median_ms  # doctest: +SKIP
3.9
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.bench.connect import open_target
from asmnet_edge.bench.results import BenchReport, LatencyEntry, ModelResult
from asmnet_edge.bench.static import describe_model
from asmnet_edge.bench.targets import parse_target
from asmnet_edge.errors import AsmnetEdgeError, DeviceError

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    return None


def host_info() -> dict[str, Any]:
    """The machine that drives the run (and runs ``local`` targets): CPU, cores, load."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "node": platform.node(),
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_start": [round(value, 2) for value in os.getloadavg()]
        if hasattr(os, "getloadavg")
        else None,
    }


def _tool_version() -> str:
    try:
        from importlib.metadata import version

        return version("asmnet-edge")
    except Exception:  # not installed (running from a source tree)
        return "unknown"


def apply_runner_result(row: ModelResult, result: dict[str, Any]) -> None:
    """Copy a runner's (or benchmark_model's) JSON into the row."""
    row.backend = result.get("backend")
    row.latency = [LatencyEntry.from_dict(entry) for entry in result.get("configs", [])]
    row.rss_baseline_mb = result.get("rss_baseline_mb")
    row.rss_peak_mb = result.get("rss_peak_first_mb") or result.get("rss_peak_mb")
    if row.rss_peak_mb is not None and row.rss_baseline_mb is not None:
        row.rss_model_mb = round(row.rss_peak_mb - row.rss_baseline_mb, 2)
    first = next((entry for entry in row.latency if entry.ok), None)
    if first is not None:
        row.init_ms = first.init_ms
        row.first_inference_ms = first.first_inference_ms
        row.warmup_mean_ms = first.warmup_mean_ms
    if not result.get("ok", False):
        row.fail(result.get("error") or "the runner reported a failure without a message")


def _measure(config: BenchConfig, report: BenchReport, progress: Progress) -> None:
    target = open_target(config)
    with target:
        report.target = {
            "spec": config.target,
            "kind": target.kind,
            "label": target.label,
            "info": target.info,
        }
        for index, row in enumerate(report.models):
            if not row.ok:
                continue
            progress(f"timing {row.name} on {target.label} ({index + 1}/{len(report.models)})")
            try:
                if row.stages:  # a cascade: both stages, end to end
                    stage1, refine = (Path(part["path"]) for part in row.stages)
                    apply_runner_result(row, target.measure_cascade(stage1, refine, index))
                else:
                    apply_runner_result(row, target.measure(Path(row.path), index))
            except DeviceError as err:
                row.fail(str(err))
                report.error = str(err)
                for later in report.models[index + 1 :]:
                    later.fail(f"not timed: the device failed on an earlier model ({err})")
                return


def _accuracy(config: BenchConfig, report: BenchReport, faces: Any, progress: Progress) -> None:
    from asmnet_edge.bench import accuracy

    predictions: dict[str, Any] = {}
    for row in report.models:
        if row.size_bytes is None or row.macs is None:
            continue
        progress(f"accuracy of {row.name} on {faces.describe()['faces']} faces")
        try:
            if row.stages:
                stage1, refine = (part["path"] for part in row.stages)
                row.accuracy, predictions[row.name] = accuracy.evaluate_cascade(
                    stage1, refine, faces, config.threads[0]
                )
            else:
                row.accuracy, predictions[row.name] = accuracy.evaluate_model(
                    row.path, faces, config.threads[0]
                )
        except AsmnetEdgeError as err:
            row.accuracy_error = str(err)
    floats = {row.variant: row for row in report.models if row.precision == "fp32" and row.accuracy}
    for row in report.models:
        reference = floats.get(row.variant)
        if row.accuracy is None or reference is None or reference is row:
            continue
        row.vs_fp32 = {
            "fp32_model": reference.name,
            **accuracy.compare_to_fp32(row.accuracy, reference.accuracy or {}),
        }
        row.vs_fp32.update(accuracy.drift(predictions[row.name], predictions[reference.name]))


def ratios(report: BenchReport) -> list[dict[str, Any]]:
    """int8 (and every precision) against fp32 of the same variant, cascades against their stage 1,
    and models against peers."""
    found: list[dict[str, Any]] = []
    floats = {row.variant: row for row in report.models if row.precision == "fp32" and row.ok}
    threads = sorted({entry.threads for row in report.models for entry in row.latency if entry.ok})
    by_path = {row.path: row for row in report.models if row.ok}
    pairs = [(row, floats.get(row.variant)) for row in report.models]
    # a cascade against its stage 1 alone: the refine stage's latency cost (issue 12's <= 1.6x)
    pairs += [(row, by_path.get(row.stages[0]["path"])) for row in report.models if row.stages]
    for row, reference in pairs:
        if reference is None or reference is row or not row.ok:
            continue
        for count in threads:
            mine, theirs = row.latency_for(count), reference.latency_for(count)
            if mine and theirs and mine.median_ms and theirs.median_ms:
                found.append(
                    {
                        "model": row.name,
                        "versus": reference.name,
                        "threads": count,
                        "latency_ratio": round(mine.median_ms / theirs.median_ms, 3),
                        "size_ratio": round((row.size_bytes or 0) / (reference.size_bytes or 1), 3),
                    }
                )
    for row in report.models:
        face = (row.accuracy or {}).get("per_face")
        for peer in report.peers:
            if not (face and peer.ok and peer.per_face):
                continue
            entry = {
                "model": row.name,
                "versus": f"peer:{peer.name}",
                "threads": 1,
                "latency_ratio": round(face["median_ms"] / peer.per_face["median_ms"], 3),
                "size_ratio": round((row.size_bytes or 0) / (peer.size_bytes or 1), 4),
            }
            scores = row.accuracy or {}
            if peer.accuracy and "nme_percent" in scores:
                entry["nme_change"] = round(scores["nme_percent"] - peer.accuracy["nme_percent"], 3)
            found.append(entry)
    return found


def run_bench(config: BenchConfig, progress: Progress = _quiet, command: str = "") -> BenchReport:
    """Benchmark ``config.models`` on ``config.target``; see the module docstring for the order."""
    parse_target(config.target)  # a bad target is a ConfigError before anything runs
    faces = None
    if config.accuracy_data is not None:
        from asmnet_edge.bench.accuracy import load_faces

        faces = load_faces(config.accuracy_data, config.accuracy_format, config.accuracy_limit)
    report = BenchReport(
        host=host_info(),
        command=command or " ".join(sys.argv),
        created_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        tool_version=_tool_version(),
        device_profile=config.device.to_dict() if config.device else None,
        dataset=faces.describe() if faces is not None else None,
        config={
            "target": config.target,
            "threads": list(config.threads),
            "runs": config.runs,
            "warmup": config.warmup,
            "xnnpack_compare": config.xnnpack_compare,
            "timing": "time.perf_counter_ns around Interpreter.invoke(); inputs set once, random, seed 0",
        },
    )
    report.models = [describe_model(Path(model)) for model in config.models]
    if config.refines:
        from asmnet_edge.bench.cascade import cascade_rows

        report.models += cascade_rows(report.models, config.refines)
    installed = None
    try:
        if config.install_runtime:
            from asmnet_edge.bench.install_runtime import install_for_config

            config, installed = install_for_config(config, progress)
        _measure(config, report, progress)
    except DeviceError as err:
        report.error = str(err)
    if installed is not None:
        report.target["runtime_install"] = installed
    if faces is not None:
        _accuracy(config, report, faces, progress)
        if config.peers:
            from asmnet_edge.bench.peers import run_peers

            report.peers = run_peers(config.peers, faces, progress, mediapipe_python=config.mediapipe_python)
    report.ratios = ratios(report)
    if hasattr(os, "getloadavg"):
        report.host["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    return report
