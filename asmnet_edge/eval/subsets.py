"""300W's official test layout and the subsets the DAN write-up reports.

A 300W test tree holds ``lfpw/testset``, ``helen/testset`` and ``ibug`` (folder names matched without
regard to case), each with images and ``.pts`` files. Subsets: common = LFPW test + HELEN test (554
images in the official set), challenging = iBUG (135), full = all three (689). Each subset gets the
inter-pupil and inter-ocular NME, the CED curve on [0, 0.08], AUC@0.08 and the failure rate (> 0.08).

>>> import numpy as np
>>> gt = np.zeros((3, 68, 2)); gt[:, 36:42, 0] = 0.0; gt[:, 42:48, 0] = 100.0; gt[:, 45, 0] = 100.0
>>> pred = gt + [[[1.0, 0.0]], [[2.0, 0.0]], [[10.0, 0.0]]]
>>> rows = subset_metrics(pred, gt, {"common": np.array([True, True, False]), "full": np.ones(3, bool)})
>>> round(rows["common"]["inter-pupil"]["nme_percent"], 2), rows["full"]["inter-pupil"]["failure_rate_008"]
(1.5, 0.3333333333333333)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.errors import DataError
from asmnet_edge.eval.metrics import NORMALISATIONS, auc, ced, failure_rate, nme

# part name -> its folder inside the 300W test tree
PARTS_300W = {"lfpw": ("lfpw", "testset"), "helen": ("helen", "testset"), "ibug": ("ibug",)}
SUBSETS_300W = {"common": ("lfpw", "helen"), "challenging": ("ibug",), "full": ("lfpw", "helen", "ibug")}
LAYOUTS = ("auto", "flat", "300w")
THRESHOLD = 0.08
CED_STEPS = 81  # thresholds 0, 0.001, ..., 0.08


def _child(folder: Path, name: str) -> Path | None:
    if not folder.is_dir():
        return None
    matches = [item for item in folder.iterdir() if item.is_dir() and item.name.lower() == name]
    return matches[0] if matches else None


def find_300w_parts(folder: str | Path) -> dict[str, Path] | None:
    """``{"lfpw": ..., "helen": ..., "ibug": ...}`` when ``folder`` has 300W's test layout, else None."""
    parts: dict[str, Path] = {}
    for part, names in PARTS_300W.items():
        place: Path | None = Path(folder)
        for name in names:
            place = _child(place, name) if place is not None else None
        if place is None:
            return None
        parts[part] = place
    return parts


def resolve_layout(folder: str | Path, layout: str, fmt: str) -> dict[str, Path] | None:
    """The 300W parts to evaluate, or None for a flat folder; ``layout`` is one of :data:`LAYOUTS`."""
    if layout not in LAYOUTS:
        raise DataError(f"unknown layout {layout!r}: expected one of {LAYOUTS}")
    if layout == "flat" or fmt != "300w":
        if layout == "300w":
            raise DataError(f"the 300w layout needs --format 300w, got {fmt}")
        return None
    parts = find_300w_parts(folder)
    if parts is None and layout == "300w":
        expected = ", ".join("/".join(names) for names in PARTS_300W.values())
        raise DataError(f"{folder} does not have 300W's test layout: expected the folders {expected}")
    return parts


def subset_metrics(pred: np.ndarray, gt: np.ndarray, members: dict[str, np.ndarray]) -> dict[str, Any]:
    """Per subset (name -> boolean mask over the images): count, and per normalisation the NME (%),
    AUC@0.08, failure rate (NME > 0.08) and the CED curve."""
    report: dict[str, Any] = {}
    for name, mask in members.items():
        chosen = np.asarray(mask, dtype=bool)
        row: dict[str, Any] = {"count": int(chosen.sum())}
        if not chosen.any():
            report[name] = row
            continue
        for norm in NORMALISATIONS:
            values = nme(pred[chosen], gt[chosen], norm)
            thresholds, shares = ced(values, THRESHOLD, CED_STEPS)
            row[norm] = {
                "nme_percent": float(100.0 * values.mean()),
                "auc_008": auc(values, THRESHOLD),
                "failure_rate_008": failure_rate(values, THRESHOLD),
                "ced": {
                    "thresholds": [round(float(value), 4) for value in thresholds],
                    "shares": [round(float(value), 6) for value in shares],
                },
            }
        report[name] = row
    return report


def subset_members(parts: list[str]) -> dict[str, np.ndarray]:
    """Boolean masks of the 300W subsets over images whose part names are ``parts``."""
    names = np.asarray(parts)
    return {subset: np.isin(names, members) for subset, members in SUBSETS_300W.items()}
