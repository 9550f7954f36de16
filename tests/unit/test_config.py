"""The strict config loader (asmnet_edge._config) and the configs that load through it (no TensorFlow)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from asmnet_edge._config import load_dataclass, load_json_file
from asmnet_edge.errors import ConfigError, MetadataError
from asmnet_edge.training.config import TrainConfig


@dataclass(frozen=True)
class Inner:
    scale: float = 1.0


@dataclass(frozen=True)
class Outer:
    name: str
    sizes: tuple[int, ...] = ()
    pair: tuple[str, float] = ("a", 0.0)
    inner: Inner = field(default_factory=Inner)
    labels: dict[str, float] = field(default_factory=dict)
    note: str | None = None
    extra: Any = None


def test_values_are_converted_to_the_hinted_types() -> None:
    loaded = load_dataclass(
        Outer,
        {"name": "x", "sizes": [1, 2], "pair": ["b", 3], "inner": {"scale": 2}, "labels": {"k": 1}},
        "thing",
    )
    assert loaded == Outer("x", (1, 2), ("b", 3.0), Inner(2.0), {"k": 1.0})
    assert isinstance(loaded.inner.scale, float) and isinstance(loaded.sizes, tuple)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1], "thing must be a JSON object, got list [1]"),
        ({}, "thing: missing key 'name'"),
        (
            {"name": "x", "nmae": 1},
            "thing: unknown key 'nmae'; known keys: extra, inner, labels, name, note, pair, sizes",
        ),
        ({"name": 3}, "thing: key 'name' must be str, got int 3"),
        ({"name": "x", "sizes": [1, True]}, "thing: key 'sizes[1]' must be int, got bool True"),
        ({"name": "x", "pair": ["b"]}, "thing: key 'pair' must be list of 2 values, got list ['b']"),
        ({"name": "x", "inner": {"scale": "2"}}, "thing: key 'inner.scale' must be number, got str '2'"),
        ({"name": "x", "inner": {"size": 2}}, "thing: unknown key 'inner.size'; known keys: scale"),
        ({"name": "x", "labels": {"k": None}}, "thing: key 'labels.k' must be number, got NoneType None"),
        ({"name": "x", "note": 5}, "thing: key 'note' must be str or null, got int 5"),
    ],
)
def test_wrong_data_names_the_key(data: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_dataclass(Outer, data, "thing")
    assert str(err.value) == message


def test_the_error_type_and_the_file_are_the_callers(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"name": 1}')
    with pytest.raises(MetadataError, match=f"sidecar {path}: key 'name' must be str"):
        load_json_file(Outer, path, "sidecar", MetadataError)
    path.write_text("{")
    with pytest.raises(MetadataError, match=f"sidecar {path} is not valid JSON"):
        load_json_file(Outer, path, "sidecar", MetadataError)
    with pytest.raises(MetadataError, match="cannot read sidecar .*missing.json"):
        load_json_file(Outer, tmp_path / "missing.json", "sidecar", MetadataError)


def test_training_config_round_trips_and_loads_saved_runs(tmp_path: Path) -> None:
    config = TrainConfig(data=("a", "b"), out="runs/x", holdout=("h",), steps_per_epoch=10)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert TrainConfig.load(path) == config
    shipped = Path(__file__).resolve().parents[2] / "asmnet_edge" / "assets" / "default" / "config.json"
    current = TrainConfig.load(shipped)
    assert current.input_size == 128 and current.asm_accuracy == 99.5 and current.augment == "tracking"
    # a run saved before head_l2 existed (the first default model's config) gets the paper's value
    first = {"data": ["data/synth_train"], "out": "runs/default224", "epochs": 1, "asm_accuracy": 90.0}
    path.write_text(json.dumps(first))
    old = TrainConfig.load(path)
    assert old.head_l2 == 0.01 and old.alpha == 1.0 and old.data[0] == "data/synth_train"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"data": ["a"], "out": "o", "epoch": 3}, "unknown key 'epoch'"),
        ({"data": ["a"], "out": "o", "epochs": "3"}, "key 'epochs' must be int, got str '3'"),
        ({"data": "a", "out": "o"}, "key 'data' must be list, got str 'a'"),
        ({"data": [], "out": "o"}, "training needs at least one --data folder"),
        ({"out": "o"}, "missing key 'data'"),
    ],
)
def test_training_config_is_strict(tmp_path: Path, data: dict[str, Any], message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as err:
        TrainConfig.load(path)
    assert f"training config {path}: " in str(err.value) and message in str(err.value)
