"""Where models run: ``local``, ``ssh://user@host[:port]`` or ``adb[:serial]``.

Every target measures through the same standalone runner (:mod:`asmnet_edge.bench.remote_runner`),
one fresh process per model (so the memory high-water mark is that model's), except adb with a
user-supplied ``benchmark_model`` binary (:mod:`asmnet_edge.bench.adb`).

>>> parse_target("ssh://pi@raspberrypi.local:2222")
TargetSpec(kind='ssh', user='pi', host='raspberrypi.local', port=2222, serial=None)
>>> parse_target("adb:R58M12345")
TargetSpec(kind='adb', user=None, host=None, port=None, serial='R58M12345')
>>> parse_target("ftp://x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
asmnet_edge.errors.ConfigError: unknown target 'ftp://x': expected 'local', 'ssh://user@host[:port]' or ...
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asmnet_edge.bench import transports
from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.errors import ConfigError, DeviceError

RUNNER_PATH = Path(__file__).with_name("remote_runner.py")
CASCADE_RUNNER = "asmnet_edge.bench.cascade_runner"  # needs asmnet-edge's runtime where it runs
MISSING_RUNTIME_EXIT = 3
COMMAND_NOT_FOUND_EXIT = 127
_NAME = re.compile(r"^[A-Za-z0-9._\-\[\]:]+$")
_TARGET_HELP = "expected 'local', 'ssh://user@host[:port]' or 'adb[:serial]'"


@dataclass(frozen=True)
class TargetSpec:
    kind: str
    user: str | None = None
    host: str | None = None
    port: int | None = None
    serial: str | None = None


def _checked(value: str, what: str, text: str) -> str:
    # a leading "-" would be read by ssh/adb as an option (e.g. -oProxyCommand=...)
    if not value or value.startswith("-") or not _NAME.match(value):
        raise ConfigError(f"bad {what} {value!r} in target {text!r}: letters, digits and . _ - only")
    return value


def parse_target(text: str) -> TargetSpec:
    """Parse a ``--target`` value; a :class:`ConfigError` explains the accepted forms."""
    if text == "local":
        return TargetSpec("local")
    if text == "adb":
        return TargetSpec("adb")
    if text.startswith("adb:"):
        return TargetSpec("adb", serial=_checked(text[4:], "adb serial", text))
    if text.startswith("ssh://"):
        rest = text[len("ssh://") :].rstrip("/")
        user, _, hostport = rest.rpartition("@")
        host, port = hostport, 22
        if hostport.count(":") == 1:
            host, _, port_text = hostport.partition(":")
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ConfigError(f"bad SSH port {port_text!r} in target {text!r}: expected 1-65535")
            port = int(port_text)
        host = host.strip("[]")
        _checked(host, "host", text)
        return TargetSpec("ssh", user=_checked(user, "user", text) if user else None, host=host, port=port)
    raise ConfigError(f"unknown target {text!r}: {_TARGET_HELP}")


def parse_runner_output(stdout: str, returncode: int, label: str) -> dict[str, Any]:
    """The runner's JSON, or a :class:`DeviceError` that says what the device lacks."""
    lines = [line for line in stdout.strip().splitlines() if line.startswith("{")]
    payload: dict[str, Any] | None = None
    if lines:
        try:
            payload = json.loads(lines[-1])
        except ValueError:
            payload = None
    if returncode == MISSING_RUNTIME_EXIT:
        detail = payload.get("error", "") if payload else ""
        raise DeviceError(
            f"{label} lacks the LiteRT runtime ({detail}): install it on the device with "
            "'pip install ai-edge-litert numpy' (or 'pip install asmnet-edge[runtime]')"
        )
    if payload is None:
        raise DeviceError(f"the benchmark runner on {label} printed no result (exit code {returncode})")
    return payload


class LocalTarget:
    """This machine; each model is measured in a fresh ``python remote_runner.py`` subprocess."""

    kind = "local"

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.label = "local"
        self.info: dict[str, Any] = {}

    def __enter__(self) -> LocalTarget:
        done = transports._run_local(
            [sys.executable, str(RUNNER_PATH), "probe"], self.config.remote.step_timeout_s, "probe", "local"
        )
        self.info = parse_runner_output(done.stdout, done.returncode, "this machine")
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def measure(self, model: Path, index: int) -> dict[str, Any]:
        argv = [sys.executable, str(RUNNER_PATH), *runner_args(self.config, str(model))]
        done = transports._run_local(argv, self.config.remote.step_timeout_s, f"timing {model.name}", "local")
        return parse_runner_output(done.stdout, done.returncode, "this machine")

    def measure_cascade(self, stage1: Path, refine: Path, index: int) -> dict[str, Any]:
        """Time ``stage1`` + ``refine`` end to end in a fresh process (:mod:`cascade_runner`)."""
        argv = [sys.executable, *cascade_args(self.config, str(stage1), str(refine))]
        what = f"timing {stage1.name} + {refine.name}"
        done = transports._run_local(argv, self.config.remote.step_timeout_s, what, "local")
        return parse_runner_output(done.stdout, done.returncode, "this machine")


def cascade_args(config: BenchConfig, stage1: str, refine: str) -> list[str]:
    """``-m asmnet_edge.bench.cascade_runner`` and the run options of ``config`` (as the plain runner's)."""
    return ["-m", CASCADE_RUNNER, "--stage1", stage1, "--refine", refine, *timing_args(config)]


def timing_args(config: BenchConfig) -> list[str]:
    """The options both runners take: threads, runs, warm-up runs, XNNPACK comparison."""
    args = ["--threads", ",".join(str(t) for t in config.threads), "--runs", str(config.runs)]
    args += ["--warmup", str(config.warmup)]
    return args if config.xnnpack_compare else [*args, "--no-xnnpack-compare"]


def runner_args(config: BenchConfig, model: str) -> list[str]:
    return ["run", "--model", model, *timing_args(config)]


class RunnerTarget:
    """A device reached by a transport (SSH, or adb with Python): the runner is copied and run there."""

    def __init__(self, config: BenchConfig, transport: Any, kind: str) -> None:
        self.config = config
        self.transport = transport
        self.kind = kind
        self.label = transport.label
        profile = config.device
        self.python = config.remote.python or (profile.python if profile else "python3")
        self.taskset = ["taskset", profile.taskset_mask] if profile and profile.taskset_mask else []
        self.workdir: str | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> RunnerTarget:
        self.workdir = transports.make_temp_dir(self.transport)
        try:
            runner = f"{self.workdir}/remote_runner.py"
            self.transport.push(RUNNER_PATH, runner, "copying the benchmark runner")
            done = self.transport.run([self.python, runner, "probe"], "probing the device's Python")
            if done.returncode == COMMAND_NOT_FOUND_EXIT:
                raise DeviceError(
                    f"{self.label} has no {self.python!r}: install Python 3 there, or name it with "
                    "--remote-python (or the device profile's 'python')"
                )
            self.info = parse_runner_output(done.stdout, done.returncode, self.label)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.workdir:
            transports.remove_dir(self.transport, self.workdir)
            self.workdir = None

    def measure(self, model: Path, index: int) -> dict[str, Any]:
        # the device never sees the user's file name: models are copied as model_<index>.tflite
        remote_model = f"{self.workdir}/model_{index}.tflite"
        self.transport.push(model, remote_model, f"copying {model.name}")
        argv = [
            *self.taskset,
            self.python,
            f"{self.workdir}/remote_runner.py",
            *runner_args(self.config, remote_model),
        ]
        done = self.transport.run(argv, f"timing {model.name}")
        self.transport.run(["rm", "-f", "--", remote_model], "removing a copied model")
        return parse_runner_output(done.stdout, done.returncode, self.label)

    def measure_cascade(self, stage1: Path, refine: Path, index: int) -> dict[str, Any]:
        """The cascade runner on the device; a device without asmnet-edge's runtime fails this row only."""
        remote = [f"{self.workdir}/cascade_{index}_{part}.tflite" for part in ("stage1", "refine")]
        for local, there in zip((stage1, refine), remote, strict=True):
            self.transport.push(local, there, f"copying {local.name}")
        argv = [*self.taskset, self.python, *cascade_args(self.config, remote[0], remote[1])]
        done = self.transport.run(argv, f"timing {stage1.name} + {refine.name}")
        self.transport.run(["rm", "-f", "--", *remote], "removing copied models")
        if "No module named" in (done.stderr or "") and not done.stdout.strip():
            return {
                "ok": False,
                "error": f"{self.label} has no asmnet-edge runtime for the cascade runner: install it there "
                "(bench --install-runtime over SSH, or pip install 'asmnet-edge[runtime]')",
                "configs": [],
            }
        return parse_runner_output(done.stdout, done.returncode, self.label)
