"""The Keras ASMNet: reference parameter counts, layer names, outputs, Keras-2 weight compatibility."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf

keras = pytest.importorskip("keras")

from asmnet_edge.errors import ModelError  # noqa: E402
from asmnet_edge.model.asmnet import build_asmnet, describe  # noqa: E402
from asmnet_edge.model.io import detect_landmark_sign, load_asmnet  # noqa: E402


@pytest.mark.parametrize(("points", "expected"), [(68, 1_439_507), (98, 1_471_727)])
def test_parameter_count_matches_the_paper(points: int, expected: int) -> None:
    model = build_asmnet(points)
    assert model.count_params() == expected
    assert describe(model) == {"num_landmarks": points, "input_size": 224, "parameters": expected}


def test_reference_layer_names_and_named_io() -> None:
    model = build_asmnet(68, alpha=0.35, input_size=96)
    names = {layer.name for layer in model.layers}
    assert {"Conv1", "block_1_project_BN", "block_15_add", "block_15_project_BN", "O_L", "O_P"} <= names
    assert "block_16_project" not in names and "Conv_1" not in names  # cut after block 15
    assert model.inputs[0].name == "image"
    outputs = model(np.zeros((2, 96, 96, 3), np.float32))
    assert outputs["landmarks"].shape == (2, 136) and outputs["pose"].shape == (2, 3)


def test_bad_shapes_are_refused_with_a_reason() -> None:
    with pytest.raises(ModelError, match="multiple of 32"):
        build_asmnet(68, input_size=100)
    with pytest.raises(ModelError, match="alpha must be one of"):
        build_asmnet(68, alpha=0.6)
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="head")])
    with pytest.raises(ModelError, match="not an ASMNet"):
        describe(other)


def _keras2_reference_asmnet(points: int) -> object:
    """The reference architecture written with tf-keras (Keras 2), one 6-way concatenation."""
    tf_keras = pytest.importorskip("tf_keras")
    backbone = tf_keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None
    )
    taps = [
        "block_1_project_BN",
        "block_3_project_BN",
        "block_6_project_BN",
        "block_10_project_BN",
        "block_13_project_BN",
        "block_15_add",
    ]
    pooled = [tf_keras.layers.GlobalAveragePooling2D()(backbone.get_layer(name).output) for name in taps]
    features = tf_keras.layers.Dropout(0.3)(tf_keras.layers.Concatenate()(pooled))
    landmarks = tf_keras.layers.Dense(2 * points, name="O_L")(features)
    pose = tf_keras.layers.Dense(3, name="O_P")(features)
    model = tf_keras.Model(backbone.input, [landmarks, pose])
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("full_model", [True, False], ids=["full-model-h5", "weights-only-h5"])
def test_keras2_h5_loads_with_identical_outputs(tmp_path, full_model: bool) -> None:
    reference = _keras2_reference_asmnet(68)
    path = tmp_path / "asmnet_ref.h5"
    if full_model:
        reference.compile(optimizer="adam", loss="mse")  # the reference saved optimizer state too
        reference.save(str(path))
    else:
        reference.save_weights(str(path))
    loaded = load_asmnet(path, input_size=96, landmark_sign=-1.0)
    assert (loaded.num_landmarks, loaded.alpha, loaded.input_size) == (68, 0.35, 96)
    batch = np.random.default_rng(0).uniform(size=(2, 96, 96, 3)).astype(np.float32)
    expected_landmarks, expected_pose = reference.predict_on_batch(batch)
    outputs = loaded.model(batch, training=False)
    np.testing.assert_allclose(outputs["landmarks"], expected_landmarks, atol=1e-5)
    np.testing.assert_allclose(outputs["pose"], expected_pose, atol=1e-5)


def test_weights_of_another_architecture_are_refused(tmp_path) -> None:
    other = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    path = tmp_path / "other.weights.h5"
    other.save_weights(str(path))
    with pytest.raises(ModelError, match="does not hold ASMNet weights"):
        load_asmnet(path)
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5 at all")
    with pytest.raises(ModelError, match="not a readable HDF5"):
        load_asmnet(broken)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_landmark_sign_is_detected_from_the_outputs(sign: float) -> None:
    model = build_asmnet(68, alpha=0.35, input_size=96)
    # a model that always answers one face: eyes at y = 0.35 of the crop, chin at 0.9
    shape = np.zeros((68, 2))
    shape[:, 0] = np.linspace(0.2, 0.8, 68)
    shape[:, 1] = 0.5
    shape[36:48, 1] = 0.35
    shape[8, 1] = 0.9
    values = sign * (shape - 0.5)
    head = model.get_layer("O_L")
    head.set_weights([np.zeros_like(head.get_weights()[0]), values.reshape(-1).astype(np.float32)])
    crops = np.zeros((2, 96, 96, 3), np.uint8)
    assert detect_landmark_sign(model, crops) == sign


def test_untrained_weights_refuse_sign_detection() -> None:
    model = build_asmnet(68, alpha=0.35, input_size=96)
    head = model.get_layer("O_L")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    with pytest.raises(ModelError, match="cannot tell"):
        detect_landmark_sign(model, np.zeros((2, 96, 96, 3), np.uint8))


def test_keras_archive_carries_its_config(tmp_path) -> None:
    model = build_asmnet(68, alpha=0.35, input_size=96, landmark_sign=-1.0)
    path = tmp_path / "asmnet.keras"
    model.save(path)
    (tmp_path / "config.json").write_text("{ not read for an archive that says it all")
    loaded = load_asmnet(path)
    assert (loaded.num_landmarks, loaded.alpha, loaded.input_size) == (68, 0.35, 96)
    assert (loaded.landmark_sign, loaded.sign_source) == (-1.0, "model")
    assert type(loaded.model).__name__ == "ASMNet" and loaded.model.get_config()["alpha"] == 0.35
    batch = np.random.default_rng(0).uniform(size=(1, 96, 96, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.model(batch)["pose"], model(batch)["pose"], atol=1e-6)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("{", "is not valid JSON"),
        ('{"num_landmarks": 68, "alpha": 0.35, "input_size": 96}', "missing key 'landmark_sign'"),
        (
            '{"num_landmarks": 68, "alpha": 0.35, "input_size": "96", "landmark_sign": 1}',
            "key 'input_size' must be int, got str '96'",
        ),
        ('{"num_landmarks": 68, "alpha": 0.35, "input_size": 96, "landmark_sign": 0}', "must be \\+1 or -1"),
        ('{"num_landmarks": 68, "alpha": 1.0, "input_size": 96, "landmark_sign": 1}', "at alpha 1 but"),
    ],
)
def test_config_json_beside_weights_is_read_strictly(tmp_path, config: str, message: str) -> None:
    path = tmp_path / "asmnet.weights.h5"
    build_asmnet(68, alpha=0.35, input_size=96).save_weights(str(path))
    (tmp_path / "config.json").write_text(config)
    with pytest.raises(ModelError, match=message):
        load_asmnet(path)


def test_weights_with_their_run_config(tmp_path) -> None:
    path = tmp_path / "asmnet.weights.h5"
    build_asmnet(68, alpha=0.35, input_size=96).save_weights(str(path))
    run = {"data": ["x"], "out": "runs/x", "num_landmarks": 68, "alpha": 0.35, "input_size": 96}
    (tmp_path / "config.json").write_text(json.dumps({**run, "landmark_sign": -1.0}))
    loaded = load_asmnet(path)
    assert (loaded.input_size, loaded.landmark_sign, loaded.sign_source) == (96, -1.0, "config")
    assert loaded.model.landmark_sign == -1.0  # saved as .keras, it would say so itself
