"""Run the whole benchmark suite and write this machine's report under benchmarks/results/<machine>/.

Re-use exported models (the usual case, e.g. after ``asmnet-edge export`` of the trained default):

    python benchmarks/run_suite.py --models exported/ --data /path/to/labelled/faces \\
        --peers dlib,mediapipe --mediapipe-python /opt/asmnet-mediapipe/bin/python

Or let it export every precision (fp32, fp16, int8, dynamic, int16x8) of the default model and of
small untrained variants first (``asmnet-edge export`` must work; takes minutes):

    python benchmarks/run_suite.py --data /path/to/labelled/faces

Remote devices: ``--target ssh://pi@raspberrypi.local --device pi4`` (see benchmarks/devices/).
Every option is recorded, with the command, in the README of the results folder.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from asmnet_edge.bench.config import RemoteOptions, parse_threads
from asmnet_edge.bench.profiles import load_profile
from asmnet_edge.bench.suite import SuiteConfig, machine_name, run_suite
from asmnet_edge.errors import AsmnetEdgeError
from asmnet_edge.runtime.metadata import PRECISIONS

ROOT = Path(__file__).resolve().parents[1]


def _variant(text: str) -> tuple[float, int]:
    alpha, _, size = text.partition(":")
    return float(alpha), int(size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="asmnet-edge benchmark suite")
    parser.add_argument("--models", help="folder of exported .tflite files to benchmark (no export)")
    parser.add_argument("--out", help="results folder (default benchmarks/results/<machine>)")
    parser.add_argument("--work", help="folder for exported models (default: a temporary folder)")
    parser.add_argument(
        "--keras",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also export and benchmark this Keras model under NAME (repeatable)",
    )
    parser.add_argument("--no-default", action="store_true", help="do not export the embedded default model")
    parser.add_argument(
        "--untrained",
        default="0.5:160,0.35:128",
        help="small untrained variants ALPHA:SIZE,... for size/speed ('' for none)",
    )
    parser.add_argument("--calib", help="calibration folder passed to asmnet-edge export")
    parser.add_argument(
        "--precisions", default=",".join(PRECISIONS), help="precisions to export (default: all)"
    )
    parser.add_argument("--target", default="local")
    parser.add_argument("--device", help="device profile name or .json")
    parser.add_argument("--threads", default=None, help="e.g. 1,2 (default: the profile's, else 1,2)")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--data", help="labelled faces for accuracy (300W-style folder by default)")
    parser.add_argument("--format", default="300w", choices=("300w", "wflw", "menpo"))
    parser.add_argument("--limit", type=int, help="use the first N faces only")
    parser.add_argument("--peers", default="", help="dlib,mediapipe")
    parser.add_argument("--mediapipe-python", help="a Python with mediapipe (its own venv)")
    parser.add_argument("--remote-python", help="Python on the device")
    parser.add_argument("--ssh-identity")
    parser.add_argument("--adb-benchmark-binary")
    args = parser.parse_args(argv)
    profile = load_profile(args.device) if args.device else None
    threads = parse_threads(args.threads) if args.threads else (profile.threads if profile else (1, 2))
    command = shlex.join(["python", "benchmarks/run_suite.py", *(sys.argv[1:] if argv is None else argv)])
    config = SuiteConfig(
        out_dir=args.out or ROOT / "benchmarks" / "results" / machine_name(),
        target=args.target,
        threads=threads,
        runs=args.runs,
        warmup=args.warmup,
        accuracy_data=args.data,
        accuracy_format=args.format,
        accuracy_limit=args.limit,
        peers=tuple(name for name in args.peers.split(",") if name),
        mediapipe_python=args.mediapipe_python,
        device=profile,
        models_dir=args.models,
        work_dir=args.work,
        include_default=not args.no_default,
        keras_models=tuple(tuple(item.split("=", 1)) for item in args.keras),  # type: ignore[misc]
        untrained_variants=tuple(_variant(item) for item in args.untrained.split(",") if item),
        calib=args.calib,
        precisions=tuple(name for name in args.precisions.split(",") if name),
        command=command,
        remote=RemoteOptions(
            python=args.remote_python,
            identity_file=args.ssh_identity,
            adb_benchmark_binary=args.adb_benchmark_binary,
        ),
    )
    try:
        report = run_suite(config, progress=lambda message: print(message, file=sys.stderr))
    except AsmnetEdgeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    from asmnet_edge.bench.table import render_table

    print(render_table(report))
    print(f"written to {config.out_dir}")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
