"""The SSH target end to end against a REAL OpenSSH server on loopback (started by the sshd fixture)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asmnet_edge.bench.config import BenchConfig, RemoteOptions
from asmnet_edge.bench.run import run_bench

pytestmark = pytest.mark.ssh


def _remote(sshd: dict, **changes: object) -> RemoteOptions:
    values = {
        "identity_file": sshd["identity"],
        "known_hosts_file": sshd["known_hosts"],
        "python": sys.executable,
        "connect_timeout_s": 5,
        "step_timeout_s": 120,
        **changes,
    }
    return RemoteOptions(**values)  # type: ignore[arg-type]


def test_ssh_end_to_end_with_hostile_file_names(sshd: dict, fixtures: Path, tmp_path: Path) -> None:
    names = ["a;touch pwned.tflite", "$(touch pwned2).tflite", "`touch pwned3`.tflite", "-rf.tflite"]
    models = []
    for name in names:
        shutil.copy(fixtures / "bench68_int8.tflite", tmp_path / name)
        models.append(tmp_path / name)
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"TFL3 but not really" * 4)
    too_many = len(os.sched_getaffinity(0)) + 1
    # other benchmark runs on this machine (or crashed earlier ones) may own temp folders too
    before = set(Path("/tmp").glob("asmnet-bench.*"))
    config = BenchConfig(
        models=(*models, bad),
        target=sshd["target"],
        threads=(1, too_many),
        runs=5,
        warmup=1,
        remote=_remote(sshd),
    )
    report = run_bench(config)
    assert report.error is None and report.target["kind"] == "ssh"
    assert report.target["info"]["cores"] == too_many - 1
    for row in report.models[: len(names)]:
        assert row.ok, row.error
        entry = row.latency_for(1)
        assert entry.min_ms <= entry.median_ms <= entry.p90_ms <= entry.max_ms
        assert any(e.threads == too_many and "cores" in e.error for e in row.latency)
    assert report.models[-1].ok is False
    for folder in (Path.home(), tmp_path, Path("/tmp"), Path.cwd()):
        assert not list(folder.glob("pwned*")), folder
    assert not set(Path("/tmp").glob("asmnet-bench.*")) - before  # this run's remote temp folder removed


def test_unreachable_host_is_a_quick_clear_error(fixtures: Path, sshd: dict) -> None:
    import socket

    # a port bound but not listening refuses connections for as long as this socket holds it
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        closed = holder.getsockname()[1]
        start = time.monotonic()
        report = run_bench(
            BenchConfig(
                models=(fixtures / "bench68_fp32.tflite",),
                target=f"ssh://root@127.0.0.1:{closed}",
                runs=2,
                remote=_remote(sshd),
            )
        )
    assert time.monotonic() - start < 30
    assert f"cannot reach ssh://root@127.0.0.1:{closed}" in report.error and "sshd listens" in report.error
    assert report.failed and report.models[0].size_bytes is not None


def test_device_without_litert_names_the_pip_install(sshd: dict, fixtures: Path, tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True, timeout=120
    )
    remote = _remote(sshd, python=str(tmp_path / "bare" / "bin" / "python"))
    report = run_bench(
        BenchConfig(models=(fixtures / "bench68_fp32.tflite",), target=sshd["target"], runs=2, remote=remote)
    )
    assert "lacks the LiteRT runtime" in report.error and "pip install ai-edge-litert" in report.error


def test_device_without_that_python(sshd: dict, fixtures: Path) -> None:
    report = run_bench(
        BenchConfig(
            models=(fixtures / "bench68_fp32.tflite",),
            target=sshd["target"],
            runs=2,
            remote=_remote(sshd, python="/opt/no/python3"),
        )
    )
    assert "has no '/opt/no/python3'" in report.error


def test_unknown_host_key_is_refused_with_strict_checking(sshd: dict, fixtures: Path, tmp_path: Path) -> None:
    remote = _remote(
        sshd, strict_host_key_checking="yes", known_hosts_file=str(tmp_path / "empty_known_hosts")
    )
    report = run_bench(
        BenchConfig(models=(fixtures / "bench68_fp32.tflite",), target=sshd["target"], runs=2, remote=remote)
    )
    assert "cannot reach" in report.error and "Host key verification failed" in report.error
