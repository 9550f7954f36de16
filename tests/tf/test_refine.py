"""ASMNet + refine end to end on a tiny dataset the test writes: a weak stage 1 (an untrained ASMNet whose
heads start at the mean shape), a tiny refine network trained behind it (the loss falls), exported and
run by the runtime between two interpreters (matching the Keras cascade), refused behind another stage 1,
and the CLI's --json contract for train / predict / eval --refine."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf
pytest.importorskip("tensorflow")

from asmnet_edge.data.dataset import make_crops, read_dataset  # noqa: E402
from asmnet_edge.errors import StageMismatchError  # noqa: E402
from asmnet_edge.eval.metrics import nme  # noqa: E402
from asmnet_edge.exporters.refine import RefineInputs, export_refine  # noqa: E402
from asmnet_edge.model.io import load_asmnet, weights_sha256  # noqa: E402
from asmnet_edge.model.refine import load_refine, predict_corrections  # noqa: E402
from asmnet_edge.runtime.metadata import ModelMetadata, embed_metadata, read_tflite_metadata  # noqa: E402
from asmnet_edge.runtime.model import LiteModel  # noqa: E402
from asmnet_edge.runtime.refine import Cascade, RefineModel  # noqa: E402
from asmnet_edge.training.refine import RefineTrainConfig, train_refine  # noqa: E402
from tests.conftest import write_face_folder  # noqa: E402
from tests.tf.test_dan import write_turned_faces  # noqa: E402

STAGE1_SIZE = 64
TINY = {"aligned_size": 48, "widths": (8, 8, 16, 16, 16), "expansion": 2}


def write_stage1(folder: Path, data: Path, seed: int = 0) -> Path:
    """An ASMNet (alpha 0.35, 64 px) whose heads start at the mean shape: a weak but sane stage 1."""
    import keras

    from asmnet_edge.model.asm import ShapePCA
    from asmnet_edge.model.asmnet import build_asmnet
    from asmnet_edge.training.loop import start_heads_at_mean_shape
    from asmnet_edge.training.pipeline import shape_matrix

    keras.utils.set_random_seed(seed)
    model = build_asmnet(68, 0.35, STAGE1_SIZE, head_l2=0.0)
    pca = ShapePCA.fit(shape_matrix(read_dataset(data), STAGE1_SIZE, 1.0, copies=2), 95)
    start_heads_at_mean_shape(model, pca, kernel_scale=0.01 * (seed + 1))
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "stage1.weights.h5"
    model.save_weights(str(weights))
    facts = {"num_landmarks": 68, "alpha": 0.35, "input_size": STAGE1_SIZE, "landmark_sign": 1.0}
    (folder / "config.json").write_text(json.dumps(facts))
    return weights


def stage1_tflite(weights: Path, out: Path) -> Path:
    """The stage-1 fp32 .tflite with the metadata an ASMNet export writes (weights sha256 included)."""
    import tensorflow as tf

    loaded = load_asmnet(weights)
    content = bytes(tf.lite.TFLiteConverter.from_keras_model(loaded.model).convert())
    meta = ModelMetadata(68, STAGE1_SIZE, "fp32", alpha=0.35, weights_sha256=weights_sha256(loaded.model))
    out.write_bytes(embed_metadata(content, meta))
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("refine")
    data = write_turned_faces(write_face_folder(root / "plain", count=12, size=128), root / "faces")
    stage1 = write_stage1(root / "stage1", data)
    config = RefineTrainConfig(
        data=(str(data),),
        stage1=str(stage1),
        out=str(root / "run"),
        epochs=3,
        steps_per_epoch=4,
        batch_size=5,
        learning_rate=3e-3,
        augment="none",
        val_fraction=0.2,
        workers=1,
        **TINY,
    )
    result = train_refine(config)
    exported = export_refine(config.out, root / "exported", ("fp32",), calib=data, eval_count=6)
    return {
        "root": root,
        "data": data,
        "stage1": stage1,
        "config": config,
        "log": result.log,
        "export": exported,
        "stage1_tflite": stage1_tflite(stage1, root / "stage1_fp32.tflite"),
    }


def test_training_loss_falls_and_the_run_records_its_stage1(run) -> None:
    log = run["log"]
    print("\n".join(str(row) for row in log))
    assert [int(row["epoch"]) for row in log] == [1, 2, 3]
    assert log[-1]["loss"] < log[0]["loss"]
    # on the two held-out faces the refined points beat the (mean-shape) stage 1's
    assert log[-1]["val_refined_nme_percent"] < 0.9 * log[-1]["val_stage1_nme_percent"]
    loaded = load_refine(run["config"].out)
    assert loaded.assets.stage1.weights_sha256 == weights_sha256(load_asmnet(run["stage1"]).model)
    assert "Refine stage model card" in (Path(run["config"].out) / "model_card.md").read_text()


def test_resume_skips_finished_epochs(run) -> None:
    again = train_refine(run["config"])
    assert [int(row["epoch"]) for row in again.log] == [1, 2, 3]


def test_two_interpreters_match_the_keras_cascade(run) -> None:
    report = run["export"]
    fp32 = report["models"]["fp32"]
    print("fp32 vs Keras %", fp32["nme_vs_keras_percent"])
    assert fp32["nme_vs_keras_percent"] < 0.1
    meta = read_tflite_metadata(Path(fp32["path"]))
    assert meta.architecture == "refine" and meta.input_size == 48 and meta.refine is not None
    assert meta.refine.stage1.input_size == STAGE1_SIZE and len(meta.mean_shape or ()) == 136
    # the runtime: the stage-1 .tflite then the refine .tflite, on crops as the evaluation makes them
    cascade = Cascade(LiteModel.from_file(run["stage1_tflite"]), RefineModel.from_file(fp32["path"]))
    samples = read_dataset(run["data"])[:4]
    crops = make_crops(samples, STAGE1_SIZE)
    lite_points, _ = cascade.run(crops.images)
    refine, stage1 = load_refine(run["config"].out), load_asmnet(run["stage1"])
    inputs = RefineInputs(refine, stage1, samples)
    keras_points = inputs.corrected(predict_corrections(refine.model, inputs.inputs), 48)
    assert 100 * nme(lite_points, keras_points).max() < 0.1
    # and the refinement moved the points (a stage 2 that returns stage 1 would pass the line above)
    assert np.abs(keras_points - inputs.points).max() > 0.05


def test_a_refine_model_behind_another_stage1_is_refused(run) -> None:
    other = write_stage1(run["root"] / "other", run["data"], seed=1)
    other_tflite = stage1_tflite(other, run["root"] / "other_fp32.tflite")
    refiner = RefineModel.from_file(run["export"]["models"]["fp32"]["path"])
    with pytest.raises(StageMismatchError, match="weights sha256"):
        Cascade(LiteModel.from_file(other_tflite), refiner)
    with pytest.raises(StageMismatchError, match="not a model of architecture 'refine'"):
        refiner.check(refiner.metadata)
    facts = refiner.info.stage1
    with pytest.raises(StageMismatchError, match="landmarks 68 \\(given 98\\)"):
        refiner.check(dataclasses.replace(facts, num_landmarks=98))
    with pytest.raises(StageMismatchError, match="crop margin 0.05 \\(given 0.1\\)"):
        refiner.check(dataclasses.replace(facts, crop_margin=0.1))


def test_cli_json_train_predict_eval_refine(run, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from asmnet_edge.cli import main

    data, stage1 = str(run["data"]), str(run["stage1"])
    runner = CliRunner()
    args = ["train", "--arch", "refine", "--stage1", stage1, "--data", data, "--out", str(tmp_path / "r")]
    args += ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4", "--input-size", "48", "--json"]
    trained = runner.invoke(main, args)
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["arch"] == "refine"
    refused = runner.invoke(main, ["train", "--arch", "refine", "--data", data, "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "--stage1" in refused.output
    refine = run["export"]["models"]["fp32"]["path"]
    model = str(run["stage1_tflite"])
    evaluated = runner.invoke(main, ["eval", "--model", model, "--refine", refine, "--data", data, "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)
    assert report["refine"] == refine and report["all"]["count"] == 12
    image = sorted(Path(data).glob("*.png"))[0]
    predicted = runner.invoke(
        main,
        [
            "predict",
            str(image),
            "--model",
            model,
            "--refine",
            refine,
            "--detector",
            "haar",
            "--json",
            "--out",
            str(tmp_path / "pred"),
        ],
    )
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout)["refine"] == refine
