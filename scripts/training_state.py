"""Carry a long training run across sessions and machines: save its latest state into the repository,
restore it into a run folder elsewhere.

    python scripts/training_state.py save runs/main128 training_state/main128      # before a session ends
    python scripts/training_state.py restore training_state/main128 runs/main128   # on the next machine

Saved: the latest ``checkpoint/`` (model + optimiser + epoch: what ``asmnet-edge train`` resumes from),
``last.weights.h5``, ``pca.npz``, ``config.json`` and ``log.csv``: about 23 MB for ASMNet at alpha 1.0.
Older checkpoints and the best-validation weights are not kept. Restore refuses to overwrite a run folder
that is further along than the saved state.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

FILES = ("last.weights.h5", "pca.npz", "config.json", "log.csv", "holdout_log.csv")


def epochs_done(folder: Path) -> int:
    log = folder / "log.csv"
    if not log.is_file():
        return 0
    with open(log, newline="") as stream:
        return len(list(csv.DictReader(stream)))


def latest_checkpoint(folder: Path) -> list[Path]:
    index = folder / "checkpoint" / "checkpoint"
    if not index.is_file():
        raise SystemExit(f"{folder} has no checkpoint/ (is it an asmnet-edge training run?)")
    first = index.read_text().splitlines()[0]  # model_checkpoint_path: "ckpt-12"
    name = first.split(":", 1)[1].strip().strip('"')
    return [index, *sorted((folder / "checkpoint").glob(name + ".*"))]


def copy_state(source: Path, target: Path) -> None:
    checkpoint_files = latest_checkpoint(source)
    staging = target.with_name(target.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "checkpoint").mkdir(parents=True)
    index, *data = checkpoint_files
    for path in data:
        shutil.copy2(path, staging / "checkpoint" / path.name)
    # the index names only the checkpoint that travels (the manager would look for the older ones)
    name = data[0].name.split(".")[0]
    (staging / "checkpoint" / index.name).write_text(
        f'model_checkpoint_path: "{name}"\nall_model_checkpoint_paths: "{name}"\n'
    )
    for name in FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, staging / name)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)  # the state appears whole or not at all


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] not in ("save", "restore"):
        raise SystemExit(__doc__)
    action, source, target = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if action == "restore" and epochs_done(target) > epochs_done(source):
        raise SystemExit(
            f"{target} has {epochs_done(target)} epochs, more than the saved {epochs_done(source)}: "
            "not overwritten"
        )
    copy_state(source, target)
    print(f"{action}d {epochs_done(target)} epochs: {source} -> {target}")


if __name__ == "__main__":
    main()
