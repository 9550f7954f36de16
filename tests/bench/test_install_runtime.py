"""``--install-runtime``: wheel-platform logic on faked target answers, and the install itself against
the REAL loopback sshd (x86-64, tests marked ``ssh``) with tiny wheels the tests write.

The aarch64 path for real (pip download of LiteRT for manylinux aarch64, the emulated Pi) is in
``test_aarch64_vm.py``, marked ``vm``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from asmnet_edge.bench import install_runtime as installer
from asmnet_edge.bench import wheels
from asmnet_edge.bench.config import RemoteOptions
from asmnet_edge.bench.transports import Completed, SshDestination, SshTransport
from asmnet_edge.cli import main
from asmnet_edge.errors import DeviceError


def _facts(**changes: Any) -> wheels.TargetFacts:
    values: dict[str, Any] = {
        "uname_machine": "aarch64",
        "python": (3, 11, 2),
        "pointer_bits": 64,
        "libc": ("glibc", "2.36"),
        "home": "/home/pi",
        "free_bytes": 10**10,
        **changes,
    }
    return wheels.TargetFacts(**values)


class FakeTransport:
    """Answers like a Pi would; records every remote argv (what an SSH target would be asked)."""

    label = "ssh://pi@fake:22"

    def __init__(self, probe: dict[str, Any], uname: str = "aarch64", fail_on: str = "", stderr: str = ""):
        self.probe, self.uname, self.fail_on, self.stderr = probe, uname, fail_on, stderr
        self.calls: list[list[str]] = []
        self.pushed: list[str] = []
        self.options = RemoteOptions()

    def run(self, argv: list[str], what: str, timeout: float | None = None) -> Completed:
        self.calls.append(argv)
        if self.fail_on and self.fail_on in argv:
            return Completed(1, "", self.stderr)
        if argv == ["uname", "-m"]:
            return Completed(0, self.uname + "\n", "")
        if argv[1:2] == ["-c"] and argv[2] == installer.PROBE:
            return Completed(0, json.dumps(self.probe) + "\n", "")
        if argv[0] == "mktemp":
            return Completed(0, argv[-1].replace("XXXXXX", "abc123") + "\n", "")
        return Completed(0, "", "")

    def push(self, local: Path, remote: str, what: str) -> None:
        self.pushed.append(remote)


def _probe(**changes: Any) -> dict[str, Any]:
    return {
        "python": [3, 11, 2],
        "pointer_bits": 64,
        "libc": ["glibc", "2.36"],
        "home": "/home/pi",
        "base": "/home/pi/.asmnet-edge",
        "free_bytes": 10**10,
        "implementation": "cp",
        **changes,
    }


def test_platform_tags_follow_the_target_not_this_host() -> None:
    tags = wheels.platform_tags(_facts())
    assert tags[0] == "manylinux_2_36_aarch64" and tags[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_17_aarch64" in tags and "manylinux_2_28_aarch64" in tags and len(tags) == 21
    with pytest.raises(DeviceError, match="glibc 2.12 is older than 2.17"):
        wheels.platform_tags(_facts(libc=("glibc", "2.12")))
    assert wheels.platform_tags(_facts(uname_machine="arm64", libc=("glibc", "2.31")))[0] == (
        "manylinux_2_31_aarch64"
    )
    argv = wheels.download_argv(_facts(python=(3, 12, 1)), ["numpy"], Path("/w"))
    assert argv[argv.index("--python-version") + 1] == "312" and "--only-binary=:all:" in argv
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--platform"][0] == "manylinux_2_36_aarch64"


def test_32_bit_userland_on_a_64_bit_kernel_is_refused_with_what_to_do() -> None:
    facts = _facts(pointer_bits=32)
    assert facts.machine == "armv7l"
    with pytest.raises(DeviceError, match="32-bit.*no 32-bit wheel.*64-bit Raspberry Pi OS"):
        wheels.platform_tags(facts)


def test_musl_target_is_refused() -> None:
    with pytest.raises(DeviceError, match="C library is unknown.*glibc"):
        wheels.platform_tags(_facts(libc=("", "")))


def test_old_python_on_the_target_stops_before_any_download() -> None:
    transport = FakeTransport(_probe(python=[3, 9, 2]))

    def download(facts: wheels.TargetFacts, dest: Path) -> list[Path]:
        raise AssertionError("nothing may be downloaded for a target that cannot run the runtime")

    with pytest.raises(DeviceError, match=r"Python 3\.9\.2; the asmnet-edge runtime needs Python 3\.10\+"):
        installer.install_runtime(transport, download=download)  # type: ignore[arg-type]
    assert transport.pushed == []


def test_target_without_python(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = FakeTransport(_probe())
    answer = transport.run

    def run(argv: list[str], what: str, timeout: float | None = None) -> Completed:
        return answer(argv, what) if argv[0] == "uname" else Completed(127, "", "python3: not found")

    monkeypatch.setattr(transport, "run", run)
    with pytest.raises(DeviceError, match="has no 'python3': install Python 3.10"):
        installer.probe_target(transport, "python3", "~/.asmnet-edge")  # type: ignore[arg-type]


def test_a_dependency_without_a_wheel_for_the_platform_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    own = tmp_path / "asmnet_edge-0.1.0-py3-none-any.whl"
    monkeypatch.setattr(wheels, "build_own_wheel", lambda dest, root=None: own)
    stderr = (
        "ERROR: Could not find a version\nERROR: No matching distribution found for ai-edge-litert>=2.0\n"
    )
    monkeypatch.setattr(wheels, "_pip", lambda argv, what: subprocess.CompletedProcess(argv, 1, "", stderr))
    with pytest.raises(
        DeviceError,
        match=r"no wheel of ai-edge-litert>=2.0 exists.*manylinux_2_17_riscv64 \.\.\. manylinux2014",
    ):
        wheels.download_wheels(_facts(uname_machine="riscv64", libc=("glibc", "2.17")), tmp_path)


def _wheelhouse(tmp_path: Path, size: int = 10) -> list[Path]:
    files = []
    for name in ("pip-23.2.1-py3-none-any.whl", "asmnet_edge-0.1.0-py3-none-any.whl"):
        (tmp_path / name).write_bytes(b"x" * size)
        files.append(tmp_path / name)
    return files


def test_too_little_space_is_found_before_copying(tmp_path: Path) -> None:
    transport = FakeTransport(_probe())
    with pytest.raises(DeviceError, match="not enough space.*MB free.*--runtime-dir"):
        installer.install_on_target(
            transport,  # type: ignore[arg-type]
            _facts(free_bytes=2**20),
            "/home/pi/.asmnet-edge",
            _wheelhouse(tmp_path),
            ["asmnet-edge[runtime]==0.1.0"],
        )
    assert transport.pushed == [] and transport.calls == []


def test_disk_full_during_install_removes_the_new_venv_and_the_wheels(tmp_path: Path) -> None:
    transport = FakeTransport(
        _probe(), fail_on="install", stderr="OSError: [Errno 28] No space left on device"
    )
    with pytest.raises(DeviceError, match="no space left on ssh://pi@fake:22 under /home/pi/.asmnet-edge"):
        installer.install_on_target(
            transport,  # type: ignore[arg-type]
            _facts(),
            "/home/pi/.asmnet-edge",
            _wheelhouse(tmp_path),
            ["asmnet-edge[runtime]==0.1.0"],
        )
    removed = [argv[-1] for argv in transport.calls if argv[:2] == ["rm", "-rf"]]
    assert sorted(removed) == ["/home/pi/.asmnet-edge/runtime-abc123", "/home/pi/.asmnet-edge/wheels-abc123"]
    assert not any(argv[0] == "mv" for argv in transport.calls)  # the old runtime stays published


def test_install_runtime_needs_an_ssh_target() -> None:
    result = CliRunner().invoke(main, ["bench", "--target", "local", "--install-runtime", "--runs", "1"])
    assert result.exit_code != 0
    assert "--install-runtime works with ssh:// targets" in result.output


# ---- against the real loopback sshd (x86-64) ----


def _tiny_wheel(folder: Path, name: str, version: str) -> Path:
    """A real, installable pure-Python wheel of one module."""
    dist = f"{name}-{version}.dist-info"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/__init__.py", f"VERSION = {version!r}\n")
        archive.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(
            f"{dist}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{dist}/RECORD", "")
    return path


def _pip_wheel() -> Path:
    import ensurepip

    found = sorted((Path(ensurepip.__file__).parent / "_bundled").glob("pip-*.whl"))
    found += sorted(Path("/usr/share/python-wheels").glob("pip-*.whl"))
    if not found:
        pytest.skip("no bundled pip wheel on this Python (ensurepip/_bundled)")
    return found[0]


def _transport(sshd: dict, user: str = "root", **changes: Any) -> SshTransport:
    values: dict[str, Any] = {
        "identity_file": sshd["identity"],
        "known_hosts_file": sshd["known_hosts"],
        "connect_timeout_s": 5,
        "step_timeout_s": 120,
        **changes,
    }
    options = RemoteOptions(**values)
    return SshTransport(SshDestination(user, "127.0.0.1", sshd["port"]), options)


@pytest.mark.ssh
def test_install_publishes_a_working_venv_and_replaces_the_old_one(sshd: dict, tmp_path: Path) -> None:
    transport = _transport(sshd)
    base = str(tmp_path / "device" / ".asmnet-edge")
    facts, expanded = installer.probe_target(transport, sys.executable, base)
    assert expanded == base and facts.machine == os.uname().machine
    first = installer.install_on_target(
        transport,
        facts,
        base,
        [_pip_wheel(), _tiny_wheel(tmp_path, "asmnet_fake", "0.1")],
        ["asmnet_fake==0.1"],
        python=sys.executable,
        imports=("asmnet_fake",),
    )
    assert first[1]["tensorflow_imported"] is False
    python = installer.runtime_python(base)
    version = subprocess.run(
        [python, "-c", "import asmnet_fake; print(asmnet_fake.VERSION)"], capture_output=True, text=True
    )
    assert version.stdout.strip() == "0.1"
    (tmp_path / "v2").mkdir()
    second = installer.install_on_target(
        transport,
        facts,
        base,
        [_pip_wheel(), _tiny_wheel(tmp_path / "v2", "asmnet_fake", "0.2")],
        ["asmnet_fake==0.2"],
        python=sys.executable,
        imports=("asmnet_fake",),
    )
    assert os.readlink(Path(base) / "runtime") == second[0] and not Path(first[0]).exists()
    assert sorted(p.name for p in Path(base).iterdir()) == ["runtime", Path(second[0]).name]


@pytest.mark.ssh
def test_failed_install_leaves_nothing_half_done(sshd: dict, tmp_path: Path) -> None:
    transport = _transport(sshd)
    base = str(tmp_path / "device")
    facts, _ = installer.probe_target(transport, sys.executable, base)
    args = dict(python=sys.executable, imports=("asmnet_fake",))
    good, _ = installer.install_on_target(
        transport,
        facts,
        base,
        [_pip_wheel(), _tiny_wheel(tmp_path, "asmnet_fake", "0.1")],
        ["asmnet_fake"],
        **args,
    )
    with pytest.raises(DeviceError, match="pip install --no-index failed on ssh://root@127.0.0.1"):
        installer.install_on_target(
            transport,
            facts,
            base,
            [_pip_wheel()],
            ["asmnet_not_there==9"],
            **args,  # type: ignore[arg-type]
        )
    assert sorted(p.name for p in Path(base).iterdir()) == ["runtime", Path(good).name]
    assert os.readlink(Path(base) / "runtime") == good


@pytest.mark.ssh
def test_wrong_user_is_named(sshd: dict) -> None:
    with pytest.raises(DeviceError, match=r"User 'nosuchuser' was refused.*authorized_keys"):
        installer.probe_target(_transport(sshd, user="nosuchuser"), "python3", "~/.asmnet-edge")


@pytest.mark.ssh
def test_changed_host_key_says_how_to_forget_the_old_one(sshd: dict, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    key = " ".join(Path(f"{other}.pub").read_text().split()[:2])
    known.write_text(f"[127.0.0.1]:{sshd['port']} {key}\n")
    transport = _transport(sshd, known_hosts_file=str(known), strict_host_key_checking="yes")
    with pytest.raises(DeviceError, match=rf"does not match.*ssh-keygen -R \[127.0.0.1\]:{sshd['port']}"):
        installer.probe_target(transport, "python3", "~/.asmnet-edge")


@pytest.mark.ssh
def test_a_vm_that_is_not_up_says_how_to_start_it(tmp_path: Path) -> None:
    with socket.socket() as holder:  # a port nobody listens on, held so no one takes it meanwhile
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        options = RemoteOptions(connect_timeout_s=5, known_hosts_file=str(tmp_path / "kh"))
        transport = SshTransport(SshDestination("pi", "127.0.0.1", port), options)
        with pytest.raises(DeviceError, match="Nothing listens there.*aarch64_vm.sh start"):
            installer.probe_target(transport, "python3", "~/.asmnet-edge")
