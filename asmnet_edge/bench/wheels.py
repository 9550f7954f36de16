"""Host side of ``--install-runtime``: which wheels a target needs, fetched here with ``pip download``.

The target answers ``uname -m`` and a small Python probe (:class:`TargetFacts`); from those come the
pip platform tags (``manylinux_2_36_aarch64`` ...) and the interpreter version. The host then builds
asmnet-edge's own wheel from its source tree and runs ``pip download --only-binary=:all:`` for it
with the ``runtime`` extra, so the target never needs a network.

>>> facts = TargetFacts(uname_machine="aarch64", python=(3, 11, 2), pointer_bits=64,
...                     libc=("glibc", "2.36"), home="/home/pi", free_bytes=10**10)
>>> tags = platform_tags(facts)
>>> tags[0], tags[-2], tags[-1]
('manylinux_2_36_aarch64', 'manylinux_2_17_aarch64', 'manylinux2014_aarch64')
>>> facts.python_tag
'311'
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from asmnet_edge.errors import DeviceError

MIN_PYTHON = (3, 10)
RUNTIME_REQUIREMENT_EXTRA = "runtime"
# what the installed venv must import (pip itself is installed too, for later upgrades by hand)
RUNTIME_IMPORTS = ("numpy", "ai_edge_litert.interpreter", "cv2", "asmnet_edge.runtime")
_MACHINES = {"aarch64": "aarch64", "arm64": "aarch64", "x86_64": "x86_64", "amd64": "x86_64"}
_NO_DISTRIBUTION = re.compile(r"No matching distribution found for ([^\s]+)")
_DOWNLOAD_TIMEOUT_S = 1800
OLDEST_GLIBC_MINOR = 17  # manylinux2014, the oldest tag of aarch64 wheels


@dataclass(frozen=True)
class TargetFacts:
    """What the target said about itself (``uname -m`` and its ``python3``)."""

    uname_machine: str
    python: tuple[int, ...]
    pointer_bits: int
    libc: tuple[str, str]
    home: str
    free_bytes: int
    implementation: str = "cp"

    @property
    def python_version(self) -> str:
        return ".".join(str(part) for part in self.python)

    @property
    def python_tag(self) -> str:
        return f"{self.python[0]}{self.python[1]}"

    @property
    def machine(self) -> str:
        """The userland's architecture: a 64-bit kernel may run a 32-bit Python (32-bit Pi OS)."""
        machine = _MACHINES.get(self.uname_machine, self.uname_machine)
        if machine == "aarch64" and self.pointer_bits == 32:
            return "armv7l"
        if machine == "x86_64" and self.pointer_bits == 32:
            return "i686"
        return machine


def check_python(facts: TargetFacts, label: str) -> None:
    """The runtime needs Python 3.10+ (pyproject's requires-python, and ai-edge-litert's wheels)."""
    if facts.python[:2] < MIN_PYTHON:
        raise DeviceError(
            f"{label} has Python {facts.python_version}; the asmnet-edge runtime needs Python "
            f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}+: upgrade the OS (Debian 12 / Raspberry Pi OS "
            "bookworm ship 3.11) or name a newer interpreter with --remote-python"
        )
    if facts.implementation != "cp":
        raise DeviceError(
            f"{label}'s python is {facts.implementation!r}, not CPython: LiteRT ships CPython wheels only"
        )


def platform_tags(facts: TargetFacts) -> list[str]:
    """pip ``--platform`` values for the target: its glibc's manylinux tag and every older one."""
    machine = facts.machine
    if machine in ("armv7l", "armv6l", "i686"):
        raise DeviceError(
            f"the target's Python is 32-bit ({machine}, uname -m says {facts.uname_machine}): ai-edge-litert "
            "has no 32-bit wheel. Install a 64-bit OS (64-bit Raspberry Pi OS), or install the legacy "
            "runtime there by hand (pip install 'asmnet-edge[legacy]': tflite-runtime 2.14, numpy<2)"
        )
    name, version = facts.libc
    if name != "glibc" or not re.fullmatch(r"\d+\.\d+", version):
        raise DeviceError(
            f"the target's C library is {name or 'unknown'} {version}: only glibc (manylinux) wheels of "
            "LiteRT exist; use a glibc distribution such as Debian or Raspberry Pi OS"
        )
    major, minor = (int(part) for part in version.split("."))
    if (major, minor) < (2, OLDEST_GLIBC_MINOR):
        raise DeviceError(
            f"the target's glibc {version} is older than 2.{OLDEST_GLIBC_MINOR}, the oldest any LiteRT wheel "
            "supports (manylinux2014): upgrade the OS"
        )
    # pip does not widen a manylinux_2_x platform to older glibc versions by itself: list them all
    newest_first = [f"manylinux_2_{m}_{machine}" for m in range(minor, OLDEST_GLIBC_MINOR - 1, -1)]
    return [*newest_first, f"manylinux2014_{machine}"]


def project_root() -> Path:
    """The source tree asmnet-edge runs from (its wheel is built from there)."""
    root = Path(__file__).resolve().parents[2]
    if not all((root / name).exists() for name in ("pyproject.toml", "README.md", "asmnet_edge")):
        raise DeviceError(
            f"--install-runtime builds asmnet-edge's wheel from its source tree, but {root} has no "
            "pyproject.toml: run it from a checkout (pip install -e .)"
        )
    return root


def _pip(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-m", "pip", *argv],
            capture_output=True,
            text=True,
            timeout=_DOWNLOAD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise DeviceError(
            f"{what} timed out after {_DOWNLOAD_TIMEOUT_S} s: check this host's network"
        ) from err


def build_own_wheel(dest: Path, root: Path | None = None) -> Path:
    """``pip wheel --no-deps`` of the source tree into ``dest``; returns the wheel's path."""
    root = root or project_root()
    with tempfile.TemporaryDirectory(prefix="asmnet-wheel-") as scratch:
        # built from a copy: setuptools builds in-tree, and a stale build/lib in the checkout would
        # put files deleted from the source into the wheel
        source = Path(scratch) / "source"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        shutil.copytree(root / "asmnet_edge", source / "asmnet_edge", ignore=ignore)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, source / name)
        wheels_dir = Path(scratch) / "wheels"
        done = _pip(
            [
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "--quiet",
                "--wheel-dir",
                str(wheels_dir),
                str(source),
            ],
            "building asmnet-edge's wheel",
        )
        built = sorted(wheels_dir.glob("asmnet_edge-*.whl"))
        if done.returncode != 0 or not built:
            raise DeviceError(
                f"building asmnet-edge's wheel from {root} failed: {done.stderr.strip()[-400:]}"
            )
        target = dest / built[-1].name
        built[-1].replace(target)
    return target


def download_argv(facts: TargetFacts, requirements: list[str], dest: Path) -> list[str]:
    """pip's arguments: binary wheels only, for the target's platform and Python, into ``dest``."""
    argv = ["download", "--only-binary=:all:", "--dest", str(dest), "--disable-pip-version-check"]
    for tag in platform_tags(facts):
        argv += ["--platform", tag]
    argv += ["--python-version", facts.python_tag, "--implementation", facts.implementation]
    return [*argv, *requirements]


def download_wheels(facts: TargetFacts, dest: Path, root: Path | None = None) -> list[Path]:
    """Every wheel the target's runtime venv needs: asmnet-edge[runtime], its dependencies, and pip.

    A dependency without a wheel for the target's platform is a :class:`DeviceError` naming it.
    """
    own = build_own_wheel(dest, root)
    requirements = [f"{own}[{RUNTIME_REQUIREMENT_EXTRA}]", "pip"]
    done = _pip(download_argv(facts, requirements, dest), "pip download")
    if done.returncode != 0:
        missing = _NO_DISTRIBUTION.search(done.stderr)
        found = platform_tags(facts)
        tags = f"{found[0]} ... {found[-1]}"
        if missing:
            raise DeviceError(
                f"no wheel of {missing.group(1)} exists for the target (CPython {facts.python_version}, "
                f"{tags}): the runtime cannot be installed there offline. Use a target Python / OS that "
                "package publishes wheels for (ai-edge-litert: CPython 3.10-3.14, 64-bit Linux, glibc)"
            )
        raise DeviceError(f"pip download for {tags} failed: {done.stderr.strip()[-400:]}")
    return sorted(dest.glob("*.whl"))
