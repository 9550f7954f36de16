"""The files a training run keeps in its folder, written atomically, for every architecture: weights,
the per-epoch ``log.csv``, and the check that a resumed run has the settings it was started with.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "log.csv"
>>> write_log(path, [{"epoch": 1, "loss": 0.25}])
>>> read_log(path)
[{'epoch': 1.0, 'loss': 0.25}]
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asmnet_edge._atomic import atomic_path, atomic_write_text
from asmnet_edge.errors import ConfigError


def save_weights(model: Any, path: Path) -> None:
    """``model.save_weights`` through a temporary file: an interrupted run keeps its last weights."""
    with atomic_path(path) as tmp:
        model.save_weights(str(tmp))


def read_log(path: Path, text_fields: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows of a run's ``log.csv`` (none if there is no file yet); every value a float but the
    ``text_fields``."""
    if not path.exists():
        return []
    with open(path, newline="") as stream:
        return [
            {key: (value if key in text_fields else float(value)) for key, value in row.items()}
            for row in csv.DictReader(stream)
        ]


def write_log(path: Path, log: list[dict[str, Any]], fields: Iterable[str] | None = None) -> None:
    """Write ``log.csv``: the columns ``fields`` (default: every key of the rows, in first-seen order),
    floats with 6 significant digits, a value a row lacks as nan."""
    names = list(fields) if fields is not None else list(dict.fromkeys(key for row in log for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    for row in log:
        values = {key: row.get(key, float("nan")) for key in names}
        writer.writerow(
            {key: (f"{value:.6g}" if isinstance(value, float) else value) for key, value in values.items()}
        )
    atomic_write_text(path, buffer.getvalue())


def check_resume(out: Path, settings: dict[str, Any], free: Sequence[str], kind: str = "run") -> None:
    """Refuse to continue in ``out`` a run whose ``config.json`` differs from ``settings`` in a key
    other than the ``free`` ones (those a resumed run may change)."""
    saved = out / "config.json"
    if not saved.exists():
        return
    try:
        previous = json.loads(saved.read_text())
    except ValueError as err:
        raise ConfigError(f"{saved} is not valid JSON: {err}") from err
    changed = sorted(key for key in settings if key not in free and previous.get(key) != settings[key])
    if changed:
        raise ConfigError(resume_refusal(out, changed, kind))


def resume_refusal(out: Path, changed: Sequence[str], kind: str = "run") -> str:
    """The message that refuses to resume: what differs and what to do."""
    return (
        f"{out} holds a {kind} with different settings ({', '.join(changed)}): "
        "use a new --out folder, or the same settings to resume"
    )


@dataclass(frozen=True)
class Resumable:
    """Adam on a cosine-decayed learning rate, checkpointed with the model and the finished epochs."""

    optimizer: Any
    epoch: Any  # tf.Variable (int64): epochs finished
    checkpoint: Any  # tf.train.Checkpoint of model, optimizer and epoch
    manager: Any  # tf.train.CheckpointManager over out/checkpoint, the last two kept


def resumable_adam(model: Any, out: Path, learning_rate: float, total_steps: int, alpha: float) -> Resumable:
    """Adam from ``learning_rate`` decayed over ``total_steps`` to ``alpha`` times it, and the checkpoint
    in ``out/checkpoint`` that a resumed run restores (restoring is the caller's: it says what it did)."""
    import tensorflow as tf

    schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=alpha)
    optimizer = tf.keras.optimizers.Adam(schedule)
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch)
    manager = tf.train.CheckpointManager(checkpoint, str(out / "checkpoint"), max_to_keep=2)
    return Resumable(optimizer, epoch, checkpoint, manager)
