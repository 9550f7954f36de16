"""``benchmarks/cascade_table.py``: ASMNet, ASMNet + refine and DAN side by side, end to end.

TF-free on the committed micro fixtures (no DAN among them: a file given as ``--dan`` that is not one is
an error row); with TensorFlow (marked ``tf``) on small untrained models the test builds: a mean-shape
ASMNet, a refine stage and a DAN trained for a few steps, exported; every family gets its row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.test_cascade import REFINE, write_stage1

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cascade_table.py"


def _run(tmp_path: Path, *args: str) -> dict:
    """Run the script as a user does; its JSON and Markdown results."""
    out = tmp_path / "out"
    command = [
        sys.executable,
        str(SCRIPT),
        *args,
        "--runs",
        "4",
        "--warmup",
        "1",
        "--name",
        "t",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"json": json.loads((out / "t.json").read_text()), "md": (out / "t.md").read_text()}


def test_micro_fixtures_make_the_table(tmp_path: Path) -> None:
    from tests.conftest import write_face_folder

    first, second = (
        write_face_folder(tmp_path / "a", count=4),
        write_face_folder(tmp_path / "b", count=3, seed=1),
    )
    stage1 = [str(write_stage1(tmp_path, precision)) for precision in ("fp32", "int8")]
    not_dan = str(Path(REFINE).with_name("micro68_fp32.tflite"))
    result = _run(
        tmp_path, "--asmnet", stage1[1], "--asmnet", stage1[0], "--refine", str(REFINE), "--dan", not_dan,
        "--data", str(first), "--data", str(second),
    )  # fmt: skip
    rows = result["json"]["rows"]
    assert [(row["family"], row["precision"]) for row in rows] == [
        ("asmnet", "fp32"),
        ("asmnet", "int8"),
        ("cascade", "fp32"),
        ("dan", "fp32"),
    ]
    asmnet, _, cascade, dan = rows
    assert cascade["files"] == [stage1[0], str(REFINE)] and cascade["size_bytes"] > asmnet["size_bytes"]
    assert cascade["latency"]["median_ms"] > asmnet["latency"]["median_ms"]
    assert set(cascade["latency"]["parts_median_ms"]) == {"stage1", "between", "refine"}
    assert set(cascade["sets"]) == {"a", "b"} and cascade["sets"]["a"]["faces"] == 4
    assert cascade["sets"]["a"]["nme_percent"] != asmnet["sets"]["a"]["nme_percent"]
    assert cascade["sets"]["a"]["pose_mae_mean_deg"] == asmnet["sets"]["a"]["pose_mae_mean_deg"]
    assert "architecture 'asmnet', given as --dan" in dan["error"] and dan["sets"] == {}
    assert (
        "| ASMNet + refine | fp32 |" in result["md"]
        and "a NME %" in result["md"]
        and "**error**" in result["md"]
    )


@pytest.mark.tf
@pytest.mark.slow
def test_small_untrained_models_of_all_three_families(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from asmnet_edge.exporters.dan import export_dan
    from asmnet_edge.exporters.refine import export_refine
    from asmnet_edge.training.dan import DanTrainConfig, train_dan
    from asmnet_edge.training.refine import RefineTrainConfig, train_refine
    from tests.conftest import write_face_folder
    from tests.tf.test_dan import TINY as DAN_TINY
    from tests.tf.test_dan import write_turned_faces
    from tests.tf.test_refine import TINY as REFINE_TINY
    from tests.tf.test_refine import stage1_tflite
    from tests.tf.test_refine import write_stage1 as write_keras_stage1

    data = write_turned_faces(write_face_folder(tmp_path / "plain", count=10, size=128), tmp_path / "faces")
    weights = write_keras_stage1(tmp_path / "stage1", data)
    stage1 = stage1_tflite(weights, tmp_path / "asmnet68_fp32.tflite")
    brief = {"data": (str(data),), "epochs": 1, "steps_per_epoch": 2, "batch_size": 4, "augment": "none"}
    brief.update(val_fraction=0.2, workers=1)
    refine_run = tmp_path / "refine_run"
    train_refine(RefineTrainConfig(stage1=str(weights), out=str(refine_run), **brief, **REFINE_TINY))
    refines = export_refine(refine_run, tmp_path / "refine", ("fp32", "int8"), calib=data, eval_count=4)
    dan_run = tmp_path / "dan_run"
    train_dan(DanTrainConfig(out=str(dan_run), statistics_count=8, **brief, **DAN_TINY))
    dans = export_dan(dan_run, tmp_path / "dan", ("fp32", "int8"), calib=data, calib_count=8, eval_count=4)
    args = ["--asmnet", str(stage1), "--data", str(data)]
    args += [
        item
        for path in (refines["models"][p]["path"] for p in ("fp32", "int8"))
        for item in ("--refine", path)
    ]
    args += [
        item for path in (dans["models"][p]["path"] for p in ("fp32", "int8")) for item in ("--dan", path)
    ]
    rows = _run(tmp_path, *args)["json"]["rows"]
    assert [(row["family"], row["precision"]) for row in rows] == [
        ("asmnet", "fp32"),
        ("cascade", "fp32"),
        ("cascade", "fp32+int8"),
        ("dan", "fp32"),
        ("dan", "int8"),
    ]
    for row in rows:
        assert row["error"] is None and row["latency"]["median_ms"] > 0 and row["macs"] > 0
        scores = row["sets"]["faces"]
        assert scores["faces"] == 10 and scores["nme_percent"] > 0
        if row["family"] == "dan":  # no pose output (the turned faces have no true pose either)
            assert scores["pose_mae_mean_deg"] is None
