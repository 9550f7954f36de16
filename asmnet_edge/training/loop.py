"""The ASMNet training loop: ASM-assisted loss, alpha schedule, checkpoints, resume, logs, model card.

A run folder holds ``config.json``, ``pca.npz``, ``asmnet.weights.h5`` (best validation NME),
``last.weights.h5``, ``log.csv`` (one row per epoch), ``model_card.md`` and ``checkpoint/`` (model +
optimizer + epoch, for resuming). Running again with the same folder resumes after the last epoch.

>>> result = train(TrainConfig(data=("data/300w",), out="runs/demo", epochs=3))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._atomic import atomic_write_text
from asmnet_edge.data.augment import AugmentConfig, augment_preset
from asmnet_edge.data.dataset import Sample, read_dataset
from asmnet_edge.errors import ConfigError, DataError
from asmnet_edge.eval.metrics import summarize
from asmnet_edge.model.asm import ShapePCA, asm_alpha
from asmnet_edge.model.asmnet import build_asmnet
from asmnet_edge.model.losses import asm_losses
from asmnet_edge.runtime.contract import POSE_SCALE_DEG
from asmnet_edge.runtime.geometry import denormalise_landmarks
from asmnet_edge.training.config import TrainConfig
from asmnet_edge.training.pipeline import TrainingData, shape_matrix
from asmnet_edge.training.run_files import read_log, resumable_adam, resume_refusal, save_weights, write_log

LOG_FIELDS = (
    "epoch",
    "alpha",
    "loss",
    "mse",
    "asm",
    "pose",
    "val_nme_percent",
    "val_pose_mae_deg",
    "seconds",
)


@dataclass
class TrainResult:
    """Where a run wrote its files, and its per-epoch log."""

    out: Path
    weights: Path
    pca: Path
    log: list[dict[str, float]] = field(default_factory=list)


def load_training_samples(config: TrainConfig) -> list[Sample]:
    samples: list[Sample] = []
    for folder in config.data:
        samples += read_dataset(folder, config.fmt, expected_points=config.num_landmarks)
    return samples


def split_samples(samples: list[Sample], fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """A seeded train/validation split."""
    order = np.random.default_rng([seed, 1]).permutation(len(samples))
    held = int(round(len(samples) * fraction))
    val = [samples[index] for index in sorted(order[:held])]
    train = [samples[index] for index in sorted(order[held:])]
    return train, val


def train(config: TrainConfig, progress: Callable[[str], None] | None = None) -> TrainResult:
    """Train (or resume) an ASMNet as ``config`` says; returns the run's files and log."""
    import tensorflow as tf

    say = progress or (lambda message: None)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    _check_resume(out, config)
    atomic_write_text(out / "config.json", json.dumps(config.to_dict(), indent=1))
    samples = load_training_samples(config)
    train_samples, val_samples = split_samples(samples, config.val_fraction, config.seed)
    if not train_samples:
        raise DataError("no training samples left after the validation split")
    tf.keras.utils.set_random_seed(config.seed)
    pca_path = out / "pca.npz"
    if pca_path.exists():
        pca = ShapePCA.load(pca_path)
    else:
        shapes = shape_matrix(train_samples, config.input_size, config.landmark_sign, seed=config.seed)
        pca = ShapePCA.fit(shapes, config.asm_accuracy)
        pca.save(pca_path)
    say(
        f"{len(train_samples)} training / {len(val_samples)} validation faces; "
        f"PCA keeps {len(pca.eigenvalues)} components for {config.asm_accuracy:g} % variance"
    )
    augment = augment_preset(config.augment)
    data = TrainingData(train_samples, config.input_size, pca, config.landmark_sign, augment, config.seed)
    holdouts = holdout_sets(config, config.holdout)
    val = (
        TrainingData(
            val_samples, config.input_size, None, config.landmark_sign, AugmentConfig.none(), config.seed
        )
        if val_samples
        else None
    )

    shape = (config.num_landmarks, config.alpha, config.input_size)
    model = build_asmnet(*shape, head_l2=config.head_l2, landmark_sign=config.landmark_sign)
    log = read_log(out / "log.csv")
    if config.init_weights and not log:  # init weights only start a run; a resumed one has its own
        model.load_weights(config.init_weights)
    elif not config.init_weights:
        start_heads_at_mean_shape(model, pca)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            layer.momentum = config.bn_momentum
    steps = config.steps_per_epoch or max(1, len(data) // config.batch_size)
    resumable = resumable_adam(model, out, config.learning_rate, steps * config.epochs, alpha=0.01)
    optimizer, epoch_var = resumable.optimizer, resumable.epoch
    checkpoint, manager = resumable.checkpoint, resumable.manager
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).expect_partial()
        say(f"resuming after epoch {int(epoch_var.numpy())} from {manager.latest_checkpoint}")
    elif log and (out / "last.weights.h5").is_file():
        # a run carried to another machine without its optimiser checkpoint (training_state.py): the
        # weights and the epoch count continue, the learning-rate schedule too; Adam's moments restart
        model.load_weights(str(out / "last.weights.h5"))
        optimizer.build(model.trainable_variables)
        optimizer.iterations.assign(len(log) * steps)
        epoch_var.assign(len(log))
        say(f"resuming after epoch {len(log)} from last.weights.h5 (no optimiser checkpoint: Adam restarts)")
    alpha_var = tf.Variable(2.0, dtype=tf.float32, trainable=False)

    @tf.function(reduce_retracing=True)
    def train_step(batch: dict[str, Any]) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            outputs = model(batch["image"], training=True)
            parts = asm_losses(
                outputs["landmarks"],
                batch["landmarks"],
                batch["asm"],
                outputs["pose"],
                batch["pose"],
                batch["pose_mask"],
                alpha_var,
            )
            total = parts["total"] + (tf.add_n(model.losses) if model.losses else 0.0)
        gradients = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return {**parts, "total": total}

    best = min((row["val_nme_percent"] for row in log), default=float("inf"))

    def alpha_of(epoch: int) -> float:
        return (
            config.fixed_asm_alpha if config.fixed_asm_alpha is not None else asm_alpha(epoch, config.epochs)
        )

    for epoch in range(int(epoch_var.numpy()), min(config.epochs, config.stop_after or config.epochs)):
        alpha_var.assign(alpha_of(epoch))
        started = time.perf_counter()
        sums = {"total": 0.0, "mse": 0.0, "asm": 0.0, "pose": 0.0}
        batches = data.tf_dataset(config.batch_size, epoch, workers=config.workers).repeat().take(steps)
        for done, batch in enumerate(batches, start=1):
            parts = train_step(batch)
            for key in sums:
                sums[key] += float(parts[key])
            if done % 10 == 0 or done == steps:
                say(
                    f"epoch {epoch + 1}/{config.epochs} step {done}/{steps} loss {sums['total'] / done:.5f} "
                    f"({(time.perf_counter() - started) / done:.2f} s/step)"
                )
        if config.recalibrate_bn:
            recalibrate_batchnorm(model, data, config, epoch)
        metrics = evaluate_crops(model, val, config) if val is not None else {}
        row = {
            "epoch": epoch + 1,
            "alpha": alpha_of(epoch),
            "loss": sums["total"] / steps,
            "mse": sums["mse"] / steps,
            "asm": sums["asm"] / steps,
            "pose": sums["pose"] / steps,
            "val_nme_percent": metrics.get("nme_percent", float("nan")),
            "val_pose_mae_deg": metrics.get("pose_mae_deg", {}).get("mean", float("nan")),
            "seconds": time.perf_counter() - started,
        }
        log.append(row)
        save_weights(model, out / "last.weights.h5")
        if not np.isfinite(row["val_nme_percent"]) or row["val_nme_percent"] <= best:
            best = row["val_nme_percent"] if np.isfinite(row["val_nme_percent"]) else best
            save_weights(model, out / "asmnet.weights.h5")
        write_log(out / "log.csv", log, LOG_FIELDS)
        if holdouts:
            _append_holdout_log(
                out / "holdout_log.csv",
                epoch + 1,
                (epoch + 1) * steps * config.batch_size,
                {name: evaluate_crops(model, faces, config) for name, faces in holdouts.items()},
            )
        epoch_var.assign(epoch + 1)
        manager.save()
        say(
            f"epoch {epoch + 1}: "
            + ", ".join(f"{key} {value:.4f}" for key, value in row.items() if key != "epoch")
        )
    write_model_card(out, config, log, len(train_samples), len(val_samples), pca)
    return TrainResult(out, out / "asmnet.weights.h5", pca_path, log)


def start_heads_at_mean_shape(model: Any, pca: ShapePCA, kernel_scale: float = 0.1) -> None:
    """Start from the mean shape: landmark bias = the PCA mean, pose bias = 0, kernels shrunk.

    A glorot-initialised head on 536 pooled features predicts shapes far worse than the mean shape; from
    scratch, the first few hundred steps then go to learning the mean (measured in fit_checks).
    """
    from asmnet_edge.model.asmnet import LANDMARKS_LAYER, POSE_LAYER

    for name, bias in ((LANDMARKS_LAYER, pca.mean), (POSE_LAYER, None)):
        layer = model.get_layer(name)
        kernel, current = layer.get_weights()
        layer.set_weights(
            [kernel * kernel_scale, np.zeros_like(current) if bias is None else bias.astype(current.dtype)]
        )


def recalibrate_batchnorm(
    model: Any, data: TrainingData, config: TrainConfig, epoch: int, batches: int = 16
) -> None:
    """Set every BatchNormalization's moving statistics to the average batch statistics of the weights as
    they are now (over ``batches`` augmented training batches, no gradient step).

    Exponential moving averages trail weights that change quickly, and short CPU runs change them
    quickly for their whole length: measured here, conv1's moving variance was 5.7x its batch variance
    after 600 steps, and inference-mode NME was worse than the mean shape while training-mode NME was not.
    """
    import tensorflow as tf

    layers = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    stream = data.tf_dataset(config.batch_size, 10_000 + epoch, workers=config.workers).take(batches)
    for batches_seen, batch in enumerate(stream, start=1):
        for layer in layers:  # a running mean: batch k gets weight 1/k
            layer.momentum = (batches_seen - 1) / batches_seen
        model(batch["image"], training=True)  # eager on purpose: momentum is read at each call
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


def holdout_sets(config: TrainConfig, folders: Sequence[str]) -> dict[str, TrainingData]:
    """Un-augmented crops of held-out labelled folders (at most ``HOLDOUT_LIMIT`` faces each), by folder
    name: what ``holdout_log.csv`` is measured on."""
    return {
        Path(folder).name: TrainingData(
            read_dataset(folder, config.fmt, expected_points=config.num_landmarks)[:HOLDOUT_LIMIT],
            config.input_size,
            None,
            config.landmark_sign,
            AugmentConfig.none(),
            config.seed,
        )
        for folder in folders
    }


def evaluate_crops(
    model: Any, data: TrainingData, config: TrainConfig, batch_size: int = 32
) -> dict[str, Any]:
    """NME (inter-ocular) and pose MAE of ``model`` on un-augmented crops of ``data``."""
    examples = [data.example(index, 0) for index in range(len(data))]
    images = np.stack([item[0] for item in examples])
    truth = np.stack([item[1] for item in examples]).reshape(len(examples), -1, 2)
    poses = np.stack([item[3] for item in examples]) * POSE_SCALE_DEG
    poses[np.array([item[4] for item in examples]) == 0] = np.nan
    pred_landmarks, pred_poses = [], []
    for start in range(0, len(images), batch_size):
        outputs = model(images[start : start + batch_size], training=False)
        pred_landmarks.append(np.asarray(outputs["landmarks"]))
        pred_poses.append(np.asarray(outputs["pose"]) * POSE_SCALE_DEG)
    predicted = np.concatenate(pred_landmarks).reshape(len(images), -1, 2)
    size, sign = config.input_size, config.landmark_sign
    return summarize(
        denormalise_landmarks(predicted, size, sign),
        denormalise_landmarks(truth, size, sign),
        np.concatenate(pred_poses),
        poses,
    )


def _check_resume(out: Path, config: TrainConfig) -> None:
    saved = out / "config.json"
    if not saved.exists():
        return
    previous = TrainConfig.load(saved)
    changed = config.differences(previous)
    if changed:
        raise ConfigError(resume_refusal(out, changed))


HOLDOUT_LIMIT = 300  # faces per held-out folder evaluated after each epoch
HOLDOUT_FIELDS = ("epoch", "images_seen", "set", "faces", "nme_percent", "pose_mae_deg")


def _append_holdout_log(path: Path, epoch: int, images: int, results: dict[str, dict[str, Any]]) -> None:
    """One row per held-out set and epoch (rows of a resumed epoch replace the old ones)."""
    rows: list[dict[str, Any]] = []
    if path.exists():
        with open(path, newline="") as stream:
            rows = [row for row in csv.DictReader(stream) if int(row["epoch"]) < epoch]
    for name, metrics in results.items():
        pose = metrics.get("pose_mae_deg", {}).get("mean", float("nan"))
        rows.append(
            {
                "epoch": epoch,
                "images_seen": images,
                "set": name,
                "faces": metrics.get("count", ""),
                "nme_percent": f"{metrics['nme_percent']:.4f}",
                "pose_mae_deg": f"{pose:.4f}",
            }
        )
    write_log(path, rows, HOLDOUT_FIELDS)


def write_model_card(
    out: Path,
    config: TrainConfig,
    log: list[dict[str, float]],
    train_count: int,
    val_count: int,
    pca: ShapePCA,
) -> None:
    """A short Markdown card: data, settings, losses per epoch, validation figures."""
    last = log[-1] if log else {}
    rows = "\n".join(
        f"| {int(row['epoch'])} | {row['alpha']:g} | {row['loss']:.5f} | {row['mse']:.5f} | "
        f"{row['asm']:.5f} | {row['pose']:.5f} | {row['val_nme_percent']:.2f} | "
        f"{row['val_pose_mae_deg']:.2f} |"
        for row in log
    )
    schedule = (
        f"alpha fixed at {config.fixed_asm_alpha:g}"
        if config.fixed_asm_alpha is not None
        else f"alpha 2 / 1 / 0.5 over the thirds of {config.epochs} epochs"
    )
    final_nme = last.get("val_nme_percent", float("nan"))
    final_pose = last.get("val_pose_mae_deg", float("nan"))
    card = f"""# ASMNet model card

- Architecture: ASMNet, MobileNetV2 alpha {config.alpha:g}, input {config.input_size}x{config.input_size},
  {config.num_landmarks} landmarks + pose (yaw, pitch, roll in degrees / 65)
- Data: {", ".join(config.data)} (format {config.fmt});
  {train_count} training faces, {val_count} validation faces
- Loss: MSE(G, P) + alpha * MSE(ASM(G), P) + 0.5 * MSE(pose); PCA keeps {len(pca.eigenvalues)} components
  ({config.asm_accuracy:g} % of the variance); {schedule}
- Optimiser: Adam, cosine-decayed learning rate from {config.learning_rate:g}, batch {config.batch_size}
- Landmark normalisation: crop pixel = size/2 + {config.landmark_sign:+g} * value * size
- Epochs completed: {int(last.get("epoch", 0))}; final validation NME {final_nme:.2f} % (inter-ocular,
  measured in crop pixels on the validation split), pose MAE {final_pose:.2f} deg (mean of the three angles)

| epoch | alpha | loss | MSE | ASM | pose | val NME % | val pose MAE deg |
|---|---|---|---|---|---|---|---|
{rows}
"""
    atomic_write_text(out / "model_card.md", card)
