"""The one configuration of a benchmark run, validated before anything runs.

>>> config = BenchConfig(models=("m.tflite",), threads=(1, 2), runs=20)
>>> config.runs, config.threads
(20, (1, 2))
>>> BenchConfig(models=("m.tflite",), runs=0)
Traceback (most recent call last):
...
asmnet_edge.errors.ConfigError: runs must be at least 1 (got 0): latency needs timed runs
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from asmnet_edge.bench.profiles import DeviceProfile
from asmnet_edge.errors import ConfigError
from asmnet_edge.runtime.contract import DEFAULT_MODEL_DIR

PEERS = ("dlib", "mediapipe")
HOST_KEY_MODES = ("yes", "no", "accept-new")


@dataclass(frozen=True)
class RemoteOptions:
    """How to reach and drive a remote device (SSH or adb)."""

    connect_timeout_s: float = 10.0
    step_timeout_s: float = 600.0  # every remote step (copy, probe, one model's run) is bounded by this
    strict_host_key_checking: str = "accept-new"
    identity_file: str | None = None
    known_hosts_file: str | None = None
    python: str | None = None  # overrides the device profile's python
    adb_executable: str = "adb"
    adb_benchmark_binary: str | None = None  # path ON the device; overrides the profile's
    device_dir: str = "/data/local/tmp"  # where adb pushes files
    runtime_dir: str | None = None  # --install-runtime: the folder on the device (default ~/.asmnet-edge)

    def __post_init__(self) -> None:
        if self.strict_host_key_checking not in HOST_KEY_MODES:
            raise ConfigError(
                f"strict host key checking must be one of {HOST_KEY_MODES}, "
                f"got {self.strict_host_key_checking!r}"
            )
        if self.connect_timeout_s <= 0 or self.step_timeout_s <= 0:
            raise ConfigError("timeouts must be positive numbers of seconds")


@dataclass(frozen=True)
class BenchConfig:
    """Everything ``asmnet-edge bench`` does; each field changes the run or its report."""

    models: tuple[str | Path, ...]
    target: str = "local"
    threads: tuple[int, ...] = (1,)
    runs: int = 50
    warmup: int = 5
    xnnpack_compare: bool = True
    accuracy_data: str | Path | None = None
    accuracy_format: str = "300w"
    accuracy_limit: int | None = None
    peers: tuple[str, ...] = ()
    mediapipe_python: str | None = None  # a Python with mediapipe, when it cannot live beside TensorFlow
    device: DeviceProfile | None = None
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    install_runtime: bool = False  # ssh targets: push wheels and make the runtime venv first
    # refine-stage .tflite files: each is one cascade row behind its stage 1 among ``models``
    refines: tuple[str | Path, ...] = ()

    def __post_init__(self) -> None:
        if not self.models:
            raise ConfigError("no model given: pass one or more .tflite files")
        if self.runs < 1:
            raise ConfigError(f"runs must be at least 1 (got {self.runs}): latency needs timed runs")
        if self.warmup < 0:
            raise ConfigError(f"warmup must be 0 or more (got {self.warmup})")
        if not self.threads or min(self.threads) < 1:
            raise ConfigError(f"thread counts must be positive integers, got {list(self.threads)}")
        unknown = sorted(set(self.peers) - set(PEERS))
        if unknown:
            raise ConfigError(f"unknown peers {unknown}: expected some of {PEERS}")
        if self.peers and self.accuracy_data is None:
            raise ConfigError("peers are compared on labelled images: give --data DATA with --peer")
        if self.accuracy_limit is not None and self.accuracy_limit < 1:
            raise ConfigError(f"accuracy limit must be at least 1, got {self.accuracy_limit}")


DEFAULT_MODELS_DIR = DEFAULT_MODEL_DIR


def default_models(folder: Path = DEFAULT_MODELS_DIR) -> tuple[Path, ...]:
    """The .tflite models embedded in the package (``asmnet_edge/assets/default``), or a ConfigError."""
    found = tuple(sorted(folder.glob("*.tflite"))) if folder.is_dir() else ()
    if not found:
        raise ConfigError(f"no model given and no embedded default model in {folder}: pass .tflite files")
    return found


def expand_models(paths: tuple[str | Path, ...]) -> tuple[Path, ...]:
    """``--model`` values: a file stays itself, a folder becomes its .tflite files (sorted, recursive).

    >>> expand_models(("a.tflite",))
    (PosixPath('a.tflite'),)
    """
    models: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            found = sorted(entry.rglob("*.tflite"))
            if not found:
                raise ConfigError(f"no .tflite file in {entry}: export models there or name the files")
            models += found
        else:
            models.append(entry)
    return tuple(dict.fromkeys(models))
