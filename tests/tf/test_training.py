"""A few training steps of a tiny ASMNet on a dataset the test writes: loss falls, files, resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf
pytest.importorskip("tensorflow")

from asmnet_edge.errors import ConfigError  # noqa: E402
from asmnet_edge.model.asm import ShapePCA  # noqa: E402
from asmnet_edge.model.io import load_asmnet  # noqa: E402
from asmnet_edge.training.config import TrainConfig  # noqa: E402
from asmnet_edge.training.loop import train  # noqa: E402
from tests.conftest import write_face_folder  # noqa: E402


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainConfig, list[dict[str, float]]]:
    root = tmp_path_factory.mktemp("train")
    data = write_face_folder(root / "faces", count=24, size=128)
    held = write_face_folder(root / "held", count=6, size=128)
    config = TrainConfig(
        data=(str(data),),
        holdout=(str(held),),
        out=str(root / "run"),
        epochs=3,
        batch_size=8,
        alpha=0.35,
        input_size=96,
        steps_per_epoch=10,  # with 6, the held-out error of 5 faces rose on an AVX-512 host (22.4 -> 23.6 %)
        val_fraction=0.2,
        learning_rate=3e-3,
        workers=1,
    )
    result = train(config)
    return config, result.log


def test_loss_falls_and_alpha_follows_the_schedule(run) -> None:
    _, log = run
    assert [row["alpha"] for row in log] == [2.0, 1.0, 0.5]
    # the heads start at the mean shape, so it is the total loss and the held-out error that fall
    assert log[-1]["loss"] < log[0]["loss"] and log[-1]["val_nme_percent"] < log[0]["val_nme_percent"]
    assert all(np.isfinite(row["val_nme_percent"]) for row in log)


def test_run_folder_holds_weights_pca_log_and_card(run) -> None:
    config, _ = run
    out = Path(config.out)
    pca = ShapePCA.load(out / "pca.npz")
    assert pca.num_landmarks == 68 and 1 <= len(pca.eigenvalues) < 136
    with open(out / "log.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    with open(out / "holdout_log.csv") as stream:
        curve = list(csv.DictReader(stream))
    assert [(int(row["epoch"]), row["set"], int(row["faces"])) for row in curve] == [
        (1, "held", 6),
        (2, "held", 6),
        (3, "held", 6),
    ]
    assert int(curve[-1]["images_seen"]) == 3 * config.steps_per_epoch * config.batch_size
    assert all(float(row["nme_percent"]) > 0 for row in curve)
    assert "val NME" in (out / "model_card.md").read_text()
    assert json.loads((out / "config.json").read_text())["input_size"] == 96
    loaded = load_asmnet(out / "asmnet.weights.h5")
    assert (loaded.num_landmarks, loaded.alpha, loaded.input_size, loaded.sign_source) == (
        68,
        0.35,
        96,
        "config",
    )


def test_resume_continues_after_the_last_epoch(run) -> None:
    config, log = run
    longer = TrainConfig(**{**config.to_dict(), "data": config.data, "epochs": 4})
    result = train(longer)
    assert [int(row["epoch"]) for row in result.log] == [1, 2, 3, 4]
    # earlier epochs are kept (read back from log.csv, 6 significant digits), not retrained
    for kept, original in zip(result.log[:3], log, strict=True):
        assert kept["loss"] == pytest.approx(original["loss"], rel=1e-5)
        assert kept["seconds"] == pytest.approx(original["seconds"], rel=1e-5)


def test_resume_with_other_settings_is_refused(run) -> None:
    config, _ = run
    changed = TrainConfig(**{**config.to_dict(), "data": config.data, "alpha": 0.5})
    with pytest.raises(ConfigError, match="different settings"):
        train(changed)


def test_batchnorm_recalibration_matches_batch_statistics(tmp_path: Path) -> None:
    import keras

    from asmnet_edge.data.dataset import read_dataset
    from asmnet_edge.model.asmnet import build_asmnet
    from asmnet_edge.training.loop import recalibrate_batchnorm
    from asmnet_edge.training.pipeline import TrainingData

    samples = read_dataset(write_face_folder(tmp_path / "faces", count=16, size=128))
    data = TrainingData(samples, 96, None)
    model = build_asmnet(68, alpha=0.35, input_size=96)
    config = TrainConfig(data=("unused",), out=str(tmp_path), input_size=96, batch_size=8, workers=1)
    layer = model.get_layer("bn_Conv1")
    assert np.allclose(layer.moving_variance, 1.0)  # untouched: far from the real statistics
    recalibrate_batchnorm(model, data, config, epoch=0, batches=2)
    images = np.stack([data.example(index, 10_000)[0] for index in range(16)])
    conv = keras.Model(model.input, layer.input)(images, training=True)
    batch_variance = np.var(np.asarray(conv), axis=(0, 1, 2))
    np.testing.assert_allclose(np.asarray(layer.moving_variance), batch_variance, rtol=0.35, atol=1e-4)
    assert layer.momentum == pytest.approx(0.999)  # restored afterwards


def test_resume_from_weights_alone_on_another_machine(run, tmp_path: Path) -> None:
    """training_state.py carries weights, PCA, config and logs, not the optimiser checkpoint."""
    import shutil

    config, _ = run
    moved = tmp_path / "moved"
    shutil.copytree(config.out, moved, ignore=shutil.ignore_patterns("checkpoint"))
    with open(moved / "log.csv", newline="") as stream:
        done = len(list(csv.DictReader(stream)))
    longer = TrainConfig(**{**config.to_dict(), "data": config.data, "out": str(moved), "epochs": done + 1})
    messages: list[str] = []
    result = train(longer, progress=messages.append)
    assert [int(row["epoch"]) for row in result.log] == list(range(1, done + 2))
    assert any(f"resuming after epoch {done} from last.weights.h5" in line for line in messages)


def test_a_run_made_in_parts_keeps_its_schedules(tmp_path: Path) -> None:
    """--stop-after ends a run early; resuming without it finishes the same 3-epoch schedule."""
    data = write_face_folder(tmp_path / "faces", count=16, size=128)
    config = TrainConfig(
        data=(str(data),),
        out=str(tmp_path / "run"),
        epochs=3,
        stop_after=1,
        batch_size=8,
        alpha=0.35,
        input_size=96,
        steps_per_epoch=2,
        val_fraction=0.25,
        workers=1,
    )
    first = train(config)
    assert [int(row["epoch"]) for row in first.log] == [1] and first.log[0]["alpha"] == 2.0
    rest = train(TrainConfig(**{**config.to_dict(), "data": config.data, "stop_after": None}))
    assert [int(row["epoch"]) for row in rest.log] == [1, 2, 3]
    assert [row["alpha"] for row in rest.log] == [2.0, 1.0, 0.5]


def test_a_run_started_from_init_weights_resumes_without_them(run, tmp_path: Path) -> None:
    """The init weights only start a run: on another machine (file gone, option left out) it resumes."""
    import shutil

    config, _ = run
    start = tmp_path / "start.weights.h5"
    shutil.copy(Path(config.out) / "last.weights.h5", start)
    fine = {**config.to_dict(), "data": config.data, "out": str(tmp_path / "fine")}
    fine.update(epochs=2, stop_after=1)
    first = train(TrainConfig(**{**fine, "init_weights": str(start)}))
    start.unlink()
    resumed = train(TrainConfig(**{**fine, "init_weights": None, "stop_after": None}))
    assert [int(row["epoch"]) for row in first.log] == [1]
    assert [int(row["epoch"]) for row in resumed.log] == [1, 2]
