"""The Keras and .tflite counters agree, and ASMNet-68 costs the published 256.5 M multiply-adds."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.tf


def _convert(model) -> bytes:  # type: ignore[no-untyped-def]
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return bytes(converter.convert())


def test_tiny_asmnet_keras_and_tflite_counts_agree() -> None:
    from asmnet_edge.bench.flops import count_tflite
    from asmnet_edge.bench.keras_flops import count_keras
    from asmnet_edge.model.asmnet import build_asmnet

    model = build_asmnet(68, alpha=0.35, input_size=96)
    keras_cost, tflite_cost = count_keras(model), count_tflite(_convert(model))
    assert keras_cost.macs == tflite_cost.macs
    assert keras_cost.flops == tflite_cost.flops
    assert keras_cost.per_op["Conv2D"].count == tflite_cost.per_op["CONV_2D"].count == 32
    assert keras_cost.per_op["DepthwiseConv2D"].macs == tflite_cost.per_op["DEPTHWISE_CONV_2D"].macs


def test_asmnet68_full_size_is_256_5_million_macs() -> None:
    """alpha 1.0, 224 px: within 1 % of 256.5 M MACs (REFERENCE.md section 1), on both counters."""
    from asmnet_edge.bench.flops import count_tflite
    from asmnet_edge.bench.keras_flops import count_keras
    from asmnet_edge.model.asmnet import build_asmnet

    model = build_asmnet(68, alpha=1.0, input_size=224)
    keras_cost = count_keras(model)
    assert keras_cost.macs == pytest.approx(256.5e6, rel=0.01)
    assert keras_cost.flops == pytest.approx(0.51e9, rel=0.02)
    assert keras_cost.parameters == 1_439_507
    tflite_cost = count_tflite(_convert(model))
    assert tflite_cost.macs == keras_cost.macs
    assert tflite_cost.flops == keras_cost.flops
