"""How far the ASM-assisted loss pulls predictions from the ground truth, per PCA accuracy and augmentation.

    python benchmarks/asm_floor.py --data data/teacher_train --data data/profiled --data data/synth_mix

The landmark loss ``MSE(G, P) + alpha * MSE(ASM(G), P)`` is minimised by ``P = (G + alpha ASM(G)) /
(1 + alpha)``: even a perfect network sits ``alpha / (1 + alpha) * NME(ASM(G), G)`` from the truth. This
script fits the PCA as training does (on augmented training shapes in the network's normalised crop
coordinates), on half of the shapes, and measures ``NME(ASM(G), G)`` on the other half for each accuracy
and augmentation preset, and the resulting floor for alpha 2, 1 and 0.5 (the schedule's thirds).
Writes ``benchmarks/results/fit_checks/asm_floor.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _result_files import command_line, write_result  # noqa: E402

from asmnet_edge.data.augment import augment_landmarks, augment_preset  # noqa: E402
from asmnet_edge.data.dataset import read_dataset  # noqa: E402
from asmnet_edge.model.asm import ShapePCA  # noqa: E402
from asmnet_edge.runtime.geometry import normalise_landmarks  # noqa: E402

ALPHAS = (2.0, 1.0, 0.5)


def nme_percent(predicted: np.ndarray, truth: np.ndarray) -> float:
    predicted, truth = predicted.reshape(len(predicted), -1, 2), truth.reshape(len(truth), -1, 2)
    eyes = np.linalg.norm(truth[:, 36] - truth[:, 45], axis=1)
    return float(100 * (np.linalg.norm(predicted - truth, axis=2).mean(axis=1) / eyes).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", action="append", required=True, help="training folder (repeat)")
    parser.add_argument("--per-folder", type=int, default=600, help="shapes read from each folder")
    parser.add_argument("--copies", type=int, default=3, help="augmented copies of each shape")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--accuracy", type=float, action="append", default=[])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fit_checks")
    args = parser.parse_args()
    accuracies = args.accuracy or [90.0, 97.0, 99.0, 99.5]
    samples = [sample for folder in args.data for sample in read_dataset(folder)[: args.per_folder]]
    rows: list[dict[str, Any]] = []
    for preset in ("default", "tracking"):
        rng = np.random.default_rng(0)
        config = augment_preset(preset)
        crops = [
            augment_landmarks(sample.landmarks, args.size, rng, config)
            for sample in samples
            for _ in range(args.copies)
        ]
        shapes = np.stack([normalise_landmarks(crop, args.size, 1.0).reshape(-1) for crop in crops])
        order = rng.permutation(len(shapes))
        fit, test = shapes[order[: len(shapes) // 2]], shapes[order[len(shapes) // 2 :]]
        for accuracy in accuracies:
            pca = ShapePCA.fit(fit, accuracy)
            gap = nme_percent(pca.project(test), test)
            rows.append(
                {
                    "augment": preset,
                    "accuracy": accuracy,
                    "components": int(len(pca.components)),
                    "nme_asm_vs_truth_percent": gap,
                    "floor_percent": {str(alpha): gap * alpha / (1 + alpha) for alpha in ALPHAS},
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    report = {"command": command_line(), "shapes": len(samples) * args.copies, "rows": rows}
    write_result(args.out, "asm_floor", report, markdown, default=None)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# ASM floor: how far the loss's optimum sits from the ground truth",
        "",
        f"Command: `{report['command']}` ({report['shapes']} augmented shapes, PCA fitted on half, "
        "measured on the other half)",
        "",
        "| augment | accuracy % | components | NME(ASM(G), G) % | floor at alpha 2 / 1 / 0.5 (%) |",
        "|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        floors = " / ".join(f"{row['floor_percent'][str(alpha)]:.2f}" for alpha in ALPHAS)
        lines.append(
            f"| {row['augment']} | {row['accuracy']:g} | {row['components']} | "
            f"{row['nme_asm_vs_truth_percent']:.2f} | {floors} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
