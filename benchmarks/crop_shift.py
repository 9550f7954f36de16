"""Does the model follow a face that is off-centre in its crop? NME and residual shift per crop offset.

    python benchmarks/crop_shift.py --model asmnet_edge/assets/default/asmnet68.weights.h5 \\
        --data data/teacher_holdout --data data/menpo_perturbed --name default

Each face is cropped from its ground-truth box moved sideways by a share of its width (or scaled); the
"residual shift" is the share of that offset still in the predicted landmark box's centre (0: the model
found the face where it is; 1: it put the face at the crop's centre). A tracker hands such crops over on
fast motion. Writes ``benchmarks/results/fit_checks/crop_shift_<name>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _result_files import command_line, write_result  # noqa: E402

from asmnet_edge.data.dataset import crop_box, read_dataset  # noqa: E402
from asmnet_edge.eval.evaluate import load_predictor  # noqa: E402
from asmnet_edge.runtime.geometry import Box, crop_image, crop_to_image, landmark_box  # noqa: E402
from asmnet_edge.runtime.image import load_image  # noqa: E402

CASES = ((0.0, 1.0), (0.2, 1.0), (0.3, 1.0), (0.0, 0.8), (0.0, 1.25))  # (shift share, scale)


def measure(predictor: Any, size: int, samples: list[Any], shift: float, scale: float) -> dict[str, float]:
    images = [load_image(sample.image_path) for sample in samples]
    boxes, crops = [], []
    for sample, image in zip(samples, images, strict=True):
        truth = crop_box(sample.landmarks)
        centre_x = (truth.x0 + truth.x1) / 2 + shift * truth.width
        centre_y = (truth.y0 + truth.y1) / 2
        half_w, half_h = truth.width * scale / 2, truth.height * scale / 2
        boxes.append(Box(centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h))
        crops.append(crop_image(image, boxes[-1], size))
    points, _ = predictor(np.stack(crops))
    errors, residual = [], []
    for crop_points, box, sample in zip(points, boxes, samples, strict=True):
        found, truth = crop_to_image(crop_points, box, size), sample.landmarks
        errors.append(np.linalg.norm(found - truth, axis=1).mean() / np.linalg.norm(truth[36] - truth[45]))
        if shift:
            seen, real = landmark_box(found), landmark_box(truth)
            offset = (seen.x0 + seen.x1) / 2 - (real.x0 + real.x1) / 2
            residual.append(abs(offset) / abs(shift * crop_box(truth).width))
    return {
        "shift": shift,
        "scale": scale,
        "nme_percent": float(100 * np.mean(errors)),
        "residual_shift": float(np.mean(residual)) if residual else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Keras weights or .tflite")
    parser.add_argument("--data", action="append", required=True, help="labelled folder (repeat)")
    parser.add_argument("--faces", type=int, default=20, help="faces taken evenly from each folder")
    parser.add_argument("--name", default="model")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fit_checks")
    args = parser.parse_args()
    predictor, _, size = load_predictor(args.model)
    samples = []
    for folder in args.data:
        found = read_dataset(folder)
        samples += found[:: max(1, len(found) // args.faces)][: args.faces]
    rows = [measure(predictor, size, samples, shift, scale) for shift, scale in CASES]
    report = {"command": command_line(), "model": args.model, "faces": len(samples), "rows": rows}
    write_result(args.out, f"crop_shift_{args.name}", report, markdown)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Crop shift: does the model follow an off-centre face?",
        "",
        f"Command: `{report['command']}` ({report['faces']} faces)",
        "",
        "| shift (share of the box width) | scale | NME % | residual shift |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {row['shift']:g} | {row['scale']:g} | {row['nme_percent']:.1f} | {row['residual_shift']:.2f} |"
        for row in report["rows"]
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
