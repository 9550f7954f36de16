"""Training configuration: a frozen dataclass, saved beside the run so that a resume can check it.

>>> config = TrainConfig(data=("/data/300w",), out="runs/a", epochs=3)
>>> TrainConfig.from_dict(config.to_dict()) == config
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from asmnet_edge._config import load_dataclass, read_json
from asmnet_edge.errors import ConfigError

# fields that may change when a run is resumed (the rest must match the saved run; the run folder
# may move to another machine); new data
# joins the training set but the saved PCA is kept
RESUMABLE = (
    "epochs",
    "stop_after",
    "steps_per_epoch",
    "workers",
    "data",
    "bn_momentum",
    "augment",
    "out",
    "holdout",
    "init_weights",  # only starts a run: a resumed run continues from its own weights
)
AUGMENT_PRESETS = ("default", "tracking", "none")  # asmnet_edge.data.augment.augment_preset


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; every field changes behaviour."""

    data: tuple[str, ...]
    out: str
    fmt: str = "300w"
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    # share of shape variance the ASM's PCA keeps. The paper's 90 % keeps 4 components of shapes augmented
    # with rotation, box jitter and large yaw, and the loss's optimum then sits 7 % NME from the truth at
    # alpha 2 (benchmarks/results/fit_checks/asm_floor.md); 99.5 % keeps 11-13 and about 2 %
    asm_accuracy: float = 99.5
    num_landmarks: int = 68
    alpha: float = 1.0
    input_size: int = 224
    val_fraction: float = 0.05
    seed: int = 0
    steps_per_epoch: int | None = None
    workers: int = 2
    landmark_sign: float = 1.0
    init_weights: str | None = None
    # Keras' MobileNetV2 uses 0.999, which needs thousands of steps before the moving statistics
    # that inference uses catch up; short CPU runs need a faster average
    bn_momentum: float = 0.99
    fixed_asm_alpha: float | None = None  # overrides the 2/1/0.5 schedule (e.g. 0.5 for a fine-tune stage)
    # L2 factor on the heads' kernels and biases. The paper's 0.01 outweighs the landmark MSE (about 1e-3
    # on normalised coordinates) by two orders of magnitude and pulls every output toward the crop
    # centre: measured in benchmarks/fit_checks.py, it shrinks the predicted shape (see the model card)
    head_l2: float = 1e-5
    # re-estimate BatchNorm statistics from training batches at each epoch end (see recalibrate_batchnorm)
    recalibrate_bn: bool = True
    # augmentation preset (asmnet_edge.data.augment.augment_preset): "default" (deployment-like: box
    # jitter, rotation, photometric), "tracking" (plus crops scaled 0.75-1.35x, shifted up to 1/4) or "none"
    augment: str = "default"
    # held-out labelled folders evaluated after every epoch (the learning curve in holdout_log.csv)
    holdout: tuple[str, ...] = ()
    # stop after this many epochs (the schedules still span ``epochs``): a run made in parts
    stop_after: int | None = None

    def __post_init__(self) -> None:
        if not self.data:
            raise ConfigError("training needs at least one --data folder")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch size must be at least 1")
        if not 0.0 <= self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in [0, 0.5), got {self.val_fraction}")
        if self.landmark_sign not in (1.0, -1.0):
            raise ConfigError("landmark_sign must be +1 or -1")
        if self.head_l2 < 0:
            raise ConfigError(f"head_l2 must be >= 0, got {self.head_l2}")
        if self.augment not in AUGMENT_PRESETS:
            raise ConfigError(f"unknown augment preset {self.augment!r}: expected one of {AUGMENT_PRESETS}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["data"] = list(self.data)
        data["holdout"] = list(self.holdout)
        return data

    @classmethod
    def from_dict(cls, data: Any, what: str = "training config") -> TrainConfig:
        """Strict load (:func:`asmnet_edge._config.load_dataclass`): unknown keys, missing ``data``/``out``
        and wrong types are :class:`ConfigError` naming the key."""
        values = dict(data) if isinstance(data, dict) else data
        if isinstance(values, dict):
            # runs saved before head_l2 existed used the paper's head L2
            values.setdefault("head_l2", 0.01)
        return load_dataclass(cls, values, what)

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """A run's saved ``config.json``; a missing, invalid or foreign file is a :class:`ConfigError`."""
        return cls.from_dict(read_json(path, "training config"), f"training config {path}")

    def differences(self, other: TrainConfig) -> list[str]:
        """Fields that differ from ``other`` and may not change across a resume."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [key for key in mine if key not in RESUMABLE and mine[key] != theirs[key]]
