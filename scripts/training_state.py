"""Carry a long training run across sessions and machines: save its latest state into the repository,
restore it into a run folder elsewhere.

    python scripts/training_state.py save runs/main128 training_state/main128      # before a session ends
    python scripts/training_state.py restore training_state/main128 runs/main128   # on the next machine

Saved: ``last.weights.h5`` (the latest epoch's weights), ``pca.npz``, ``config.json``, ``log.csv`` and
``holdout_log.csv``: about 6 MB for ASMNet at alpha 1.0. The optimiser checkpoint (three times the
weights) stays behind: ``asmnet-edge train`` resumes from the weights and the epoch count of ``log.csv``
(schedule continued, Adam's moments restarted). Restore refuses to overwrite a run folder that is
further along than the saved state.
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


def copy_state(source: Path, target: Path) -> None:
    if not (source / "last.weights.h5").is_file():
        raise SystemExit(f"{source} has no last.weights.h5 (is it an asmnet-edge training run?)")
    staging = target.with_name(target.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
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
