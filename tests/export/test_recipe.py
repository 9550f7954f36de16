"""Recipes and the precision table (no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from asmnet_edge.errors import ConfigError
from asmnet_edge.exporters.precisions import PRECISIONS, check_precisions, resolve_io
from asmnet_edge.exporters.presets import PRESETS
from asmnet_edge.exporters.recipe import ExportRecipe, load_recipe, preset_names

PROJECT_RECIPES = Path(__file__).resolve().parents[2] / "export"


def test_unknown_key_names_the_key_and_the_allowed_ones(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"precisions": ["int8"], "calib_cont": 200}))
    with pytest.raises(ConfigError) as err:
        load_recipe(path)
    assert f"recipe {path}: unknown key 'calib_cont'" in str(err.value)
    assert "calib_count" in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"calib_count": "300"}, "recipe: key 'calib_count' must be int, got str '300'"),
        ({"calib_count": True}, "recipe: key 'calib_count' must be int, got bool True"),
        ({"precisions": "int8"}, "recipe: key 'precisions' must be list, got str"),
        ({"max_nme_increase": "1"}, "recipe: key 'max_nme_increase' must be number or null, got str"),
        ({"precisions": ["int4"]}, "unknown precision(s) ['int4']"),
        ({"io": "int16"}, "recipe field 'io' is 'int16'"),
        ({"float_layers": [1]}, "recipe: key 'float_layers[0]' must be str, got int 1"),
        ({"calib_count": 0}, "recipe field 'calib_count' must be at least 1"),
        ({"float_layers": ["O_L"], "io": "uint8"}, "float_layers keeps layers in float"),
        ({"max_nme_increase": -1}, "recipe field 'max_nme_increase' must be >= 0"),
    ],
)
def test_wrong_values_are_config_errors(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        ExportRecipe.from_dict(data)
    assert message in str(err.value)


def test_invalid_json_and_unknown_preset(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{precisions: int8}")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load_recipe(path)
    with pytest.raises(ConfigError, match="neither a JSON file nor a packaged preset"):
        load_recipe("raspbery_pi_int8")


def test_relative_paths_resolve_against_the_recipe_folder(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "r.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"calib": "../faces", "precisions": ["int8"]}))
    assert load_recipe(path).calib == str((tmp_path / "faces").resolve())


def test_cli_overrides_replace_fields_and_skip_none() -> None:
    recipe = load_recipe("raspberry_pi_int8").with_overrides(io="uint8", calib_count=None, precisions=None)
    assert recipe.io == "uint8" and recipe.calib_count == 300 and recipe.precisions == ("int8",)


def test_every_preset_loads_and_project_copies_match() -> None:
    for name in preset_names():
        load_recipe(name)
        project = PROJECT_RECIPES / f"{name}.json"
        assert project.exists(), f"export/{name}.json is missing"
        assert json.loads(project.read_text()) == PRESETS[name]
    for path in PROJECT_RECIPES.glob("*.json"):
        load_recipe(path)  # project-only recipes must load too


def test_precision_table_and_io_rules() -> None:
    assert check_precisions(["int8", "fp32"]) == ("fp32", "int8")
    assert resolve_io("int8", "uint8") == "uint8"
    assert resolve_io("fp16", "int8") == "float32"
    assert {spec.suffix for spec in PRECISIONS.values()} == {
        "_fp32",
        "_fp16",
        "_int8",
        "_dynamic",
        "_int16x8",
    }
    assert [name for name, spec in PRECISIONS.items() if spec.needs_calibration] == ["int8", "int16x8"]


def test_recipes_do_not_import_tensorflow() -> None:
    code = "import sys, asmnet_edge.exporters.recipe; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
