"""Metrics against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from asmnet_edge.errors import DataError
from asmnet_edge.eval.metrics import auc, ced, failure_rate, nme, normalising_distance, pose_mae, summarize


def _shapes(points: int) -> np.ndarray:
    shape = np.zeros((1, points, 2))
    return shape


def test_inter_ocular_nme_by_hand() -> None:
    gt = _shapes(68)
    gt[0, 36] = [10.0, 50.0]
    gt[0, 45] = [90.0, 50.0]  # outer eye corners 80 px apart
    pred = gt.copy()
    pred[0, 0] += [3.0, 4.0]  # one point off by 5 px: mean error 5/68 px
    assert nme(pred, gt)[0] == pytest.approx(5.0 / 68 / 80.0)


def test_inter_pupil_uses_eye_centres() -> None:
    gt = _shapes(68)
    gt[0, 36:42] = [[0, 0], [2, -1], [4, -1], [6, 0], [4, 1], [2, 1]]  # centre (3, 0)
    gt[0, 42:48] = gt[0, 36:42] + [50.0, 0.0]  # centre (53, 0)
    assert normalising_distance(gt, "inter-pupil")[0] == pytest.approx(50.0)
    assert normalising_distance(gt, "inter-ocular")[0] == pytest.approx(56.0)  # 36 at x=0, 45 at x=56


def test_wflw_98_uses_points_60_and_72() -> None:
    gt = _shapes(98)
    gt[0, 60] = [0.0, 0.0]
    gt[0, 72] = [0.0, 40.0]
    pred = gt + [2.0, 0.0]
    assert nme(pred, gt)[0] == pytest.approx(2.0 / 40.0)


def test_mask_restricts_the_mean() -> None:
    gt = _shapes(68)
    gt[0, 45] = [100.0, 0.0]
    pred = gt.copy()
    pred[0, :17] += [10.0, 0.0]  # jaw off by 10 px, inner points exact
    inner = np.zeros((1, 68), bool)
    inner[0, 17:] = True
    assert nme(pred, gt, mask=inner)[0] == 0.0
    assert nme(pred, gt)[0] == pytest.approx(17 * 10.0 / 68 / 100.0)


def test_ced_auc_failure_rate_by_hand() -> None:
    errors = np.array([0.02, 0.06, 0.09, 0.12])
    thresholds, shares = ced(errors, 0.08, steps=5)  # 0, 0.02, 0.04, 0.06, 0.08
    assert shares.tolist() == [0.0, 0.25, 0.25, 0.5, 0.5]
    # area: image 1 contributes 0.08-0.02, image 2 0.08-0.06, others 0 -> (0.06+0.02)/4/0.08
    assert auc(errors) == pytest.approx(0.25)
    assert failure_rate(errors, 0.08) == 0.5
    assert failure_rate(errors, 0.10) == 0.25


def test_pose_mae_ignores_unknown_rows() -> None:
    pred = np.array([[10.0, 0.0, -5.0], [0.0, 0.0, 0.0]])
    truth = np.array([[7.0, 1.0, -5.0], [np.nan, np.nan, np.nan]])
    assert pose_mae(pred, truth) == {"yaw": 3.0, "pitch": 1.0, "roll": 0.0, "mean": pytest.approx(4 / 3)}


def test_summary_and_bad_input() -> None:
    gt = _shapes(68)
    gt[0, 45] = [100.0, 0.0]
    row = summarize(gt + [1.0, 0.0], gt)
    assert row["nme_percent"] == pytest.approx(1.0) and row["failure_rate_008"] == 0.0
    with pytest.raises(DataError, match="68 or 98"):
        nme(np.zeros((1, 5, 2)), np.zeros((1, 5, 2)))
    with pytest.raises(DataError, match="must both be"):
        nme(np.zeros((1, 68, 2)), np.zeros((2, 68, 2)))
    with pytest.raises(DataError, match="zero normalising distance"):
        nme(np.zeros((1, 68, 2)), np.zeros((1, 68, 2)))
