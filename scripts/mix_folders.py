"""Make a 300W-style folder that mixes seeded random samples of others (symlinks + a merged poses.csv).

Used for the default model's calibration and fidelity sets:

    python scripts/mix_folders.py data/calib_mix data/synth_train:200:1 data/teacher_train:200:2
    python scripts/mix_folders.py data/eval_mix data/synth_test:150:3 data/teacher_holdout:150:4
"""

from __future__ import annotations

import csv
import os
import random
import sys
from pathlib import Path


def mix(out: Path, parts: list[tuple[Path, int, int]]) -> int:
    """Link ``count`` seeded random faces of each folder into ``out``; returns the number of faces."""
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    for folder, count, seed in parts:
        with open(folder / "poses.csv", newline="") as stream:
            table = list(csv.DictReader(stream))
        random.Random(seed).shuffle(table)
        for row in table[:count]:
            name = f"{folder.name}__{row['file']}"
            for suffix in (Path(row["file"]).suffix, ".pts"):
                target = out / Path(name).with_suffix(suffix)
                if not target.exists():
                    os.symlink((folder / Path(row["file"]).with_suffix(suffix)).resolve(), target)
            rows.append({**row, "file": name})
    with open(out / "poses.csv", "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    specs = [
        (Path(spec.split(":")[0]), int(spec.split(":")[1]), int(spec.split(":")[2])) for spec in sys.argv[2:]
    ]
    print(mix(Path(sys.argv[1]), specs))
