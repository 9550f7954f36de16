"""Average the weights of several epochs of one training run (stochastic weight averaging, Izmailov et
al. 2018) and print each input's and the average's held-out NME, measured as the training loop does.

    python scripts/average_weights.py runs/main128b_epochs/e{17..22}.weights.h5 \
        --config runs/main128b/config.json --holdout data/menpo_perturbed --holdout data/teacher_holdout \
        --recalibrate-bn --out runs/avg/asmnet.weights.h5

With ``--recalibrate-bn`` the average's BatchNorm statistics are re-estimated on augmented training batches
of the run (as the training loop does at every epoch end; the run's data folders, relative to the
current directory, and its pca.npz beside the config); without it they are averaged like every other
weight. Both rows are printed. A weights argument ``PATH@N`` counts as N epochs: an average carried
across sessions (``training_state/main128b_swa.weights.h5@17``, epochs 17-33) grows by the epochs trained
since, without their files. The output is written atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asmnet_edge.data.augment import augment_preset  # noqa: E402
from asmnet_edge.model.asm import ShapePCA  # noqa: E402
from asmnet_edge.model.asmnet import build_asmnet  # noqa: E402
from asmnet_edge.training.config import TrainConfig  # noqa: E402
from asmnet_edge.training.loop import (  # noqa: E402
    evaluate_crops,
    holdout_sets,
    load_training_samples,
    recalibrate_batchnorm,
)
from asmnet_edge.training.pipeline import TrainingData  # noqa: E402
from asmnet_edge.training.run_files import save_weights  # noqa: E402


def nme_row(model: object, holdouts: dict[str, TrainingData], config: TrainConfig) -> str:
    values = [evaluate_crops(model, data, config)["nme_percent"] for data in holdouts.values()]
    return " | ".join(f"{value:.2f}" for value in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="+", help="weights files; PATH@N weighs one as N epochs")
    parser.add_argument("--config", type=Path, required=True, help="the run's config.json")
    parser.add_argument("--holdout", action="append", default=[], help="labelled 300w folder")
    parser.add_argument("--out", type=Path, default=None, help="where to write the averaged weights")
    parser.add_argument("--recalibrate-bn", action="store_true", help="re-estimate BatchNorm statistics")
    args = parser.parse_args()
    config = TrainConfig.load(args.config)
    model = build_asmnet(
        config.num_landmarks, config.alpha, config.input_size, landmark_sign=config.landmark_sign
    )
    holdouts = holdout_sets(config, args.holdout)
    total = None
    print("| weights | " + " | ".join(holdouts) + " |")
    print("|---|" + "---|" * len(holdouts))
    count = 0
    for item in args.weights:
        name, _, weight = item.partition("@")
        path, times = Path(name), int(weight or 1)
        model.load_weights(str(path))
        values = [times * np.asarray(w, np.float64) for w in model.get_weights()]
        total = values if total is None else [a + b for a, b in zip(total, values, strict=True)]
        count += times
        print(f"| {path.name} (x{times}) | {nme_row(model, holdouts, config)} |", flush=True)
    assert total is not None
    model.set_weights([(value / count).astype(np.float32) for value in total])
    print(f"| average of {count} epochs | {nme_row(model, holdouts, config)} |", flush=True)
    if args.recalibrate_bn:
        pca = ShapePCA.load(args.config.parent / "pca.npz")
        augment = augment_preset(config.augment)
        training = TrainingData(
            load_training_samples(config), config.input_size, pca, config.landmark_sign, augment, config.seed
        )
        recalibrate_batchnorm(model, training, config, epoch=10_000, batches=32)
        print(f"| average of {count} epochs, BatchNorm re-estimated | {nme_row(model, holdouts, config)} |")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        save_weights(model, args.out)


if __name__ == "__main__":
    main()
