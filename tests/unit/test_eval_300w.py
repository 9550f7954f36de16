"""``asmnet-edge eval`` on 300W's official test layout, on a tiny tree this test writes: subsets
common (LFPW test + HELEN test), challenging (iBUG) and full, inter-pupil and inter-ocular NME, CED,
AUC@0.08 and failure rate. The model is the committed micro .tflite (no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from asmnet_edge.cli import main
from asmnet_edge.errors import DataError
from asmnet_edge.eval.evaluate import evaluate_model
from asmnet_edge.eval.metrics import nme
from asmnet_edge.eval.subsets import find_300w_parts, subset_metrics
from tests.conftest import write_face_folder

MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "micro68_fp32.tflite"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("300w")
    write_face_folder(root / "lfpw" / "testset", count=2, size=96, seed=1, poses=False)
    write_face_folder(root / "lfpw" / "trainset", count=2, size=96, seed=2, poses=False)  # not a test part
    write_face_folder(root / "helen" / "testset", count=3, size=96, seed=3, poses=False)
    write_face_folder(root / "IBUG", count=2, size=96, seed=4, poses=False)  # names match without case
    return root


def test_the_layout_is_found_and_a_flat_folder_is_not(tree: Path) -> None:
    parts = find_300w_parts(tree)
    assert parts is not None and parts["ibug"].name == "IBUG" and parts["helen"] == tree / "helen" / "testset"
    assert find_300w_parts(tree / "helen") is None
    with pytest.raises(DataError, match="lfpw/testset, helen/testset, ibug"):
        evaluate_model(MODEL, tree / "helen", layout="300w")


def test_subsets_metrics_and_their_consistency(tree: Path) -> None:
    report = evaluate_model(MODEL, tree)  # layout auto
    assert report["layout"] == "300w" and report["parts"] == {"lfpw": 2, "helen": 3, "ibug": 2}
    subsets = report["subsets"]
    assert {name: subsets[name]["count"] for name in subsets} == {"common": 5, "challenging": 2, "full": 7}
    for norm in ("inter-pupil", "inter-ocular"):
        common, hard, full = (
            subsets[name][norm]["nme_percent"] for name in ("common", "challenging", "full")
        )
        assert full == pytest.approx((5 * common + 2 * hard) / 7)
        assert len(subsets["full"][norm]["ced"]["thresholds"]) == 81
    # the full set's inter-ocular figures from the per-image errors, by hand
    per_image = np.array(list(report["per_image_nme_percent"].values())) / 100
    assert len(per_image) == 7  # the training part is left out
    full = subsets["full"]["inter-ocular"]
    assert full["nme_percent"] == pytest.approx(100 * per_image.mean())
    assert full["failure_rate_008"] == pytest.approx(float((per_image > 0.08).mean()))
    assert full["auc_008"] == pytest.approx(float(np.maximum(0.08 - per_image, 0).mean() / 0.08))
    assert full["ced"]["shares"][-1] == pytest.approx(float((per_image <= 0.08).mean()), abs=1e-6)
    assert report["all"]["nme_percent"] == pytest.approx(full["nme_percent"])


def test_inter_pupil_and_inter_ocular_differ_by_the_eye_distances() -> None:
    gt = np.zeros((2, 68, 2))
    gt[:, 36:42] = [0.0, 0.0]
    gt[:, 42:48] = [80.0, 0.0]  # pupils 80 apart
    gt[:, 36], gt[:, 45] = [-10.0, 0.0], [90.0, 0.0]  # outer corners 100 apart
    pred = gt + [4.0, 0.0]
    rows = subset_metrics(pred, gt, {"full": np.ones(2, bool)})["full"]
    pupil_distance = np.linalg.norm(gt[0, 36:42].mean(0) - gt[0, 42:48].mean(0))
    assert rows["inter-pupil"]["nme_percent"] == pytest.approx(400 / pupil_distance)
    assert rows["inter-ocular"]["nme_percent"] == pytest.approx(100 * nme(pred, gt, "inter-ocular").mean())


def test_cli_prints_one_json_object_with_the_subsets(tree: Path) -> None:
    result = CliRunner().invoke(main, ["eval", "--model", str(MODEL), "--data", str(tree), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # exactly one object: json.loads refuses trailing text
    assert report["ok"] and set(report["subsets"]) == {"common", "challenging", "full"}
    human = CliRunner().invoke(main, ["eval", "--model", str(MODEL), "--data", str(tree)])
    assert "300W challenging (2 faces)" in human.output
    flat = CliRunner().invoke(
        main, ["eval", "--model", str(MODEL), "--data", str(tree), "--layout", "flat", "--json"]
    )
    flat_report = json.loads(flat.stdout)
    assert (
        flat_report["layout"] == "flat" and flat_report["all"]["count"] == 9 and "subsets" not in flat_report
    )
    refused = CliRunner().invoke(
        main, ["eval", "--model", str(MODEL), "--data", str(tree / "IBUG"), "--layout", "300w", "--json"]
    )
    assert refused.exit_code == 1 and json.loads(refused.stdout)["ok"] is False
