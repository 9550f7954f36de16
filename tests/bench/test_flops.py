"""MAC/FLOP counting from .tflite flatbuffers, on hand-built graphs whose counts are computed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from asmnet_edge.bench.flops import count_tflite, op_macs
from asmnet_edge.errors import ModelError


@pytest.mark.parametrize(
    ("name", "macs", "flops", "parameters"),
    [
        ("conv_8x8x3_k3_16", 8 * 8 * 16 * 3 * 3 * 3, 2 * 27648, 16 * 27 + 16),
        ("dense_10_4", 40, 80, 44),
        # depthwise 8*8*4*9 + dense 4*2; FLOPs add 8*8*4 (ADD) + 8*8*4 (MEAN inputs)
        ("dw_add_mean_dense", 2304 + 8, 2 * 2312 + 256 + 256, 36 + 4 + 8 + 2),
    ],
)
def test_hand_built_graphs(fixtures: Path, name: str, macs: int, flops: int, parameters: int) -> None:
    cost = count_tflite(fixtures / f"{name}.tflite")
    assert (cost.macs, cost.flops, cost.parameters) == (macs, flops, parameters)


def test_per_op_breakdown_adds_up(fixtures: Path) -> None:
    cost = count_tflite(fixtures / "dw_add_mean_dense.tflite")
    assert set(cost.per_op) == {"DEPTHWISE_CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED"}
    assert cost.per_op["DEPTHWISE_CONV_2D"].macs == 2304
    assert cost.per_op["MEAN"].flops == 256 and cost.per_op["MEAN"].macs == 0
    assert sum(op.macs for op in cost.per_op.values()) == cost.macs
    assert cost.input_shapes == ((1, 8, 8, 4),)


def test_precisions_count_the_same_compute(fixtures: Path) -> None:
    """fp16 adds DEQUANTIZE ops and int8 QUANTIZE ops: neither changes MACs or the weights counted."""
    costs = [count_tflite(fixtures / f"bench68_{precision}.tflite") for precision in ("fp32", "fp16", "int8")]
    assert len({(cost.macs, cost.flops, cost.parameters) for cost in costs}) == 1
    assert "DEQUANTIZE" in costs[1].per_op and "QUANTIZE" in costs[2].per_op
    # conv 8 filters 3x3x3 stride 4 on 32 px -> 8x8x8 outputs; heads 8 -> 136 and 8 -> 3
    assert costs[0].macs == 8 * 8 * 8 * 27 + 8 * 136 + 8 * 3


def test_grouped_conv_formula() -> None:
    # groups = 2: the filter holds in_c / groups = 4 input channels
    assert op_macs("CONV_2D", [(1, 4, 4, 8), (6, 1, 1, 4)], [(1, 4, 4, 6)]) == 4 * 4 * 6 * 4


def test_bytes_and_path_agree(fixtures: Path) -> None:
    path = fixtures / "conv_8x8x3_k3_16.tflite"
    assert count_tflite(path.read_bytes()) == count_tflite(path)


def test_not_tflite_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"definitely not a flatbuffer")
    with pytest.raises(ModelError, match="not a TFLite model"):
        count_tflite(bad)


def test_truncated_flatbuffer_is_a_model_error(fixtures: Path) -> None:
    content = (fixtures / "conv_8x8x3_k3_16.tflite").read_bytes()
    with pytest.raises(ModelError, match="corrupt TFLite flatbuffer"):
        count_tflite(content[:200])


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read model file"):
        count_tflite(tmp_path / "nope.tflite")
