"""``--install-runtime``: set up an offline SSH target (a Pi in the field) from this host.

1. ask the target ``uname -m`` and its ``python3`` (version, pointer size, libc, home, free space);
2. download matching wheels here (:mod:`asmnet_edge.bench.wheels`), copy them over;
3. make a venv there and ``pip install --no-index --find-links`` into it; check that it imports the
   runtime and not TensorFlow;
4. publish it: ``<base>/runtime`` is a symlink switched atomically (``mv -T``) to the new venv folder.

A failure at any step removes the new folder and the copied wheels; the previous venv (if any)
stays in use, so there is never a half-installed runtime behind ``<base>/runtime``. Every remote
command is an argument list (quoted by the transport).

>>> runtime_python("/home/pi/.asmnet-edge")
'/home/pi/.asmnet-edge/runtime/bin/python'
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from asmnet_edge.bench import wheels
from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.bench.targets import parse_target
from asmnet_edge.bench.transports import (
    Completed,
    SshDestination,
    SshTransport,
    check_remote_path,
    remove_dir,
)
from asmnet_edge.errors import ConfigError, DeviceError

DEFAULT_BASE = "~/.asmnet-edge"
SPACE_FACTOR = 4  # peak use over wheel size: the venv (2.9x, 243 MB on aarch64) plus the copied wheels
SPACE_MARGIN = 64 * 2**20
_INSTALL_TIMEOUT_S = 1800.0
# runs on the target's python3, whatever its version (so an old one can say how old it is)
PROBE = """
import json, os, platform, struct, sys
home = os.path.expanduser("~")
base = sys.argv[1].replace("~", home, 1) if len(sys.argv) > 1 else home
probe = base
while not os.path.isdir(probe) and probe != os.path.dirname(probe):
    probe = os.path.dirname(probe)
stat = os.statvfs(probe)
print(json.dumps({"python": list(sys.version_info[:3]), "pointer_bits": struct.calcsize("P") * 8,
                  "libc": list(platform.libc_ver()), "home": home, "base": base,
                  "free_bytes": stat.f_bavail * stat.f_frsize,
                  "implementation": {"cpython": "cp"}.get(sys.implementation.name, sys.implementation.name)}))
"""
VERIFY = """
import json, sys
for name in sys.argv[1:]:
    __import__(name)
loaded = any(module.split(".")[0] == "tensorflow" for module in sys.modules)
print(json.dumps({"ok": True, "tensorflow_imported": loaded, "python": sys.version.split()[0]}))
"""

Progress = Callable[[str], None]
Downloader = Callable[[wheels.TargetFacts, Path], list[Path]]


@dataclass
class InstallResult:
    """Where the runtime went and what it holds."""

    python: str
    venv: str
    machine: str
    python_version: str
    platform_tags: list[str]
    wheels: list[str] = field(default_factory=list)
    wheel_bytes: int = 0
    tensorflow_imported: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def runtime_python(base: str) -> str:
    """The interpreter of the published runtime venv under ``base``."""
    return f"{base.rstrip('/')}/runtime/bin/python"


def _tail(done: Completed) -> str:
    text = (done.stderr.strip() or done.stdout.strip()).splitlines()
    return text[-1] if text else f"exit code {done.returncode}"


def _no_space(done: Completed, label: str, where: str) -> None:
    if "No space left on device" in done.stderr + done.stdout:
        raise DeviceError(
            f"no space left on {label} under {where}: free some space there (df -h), or pass "
            "--runtime-dir on a bigger disk"
        )


def probe_target(transport: SshTransport, python: str, base: str) -> tuple[wheels.TargetFacts, str]:
    """``uname -m`` and the Python probe; returns the facts and ``base`` with ``~`` expanded."""
    label = transport.label
    uname = transport.run(["uname", "-m"], "asking the architecture (uname -m)")
    if uname.returncode != 0 or not uname.stdout.strip():
        raise DeviceError(f"'uname -m' failed on {label}: {_tail(uname)}; is it a Linux host?")
    done = transport.run([python, "-c", PROBE, base], "probing the target's Python")
    if done.returncode == 127:
        raise DeviceError(
            f"{label} has no {python!r}: install Python 3.10+ there (apt-get install python3), or name "
            "the interpreter with --remote-python"
        )
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise DeviceError(f"the Python probe on {label} failed: {_tail(done)}") from None
    facts = wheels.TargetFacts(
        uname_machine=uname.stdout.strip(),
        python=tuple(int(part) for part in answer["python"]),
        pointer_bits=int(answer["pointer_bits"]),
        libc=(str(answer["libc"][0]), str(answer["libc"][1])),
        home=str(answer["home"]),
        free_bytes=int(answer["free_bytes"]),
        implementation=str(answer["implementation"]),
    )
    return facts, check_remote_path(str(answer["base"]).rstrip("/"), "runtime folder")


def _step(
    transport: SshTransport, argv: list[str], what: str, where: str, timeout: float | None = None
) -> str:
    done = transport.run(argv, what, timeout=timeout)
    _no_space(done, transport.label, where)
    if done.returncode != 0:
        raise DeviceError(f"{what} failed on {transport.label}: {_tail(done)}")
    return done.stdout


def _make_dir(transport: SshTransport, template: str, where: str) -> str:
    path = _step(transport, ["mktemp", "-d", template], "creating a folder", where).strip()
    return check_remote_path(path, "new folder")


def install_on_target(
    transport: SshTransport,
    facts: wheels.TargetFacts,
    base: str,
    wheel_files: list[Path],
    requirements: list[str],
    python: str = "python3",
    imports: tuple[str, ...] = wheels.RUNTIME_IMPORTS,
) -> tuple[str, dict[str, Any]]:
    """Copy ``wheel_files``, make a venv, install ``requirements`` offline, verify, publish.

    Returns the new venv's folder and the verification answer. On failure nothing new is left.
    """
    need = SPACE_FACTOR * sum(path.stat().st_size for path in wheel_files) + SPACE_MARGIN
    if facts.free_bytes < need:
        raise DeviceError(
            f"not enough space on {transport.label} under {base}: {facts.free_bytes / 2**20:.0f} MB free, "
            f"the runtime needs about {need / 2**20:.0f} MB; free some space (df -h) or pass --runtime-dir"
        )
    pips = [path for path in wheel_files if path.name.startswith("pip-")]
    if not pips:
        raise DeviceError("no pip wheel among the downloaded wheels: the venv cannot install offline")
    _step(transport, ["mkdir", "-p", "--", base], "creating the runtime folder", base)
    venv = staging = ""
    try:
        staging = _make_dir(transport, f"{base}/wheels-XXXXXX", base)
        venv = _make_dir(transport, f"{base}/runtime-XXXXXX", base)
        for path in wheel_files:
            transport.push(path, f"{staging}/{path.name}", f"copying {path.name}")
        # no ensurepip (Debian splits it into python3-venv): pip runs from its own wheel
        _step(transport, [python, "-m", "venv", "--without-pip", venv], "creating the venv", base)
        pip = [f"{venv}/bin/python", f"{staging}/{pips[-1].name}/pip"]
        _step(
            transport,
            [
                *pip,
                "install",
                "--no-index",
                "--find-links",
                staging,
                "--disable-pip-version-check",
                "--no-cache-dir",
                "--quiet",
                "pip",
                *requirements,
            ],
            "pip install --no-index",
            base,
            timeout=_INSTALL_TIMEOUT_S,
        )
        answer = json.loads(
            _step(transport, [f"{venv}/bin/python", "-c", VERIFY, *imports], "importing the runtime", base)
            .strip()
            .splitlines()[-1]
        )
        _publish(transport, base, venv)
    except BaseException:
        if venv:
            remove_dir(transport, venv)
        raise
    finally:
        if staging:
            remove_dir(transport, staging)
    return venv, answer


def _publish(transport: SshTransport, base: str, venv: str) -> None:
    link = f"{base}/runtime"
    previous = transport.run(["readlink", "--", link], "reading the current runtime link").stdout.strip()
    _step(transport, ["ln", "-sfn", "--", venv, f"{link}.next"], "linking the new runtime", base)
    done = transport.run(["mv", "-T", "--", f"{link}.next", link], "publishing the new runtime")
    if done.returncode != 0:
        transport.run(["rm", "-f", "--", f"{link}.next"], "cleaning up")
        raise DeviceError(
            f"cannot publish the runtime at {link} on {transport.label} ({_tail(done)}): if {link} is a "
            "folder of your own, move it away or pass another --runtime-dir"
        )
    if previous.startswith(f"{base}/runtime-") and previous != venv:
        remove_dir(transport, check_remote_path(previous, "previous runtime"))


def install_runtime(
    transport: SshTransport,
    python: str = "python3",
    base: str = DEFAULT_BASE,
    progress: Progress | None = None,
    download: Downloader | None = None,
) -> InstallResult:
    """Install asmnet-edge[runtime] into a venv on an SSH target, from wheels fetched on this host.

    >>> from asmnet_edge.bench.config import RemoteOptions
    >>> from asmnet_edge.bench.transports import SshDestination
    >>> transport = SshTransport(SshDestination("pi", "raspberrypi.local", 22), RemoteOptions())
    >>> install_runtime(transport).python  # doctest: +SKIP
    '/home/pi/.asmnet-edge/runtime/bin/python'
    """
    say = progress or (lambda message: None)
    facts, base = probe_target(transport, python, base)
    wheels.check_python(facts, transport.label)
    tags = wheels.platform_tags(facts)
    say(f"{transport.label}: {facts.machine}, Python {facts.python_version}; wheels for {tags[0]}")
    with tempfile.TemporaryDirectory(prefix="asmnet-wheels-") as scratch:
        files = (download or wheels.download_wheels)(facts, Path(scratch))
        own = [path for path in files if path.name.startswith("asmnet_edge-")]
        if not own:
            raise DeviceError("asmnet-edge's own wheel is missing from the downloaded wheels")
        version = own[-1].name.split("-")[1]
        sizes = sum(path.stat().st_size for path in files)
        say(f"copying {len(files)} wheels ({sizes / 2**20:.0f} MB) and installing them")
        requirement = f"asmnet-edge[{wheels.RUNTIME_REQUIREMENT_EXTRA}]=={version}"
        venv, answer = install_on_target(transport, facts, base, files, [requirement], python=python)
        names = [path.name for path in files]
    if answer.get("tensorflow_imported"):
        raise DeviceError(f"the runtime on {transport.label} imported TensorFlow: a packaging bug, report it")
    return InstallResult(
        python=runtime_python(base),
        venv=venv,
        machine=facts.machine,
        python_version=facts.python_version,
        platform_tags=tags,
        wheels=names,
        wheel_bytes=sizes,
        tensorflow_imported=bool(answer.get("tensorflow_imported")),
    )


def install_for_config(
    config: BenchConfig, progress: Progress | None = None
) -> tuple[BenchConfig, dict[str, Any]]:
    """``bench --install-runtime``: install on ``config.target`` and return the config that uses the venv."""
    spec = parse_target(config.target)
    if spec.kind != "ssh":
        raise ConfigError(
            f"--install-runtime works with ssh:// targets, not {config.target!r}: on this machine use "
            "pip install 'asmnet-edge[runtime]'; on a phone install the runtime by hand"
        )
    transport = SshTransport(SshDestination(spec.user, spec.host or "", spec.port or 22), config.remote)
    profile = config.device
    python = config.remote.python or (profile.python if profile else "python3")
    result = install_runtime(transport, python, config.remote.runtime_dir or DEFAULT_BASE, progress)
    remote = dataclasses.replace(config.remote, python=result.python)
    return dataclasses.replace(config, remote=remote), result.to_dict()
