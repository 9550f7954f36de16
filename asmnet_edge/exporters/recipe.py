"""Export recipes: a frozen dataclass loaded strictly from JSON; presets ship in the package.

An unknown key or a wrongly typed value is a :class:`ConfigError` naming the key, never a silent
default. CLI flags override recipe fields (:meth:`ExportRecipe.with_overrides`).

>>> recipe = ExportRecipe.from_dict({"precisions": ["int8"], "io": "uint8"})
>>> recipe.precisions, recipe.io
(('int8',), 'uint8')
>>> ExportRecipe.from_dict({"precision": ["int8"]})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
asmnet_edge.errors.ConfigError: recipe: unknown key 'precision'; known keys: calib, ..., precisions, seed
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from asmnet_edge._config import load_dataclass, read_json
from asmnet_edge.data.dataset import FORMATS
from asmnet_edge.errors import ConfigError
from asmnet_edge.exporters.precisions import DEFAULT_PRECISIONS, IO_TYPES, check_precisions
from asmnet_edge.exporters.presets import PRESETS

INT8_RANGES = ("mse", "minmax")
HEAD_LAYERS = ("O_L", "O_P")
# Keras layers of ASMNet that int8 exports with float32 io keep in float (``ExportRecipe.int8_float``):
# the six pooled taps with their concatenations and the heads ("heads"), plus the first block and the
# last backbone block ("ends"): the layers whose int8 weights and activations carry most of the error
# (benchmarks/results/int8_fixes/), a small share of the MACs
POOLED_TAPS = (*(f"tap_{index}_gap" for index in range(6)), "taps_shallow", "taps_deep", "taps")
FIRST_BLOCK = ("Conv1", "expanded_conv_depthwise", "expanded_conv_project")
LAST_BLOCK = ("block_15_expand", "block_15_depthwise", "block_15_project", "block_15_add")
INT8_FLOAT_SETS: dict[str, tuple[str, ...]] = {
    "ends": (*FIRST_BLOCK, *LAST_BLOCK, *POOLED_TAPS, *HEAD_LAYERS),
    "heads": (*POOLED_TAPS, *HEAD_LAYERS),
    "none": (),
}
CALIB_FORMATS = (*FORMATS, "images")  # the readers' formats, or a folder of photos (faces detected)
MIN_GOOD_CALIB_COUNT = 100


@dataclass(frozen=True)
class ExportRecipe:
    """Everything that decides what ``asmnet-edge export`` writes.

    ``calib``/``eval`` are folders (``None``: the default face set built from installed packages);
    ``max_nme_increase``/``max_pose_increase_deg``/``max_nme_vs_float`` ``None`` means each precision's
    default tolerance;
    ``float_layers`` are Keras layer names kept in float in int8 exports; ``int8_float`` names a set of
    layers kept in float too when the int8 model has float32 input/output (:data:`INT8_FLOAT_SETS`):
    ``ends`` (default: the first block, the last backbone block, the pooled taps and the heads),
    ``heads`` (pooled taps and heads) or ``none`` (full integer); measured one by one in
    ``benchmarks/results/int8_fixes/``; ``int8_ranges`` chooses activation ranges: ``mse`` (the range
    with the least quantisation error on the calibration crops, :mod:`asmnet_edge.exporters.ranges`)
    or ``minmax`` (TensorFlow's absolute extremes); ``seed`` drives calibration sampling and
    augmentation (same seed, same bytes).
    """

    description: str = ""
    precisions: tuple[str, ...] = DEFAULT_PRECISIONS
    io: str = "float32"
    calib: str | None = None
    calib_format: str = "300w"
    calib_count: int = 300
    eval: str | None = None
    eval_count: int = 100
    max_nme_increase: float | None = None
    max_pose_increase_deg: float | None = None
    max_nme_vs_float: float | None = None
    debug: bool = False
    debug_top_k: int = 10
    float_layers: tuple[str, ...] = ()
    int8_float: str = "ends"
    int8_ranges: str = "mse"
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "precisions", check_precisions(tuple(self.precisions)))
        object.__setattr__(self, "float_layers", tuple(self.float_layers))
        if self.io not in IO_TYPES:
            raise ConfigError(f"recipe field 'io' is {self.io!r}: expected one of {list(IO_TYPES)}")
        if self.calib_format not in CALIB_FORMATS:
            raise ConfigError(
                f"recipe field 'calib_format' is {self.calib_format!r}: expected one of {list(CALIB_FORMATS)}"
            )
        for name in ("calib_count", "eval_count", "debug_top_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"recipe field '{name}' must be at least 1, got {getattr(self, name)}")
        for name in ("max_nme_increase", "max_pose_increase_deg", "max_nme_vs_float"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"recipe field '{name}' must be >= 0, got {value}")
        if any(not isinstance(layer, str) or not layer for layer in self.float_layers):
            raise ConfigError("recipe field 'float_layers' must be a list of Keras layer names")
        if self.int8_ranges not in INT8_RANGES:
            raise ConfigError(
                f"recipe field 'int8_ranges' is {self.int8_ranges!r}: expected one of {list(INT8_RANGES)}"
            )
        if self.int8_float not in INT8_FLOAT_SETS:
            raise ConfigError(
                f"recipe field 'int8_float' is {self.int8_float!r}: expected one of {list(INT8_FLOAT_SETS)}"
            )
        if self.float_layers and self.io != "float32":
            raise ConfigError(
                "float_layers keeps layers in float, which needs float32 model inputs/outputs: "
                "use io float32 with float_layers"
            )

    @classmethod
    def from_dict(cls, data: Any, base_dir: Path | None = None, what: str = "recipe") -> ExportRecipe:
        """Strict load (:func:`asmnet_edge._config.load_dataclass`); relative ``calib``/``eval``
        paths are resolved against ``base_dir``."""
        values = dict(data) if isinstance(data, dict) else data
        for key in ("calib", "eval"):
            if base_dir is not None and isinstance(values, dict) and isinstance(values.get(key), str):
                values[key] = str((base_dir / values[key]).resolve())
        return load_dataclass(cls, values, what)

    def int8_float_layers(self, io_type: str) -> tuple[str, ...]:
        """The layers an int8 export of this recipe keeps in float, for its input/output type.

        >>> ExportRecipe(int8_float="heads").int8_float_layers("float32")[-3:]
        ('taps', 'O_L', 'O_P')
        >>> ExportRecipe().int8_float_layers("uint8")
        ()
        """
        if io_type != "float32":
            return ()
        chosen = tuple(name for name in INT8_FLOAT_SETS[self.int8_float] if name not in self.float_layers)
        return self.float_layers + chosen

    def with_overrides(self, **overrides: Any) -> ExportRecipe:
        """A copy with the given fields replaced; ``None`` values mean "not given" and are skipped."""
        given = {key: value for key, value in overrides.items() if value is not None}
        unknown = sorted(set(given) - {item.name for item in fields(self)})
        if unknown:
            raise ConfigError(f"unknown recipe fields {unknown}")
        return dataclasses.replace(self, **given)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["precisions"] = list(self.precisions)
        data["float_layers"] = list(self.float_layers)
        return data


def preset_names() -> list[str]:
    """Names of the recipes shipped inside the package.

    >>> "raspberry_pi_int8" in preset_names()
    True
    """
    return sorted(PRESETS)


def load_recipe(source: str | os.PathLike[str]) -> ExportRecipe:
    """Load a recipe from a JSON file, or a packaged preset by name (``raspberry_pi_int8``).

    >>> load_recipe("android_fp16").precisions
    ('fp16',)
    """
    path = Path(source)
    if not path.exists() and str(source) in PRESETS:
        return ExportRecipe.from_dict(PRESETS[str(source)])
    if not path.is_file():
        raise ConfigError(
            f"recipe {str(source)!r} is neither a JSON file nor a packaged preset "
            f"(presets: {', '.join(preset_names())})"
        )
    return ExportRecipe.from_dict(read_json(path, "recipe"), base_dir=path.parent, what=f"recipe {path}")
