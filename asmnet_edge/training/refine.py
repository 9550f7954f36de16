"""Training the refinement stage behind a fixed ASMNet (``asmnet-edge train --arch refine --stage1 W``).

Stage 1 is loaded from its weights (``config.json`` beside them, as every ASMNet run writes) and never
changes; its points on each augmented crop are re-aligned and stage 2 learns the residual
(:mod:`asmnet_edge.training.refine_data`). Loss: the mean point-to-point distance in the aligned frame
(/ ``aligned_size``): the aligned face has the mean shape's size, so this is NME up to a constant.

A run folder holds ``config.json``, ``refine_assets.json`` (spec, aligned mean shape, the stage-1 facts:
weights sha256, landmarks, input size, crop margin, sign), ``refine.weights.h5`` (last epoch),
``log.csv`` (per epoch: loss, and validation / hold-out NME of stage 1 alone and refined),
``model_card.md`` and ``checkpoint/`` (weights, optimiser and epoch). Running again with the same folder
and settings resumes after the last finished epoch; a larger ``--epochs`` continues it.

>>> result = train_refine(RefineTrainConfig(data=("data/300w",), stage1="runs/a/last.weights.h5",
...                                         out="runs/refine"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._atomic import atomic_write_text
from asmnet_edge.data.augment import AugmentConfig, augment_preset
from asmnet_edge.data.dataset import crop_box, read_dataset
from asmnet_edge.errors import ConfigError, DataError
from asmnet_edge.eval.metrics import OUTER_EYE_CORNERS, nme
from asmnet_edge.model.io import load_asmnet
from asmnet_edge.model.refine import (
    ASSETS_FILE,
    WEIGHTS_FILE,
    RefineAssets,
    RefineSpec,
    aligned_mean_shape,
    stage1_facts_of,
)
from asmnet_edge.runtime.contract import CROP_MARGIN
from asmnet_edge.runtime.geometry import image_to_crop
from asmnet_edge.runtime.refine import corrected_points
from asmnet_edge.training.config import AUGMENT_PRESETS
from asmnet_edge.training.pipeline import TrainingData
from asmnet_edge.training.refine_data import RefineBatches, prefetched
from asmnet_edge.training.run_files import check_resume, read_log, resumable_adam, save_weights, write_log

HOLDOUT_LIMIT = 300


@dataclass(frozen=True)
class RefineTrainConfig:
    """Everything a refine run depends on; every field changes behaviour.

    ``perturb``: amplitude of the random similarity applied to stage 1's training points (0: none;
    1: up to 6 degrees, 6 % scale, 4 % shift); ``holdout``: labelled folders measured after every epoch.
    """

    data: tuple[str, ...]
    stage1: str
    out: str
    fmt: str = "300w"
    epochs: int = 10
    steps_per_epoch: int | None = None
    batch_size: int = 32
    learning_rate: float = 2e-3
    aligned_size: int = 80
    widths: tuple[int, ...] = (16, 24, 32, 64, 96)
    expansion: int = 4
    perturb: float = 1.0
    augment: str = "default"
    val_fraction: float = 0.05
    seed: int = 0
    workers: int = 2
    holdout: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.data:
            raise ConfigError("training needs at least one --data folder")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch size must be at least 1")
        if not 0.0 <= self.val_fraction < 0.5 or self.perturb < 0:
            raise ConfigError("val_fraction must be in [0, 0.5) and perturb at least 0")
        if self.augment not in AUGMENT_PRESETS:
            raise ConfigError(f"unknown augment preset {self.augment!r}: expected one of {AUGMENT_PRESETS}")
        self.spec(68)  # the network's own checks

    def spec(self, num_landmarks: int) -> RefineSpec:
        return RefineSpec(
            num_landmarks=num_landmarks,
            aligned_size=self.aligned_size,
            widths=tuple(self.widths),
            expansion=self.expansion,
            patch_half=round(6.0 * self.aligned_size / 96, 3),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("data", "widths", "holdout"):
            data[key] = list(data[key])
        return data


@dataclass
class RefineTrainResult:
    out: Path
    weights: Path
    assets: Path
    log: list[dict[str, Any]] = field(default_factory=list)


def train_refine(
    config: RefineTrainConfig, progress: Callable[[str], None] | None = None
) -> RefineTrainResult:
    """Train (or resume) a refine stage behind ``config.stage1``; returns the run's files and log."""
    import tensorflow as tf

    from asmnet_edge.model.refine import build_refine
    from asmnet_edge.training.loop import split_samples

    say = progress or (lambda message: None)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    # a longer run or other checks continue the same run
    check_resume(out, config.to_dict(), free=("workers", "out", "epochs", "holdout"), kind="refine run")
    stage1 = load_asmnet(config.stage1)
    facts = stage1_facts_of(stage1, str(config.stage1))
    samples = [
        sample
        for folder in config.data
        for sample in read_dataset(folder, config.fmt, expected_points=stage1.num_landmarks)
    ]
    train_samples, val_samples = split_samples(samples, config.val_fraction, config.seed)
    if not train_samples:
        raise DataError("no training samples left after the validation split")
    assets_path = out / ASSETS_FILE
    if assets_path.is_file():
        assets = RefineAssets.load(assets_path)
        if assets.stage1.weights_sha256 != facts.weights_sha256:
            raise ConfigError(f"{out} was trained behind other stage-1 weights: use a new --out folder")
    else:
        size = stage1.input_size
        shapes = np.stack(
            [image_to_crop(item.landmarks, crop_box(item.landmarks), size) for item in train_samples]
        )
        spec = config.spec(stage1.num_landmarks)
        mean = aligned_mean_shape(shapes, size, spec)
        assets = RefineAssets(spec, tuple(float(value) for value in mean.reshape(-1)), facts)
        assets.save(assets_path)
    atomic_write_text(out / "config.json", json.dumps(config.to_dict(), indent=1))
    tf.keras.utils.set_random_seed(config.seed)

    def batches_of(items: list[Any], augment: AugmentConfig, perturb: float) -> RefineBatches:
        data = TrainingData(items, stage1.input_size, None, stage1.landmark_sign, augment, config.seed)
        return RefineBatches(data, stage1, assets, perturb, config.workers)

    maker = batches_of(train_samples, augment_preset(config.augment), config.perturb)
    checks = {"val": batches_of(val_samples, AugmentConfig.none(), 0.0)} if val_samples else {}
    for folder in config.holdout:
        found = read_dataset(folder, config.fmt, expected_points=stage1.num_landmarks)[:HOLDOUT_LIMIT]
        checks[Path(folder).name] = batches_of(found, AugmentConfig.none(), 0.0)
    say(f"{len(train_samples)} training / {len(val_samples)} validation faces; stage 1 {config.stage1}")

    model = build_refine(assets.spec)
    steps = config.steps_per_epoch or max(1, len(maker.data) // config.batch_size)
    resumable = resumable_adam(model, out, config.learning_rate, steps * config.epochs, alpha=0.02)
    optimizer, epoch_var = resumable.optimizer, resumable.epoch
    checkpoint, manager = resumable.checkpoint, resumable.manager
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).expect_partial()
        say(f"resuming after epoch {int(epoch_var.numpy())}")
    log = read_log(out / "log.csv")[: int(epoch_var.numpy())]
    variables = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def train_step(inputs: Any, targets: Any) -> Any:
        with tf.GradientTape() as tape:
            predicted = model(inputs, training=True)["landmarks"]
            loss = point_distance_loss(predicted, targets)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    for epoch in range(int(epoch_var.numpy()), config.epochs):
        started, total = time.perf_counter(), 0.0
        order = np.random.default_rng([config.seed, epoch, 5]).permutation(len(maker.data))
        order = np.resize(order, steps * config.batch_size).reshape(steps, config.batch_size)
        for number, (inputs, targets, *_) in enumerate(prefetched(maker, list(order), epoch), start=1):
            total += float(train_step(inputs.astype(np.float32) / np.float32(255.0), targets))
            if number % 10 == 0 or number == steps:
                say(f"epoch {epoch + 1}/{config.epochs} step {number}/{steps} loss {total / number:.5f}")
        recalibrate_batchnorm(model, maker, order[:8], epoch)
        row: dict[str, Any] = {"epoch": epoch + 1, "loss": total / steps}
        for name, faces in checks.items():
            measured = evaluate_refine(model, faces)
            row[f"{name}_stage1_nme_percent"] = measured["stage1"]
            row[f"{name}_refined_nme_percent"] = measured["refined"]
        row["seconds"] = time.perf_counter() - started
        log.append(row)
        save_weights(model, out / WEIGHTS_FILE)
        write_log(out / "log.csv", log)
        epoch_var.assign(epoch + 1)
        manager.save()
        say(
            f"epoch {epoch + 1}: "
            + ", ".join(f"{key} {value:.4f}" for key, value in row.items() if key != "epoch")
        )
    write_refine_card(out, config, assets, log, len(train_samples), len(val_samples), steps)
    return RefineTrainResult(out, out / WEIGHTS_FILE, assets_path, log)


def point_distance_loss(predicted: Any, targets: Any) -> Any:
    """Mean over points and batch of the Euclidean distance between flat (B, 2n) point sets."""
    import tensorflow as tf

    difference = tf.reshape(predicted - targets, (tf.shape(targets)[0], -1, 2))
    return tf.reduce_mean(tf.sqrt(tf.reduce_sum(tf.square(difference), axis=-1) + 1e-10))


def recalibrate_batchnorm(model: Any, maker: RefineBatches, batches: np.ndarray, epoch: int) -> None:
    """Moving statistics := the average batch statistics of a few training batches (the weights move
    faster than a 0.99 moving average follows in a short CPU run; as :mod:`asmnet_edge.training.loop`)."""
    import tensorflow as tf

    layers = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for seen, indices in enumerate(batches, start=1):
        inputs, *_ = maker.batch(indices, 30_000 + epoch)
        for layer in layers:
            layer.momentum = (seen - 1) / seen
        model(inputs.astype(np.float32) / np.float32(255.0), training=True)
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


def evaluate_refine(model: Any, faces: RefineBatches, batch_size: int = 32) -> dict[str, float]:
    """Inter-ocular NME (%) of stage 1 alone and refined on un-augmented runtime crops (crop pixels)."""
    from asmnet_edge.model.refine import predict_corrections
    from asmnet_edge.runtime.refine import similarity_matrix

    size, mean = faces.assets.spec.aligned_size, faces.assets.mean_points
    firsts, refined, truths = [], [], []
    for start in range(0, len(faces.data), batch_size):
        indices = np.arange(start, min(start + batch_size, len(faces.data)))
        inputs, _, points, truth = faces.batch(indices, 0, train=False)
        values = predict_corrections(model, inputs)
        for point, value in zip(points, values, strict=True):
            refined.append(corrected_points(point, similarity_matrix(point, mean), value, size))
        firsts.append(points)
        truths.append(truth)
    truth_all = np.concatenate(truths)
    if truth_all.shape[1] not in OUTER_EYE_CORNERS:
        return {"stage1": float("nan"), "refined": float("nan")}
    return {
        "stage1": float(100 * nme(np.concatenate(firsts), truth_all).mean()),
        "refined": float(100 * nme(np.stack(refined), truth_all).mean()),
    }


def write_refine_card(
    out: Path,
    config: RefineTrainConfig,
    assets: RefineAssets,
    log: list[dict[str, Any]],
    train_count: int,
    val_count: int,
    steps: int,
) -> None:
    """A short Markdown card: network, stage 1, data, per-epoch loss and NME, time spent."""
    names = [key for key in (log[-1] if log else {}) if key.endswith("_percent")]
    header = "| epoch | loss | " + " | ".join(names) + " | seconds |"
    rows = "\n".join(
        f"| {int(row['epoch'])} | {row['loss']:.5f} | "
        + " | ".join(f"{row.get(name, float('nan')):.2f}" for name in names)
        + f" | {row['seconds']:.0f} |"
        for row in log
    )
    hours = sum(row["seconds"] for row in log) / 3600.0
    spec = assets.spec
    card = f"""# Refine stage model card

- Network: MobileNetV2-style, {spec.aligned_size} px aligned input (RGB + heatmap of stage 1's points),
  widths {list(spec.widths)}, expansion {spec.expansion}; output: corrections of {spec.num_landmarks} points
  in the aligned frame
- Stage 1 (fixed): {assets.stage1.source}, {assets.stage1.input_size} px, weights sha256
  {assets.stage1.weights_sha256[:16]}...
- Data: {", ".join(config.data)} (format {config.fmt}); {train_count} training faces, {val_count} validation;
  augmentation '{config.augment}', stage-1 points perturbed at amplitude {config.perturb:g}
- Loss: mean point distance in the aligned frame; Adam, cosine-decayed learning rate from
  {config.learning_rate:g}, batch {config.batch_size}, {steps} steps per epoch
- Budget spent: {hours:.2f} hours of wall time on this machine
- NME: inter-ocular, %, on un-augmented runtime crops (ground-truth box + {CROP_MARGIN} margin)

{header}
|{"---|" * (len(names) + 3)}
{rows}
"""
    atomic_write_text(out / "model_card.md", card)
