"""Device profiles: what a benchmark target is and what it is expected to do, loaded strictly from JSON.

A profile names the threads worth measuring, the CPU mask to pin them to (``taskset``), the Python
and the ``benchmark_model`` binary to use on the device, and reference figures taken from published
numbers (labelled as such: they are not measurements of this project).

>>> profile = DeviceProfile.from_dict({"name": "pi4", "kind": "ssh", "cores": 4, "threads": [1, 4]})
>>> profile.threads
(1, 4)
>>> DeviceProfile.from_dict({"name": "x", "kind": "ssh", "cores": 4, "thread": [1]})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
asmnet_edge.errors.ConfigError: device profile 'x': unknown key 'thread'; known keys: benchmark_binary, ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from asmnet_edge._config import load_dataclass, read_json
from asmnet_edge.errors import ConfigError

PROFILE_KINDS = ("local", "ssh", "adb")


@dataclass(frozen=True)
class DeviceProfile:
    """One device a user benchmarks on; every field changes what ``bench`` does or reports."""

    name: str
    kind: str
    cores: int
    threads: tuple[int, ...] = (1,)
    description: str = ""
    taskset_mask: str | None = None  # hex CPU mask, e.g. "f0" = the four big cores of a 4+4 phone
    python: str = "python3"
    benchmark_binary: str | None = None  # path ON the device (adb), e.g. /data/local/tmp/benchmark_model
    reference: dict[str, float] = field(default_factory=dict)  # label -> ms, published figures
    reference_source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PROFILE_KINDS:
            raise ConfigError(
                f"device profile {self.name!r}: kind must be one of {PROFILE_KINDS}, got {self.kind!r}"
            )
        if self.cores < 1 or not self.threads or min(self.threads) < 1:
            raise ConfigError(f"device profile {self.name!r}: cores and threads must be positive")
        if max(self.threads) > self.cores:
            raise ConfigError(
                f"device profile {self.name!r}: threads {list(self.threads)} exceed its {self.cores} cores"
            )
        if self.taskset_mask is not None:
            try:
                int(self.taskset_mask, 16)
            except ValueError as err:
                raise ConfigError(
                    f"device profile {self.name!r}: taskset_mask must be hex like 'f0', "
                    f"got {self.taskset_mask!r}"
                ) from err

    @classmethod
    def from_dict(cls, data: Any, what: str | None = None) -> DeviceProfile:
        """Strict load (:func:`asmnet_edge._config.load_dataclass`): unknown keys and wrong types are
        :class:`ConfigError`."""
        name = data.get("name", "?") if isinstance(data, dict) else "?"
        return load_dataclass(cls, data, what or f"device profile {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)} | {
            "threads": list(self.threads)
        }


PACKAGED_PROFILES = Path(__file__).resolve().parent / "devices"  # package data, in every install


def profile_dirs() -> list[Path]:
    """Where ``--device NAME`` looks: the folders of $ASMNET_DEVICE_PROFILES, then the packaged profiles."""
    dirs = [Path(entry) for entry in os.environ.get("ASMNET_DEVICE_PROFILES", "").split(os.pathsep) if entry]
    dirs.append(PACKAGED_PROFILES)
    return dirs


def load_profile(name_or_path: str | os.PathLike[str]) -> DeviceProfile:
    """Load a profile from a JSON path, or by name (``pi4`` -> ``asmnet_edge/bench/devices/pi4.json``)."""
    candidate = Path(name_or_path)
    if candidate.suffix != ".json":
        found = [folder / f"{candidate.name}.json" for folder in profile_dirs()]
        candidate = next((path for path in found if path.is_file()), candidate)
    if not candidate.is_file():
        names = sorted(
            {path.stem for folder in profile_dirs() if folder.is_dir() for path in folder.glob("*.json")}
        )
        raise ConfigError(f"no device profile {str(name_or_path)!r}: give a .json path or one of {names}")
    return DeviceProfile.from_dict(read_json(candidate, "device profile"), f"device profile {candidate}")
