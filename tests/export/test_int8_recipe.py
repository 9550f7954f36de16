"""The default int8 recipe: MSE-chosen activation ranges, and the first block, the last block, the pooled
taps and the Dense heads in float (float32 io)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.export.conftest import small_recipe

pytestmark = pytest.mark.tf


def _weight_types(path, op_name: str = "FULLY_CONNECTED") -> list[str]:
    from asmnet_edge.exporters.graph import TfliteGraph

    graph = TfliteGraph(path.read_bytes())
    types = []
    for op in graph.subgraph.operators:
        if graph.op_name(op) == op_name:
            types.append(graph.tensor_dtype(int(op.inputs[1])))
    return types


def _export(tiny_model_path, face_folders, out, **fields):
    from asmnet_edge.exporters.pipeline import export_model

    recipe = small_recipe(*face_folders, precisions=("int8",), **fields)
    return export_model(recipe, tiny_model_path, out).models["int8"]


def test_default_int8_has_mse_ranges_and_float_ends(tiny_model_path, face_folders, tmp_path):
    default = _export(tiny_model_path, face_folders, tmp_path / "default")
    plain = _export(
        tiny_model_path, face_folders, tmp_path / "plain", int8_ranges="minmax", int8_float="none"
    )
    report = json.loads(default.report.read_text())
    ranges = report["debug"]["ranges"]
    assert ranges["method"] == "mse" and ranges["crops"] == 24 and ranges["tensors"] > 50
    assert report["recipe"]["int8_ranges"] == "mse" and report["recipe"]["int8_float"] == "ends"
    assert report["debug"]["float_nodes"], "the recipe's layers were not kept in float"
    assert _weight_types(default.path) == ["float32", "float32"]
    assert _weight_types(plain.path) == ["int8", "int8"]
    # Conv1, expanded_conv_project, block_15_expand and block_15_project; the two depthwise of those blocks
    convs, depthwise = (
        _weight_types(default.path, "CONV_2D"),
        _weight_types(default.path, "DEPTHWISE_CONV_2D"),
    )
    assert convs.count("float32") == 4 and depthwise.count("float32") == 2, (convs, depthwise)
    assert set(_weight_types(plain.path, "CONV_2D")) == {"int8"}
    assert "ranges" not in json.loads(plain.report.read_text())["debug"]
    # both run and agree with Keras about as well as each other on the untrained tiny model
    assert default.fidelity.vs_keras.nme_percent < 3 * plain.fidelity.vs_keras.nme_percent + 0.5
    assert np.isfinite(default.fidelity.vs_keras.nme_percent)


def test_integer_io_quantises_the_heads(tiny_model_path, face_folders, tmp_path):
    model = _export(tiny_model_path, face_folders, tmp_path / "uint8", io="uint8")
    assert _weight_types(model.path) == ["int8", "int8"]
    assert json.loads(model.report.read_text())["debug"]["ranges"]["method"] == "mse"
