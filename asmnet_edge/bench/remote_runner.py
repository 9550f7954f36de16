"""Standalone latency/memory runner for one .tflite model: the measuring engine of every bench target.

This one file is copied as is to the device (a Raspberry Pi over SSH, a phone with Python over adb)
and also run locally in a fresh subprocess, so every target measures the same way. It needs only
Python 3.8+, numpy and ``ai_edge_litert`` (or ``tflite_runtime`` on 32-bit boards): it must never
import asmnet_edge or TensorFlow. It prints exactly one JSON object on stdout.

    python3 remote_runner.py probe
    python3 remote_runner.py run --model m.tflite --threads 1,2 --runs 50 --warmup 5 [--no-xnnpack-compare]

Exit codes: 0 = JSON printed (a model that fails is ``"ok": false`` inside it), 3 = numpy or the LiteRT
runtime is missing on this device (the JSON says which), 2 = bad arguments.
"""

import argparse
import json
import os
import platform
import sys
import time

RUNNER_VERSION = 1
MISSING_RUNTIME_EXIT = 3
_BACKENDS = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")


def _fail(kind, message, code):
    print(json.dumps({"ok": False, "error_type": kind, "error": message}))
    sys.exit(code)


def _import_runtime():
    try:
        import numpy
    except ImportError:
        _fail(
            "missing_runtime",
            "numpy is not installed: pip install numpy ai-edge-litert",
            MISSING_RUNTIME_EXIT,
        )
    for name in _BACKENDS:
        try:
            module = __import__(name, fromlist=["Interpreter"])
            return numpy, module
        except ImportError:
            continue
    _fail(
        "missing_runtime",
        "no TFLite runtime: pip install ai-edge-litert (or tflite-runtime on 32-bit ARM)",
        MISSING_RUNTIME_EXIT,
    )
    return None, None


def _cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))  # respects taskset
    return os.cpu_count() or 1


def _proc_status_mb(key):
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return round(int(line.split()[1]) / 1024.0, 2)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak_rss():
    """Linux: restart the high-water mark at the current RSS, so import-time peaks do not hide the model's."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _current_rss_mb():
    return _proc_status_mb("VmRSS")


def _peak_rss_mb():
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    try:
        import resource
    except ImportError:  # Windows
        return None
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return round(value / (1024.0 * 1024.0) if sys.platform == "darwin" else value / 1024.0, 2)


def _stats(numpy, samples_ms):
    values = numpy.asarray(samples_ms, dtype=numpy.float64)
    median = float(numpy.median(values))
    p90 = float(numpy.percentile(values, 90))
    return {
        "runs": int(values.size),
        "median_ms": round(median, 6),
        "p90_ms": round(p90, 6),
        "min_ms": round(float(values.min()), 6),
        "max_ms": round(float(values.max()), 6),
        "mean_ms": round(float(values.mean()), 6),
        "std_ms": round(float(values.std()), 6),
        "spread": round(p90 / median, 6) if median > 0 else None,
    }


def _interpreter(module, path, threads, xnnpack):
    options = {"model_path": path, "num_threads": threads}
    if not xnnpack:
        options["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = module.Interpreter(**options)
    interpreter.allocate_tensors()
    return interpreter


def _fill_inputs(numpy, interpreter):
    generator = numpy.random.default_rng(0)
    for detail in interpreter.get_input_details():
        dtype = numpy.dtype(detail["dtype"])
        shape = tuple(int(value) for value in detail["shape"])
        if dtype.kind == "f":
            data = generator.random(shape).astype(dtype)
        else:
            info = numpy.iinfo(dtype)
            data = generator.integers(max(info.min, -128), min(info.max, 255) + 1, size=shape).astype(dtype)
        interpreter.set_tensor(detail["index"], data)


def _ms(start_ns):
    return (time.perf_counter_ns() - start_ns) / 1e6


def measure(numpy, module, path, threads, xnnpack, runs, warmup):
    """Init, first inference, warm-up and timed runs of one configuration (invoke only is timed)."""
    start = time.perf_counter_ns()
    interpreter = _interpreter(module, path, threads, xnnpack)
    init_ms = _ms(start)
    _fill_inputs(numpy, interpreter)
    start = time.perf_counter_ns()
    interpreter.invoke()
    first_ms = _ms(start)
    warmup_ms = []
    for _ in range(warmup):
        start = time.perf_counter_ns()
        interpreter.invoke()
        warmup_ms.append(_ms(start))
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        interpreter.invoke()
        samples.append(_ms(start))
    finite = all(
        bool(numpy.all(numpy.isfinite(interpreter.get_tensor(detail["index"]).astype(numpy.float64))))
        for detail in interpreter.get_output_details()
    )
    return timed_entry(numpy, threads, xnnpack, (init_ms, first_ms), warmup_ms, samples, finite)


def timed_entry(numpy, threads, xnnpack, init_first_ms, warmup_ms, samples, finite):
    """One configuration's JSON entry: init and first-run times, warm-up mean, samples and their stats."""
    result = {
        "threads": threads,
        "xnnpack": xnnpack,
        "ok": True,
        "error": None,
        "init_ms": round(init_first_ms[0], 6),
        "first_inference_ms": round(init_first_ms[1], 6),
        "warmup_mean_ms": round(sum(warmup_ms) / len(warmup_ms), 6) if warmup_ms else None,
        "outputs_finite": finite,
        "samples_ms": [round(value, 6) for value in samples],
    }
    result.update(_stats(numpy, samples))
    return result


def probe():
    numpy, module = _import_runtime()
    return {
        "ok": True,
        "runner_version": RUNNER_VERSION,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "numpy": numpy.__version__,
        "backend": module.__name__.split(".")[0],
        "cores": _cores(),
    }


def run(args):
    numpy, module = _import_runtime()
    cores = _cores()
    result = {
        "ok": True,
        "error": None,
        "runner_version": RUNNER_VERSION,
        "backend": module.__name__.split(".")[0],
        "cores": cores,
        "rss_baseline_mb": _current_rss_mb() or _peak_rss_mb(),
        "rss_peak_reset": _reset_peak_rss(),
        "configs": [],
    }
    modes = (True, False) if args.xnnpack_compare else (True,)
    for threads in args.threads:
        for xnnpack in modes:
            if threads > cores:
                message = f"{threads} threads requested but this device has {cores} cores"
                result["configs"].append(
                    {"threads": threads, "xnnpack": xnnpack, "ok": False, "error": message}
                )
                continue
            try:
                result["configs"].append(
                    measure(numpy, module, args.model, threads, xnnpack, args.runs, args.warmup)
                )
            except (ValueError, RuntimeError, OSError) as err:
                last_line = str(err).strip().splitlines()[-1] if str(err).strip() else ""
                message = f"{type(err).__name__}: {last_line}"
                result["configs"].append(
                    {"threads": threads, "xnnpack": xnnpack, "ok": False, "error": message}
                )
            # high-water mark after the first configuration: one interpreter, the model's real footprint
            result.setdefault("rss_peak_first_mb", _peak_rss_mb())
    result["rss_peak_mb"] = _peak_rss_mb()
    if result["configs"] and not any(config["ok"] for config in result["configs"]):
        result["ok"] = False
        result["error"] = result["configs"][0]["error"]
    return result


def _threads(text):
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"threads must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"threads must be positive integers, got {text!r}")
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description="asmnet-edge standalone TFLite benchmark runner")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("probe", help="report python, numpy, runtime and cores as JSON")
    runner = commands.add_parser("run", help="time one model")
    runner.add_argument("--model", required=True)
    runner.add_argument("--threads", type=_threads, default=[1])
    runner.add_argument("--runs", type=int, default=50)
    runner.add_argument("--warmup", type=int, default=5)
    runner.add_argument("--no-xnnpack-compare", dest="xnnpack_compare", action="store_false")
    args = parser.parse_args(argv)
    if args.command == "probe":
        print(json.dumps(probe()))
        return 0
    if args.runs < 1 or args.warmup < 0:
        _fail("bad_arguments", "runs must be >= 1 and warmup >= 0", 2)
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
