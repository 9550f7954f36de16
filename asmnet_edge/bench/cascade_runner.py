"""Times ASMNet + refine end to end in a fresh process: the measuring engine of a bench cascade row.

    python -m asmnet_edge.bench.cascade_runner --stage1 s1.tflite --refine r.tflite --threads 1,2 \\
        --runs 50 --warmup 5 [--no-xnnpack-compare]

Like :mod:`asmnet_edge.bench.remote_runner` (whose statistics, memory and core helpers it uses, and
whose JSON it prints, one object on stdout), but a run is the whole cascade: the stage-1 interpreter on
an input set once (a random crop, seed 0, as the plain rows' inputs), its points decoded, the similarity
to the refine stage's mean shape, the warp and heatmap, the refine input quantised, the second
interpreter, the correction mapped back (:mod:`asmnet_edge.runtime.refine`). Each entry also gives the
median of the three parts: ``stage1`` (first interpreter), ``between`` (everything in numpy) and
``refine`` (second interpreter). It imports the TF-free runtime, never TensorFlow: on a device it needs
asmnet-edge's runtime (``bench --install-runtime`` over SSH).

Exit codes: 0 = JSON printed (a configuration that fails is ``"ok": false`` inside it), 3 = no LiteRT
runtime here, 2 = bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from asmnet_edge.bench import remote_runner
from asmnet_edge.errors import AsmnetEdgeError
from asmnet_edge.runtime.geometry import denormalise_landmarks
from asmnet_edge.runtime.model import LiteModel
from asmnet_edge.runtime.refine import RefineModel, corrected_points

PARTS = ("stage1", "between", "refine")


class _Cascade:
    """The two interpreters, checked to belong together, and the stage-1 input set once."""

    def __init__(self, stage1: str, refine: str, threads: int, xnnpack: bool) -> None:
        self.stage1 = LiteModel.from_file(stage1, num_threads=threads, use_xnnpack=xnnpack)
        self.refiner = RefineModel.from_file(refine, num_threads=threads, use_xnnpack=xnnpack)
        self.refiner.check(self.stage1.metadata)
        size = self.stage1.metadata.input_size
        self.crop = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
        self.tensor = self.stage1.input_tensor(self.crop)

    def run(self) -> tuple[list[float], np.ndarray]:
        """One timed pass: the three parts in ms, and the refined points."""
        meta, refiner = self.stage1.metadata, self.refiner
        start = time.perf_counter_ns()
        values, _ = self.stage1.run_tensor(self.tensor)
        first = time.perf_counter_ns()
        points = denormalise_landmarks(values.reshape(-1, 2), meta.input_size, meta.landmark_sign)
        tensor, matrix = refiner.prepare(self.crop, points)
        second = time.perf_counter_ns()
        corrections, _ = refiner.lite.run_tensor(tensor)
        third = time.perf_counter_ns()
        refined = corrected_points(points, matrix, corrections, refiner.metadata.input_size)
        done = time.perf_counter_ns()
        parts = [(first - start) / 1e6, ((second - first) + (done - third)) / 1e6, (third - second) / 1e6]
        return parts, refined


def measure(args: argparse.Namespace, threads: int, xnnpack: bool) -> dict[str, Any]:
    """Init, first run, warm-up and timed runs of the cascade in one configuration."""
    start = time.perf_counter_ns()
    cascade = _Cascade(args.stage1, args.refine, threads, xnnpack)
    init_ms = remote_runner._ms(start)
    start = time.perf_counter_ns()
    cascade.run()
    first_ms = remote_runner._ms(start)
    warmup = [sum(cascade.run()[0]) for _ in range(args.warmup)]
    samples: list[list[float]] = []
    refined = np.zeros(1)
    for _ in range(args.runs):
        parts, refined = cascade.run()
        samples.append(parts)
    totals = [sum(parts) for parts in samples]
    by_part = np.asarray(samples)
    finite = bool(np.all(np.isfinite(refined)))
    result = remote_runner.timed_entry(np, threads, xnnpack, (init_ms, first_ms), warmup, totals, finite)
    result["parts_median_ms"] = {
        name: round(float(np.median(by_part[:, index])), 6) for index, name in enumerate(PARTS)
    }
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every (threads, XNNPACK) configuration; the JSON of ``remote_runner.py run``."""
    from asmnet_edge.runtime.interpreter import backend_name

    cores = remote_runner._cores()
    result: dict[str, Any] = {
        "ok": True,
        "error": None,
        "runner_version": remote_runner.RUNNER_VERSION,
        "backend": backend_name(),
        "cores": cores,
        "rss_baseline_mb": remote_runner._current_rss_mb() or remote_runner._peak_rss_mb(),
        "rss_peak_reset": remote_runner._reset_peak_rss(),
        "configs": [],
    }
    modes = (True, False) if args.xnnpack_compare else (True,)
    for threads in args.threads:
        for xnnpack in modes:
            entry: dict[str, Any] = {"threads": threads, "xnnpack": xnnpack, "ok": False}
            if threads > cores:
                entry["error"] = f"{threads} threads requested but this device has {cores} cores"
            else:
                try:
                    entry = measure(args, threads, xnnpack)
                except (AsmnetEdgeError, ValueError, RuntimeError, OSError) as err:
                    entry["error"] = f"{type(err).__name__}: {err}"
            result["configs"].append(entry)
            result.setdefault("rss_peak_first_mb", remote_runner._peak_rss_mb())
    result["rss_peak_mb"] = remote_runner._peak_rss_mb()
    if result["configs"] and not any(config["ok"] for config in result["configs"]):
        result["ok"] = False
        result["error"] = result["configs"][0]["error"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="asmnet-edge cascade (ASMNet + refine) benchmark runner")
    parser.add_argument("--stage1", required=True, help="the stage-1 ASMNet .tflite")
    parser.add_argument("--refine", required=True, help="the refine-stage .tflite trained behind it")
    parser.add_argument("--threads", type=remote_runner._threads, default=[1])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-xnnpack-compare", dest="xnnpack_compare", action="store_false")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        remote_runner._fail("bad_arguments", "runs must be >= 1 and warmup >= 0", 2)
    try:
        from asmnet_edge.runtime.interpreter import backend_name

        backend_name()
    except AsmnetEdgeError as err:
        remote_runner._fail("missing_runtime", str(err), remote_runner.MISSING_RUNTIME_EXIT)
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
