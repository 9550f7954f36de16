"""Fresh virtual environments: the runtime extra never brings TensorFlow; the legacy extra falls back.

Each builds a venv and pip-installs into it (about a minute with a warm pip cache): marked slow.
CI runs the same check through ``bash scripts/check_runtime_venv.sh``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_runtime_venv.sh"


def _check(*args: str) -> dict:
    run = subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": os.environ.get("HOME", "/root")},
    )
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_runtime_extra_is_tensorflow_free():
    summary = _check()
    assert summary["ok"] and summary["backend"] == "ai_edge_litert"
    assert summary["faces"] == 1 and summary["tracked"] == [1, 1, 1]
    assert summary["forbidden_imported"] == [] and summary["forbidden_installed"] == []


def test_legacy_extra_runs_on_tflite_runtime():
    pytest.importorskip("skimage")
    if sys.version_info >= (3, 12):
        pytest.skip("tflite-runtime 2.14 has wheels for Python 3.8-3.11 only")
    summary = _check("--extra", "legacy")
    assert summary["ok"] and summary["backend"] == "tflite_runtime" and summary["faces"] == 1


def test_export_int8_works_from_a_plain_export_install():
    """`pip install '.[export]'` then `asmnet-edge export --int8`, no --calib: the bundled faces suffice."""
    script = SCRIPT.with_name("check_export_venv.sh")
    run = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=1800,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": os.environ.get("HOME", "/root")},
    )
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["models"]["int8"]["size_bytes"] > 1_000_000
    assert result["models"]["int8"]["passed"], result["models"]["int8"]["metrics"]  # the default gate
    assert result["calibration"]["source"].startswith("default:bundled-renders")
    assert result["evaluation"]["labelled"] is True
