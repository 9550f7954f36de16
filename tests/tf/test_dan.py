"""DAN end to end on a tiny dataset the test writes: refused without its mean/std images, trained stage
by stage (loss falls, stage 1 frozen while stage 2 trains), exported to one builtin-ops .tflite whose
outputs match Keras, and run by the TF-free runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf
pytest.importorskip("tensorflow")

from asmnet_edge.data.dataset import make_crops, read_dataset  # noqa: E402
from asmnet_edge.errors import ModelError  # noqa: E402
from asmnet_edge.eval.evaluate import predict_dan  # noqa: E402
from asmnet_edge.exporters.dan import export_dan  # noqa: E402
from asmnet_edge.model.dan import DanAssets, DanSpec, build_dan, load_dan, stage_layers  # noqa: E402
from asmnet_edge.runtime.metadata import read_tflite_metadata  # noqa: E402
from asmnet_edge.runtime.model import LiteModel  # noqa: E402
from asmnet_edge.training.dan import DanTrainConfig, train_dan  # noqa: E402
from tests.conftest import mean_face_68, write_face_folder  # noqa: E402

TINY = {"widths": (8, 16, 16, 32), "fc_units": 32, "heatmap_resolution": 28}


def write_turned_faces(source: Path, folder: Path, seed: int = 0) -> Path:
    """The faces of ``source`` rotated by up to 25 degrees and squeezed by up to 20 %: unlike the plain
    synthetic faces (all one shape), their crops differ from the mean shape: there is something to learn."""
    import cv2

    from asmnet_edge.data.pts import read_pts, write_pts

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for pts in sorted(source.glob("*.pts")):
        image = cv2.imread(str(pts.with_suffix(".png")))
        angle, squeeze = rng.uniform(-25, 25), rng.uniform(0.8, 1.0)
        matrix = cv2.getRotationMatrix2D((64.0, 64.0), angle, 1.0)
        matrix[1] *= squeeze
        turned = cv2.warpAffine(image, matrix, (128, 128))
        cv2.imwrite(str(folder / pts.with_suffix(".png").name), turned)
        write_pts(folder / pts.name, read_pts(pts) @ matrix[:, :2].T + matrix[:, 2])
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[DanTrainConfig, list, Path]:
    root = tmp_path_factory.mktemp("dan")
    data = write_turned_faces(write_face_folder(root / "plain", count=12, size=128), root / "faces")
    config = DanTrainConfig(
        data=(str(data),),
        out=str(root / "run"),
        epochs=3,
        batch_size=5,  # 10 training faces: whole batches (a batch of 2 gives BatchNorm noisy statistics)
        steps_per_epoch=4,
        val_fraction=0.2,
        learning_rate=1e-2,
        augment="none",
        statistics_count=16,
        workers=1,
        **TINY,
    )
    result = train_dan(config)
    return config, result.log, data


def test_a_dan_without_its_mean_or_std_image_is_refused() -> None:
    spec = DanSpec(**TINY)
    shape = mean_face_68(80.0) + 56.0
    with pytest.raises(ModelError, match="mean image"):
        build_dan(spec, DanAssets(shape, None, np.ones((112, 112))))  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="std image"):
        build_dan(spec, DanAssets(shape, np.zeros((112, 112)), None))  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="positive"):
        build_dan(spec, DanAssets(shape, np.zeros((112, 112)), np.zeros((112, 112))))


def test_load_refuses_a_run_without_its_assets(run, tmp_path: Path) -> None:
    config, _, _ = run
    lonely = tmp_path / "dan.weights.h5"
    lonely.write_bytes((Path(config.out) / "dan.weights.h5").read_bytes())
    with pytest.raises(ModelError, match="dan_assets.npz"):
        load_dan(lonely)


def test_stages_train_in_turn_and_the_loss_falls(run) -> None:
    config, log, _ = run
    print("\n".join(str(row) for row in log))
    assert [(row["phase"], int(row["epoch"])) for row in log] == [
        ("stage1", 1),
        ("stage1", 2),
        ("stage1", 3),
        ("stage2", 1),
        ("stage2", 2),
        ("stage2", 3),
    ]
    for phase in ("stage1", "stage2"):
        rows = [row for row in log if row["phase"] == phase]
        assert rows[-1]["loss"] < rows[0]["loss"]
    # the two held-out faces, inference mode: stage 1 learns, and stage 2 improves on it
    assert log[2]["val_nme_ip_percent"] < log[0]["val_nme_ip_percent"]
    assert log[-1]["val_nme_ip_percent"] < log[2]["val_nme_ip_percent"]
    assert all(np.isfinite(row["val_nme_ip_percent"]) for row in log)
    assert "inter-pupil" in (Path(config.out) / "model_card.md").read_text()


def test_stage_one_is_frozen_while_stage_two_trains(run) -> None:
    config, _, _ = run
    after_stage1 = load_dan(Path(config.out) / "stage1.weights.h5").model
    after_stage2 = load_dan(Path(config.out) / "dan.weights.h5").model
    for before, after in zip(stage_layers(after_stage1, 1), stage_layers(after_stage2, 1), strict=True):
        for old, new in zip(before.get_weights(), after.get_weights(), strict=True):
            np.testing.assert_array_equal(old, new)
    moved = [
        not np.array_equal(old, new)
        for before, after in zip(stage_layers(after_stage1, 2), stage_layers(after_stage2, 2), strict=True)
        for old, new in zip(before.get_weights(), after.get_weights(), strict=True)
    ]
    assert any(moved)


def test_export_is_builtin_only_matches_keras_and_runs_in_the_runtime(run, tmp_path: Path) -> None:
    config, _, data = run
    report = export_dan(config.out, tmp_path, ("fp32", "int8"), calib=data, calib_count=16, eval_count=6)
    fp32, int8 = report["models"]["fp32"], report["models"]["int8"]
    print("fp32 ops", fp32["ops"])
    print(
        "fp32 NME vs Keras %",
        fp32["nme_vs_keras_percent"],
        "int8 NME vs Keras %",
        int8["nme_vs_keras_percent"],
    )
    assert "GATHER" in fp32["ops"] and "CUSTOM" not in fp32["ops"]
    assert not any(name.startswith("FLEX") for name in fp32["ops"])
    assert fp32["nme_vs_keras_percent"] < 0.1
    assert int8["nme_vs_keras_percent"] < 0.5  # geometry kept in float (fully quantised: ~50 %)
    assert int8["size_bytes"] < 0.6 * fp32["size_bytes"]
    meta = read_tflite_metadata(Path(fp32["path"]))
    assert (meta.architecture, meta.stages, meta.color_order, meta.pose_output) == ("dan", 2, "GRAY", "")
    assert meta.mean_shape is not None and len(meta.mean_shape) == 136
    # the runtime: RGB crops in, crop pixels out, as the Keras DAN sees them; no pose
    lite = LiteModel.from_file(fp32["path"])
    crops = make_crops(read_dataset(data)[:3], 112).images
    points, poses = lite.run(crops)
    keras_points = predict_dan(load_dan(config.out).model, crops)
    np.testing.assert_allclose(points, keras_points, atol=0.01)
    assert points.shape == (3, 68, 2) and np.all(np.isnan(poses))
    from asmnet_edge.runtime.model import grey_crop

    grey = grey_crop(crops[0])[..., 0]  # a grey crop is taken as it is
    np.testing.assert_array_equal(lite.run_raw(grey)[0], lite.run_raw(crops[0])[0])


def test_cli_train_dan_refuses_asmnet_options_and_export_prints_one_json_object(run, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from asmnet_edge.cli import main

    config, _, data = run
    refused = CliRunner().invoke(
        main, ["train", "--arch", "dan", "--alpha", "0.35", "--data", str(data), "--out", str(tmp_path / "x")]
    )
    assert refused.exit_code == 2 and "--alpha apply to --arch asmnet only" in refused.output
    args = ["export", "--model", str(Path(config.out) / "dan.weights.h5"), "--fp32", "--calib", str(data)]
    result = CliRunner().invoke(main, [*args, "--eval-count", "4", "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["architecture"] == "dan" and report["models"]["fp32"]["nme_vs_keras_percent"] < 0.1
