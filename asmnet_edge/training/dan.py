"""Training a Deep Alignment Network stage by stage (``asmnet-edge train --arch dan``).

The same 300W-style folders as ASMNet training, the same augmented crops (turned grey: the luma the
runtime feeds a grey model), landmarks in ASMNet units. Phases: stage 1 alone, then each later stage
with the earlier ones frozen (their BatchNorms in inference mode), then optionally all stages jointly.
Loss: the mean point-to-point error over the inter-pupil distance of the ground truth (the DAN paper's).

A run folder holds ``config.json``, ``dan_assets.npz`` (mean shape, mean and std image, network spec),
``dan.weights.h5`` (after the last finished phase), ``log.csv`` (one row per epoch), ``model_card.md``.
Running again with the same folder and settings skips the finished phases.

>>> result = train_dan(DanTrainConfig(data=("data/300w",), out="runs/dan"))  # doctest: +SKIP
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
from asmnet_edge.data.dataset import Sample, read_dataset
from asmnet_edge.errors import ConfigError, DataError
from asmnet_edge.eval.metrics import EYE_CONTOURS, OUTER_EYE_CORNERS, nme
from asmnet_edge.model.dan import ASSETS_FILE, WEIGHTS_FILE, DanAssets, DanSpec, build_dan, stage_layers
from asmnet_edge.runtime.geometry import denormalise_landmarks
from asmnet_edge.training.config import AUGMENT_PRESETS
from asmnet_edge.training.dan_data import GreyData, image_statistics, mean_shape
from asmnet_edge.training.pipeline import TrainingData
from asmnet_edge.training.run_files import check_resume, read_log, save_weights, write_log

LOG_FIELDS = ("phase", "epoch", "loss", "val_nme_ip_percent", "val_nme_io_percent", "seconds")


@dataclass(frozen=True)
class DanTrainConfig:
    """Everything a DAN run depends on; every field changes behaviour.

    ``epochs`` is per stage; ``joint_epochs`` > 0 adds a phase that trains all stages together.
    """

    data: tuple[str, ...]
    out: str
    fmt: str = "300w"
    stages: int = 2
    epochs: int = 10
    joint_epochs: int = 0
    batch_size: int = 32
    learning_rate: float = 1e-3
    num_landmarks: int = 68
    input_size: int = 112
    widths: tuple[int, ...] = (16, 32, 64, 128)
    fc_units: int = 128
    heatmap_resolution: int = 56
    steps_per_epoch: int | None = None
    val_fraction: float = 0.05
    seed: int = 0
    workers: int = 2
    augment: str = "default"
    statistics_count: int = 256  # augmented crops the mean / std images are computed from

    def __post_init__(self) -> None:
        if not self.data:
            raise ConfigError("training needs at least one --data folder")
        if self.epochs < 1 or self.batch_size < 1 or self.joint_epochs < 0:
            raise ConfigError("epochs and batch size must be at least 1, joint epochs at least 0")
        if not 0.0 <= self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in [0, 0.5), got {self.val_fraction}")
        if self.augment not in AUGMENT_PRESETS:
            raise ConfigError(f"unknown augment preset {self.augment!r}: expected one of {AUGMENT_PRESETS}")
        if self.num_landmarks not in EYE_CONTOURS:
            raise ConfigError(f"the inter-pupil loss needs 68 or 98 landmarks, got {self.num_landmarks}")
        self.spec()  # the network's own checks

    def spec(self) -> DanSpec:
        return DanSpec(
            stages=self.stages,
            num_landmarks=self.num_landmarks,
            input_size=self.input_size,
            widths=tuple(self.widths),
            fc_units=self.fc_units,
            heatmap_resolution=self.heatmap_resolution,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["data"], data["widths"] = list(self.data), list(self.widths)
        return data

    def phases(self) -> list[str]:
        """``stage1``, ``stage2``, ... then ``joint`` when ``joint_epochs`` > 0."""
        names = [f"stage{stage}" for stage in range(1, self.stages + 1)]
        return names + (["joint"] if self.joint_epochs else [])


@dataclass
class DanTrainResult:
    out: Path
    weights: Path
    assets: Path
    log: list[dict[str, Any]] = field(default_factory=list)


def inter_pupil_loss(pred: Any, truth: Any, num_landmarks: int) -> Any:
    """Mean over the batch of (mean point-to-point error / inter-pupil distance of ``truth``)."""
    import tensorflow as tf

    pred_points = tf.reshape(pred, (-1, num_landmarks, 2))
    true_points = tf.reshape(truth, (-1, num_landmarks, 2))
    left, right = EYE_CONTOURS[num_landmarks]
    pupils = tf.reduce_mean(tf.gather(true_points, list(left), axis=1), axis=1) - tf.reduce_mean(
        tf.gather(true_points, list(right), axis=1), axis=1
    )
    distance = tf.sqrt(tf.reduce_sum(tf.square(pupils), axis=-1) + 1e-12)
    errors = tf.sqrt(tf.reduce_sum(tf.square(pred_points - true_points), axis=-1) + 1e-12)
    return tf.reduce_mean(tf.reduce_mean(errors, axis=1) / distance)


def train_dan(config: DanTrainConfig, progress: Callable[[str], None] | None = None) -> DanTrainResult:
    """Train (or resume) a DAN as ``config`` says; returns the run's files and log."""
    import tensorflow as tf

    from asmnet_edge.training.loop import split_samples

    say = progress or (lambda message: None)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    check_resume(out, config.to_dict(), free=("workers", "out"))
    atomic_write_text(out / "config.json", json.dumps(config.to_dict(), indent=1))
    samples: list[Sample] = []
    for folder in config.data:
        samples += read_dataset(folder, config.fmt, expected_points=config.num_landmarks)
    train_samples, val_samples = split_samples(samples, config.val_fraction, config.seed)
    if not train_samples:
        raise DataError("no training samples left after the validation split")
    tf.keras.utils.set_random_seed(config.seed)
    size, spec = config.input_size, config.spec()
    augment = augment_preset(config.augment)
    data = GreyData(TrainingData(train_samples, size, None, 1.0, augment, config.seed))
    val = (
        GreyData(TrainingData(val_samples, size, None, 1.0, AugmentConfig.none(), config.seed))
        if val_samples
        else None
    )
    assets_path = out / ASSETS_FILE
    if assets_path.is_file():
        assets, _ = DanAssets.load(assets_path)
    else:
        mean_image, std_image = image_statistics(data, config.statistics_count)
        assets = DanAssets(mean_shape(train_samples, size), mean_image, std_image)
        assets.save(assets_path, spec)
    say(
        f"{len(train_samples)} training / {len(val_samples)} validation faces; "
        f"DAN with {config.stages} stages"
    )
    model = build_dan(spec, assets)
    log = read_log(out / "log.csv", text_fields=("phase",))
    done = {row["phase"] for row in log}
    if done and (out / WEIGHTS_FILE).is_file():
        model.load_weights(str(out / WEIGHTS_FILE))
        say(f"resuming after phases {sorted(done)}")
    steps = config.steps_per_epoch or max(1, len(data) // config.batch_size)
    for phase in config.phases():
        if phase in done:
            continue
        stage = config.stages if phase == "joint" else int(phase[len("stage") :])
        epochs = config.joint_epochs if phase == "joint" else config.epochs
        log += _train_phase(model, phase, stage, epochs, steps, data, val, config, say)
        save_weights(model, out / f"{phase}.weights.h5")  # each phase's end state, for comparisons
        save_weights(model, out / WEIGHTS_FILE)
        write_log(out / "log.csv", log, LOG_FIELDS)
    write_dan_card(out, config, log, len(train_samples), len(val_samples))
    return DanTrainResult(out, out / WEIGHTS_FILE, assets_path, log)


def _train_phase(
    model: Any,
    phase: str,
    stage: int,
    epochs: int,
    steps: int,
    data: GreyData,
    val: GreyData | None,
    config: DanTrainConfig,
    say: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Train ``stage``'s layers (all stages for ``joint``) on ``stage``'s output; one log row per epoch."""
    import tensorflow as tf

    from asmnet_edge.model.dan import stage_output

    active = {id(layer) for number in range(1, stage + 1) for layer in stage_layers(model, number)}
    if phase != "joint":
        active = {id(layer) for layer in stage_layers(model, stage)}
    for layer in model.layers:
        layer.trainable = id(layer) in active
    head = stage_output(model, stage)
    size, points = config.input_size, config.num_landmarks
    schedule = tf.keras.optimizers.schedules.CosineDecay(config.learning_rate, steps * epochs, alpha=0.01)
    optimizer = tf.keras.optimizers.Adam(schedule)
    variables = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def train_step(batch: dict[str, Any]) -> Any:
        with tf.GradientTape() as tape:
            shape = head(batch["image"], training=True)
            loss = inter_pupil_loss(shape / size - 0.5, batch["landmarks"], points)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    rows = []
    for epoch in range(epochs):
        started, total = time.perf_counter(), 0.0
        batches = data.tf_dataset(config.batch_size, epoch, config.workers).repeat().take(steps)
        for number, batch in enumerate(batches, start=1):
            total += float(train_step(batch))
            if number % 10 == 0 or number == steps:
                say(f"{phase} epoch {epoch + 1}/{epochs} step {number}/{steps} loss {total / number:.5f}")
        _recalibrate_batchnorm(model, head, data, config, epoch)
        metrics = evaluate_stage(head, val, size) if val is not None else {}
        rows.append(
            {
                "phase": phase,
                "epoch": epoch + 1,
                "loss": total / steps,
                "val_nme_ip_percent": metrics.get("inter-pupil", float("nan")),
                "val_nme_io_percent": metrics.get("inter-ocular", float("nan")),
                "seconds": time.perf_counter() - started,
            }
        )
        say(
            f"{phase} epoch {epoch + 1}: "
            + ", ".join(f"{k} {v}" for k, v in rows[-1].items() if k != "phase")
        )
    for layer in model.layers:
        layer.trainable = True
    return rows


def _recalibrate_batchnorm(model: Any, head: Any, data: GreyData, config: DanTrainConfig, epoch: int) -> None:
    """Moving statistics of the trainable BatchNorms := the average batch statistics of a few batches
    (short CPU runs move the weights faster than a 0.99 moving average follows; see training.loop)."""
    import tensorflow as tf

    layers = [
        layer
        for layer in model.layers
        if isinstance(layer, tf.keras.layers.BatchNormalization) and layer.trainable
    ]
    momenta = [layer.momentum for layer in layers]
    batches = min(8, config.steps_per_epoch or 8)
    for seen, batch in enumerate(
        data.tf_dataset(config.batch_size, 20_000 + epoch, config.workers).take(batches), 1
    ):
        for layer in layers:
            layer.momentum = (seen - 1) / seen
        head(batch["image"], training=True)
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


def evaluate_stage(head: Any, data: GreyData, size: int, batch_size: int = 32) -> dict[str, float]:
    """Inter-pupil and inter-ocular NME (%) of a stage's output on un-augmented crops, in crop pixels."""
    examples = [data.example(index, 0) for index in range(len(data))]
    images = np.stack([item[0] for item in examples])
    truth = denormalise_landmarks(
        np.stack([item[1] for item in examples]).reshape(len(images), -1, 2), size, 1.0
    )
    predicted = np.concatenate(
        [
            np.asarray(head(images[start : start + batch_size], training=False))
            for start in range(0, len(images), batch_size)
        ]
    ).reshape(len(images), -1, 2)
    if truth.shape[1] not in OUTER_EYE_CORNERS:
        return {}
    return {norm: float(100 * nme(predicted, truth, norm).mean()) for norm in ("inter-pupil", "inter-ocular")}


def write_dan_card(
    out: Path, config: DanTrainConfig, log: list[dict[str, Any]], train_count: int, val_count: int
) -> None:
    """A short Markdown card: architecture, data, phases, per-epoch losses, validation NME, time spent."""
    rows = "\n".join(
        f"| {row['phase']} | {int(row['epoch'])} | {row['loss']:.5f} | {row['val_nme_ip_percent']:.2f} | "
        f"{row['val_nme_io_percent']:.2f} | {row['seconds']:.0f} |"
        for row in log
    )
    hours = sum(row["seconds"] for row in log) / 3600.0
    steps = config.steps_per_epoch or max(1, train_count // config.batch_size)
    card = f"""# DAN model card

- Architecture: Deep Alignment Network, {config.stages} stages, grey {config.input_size} px input
  normalised by the training set's mean/std images; VGG widths {list(config.widths)}, FC
  {config.fc_units}; heatmap on a {config.heatmap_resolution} px grid; {config.num_landmarks} landmarks,
  no pose
- Data: {", ".join(config.data)} (format {config.fmt}); {train_count} training faces, {val_count} validation
- Loss: mean point-to-point error / inter-pupil distance; stage by stage ({config.epochs} epochs of
  {steps} steps each, earlier stages frozen), then {config.joint_epochs} joint epochs
- Optimiser: Adam, cosine-decayed learning rate from {config.learning_rate:g}, batch {config.batch_size}
- Budget spent: {hours:.2f} CPU-hours of wall time on this machine

| phase | epoch | loss | val NME inter-pupil % | val NME inter-ocular % | seconds |
|---|---|---|---|---|---|
{rows}
"""
    atomic_write_text(out / "model_card.md", card)
