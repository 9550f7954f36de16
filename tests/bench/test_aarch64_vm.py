"""The EMULATED Raspberry Pi (scripts/aarch64_vm.sh: Debian arm64 under qemu-system-aarch64, TCG):
runtime install pushed from this host, a benchmark there, and landmark parity with this host.

Marked ``vm`` and skipped unless ``ASMNET_VM=1`` and the VM answers (``scripts/aarch64_vm.sh start``):
booting it and installing the runtime take minutes, so CI (90 min on 2 cores) does not run these.

    scripts/aarch64_vm.sh start && ASMNET_VM=1 python -m pytest tests/bench/test_aarch64_vm.py -m vm -q
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from asmnet_edge.bench.config import BenchConfig, RemoteOptions
from asmnet_edge.bench.install_runtime import install_runtime
from asmnet_edge.bench.run import run_bench
from asmnet_edge.bench.transports import SshDestination, SshTransport

pytestmark = pytest.mark.vm
ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(
    os.environ.get("ASMNET_VM_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "asmnet-edge" / "aarch64-vm"
)


@pytest.fixture(scope="module")
def vm() -> dict:
    if os.environ.get("ASMNET_VM") != "1":
        pytest.skip("the aarch64 VM tests run only with ASMNET_VM=1 (scripts/aarch64_vm.sh start)")
    status = subprocess.run(
        ["bash", str(ROOT / "scripts" / "aarch64_vm.sh"), "status"],
        capture_output=True,
        text=True,
        env={**os.environ, "ASMNET_VM_CACHE": str(CACHE)},
    )
    if status.returncode != 0:
        pytest.skip(f"the aarch64 VM is not running ({CACHE}): scripts/aarch64_vm.sh start")
    port = int((CACHE / "port").read_text())
    options = RemoteOptions(
        identity_file=str(CACHE / "id_ed25519"),
        known_hosts_file=str(CACHE / "known_hosts"),
        strict_host_key_checking="yes",
        step_timeout_s=1800,
    )
    return {"target": f"ssh://pi@127.0.0.1:{port}", "port": port, "options": options}


@pytest.fixture(scope="module")
def installed(vm: dict) -> dict:
    transport = SshTransport(SshDestination("pi", "127.0.0.1", vm["port"]), vm["options"])
    result = install_runtime(transport)
    return {**vm, "python": result.python, "result": result}


def test_runtime_installs_offline_for_aarch64(installed: dict) -> None:
    result = installed["result"]
    assert result.machine == "aarch64" and result.platform_tags[0].endswith("_aarch64")
    assert any(name.startswith("ai_edge_litert-") and "aarch64" in name for name in result.wheels)
    assert result.tensorflow_imported is False


def test_bench_runs_there_and_says_aarch64(installed: dict) -> None:
    remote = RemoteOptions(**{**installed["options"].__dict__, "python": installed["python"]})
    config = BenchConfig(
        models=(ROOT / "tests" / "bench" / "fixtures" / "bench68_int8.tflite",),
        target=installed["target"],
        runs=3,
        warmup=1,
        xnnpack_compare=False,
        remote=remote,
    )
    report = run_bench(config)
    assert report.error is None, report.error
    assert report.target["info"]["machine"] == "aarch64"
    assert report.models[0].ok and report.models[0].latency_for(1) is not None


def test_default_model_landmarks_match_this_host(installed: dict, tmp_path: Path) -> None:
    models = sorted((ROOT / "asmnet_edge" / "assets" / "default").glob("*.tflite"))
    options = installed["options"]
    argv = [sys.executable, str(ROOT / "benchmarks" / "aarch64_parity.py"), "--target", installed["target"]]
    argv += ["--ssh-identity", options.identity_file, "--known-hosts", options.known_hosts_file]
    argv += [arg for model in models for arg in ("--model", str(model))] + ["--out", str(tmp_path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "TensorFlow imported on the target: False" in (tmp_path / "parity.md").read_text()
