"""The runtime's pre/post-processing matches the Keras model on the same crop (tiny ASMNet, fp32)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):  # type: ignore[no-untyped-def]
    tf = pytest.importorskip("tensorflow")
    from asmnet_edge.model.asmnet import build_asmnet
    from asmnet_edge.runtime.metadata import ModelMetadata, embed_metadata

    model = build_asmnet(num_landmarks=68, alpha=0.35, input_size=96)
    # random heads with a visible spread (an untrained model's default init can give outputs near 0,
    # depending on the global seed other tests left behind)
    rng = np.random.default_rng(0)
    for name in ("O_L", "O_P"):
        layer = model.get_layer(name)
        layer.set_weights([rng.normal(0, 0.05, w.shape).astype(np.float32) for w in layer.get_weights()])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    content = bytes(converter.convert())
    meta = ModelMetadata(num_landmarks=68, input_size=96, precision="fp32", alpha=0.35)
    folder = tmp_path_factory.mktemp("tiny")
    paths = {}
    for sign in (1.0, -1.0):
        paths[sign] = folder / f"tiny_{int(sign)}.tflite"
        paths[sign].write_bytes(embed_metadata(content, replace(meta, landmark_sign=sign)))
    return model, paths


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_fp32_matches_keras_on_the_same_crop(tiny, astronaut, sign):
    from asmnet_edge.runtime.aligner import FaceAligner
    from asmnet_edge.runtime.geometry import Box, crop_image, crop_to_image, denormalise_landmarks

    model, paths = tiny
    box = Box(168.3, 71.9, 281.4, 193.2)
    face = FaceAligner.from_file(paths[sign], detector=None).predict(
        astronaut[..., ::-1], box=box, color="bgr"
    )[0]
    crop = crop_image(astronaut, box, 96)
    outputs = model(crop[None].astype(np.float32) / 255.0, training=False)
    values = np.asarray(outputs["landmarks"], dtype=np.float64).reshape(-1, 2)
    expected = crop_to_image(denormalise_landmarks(values, 96, sign), box, 96)
    pose = np.asarray(outputs["pose"], dtype=np.float64).reshape(-1) * 65.0
    # an untrained model's outputs are small: compare against their own spread, not just absolutely
    assert np.abs(face.landmarks - expected).max() < 1e-3
    np.testing.assert_allclose(face.pose_deg, pose, atol=1e-3)
    assert np.std(values) > 1e-4  # the comparison is not between two zeros
