"""The adb target: Android phones, measured by TFLite's ``benchmark_model`` binary or by Python.

With ``--adb-benchmark-binary /data/local/tmp/benchmark_model`` (a binary the user pushed), each model
is pushed and timed per thread count with ``taskset <mask> benchmark_model --graph=...``, XNNPACK on
and off, and the tool's output is parsed (init, first inference, warm-up, avg/std/min/max, median if
printed, memory). Without it, the device must have Python with numpy + LiteRT, and the standalone
runner is used as over SSH.

No phone exists on the machine this project is developed on: the adb path is tested against a fake
``adb`` executable that replays ``benchmark_model`` output in the documented format. It is SIMULATED
there; only the parsing and the command lines are verified, not a real device.

>>> stats = parse_benchmark_output(SAMPLE_LINES)
>>> stats["init_ms"], stats["mean_ms"], stats["runs"]
(12.5, 8.1, 50)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from asmnet_edge.bench import transports
from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.bench.targets import RunnerTarget
from asmnet_edge.errors import DeviceError

SAMPLE_LINES = (
    "INFO: Initialized session in 12.5ms.\n"
    "INFO: count=50 first=9000 curr=8000 min=7900 max=9000 avg=8100 std=150\n"
    "INFO: Inference timings in us: Init: 12500, First inference: 15000, Warmup (avg): 9000, "
    "Inference (avg): 8100\n"
)
_NUMBER = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_COUNT = re.compile(r"count=(\d+)(.*)")
_FIELD = re.compile(r"(\w+)=" + _NUMBER)
_TIMINGS = re.compile(
    r"Inference timings in us: Init: "
    + _NUMBER
    + r", First inference: "
    + _NUMBER
    + r", Warmup \(avg\): "
    + _NUMBER
    + r", Inference \(avg\): "
    + _NUMBER
)
_PEAK = re.compile(r"Peak memory footprint \(MB\): init=" + _NUMBER + r" overall=" + _NUMBER)
_DELTA = re.compile(
    r"Memory footprint delta from the start of the tool \(MB\): init=" + _NUMBER + r" overall=" + _NUMBER
)
_MONITORED = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring: " + _NUMBER)
_DELEGATED = re.compile(r"Replacing (\d+) out of (\d+) node\(s\) with delegate .*?yielding (\d+) partitions")


def _ms(value_us: str) -> float:
    return round(float(value_us) / 1000.0, 4)


def parse_benchmark_output(text: str) -> dict[str, Any]:
    """Figures from ``benchmark_model``'s output; :class:`DeviceError` if it has no timing summary.

    The last ``count=`` line is the timed phase (the first is warm-up). ``benchmark_model`` prints no
    p90: ``p90_ms`` stays ``None`` (its ``median``, when printed by newer builds, is kept).
    """
    timings = _TIMINGS.search(text)
    count_lines = [match for match in _COUNT.finditer(text)]
    if timings is None or not count_lines:
        tail = " | ".join(line.strip() for line in text.strip().splitlines()[-3:]) or "(no output)"
        raise DeviceError(f"benchmark_model printed no timing summary: {tail}")
    fields = {key: float(value) for key, value in _FIELD.findall(count_lines[-1].group(2))}
    result: dict[str, Any] = {
        "ok": True,
        "error": None,
        "init_ms": _ms(timings.group(1)),
        "first_inference_ms": _ms(timings.group(2)),
        "warmup_mean_ms": _ms(timings.group(3)),
        "runs": int(count_lines[-1].group(1)),
        "mean_ms": _ms(timings.group(4)),
        "median_ms": _ms(str(fields["median"])) if "median" in fields else None,
        "p90_ms": None,
        "min_ms": _ms(str(fields["min"])) if "min" in fields else None,
        "max_ms": _ms(str(fields["max"])) if "max" in fields else None,
        "std_ms": _ms(str(fields["std"])) if "std" in fields else None,
        "spread": None,
        "samples_ms": [],
    }
    memory = _PEAK.search(text) or _DELTA.search(text)
    monitored = _MONITORED.search(text)
    result["memory_init_mb"] = float(memory.group(1)) if memory else None
    result["memory_overall_mb"] = (
        float(monitored.group(1)) if monitored else (float(memory.group(2)) if memory else None)
    )
    delegated = _DELEGATED.search(text)
    if delegated:
        result["delegated_nodes"] = f"{delegated.group(1)}/{delegated.group(2)}"
        result["delegate_partitions"] = int(delegated.group(3))
    return result


class BenchmarkBinaryTarget:
    """An Android device over adb, timed by a ``benchmark_model`` binary already on the device."""

    kind = "adb"

    def __init__(self, config: BenchConfig, transport: transports.AdbTransport, binary: str) -> None:
        self.config = config
        self.transport = transport
        self.binary = binary
        self.label = transport.label
        profile = config.device
        self.taskset = ["taskset", profile.taskset_mask] if profile and profile.taskset_mask else []
        self.workdir: str | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> BenchmarkBinaryTarget:
        self.transport.check_device()
        done = self.transport.run(["test", "-x", self.binary], "checking benchmark_model")
        if done.returncode != 0:
            raise DeviceError(
                f"{self.binary} is not an executable on {self.label}: push TFLite's benchmark_model there "
                f"('adb push benchmark_model {self.binary}' then 'adb shell chmod +x {self.binary}')"
            )
        cores = self.transport.run(["nproc"], "counting the device's cores")
        if cores.returncode != 0 or not cores.stdout.strip().isdigit():
            raise DeviceError(
                f"cannot count the cores of {self.label}: {cores.stderr.strip() or cores.stdout}"
            )
        self.workdir = transports.make_temp_dir(self.transport)
        self.info = {
            "backend": "benchmark_model",
            "binary": self.binary,
            "cores": int(cores.stdout.strip()),
            "taskset": self.taskset[1] if self.taskset else None,
        }
        return self

    def __exit__(self, *exc: object) -> None:
        if self.workdir:
            transports.remove_dir(self.transport, self.workdir)
            self.workdir = None

    def _config(self, remote_model: str, threads: int, xnnpack: bool) -> dict[str, Any]:
        if threads > self.info["cores"]:
            message = f"{threads} threads requested but {self.label} has {self.info['cores']} cores"
            return {"threads": threads, "xnnpack": xnnpack, "ok": False, "error": message}
        argv = [
            *self.taskset,
            self.binary,
            f"--graph={remote_model}",
            f"--num_threads={threads}",
            f"--num_runs={self.config.runs}",
            f"--warmup_runs={self.config.warmup}",
            "--min_secs=0",
            "--warmup_min_secs=0",
            f"--use_xnnpack={'true' if xnnpack else 'false'}",
        ]
        done = self.transport.run(argv, f"benchmark_model with {threads} threads")
        try:
            if done.returncode != 0:
                raise DeviceError(
                    f"benchmark_model exited with {done.returncode}: "
                    f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}"
                )
            parsed = parse_benchmark_output(done.stdout + "\n" + done.stderr)
        except DeviceError as err:
            return {"threads": threads, "xnnpack": xnnpack, "ok": False, "error": str(err)}
        return {"threads": threads, "xnnpack": xnnpack, **parsed}

    def measure(self, model: Path, index: int) -> dict[str, Any]:
        remote_model = f"{self.workdir}/model_{index}.tflite"
        self.transport.push(model, remote_model, f"pushing {model.name}")
        modes = (True, False) if self.config.xnnpack_compare else (True,)
        configs = [
            self._config(remote_model, threads, mode) for threads in self.config.threads for mode in modes
        ]
        self.transport.run(["rm", "-f", "--", remote_model], "removing a pushed model")
        memory = [float(c["memory_overall_mb"]) for c in configs if c.get("memory_overall_mb") is not None]
        good = [config for config in configs if config["ok"]]
        return {
            "ok": bool(good),
            "error": None if good else configs[0]["error"],
            "backend": "benchmark_model",
            "cores": self.info["cores"],
            "rss_peak_first_mb": memory[0] if memory else None,
            "rss_peak_mb": max(memory) if memory else None,
            "rss_baseline_mb": None,
            "memory_note": "benchmark_model's own memory figure (approximate, as the tool says)",
            "configs": configs,
        }

    def measure_cascade(self, stage1: Path, refine: Path, index: int) -> dict[str, Any]:
        return {
            "ok": False,
            "error": "benchmark_model times one graph: a cascade row needs the Python runner on the device "
            "(drop --adb-benchmark-binary and the profile's benchmark_model)",
            "configs": [],
        }


def open_adb_target(config: BenchConfig, serial: str | None) -> Any:
    """``benchmark_model`` when a binary is named (option or profile), else the Python runner."""
    transport = transports.AdbTransport(serial, config.remote)
    profile = config.device
    binary = config.remote.adb_benchmark_binary or (profile.benchmark_binary if profile else None)
    if binary:
        transports.check_remote_path(binary, "benchmark_model path")
        return BenchmarkBinaryTarget(config, transport, binary)
    transport.check_device()
    return RunnerTarget(config, transport, "adb")
