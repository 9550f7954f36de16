"""Shared fixtures of the export tests: a tiny ASMNet, labelled folders, and one export of every precision.

The tiny model (alpha 0.35, 96 px) is untrained, so its heads are set to output a mean face and a
fixed pose plus a small input-dependent part: its NME and pose numbers are then meaningful.
Conversions are the slow part (several seconds each), so every export happens once per session.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import mean_face_68, write_face_folder

SIZE = 96
POSE_BIAS = np.array([0.3, -0.15, 0.1], np.float32)  # degrees / 65
# the fidelity gates the untrained tiny model passes: these tests check exports, not its accuracy
LOOSE_GATES = {"max_nme_increase": 50.0, "max_pose_increase_deg": 50.0, "max_nme_vs_float": 50.0}


def small_recipe(calib: Path, evaluation: Path, **fields: Any) -> Any:
    """An :class:`ExportRecipe` of 24 calibration and 6 evaluation crops with :data:`LOOSE_GATES`;
    ``fields`` set the rest (precisions, io, int8 settings)."""
    from asmnet_edge.exporters.recipe import ExportRecipe

    return ExportRecipe(
        calib=str(calib), calib_count=24, eval=str(evaluation), eval_count=6, **LOOSE_GATES, **fields
    )


def tiny_asmnet(crops: np.ndarray) -> Any:
    """A tiny ASMNet whose batch-norm statistics are set from ``crops`` (uint8, 96 px) plus noise
    images, as training would: random-init statistics give int16x8 scales that overflow, and flat
    synthetic faces alone leave channels with no variance (a hypersensitive model)."""
    import keras

    from asmnet_edge.model.asmnet import build_asmnet

    keras.utils.set_random_seed(0)  # the same tiny model every run (random-init heads made a flaky test)
    model = build_asmnet(68, alpha=0.35, input_size=SIZE)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0  # one training-mode pass copies the batch statistics
    noise = np.random.default_rng(0).integers(0, 256, (2 * len(crops), SIZE, SIZE, 3))
    model(np.concatenate([crops, noise]).astype(np.float32) / 255.0, training=True)
    for layer in norms:
        layer.momentum = 0.99
    landmarks, pose = model.get_layer("O_L"), model.get_layer("O_P")
    kernel, _ = landmarks.get_weights()
    landmarks.set_weights([kernel * 0.05, mean_face_68(0.8).reshape(-1).astype(np.float32)])
    kernel, _ = pose.get_weights()
    pose.set_weights([kernel * 0.05, POSE_BIAS])
    return model


@dataclass(frozen=True)
class Exported:
    model_path: Path
    out: Path
    result: Any
    calib: Path
    eval: Path


@pytest.fixture(scope="session")
def tiny_model_path(face_folders: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from asmnet_edge.data.dataset import make_crops, read_dataset

    crops = make_crops(read_dataset(face_folders[0], expected_points=68), SIZE).images
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    tiny_asmnet(crops).save(path)
    return path


@pytest.fixture(scope="session")
def face_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("faces")
    return write_face_folder(root / "calib", count=8, seed=1), write_face_folder(
        root / "eval", count=6, seed=2
    )


@pytest.fixture(scope="session")
def exported_all(
    tiny_model_path: Path, face_folders: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Exported:
    """Every precision in one export; int8 with int8 input/output."""
    from asmnet_edge.exporters.pipeline import export_model

    calib, evaluation = face_folders
    with_broken = tmp_path_factory.mktemp("broken") / "calib"  # same folder name: same calibration_source
    shutil.copytree(calib, with_broken)
    (with_broken / "face_999.png").write_bytes(b"not an image")
    shutil.copy(with_broken / "face_000.pts", with_broken / "face_999.pts")
    out = tmp_path_factory.mktemp("all")
    recipe = small_recipe(
        with_broken, evaluation, precisions=("fp32", "fp16", "int8", "dynamic", "int16x8"), io="int8"
    )
    result = export_model(recipe, tiny_model_path, out)
    return Exported(tiny_model_path, out, result, calib, evaluation)


@pytest.fixture(scope="session")
def keras_source(tiny_model_path: Path) -> Any:
    from asmnet_edge.exporters.source import load_source

    return load_source(tiny_model_path)


@dataclass(frozen=True)
class Attempt:
    models: dict[str, Any]
    error: str
    reports: dict[str, Any]  # FidelityError.reports: the typed reports of the failing models


@pytest.fixture(scope="session")
def exported_uint8(
    tiny_model_path: Path, face_folders: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, Attempt]:
    """int8 with uint8 input/output, exported twice into two folders; the second run's fidelity gate
    is forced to fail (negative tolerance), which must not change or delete the model."""
    from asmnet_edge.errors import FidelityError
    from asmnet_edge.exporters import pipeline
    from asmnet_edge.exporters.fidelity import Tolerance
    from asmnet_edge.exporters.recipe import load_recipe

    calib, _ = face_folders
    # an untrained model: its int8 outputs sit far from the float ones, which the gate is not tested on here
    recipe = load_recipe("android_int8_uint8io").with_overrides(
        calib=str(calib), calib_count=24, eval_count=4, **LOOSE_GATES
    )
    first = pipeline.export_model(recipe, tiny_model_path, tmp_path_factory.mktemp("uint8_a"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "Tolerance", lambda *limits: Tolerance(-1.0, -1.0))
        try:
            pipeline.export_model(recipe, tiny_model_path, tmp_path_factory.mktemp("uint8_b"))
        except FidelityError as err:
            assert err.result is not None
            return first, Attempt(err.result.models, str(err), err.reports)
    raise AssertionError("a negative tolerance must fail the fidelity gate")
