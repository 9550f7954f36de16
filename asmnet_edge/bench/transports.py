"""Moving files to a device and running commands on it: SSH (``ssh``/``scp``) and adb.

Every command is a list of arguments run without a local shell. The remote side does run a shell
(``ssh`` and ``adb shell`` both hand the device one command line), so each remote argument is quoted
with :func:`shlex.join`: a file name such as ``a;touch pwned.tflite`` or ``$(reboot)`` stays a name.
Every step has a timeout; an unreachable device is a :class:`DeviceError` that says what to check.

>>> transport = SshTransport(SshDestination("pi", "raspberrypi.local", 22), RemoteOptions())
>>> transport.ssh_command(["ls", "a;b"])[-1]
"ls 'a;b'"
"""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from asmnet_edge.bench.config import RemoteOptions
from asmnet_edge.errors import DeviceError

SSH_UNREACHABLE = 255  # ssh's own exit status for connection and authentication failures
_SAFE_REMOTE_PATH = re.compile(r"^/[A-Za-z0-9._/-]+$")


@dataclass(frozen=True)
class Completed:
    """What a remote command returned."""

    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class SshDestination:
    user: str | None
    host: str
    port: int

    @property
    def login(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self) -> str:
        return f"ssh://{self.login}:{self.port}"


def check_remote_path(path: str, what: str) -> str:
    """Paths this module creates on a device must be plain (letters, digits, ``._/-``)."""
    if not _SAFE_REMOTE_PATH.match(path):
        raise DeviceError(
            f"the device returned an unexpected {what} {path!r}: expected a plain absolute path"
        )
    return path


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def _run_local(argv: list[str], timeout: float, what: str, label: str) -> Completed:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise DeviceError(
            f"{what} on {label} timed out after {timeout:.0f} s: the device is too slow or hung; "
            "raise the step timeout (--remote-timeout) or check the device"
        ) from err
    except FileNotFoundError as err:
        raise DeviceError(f"{argv[0]!r} is not installed here, so {what} cannot run") from err
    return Completed(done.returncode, done.stdout, done.stderr)


class SshTransport:
    """``ssh``/``scp`` with BatchMode (never a password prompt) and bounded connect time."""

    def __init__(self, destination: SshDestination, options: RemoteOptions) -> None:
        self.destination = destination
        self.options = options
        self.label = str(destination)
        self.temp_base = "/tmp"

    def _options(self) -> list[str]:
        opts = [
            "-o",
            "BatchMode=yes",
            "-o",
            f"ConnectTimeout={int(self.options.connect_timeout_s)}",
            "-o",
            f"StrictHostKeyChecking={self.options.strict_host_key_checking}",
            "-o",
            "LogLevel=ERROR",
        ]
        if self.options.known_hosts_file:
            opts += ["-o", f"UserKnownHostsFile={self.options.known_hosts_file}"]
        if self.options.identity_file:
            opts += ["-i", self.options.identity_file, "-o", "IdentitiesOnly=yes"]
        return opts

    def ssh_command(self, remote_argv: list[str]) -> list[str]:
        """The local argv that runs ``remote_argv`` (quoted) on the device."""
        port = ["-p", str(self.destination.port)]
        return ["ssh", *self._options(), *port, "--", self.destination.login, shlex.join(remote_argv)]

    def _check(self, done: Completed, what: str) -> Completed:
        if done.returncode == SSH_UNREACHABLE:
            hint = self._hint(done.stderr)
            reason = _tail(done.stderr).rstrip(".")
            raise DeviceError(f"cannot reach {self.label} over SSH ({what}): {reason}. {hint}")
        return done

    def _hint(self, stderr: str) -> str:
        """What to do, from ssh's own message (host key, user, nothing listening)."""
        known = self.options.known_hosts_file or "~/.ssh/known_hosts"
        host, port = self.destination.host, self.destination.port
        entry = host if port == 22 else f"[{host}]:{port}"
        if "IDENTIFICATION HAS CHANGED" in stderr:
            return (
                f"The host key does not match the one in {known}: if the device was reinstalled (or the VM "
                f"rebuilt) and you trust it, remove the old key with 'ssh-keygen -R {entry} -f {known}'"
            )
        if "Host key verification failed" in stderr:
            return (
                f"Its host key is not in {known} and strict checking is on: check the key and add it "
                f"(ssh-keyscan -p {port} {host} >> {known}), or pass --strict-host-key-checking accept-new"
            )
        if "Permission denied" in stderr:
            return (
                f"User {self.destination.user or '(your login name)'!r} was refused: check the user in the "
                "target (ssh://USER@host) and that your key (--ssh-identity) is in that user's "
                "~/.ssh/authorized_keys"
            )
        if "Connection refused" in stderr:
            return (
                "Nothing listens there: start the host (the emulated Pi: scripts/aarch64_vm.sh start) or "
                "check which port sshd listens on"
            )
        return (
            "Check that the host is up, sshd listens on that port and your key is authorised "
            "(password prompts are disabled)"
        )

    def run(self, remote_argv: list[str], what: str, timeout: float | None = None) -> Completed:
        limit = timeout or self.options.step_timeout_s
        return self._check(_run_local(self.ssh_command(remote_argv), limit, what, self.label), what)

    def push(self, local: Path, remote: str, what: str) -> None:
        check_remote_path(remote, "destination path")
        # an absolute local path never contains "host:" before its first "/", so scp reads it as local
        argv = [
            "scp",
            "-q",
            *self._options(),
            "-P",
            str(self.destination.port),
            str(local.resolve()),
            f"{self.destination.login}:{remote}",
        ]
        done = self._check(_run_local(argv, self.options.step_timeout_s, what, self.label), what)
        if done.returncode != 0:
            raise DeviceError(f"copying {local.name} to {self.label} failed: {_tail(done.stderr)}")


class AdbTransport:
    """``adb [-s serial] shell`` / ``adb push``; one quoted command line per shell call."""

    def __init__(self, serial: str | None, options: RemoteOptions) -> None:
        self.serial = serial
        self.options = options
        self.label = f"adb:{serial}" if serial else "adb (default device)"
        self.temp_base = options.device_dir
        executable = shutil.which(options.adb_executable)
        if executable is None:
            raise DeviceError(
                f"adb executable {options.adb_executable!r} not found: install Android platform-tools "
                "(apt-get install adb) or pass --adb PATH"
            )
        self.executable = executable

    def _base(self) -> list[str]:
        return [self.executable, *(["-s", self.serial] if self.serial else [])]

    def check_device(self) -> None:
        done = _run_local(
            [*self._base(), "get-state"], self.options.connect_timeout_s, "adb get-state", self.label
        )
        if done.returncode != 0 or done.stdout.strip() != "device":
            raise DeviceError(
                f"no usable adb device {self.label}: {_tail(done.stderr or done.stdout)}. "
                "Check 'adb devices', "
                "USB debugging and the serial"
            )

    def run(self, remote_argv: list[str], what: str, timeout: float | None = None) -> Completed:
        argv = [*self._base(), "shell", shlex.join(remote_argv)]
        return _run_local(argv, timeout or self.options.step_timeout_s, what, self.label)

    def push(self, local: Path, remote: str, what: str) -> None:
        check_remote_path(remote, "destination path")
        done = _run_local(
            [*self._base(), "push", str(local.resolve()), remote],
            self.options.step_timeout_s,
            what,
            self.label,
        )
        if done.returncode != 0:
            raise DeviceError(
                f"adb push of {local.name} to {self.label} failed: {_tail(done.stderr or done.stdout)}"
            )


def make_temp_dir(transport: SshTransport | AdbTransport) -> str:
    """A fresh private folder on the device (``mktemp -d``), checked to be a plain path."""
    template = f"{transport.temp_base.rstrip('/')}/asmnet-bench.XXXXXX"
    done = transport.run(["mktemp", "-d", template], "creating a temporary folder")
    if done.returncode != 0:
        raise DeviceError(f"cannot create a temporary folder on {transport.label}: {_tail(done.stderr)}")
    return check_remote_path(done.stdout.strip(), "temporary folder")


def remove_dir(transport: SshTransport | AdbTransport, path: str) -> None:
    """Best-effort cleanup; a failure here must not hide the results."""
    with contextlib.suppress(DeviceError):
        limit = transport.options.connect_timeout_s + 20
        transport.run(["rm", "-rf", "--", path], "cleaning up", timeout=limit)
