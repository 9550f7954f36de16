"""Prove the training pipeline can fit before spending CPU-hours on it (issue: the default model).

Two experiments, each through ``asmnet_edge.training.loop.train`` exactly as ``asmnet-edge train`` runs it:

1. **Overfit**: a fixed set of training faces, no augmentation, no validation split; afterwards the
   NME on those same faces in inference mode (BatchNorm statistics as the run ships them).
2. **Sweep**: the same data, steps and augmentation for every variant; one setting changed at a time
   (head L2, ASM weight, learning rate, BatchNorm re-estimation); NME and scale bias (mean predicted /
   true inter-ocular distance) on held-out faces.

Writes ``<out>/fit_checks.json`` and ``<out>/fit_checks.md``. The command used for the model card:

    python benchmarks/fit_checks.py --data data/synth_train --data data/teacher_train \\
        --holdout data/teacher_holdout --holdout data/synth_test --work runs/fit_checks \\
        --out benchmarks/results/fit_checks
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from mix_folders import mix  # noqa: E402

from asmnet_edge._atomic import atomic_write_text  # noqa: E402
from asmnet_edge.data.augment import AugmentConfig  # noqa: E402
from asmnet_edge.data.dataset import read_dataset  # noqa: E402
from asmnet_edge.eval.metrics import normalising_distance  # noqa: E402
from asmnet_edge.training.config import TrainConfig  # noqa: E402
from asmnet_edge.training.loop import evaluate_crops  # noqa: E402
from asmnet_edge.training.loop import train as run_training  # noqa: E402
from asmnet_edge.training.pipeline import TrainingData  # noqa: E402


def held_out_metrics(weights: Path, config: TrainConfig, folders: list[str], limit: int) -> dict[str, Any]:
    """NME, pose MAE and scale bias of a run's weights on held-out folders (ground-truth crops)."""
    from asmnet_edge.model.asmnet import build_asmnet

    model = build_asmnet(config.num_landmarks, config.alpha, config.input_size)
    model.load_weights(str(weights))
    result: dict[str, Any] = {}
    for folder in folders:
        samples = read_dataset(folder)[:limit]
        data = TrainingData(samples, config.input_size, None, config.landmark_sign, AugmentConfig.none())
        result[Path(folder).name] = crop_metrics(model, data, config)
    return result


def crop_metrics(model: Any, data: TrainingData, config: TrainConfig) -> dict[str, float]:
    summary = evaluate_crops(model, data, config)
    predicted, truth = predictions(model, data, config)
    ratio = normalising_distance(predicted) / normalising_distance(truth)
    return {
        "nme_percent": round(float(summary["nme_percent"]), 3),
        "pose_mae_deg": round(float(summary.get("pose_mae_deg", {}).get("mean", float("nan"))), 3),
        "scale_ratio": round(float(np.mean(ratio)), 4),
        "faces": len(data),
    }


def predictions(model: Any, data: TrainingData, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    from asmnet_edge.runtime.geometry import denormalise_landmarks

    examples = [data.example(index, 0) for index in range(len(data))]
    images = np.stack([item[0] for item in examples])
    truth = np.stack([item[1] for item in examples]).reshape(len(examples), -1, 2)
    outputs = [
        np.asarray(model(images[i : i + 32], training=False)["landmarks"]) for i in range(0, len(images), 32)
    ]
    predicted = np.concatenate(outputs).reshape(truth.shape)
    size, sign = config.input_size, config.landmark_sign
    return denormalise_landmarks(predicted, size, sign), denormalise_landmarks(truth, size, sign)


def overfit(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    subset = work / "overfit_faces"
    if not subset.exists():
        parts = [
            (Path(folder), args.overfit_faces // len(args.data), 11 + i) for i, folder in enumerate(args.data)
        ]
        mix(subset, parts)
    config = TrainConfig(
        data=(str(subset),),
        out=str(work / "overfit"),
        epochs=args.overfit_steps // 100,
        steps_per_epoch=100,
        input_size=args.input_size,
        val_fraction=0.0,
        augment="none",
        fixed_asm_alpha=0.0,  # the ASM term pulls toward a 3-component shape space: off, to test fitting
    )
    started = time.perf_counter()
    run = run_training(config, progress=print)
    from asmnet_edge.model.asmnet import build_asmnet

    model = build_asmnet(config.num_landmarks, config.alpha, config.input_size)
    model.load_weights(str(run.out / "last.weights.h5"))
    samples = read_dataset(subset)
    data = TrainingData(samples, config.input_size, None, config.landmark_sign, AugmentConfig.none())
    return {
        "faces": len(samples),
        "steps": args.overfit_steps,
        "input_size": args.input_size,
        "train_metrics_inference_mode": crop_metrics(model, data, config),
        "curve": [
            {"epoch": int(row["epoch"]), "loss": round(row["loss"], 6), "mse": round(row["mse"], 6)}
            for row in run.log
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }


VARIANTS: dict[str, dict[str, Any]] = {
    "paper (head L2 0.01, ASM 2/1/0.5, lr 1e-3, BN re-estimated)": {"head_l2": 0.01},
    "head L2 1e-5": {},
    "head L2 1e-5, no ASM term": {"fixed_asm_alpha": 0.0},
    "head L2 1e-5, lr 3e-3": {"learning_rate": 3e-3},
    "head L2 1e-5, BN not re-estimated": {"recalibrate_bn": False},
}


def sweep(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    base = TrainConfig(
        data=tuple(args.data),
        out="",
        epochs=args.sweep_steps // 100,
        steps_per_epoch=100,
        input_size=args.input_size,
        val_fraction=0.0,
        head_l2=1e-5,
    )
    rows = []
    for index, (name, change) in enumerate(VARIANTS.items()):
        config = replace(base, out=str(work / f"sweep_{index}"), **change)
        started = time.perf_counter()
        run = run_training(config, progress=print)
        metrics = held_out_metrics(run.out / "last.weights.h5", config, args.holdout, args.holdout_limit)
        rows.append(
            {
                "variant": name,
                "changes": change,
                "held_out": metrics,
                "final_loss": round(run.log[-1]["loss"], 6),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(json.dumps(rows[-1]))
    return rows


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Fit checks", "", f"Command: `{report['command']}`", ""]
    if "overfit" in report:
        fit = report["overfit"]
        metrics = fit["train_metrics_inference_mode"]
        lines += [
            f"## Overfit: {fit['faces']} fixed faces, {fit['steps']} steps at {fit['input_size']} px, "
            "no augmentation",
            "",
            f"Training-set NME in inference mode: **{metrics['nme_percent']:.2f} %**, pose MAE "
            f"{metrics['pose_mae_deg']:.2f}°, scale ratio {metrics['scale_ratio']:.3f} "
            f"({fit['seconds']:.0f} s).",
            "",
        ]
    if "sweep" in report:
        sets = list(report["sweep"][0]["held_out"])
        header = " | ".join(f"{name} NME % / scale" for name in sets)
        lines += [
            f"## Sweep: {report['sweep_steps']} steps each at {report['input_size']} px, "
            "same data and augmentation",
            "",
            f"| variant | {header} | final loss |",
            "|---|" + "---|" * len(sets) + "---|",
        ]
        for row in report["sweep"]:
            cells = " | ".join(
                f"{row['held_out'][name]['nme_percent']:.2f} / {row['held_out'][name]['scale_ratio']:.3f}"
                for name in sets
            )
            lines.append(f"| {row['variant']} | {cells} | {row['final_loss']:.5f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", action="append", required=True, help="training folder (repeat)")
    parser.add_argument("--holdout", action="append", required=True, help="held-out folder (repeat)")
    parser.add_argument("--work", type=Path, default=Path("runs/fit_checks"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fit_checks"))
    parser.add_argument("--input-size", type=int, default=96)
    parser.add_argument("--overfit-faces", type=int, default=256)
    parser.add_argument("--overfit-steps", type=int, default=1500)
    parser.add_argument("--sweep-steps", type=int, default=300)
    parser.add_argument("--holdout-limit", type=int, default=200)
    parser.add_argument("--only", choices=("overfit", "sweep"), default=None)
    parser.add_argument("--fresh", action="store_true", help="delete the work folder first")
    args = parser.parse_args()
    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    report_path = args.out / "fit_checks.json"
    report: dict[str, Any] = json.loads(report_path.read_text()) if report_path.exists() else {}
    report.update({"command": "python " + " ".join(sys.argv), "input_size": args.input_size})
    if args.only in (None, "sweep"):
        report["sweep_steps"] = args.sweep_steps
        report["sweep"] = sweep(args, args.work)
        atomic_write_text(report_path, json.dumps(report, indent=1))
    if args.only in (None, "overfit"):
        report["overfit"] = overfit(args, args.work)
    atomic_write_text(report_path, json.dumps(report, indent=1))
    atomic_write_text(args.out / "fit_checks.md", markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
