"""Fixtures of the benchmark tests: committed tiny models, a FAKE adb, and a real loopback sshd.

The adb "device" is SIMULATED: ``fake_adb`` puts an ``adb`` script first on PATH that records its argv,
keeps pushed files in a folder standing for the phone, and replays ``benchmark_model`` output in the
documented format. The SSH server is real OpenSSH, started on a free loopback port (tests marked ``ssh``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SSHD = "/usr/sbin/sshd"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


FAKE_ADB = r'''#!{python}
"""A fake adb (tests only): logs argv, emulates a phone folder, replays benchmark_model output."""
import json, os, random, shlex, shutil, string, sys
state = os.environ["FAKE_ADB_STATE"]
root = os.path.join(state, "device")
args = sys.argv[1:]
with open(os.path.join(state, "argv.jsonl"), "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:1] == ["-s"]:
    args = args[2:]
def local(path):
    return os.path.join(root, path.lstrip("/"))
if os.environ.get("FAKE_ADB_OFFLINE"):
    print("error: device offline", file=sys.stderr); sys.exit(1)
if args == ["get-state"]:
    print("device"); sys.exit(0)
if args[0] == "push":
    os.makedirs(os.path.dirname(local(args[2])), exist_ok=True)
    shutil.copy(args[1], local(args[2])); print("1 file pushed"); sys.exit(0)
if args[0] != "shell" or len(args) != 2:
    print("fake adb: unexpected " + repr(args), file=sys.stderr); sys.exit(2)
argv = shlex.split(args[1])   # the device's shell splits the one command line adb sends
with open(os.path.join(state, "shell.jsonl"), "a") as log:
    log.write(json.dumps(argv) + "\n")
if argv[0] == "mktemp":
    folder = argv[2].replace("XXXXXX", "".join(random.choice(string.ascii_lowercase) for _ in range(6)))
    os.makedirs(local(folder)); print(folder); sys.exit(0)
if argv[0] == "test":
    sys.exit(0 if os.environ.get("FAKE_ADB_BINARY") == argv[2] else 1)
if argv[0] == "nproc":
    print(os.environ.get("FAKE_ADB_CORES", "8")); sys.exit(0)
if argv[0] == "rm":
    target = local(argv[-1])
    if os.path.isdir(target):
        shutil.rmtree(target, ignore_errors=True)
    elif os.path.exists(target):
        os.remove(target)
    sys.exit(0)
if argv[0] == "taskset":
    argv = argv[2:]
if argv[0] == "python3" and os.environ.get("FAKE_ADB_PYTHON"):
    import subprocess  # a phone with Python (Termux): run the runner here, on the phone's files
    mapped = [local(a) if a.startswith("/data/") else a for a in argv[1:]]
    sys.exit(subprocess.run([sys.executable, *mapped]).returncode)
if argv[0] == os.environ.get("FAKE_ADB_BINARY"):
    graph = [a for a in argv if a.startswith("--graph=")][0][len("--graph="):]
    if not os.path.exists(local(graph)):
        print("ERROR: Could not open '%s'" % graph, file=sys.stderr); sys.exit(1)
    sys.stdout.write(open(os.environ["FAKE_ADB_REPLAY"]).read()); sys.exit(0)
print("/system/bin/sh: %s: inaccessible or not found" % argv[0], file=sys.stderr)
sys.exit(127)
'''


class FakeAdb:
    """Handle on the fake adb's state: what it was asked, and what the 'phone' holds."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def calls(self) -> list[list[str]]:
        path = self.state / "argv.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def shell_calls(self) -> list[list[str]]:
        path = self.state / "shell.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def device_files(self) -> list[str]:
        root = self.state / "device"
        return (
            sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
        )


@pytest.fixture
def fake_adb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAdb:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "adb"
    script.write_text(FAKE_ADB.replace("{python}", sys.executable))
    script.chmod(0o755)
    state = tmp_path / "adb_state"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_ADB_STATE", str(state))
    monkeypatch.setenv("FAKE_ADB_REPLAY", str(FIXTURES / "benchmark_model_output.txt"))
    monkeypatch.setenv("FAKE_ADB_BINARY", "/data/local/tmp/benchmark_model")
    return FakeAdb(state)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real OpenSSH server on loopback, key-only, for the current (root) user."""
    if not Path(SSHD).exists() or shutil.which("ssh") is None:
        pytest.skip("OpenSSH server missing: apt-get install -y openssh-server (scripts/start_test_sshd.sh)")
    if os.geteuid() != 0:
        pytest.skip("the loopback sshd fixture runs sshd as root")
    folder = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    shutil.copy(folder / "user_key.pub", folder / "authorized_keys")
    port = _free_port()
    config = folder / "sshd_config"
    config.write_text(
        textwrap.dedent(f"""\
        Port {port}
        ListenAddress 127.0.0.1
        HostKey {folder / "host_key"}
        PidFile {folder / "sshd.pid"}
        AuthorizedKeysFile {folder / "authorized_keys"}
        PermitRootLogin prohibit-password
        StrictModes no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        Subsystem sftp internal-sftp
        LogLevel ERROR
        """)
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation folder sshd insists on
    log = open(folder / "sshd.log", "w")  # noqa: SIM115 - kept open for the server's life
    server = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if server.poll() is not None:
            pytest.skip(f"sshd did not start: {(folder / 'sshd.log').read_text()}")
        time.sleep(0.1)
    yield {
        "port": port,
        "target": f"ssh://root@127.0.0.1:{port}",
        "identity": str(folder / "user_key"),
        "known_hosts": str(folder / "known_hosts"),
        "folder": folder,
    }
    server.terminate()
    server.wait(timeout=10)
    log.close()
