"""The one table of export precisions: converter settings, file suffix, allowed input/output types.

Every other module reads precision facts from :data:`PRECISIONS`; nothing else spells them out.

>>> PRECISIONS["int8"].suffix, PRECISIONS["int8"].needs_calibration
('_int8', True)
>>> resolve_io("fp16", "uint8")
'float32'
>>> resolve_io("int8", "uint8")
'uint8'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asmnet_edge.errors import ConfigError
from asmnet_edge.runtime.contract import PRECISION_NAMES as METADATA_PRECISIONS

IO_TYPES = ("float32", "int8", "uint8")
DEFAULT_PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class PrecisionSpec:
    """How one precision is converted and checked.

    ``ops`` names the TFLite op set (``builtins``, ``builtins_int8`` or ``int16x8``: builtin kernels
    only, never TF fallback ops); ``io_types`` the input/output types a user may ask for;
    ``max_nme_increase`` the default fidelity tolerance (NME in %, inter-ocular) of the exported model
    against the Keras model (against the ground truth on labelled faces); ``max_pose_increase_deg`` the
    same for pose MAE; ``max_nme_vs_float`` the largest NME of its outputs against the float outputs.
    """

    name: str
    suffix: str
    optimize: bool
    ops: str
    supported_types: tuple[str, ...]
    needs_calibration: bool
    io_types: tuple[str, ...]
    max_nme_increase: float
    max_pose_increase_deg: float
    description: str
    max_nme_vs_float: float  # NME (%) of the exported outputs against the float model's


PRECISIONS: dict[str, PrecisionSpec] = {
    "fp32": PrecisionSpec(
        name="fp32",
        suffix="_fp32",
        optimize=False,
        ops="builtins",
        supported_types=(),
        needs_calibration=False,
        io_types=("float32",),
        max_nme_increase=0.01,
        max_pose_increase_deg=0.05,
        description="float32 weights and activations: the reference export",
        max_nme_vs_float=0.01,
    ),
    "fp16": PrecisionSpec(
        name="fp16",
        suffix="_fp16",
        optimize=True,
        ops="builtins",
        supported_types=("float16",),
        needs_calibration=False,
        io_types=("float32",),
        max_nme_increase=0.02,
        max_pose_increase_deg=0.1,
        description="float16 weights (half the size), float compute; GPU delegates run it in fp16",
        max_nme_vs_float=0.02,
    ),
    "int8": PrecisionSpec(
        name="int8",
        suffix="_int8",
        optimize=True,
        ops="builtins_int8",
        supported_types=(),
        needs_calibration=True,
        io_types=IO_TYPES,
        max_nme_increase=0.1,
        max_pose_increase_deg=0.5,
        description="int8 weights and activations, calibrated (with float32 io the recipe keeps its "
        "int8_float layers in float); fastest on CPUs, NPUs, Coral",
        max_nme_vs_float=0.5,
    ),
    "dynamic": PrecisionSpec(
        name="dynamic",
        suffix="_dynamic",
        optimize=True,
        ops="builtins",
        supported_types=(),
        needs_calibration=False,
        io_types=("float32",),
        max_nme_increase=0.5,
        max_pose_increase_deg=1.0,
        description=(
            "int8 weights, float activations (dynamic-range); smallest, no calibration, slow on XNNPACK"
        ),
        max_nme_vs_float=0.5,
    ),
    "int16x8": PrecisionSpec(
        name="int16x8",
        suffix="_int16x8",
        optimize=True,
        ops="int16x8",
        supported_types=(),
        needs_calibration=True,
        io_types=("float32",),
        max_nme_increase=0.2,
        max_pose_increase_deg=0.5,
        description="int16 activations, int8 weights, calibrated; accurate but no XNNPACK kernels (slow)",
        max_nme_vs_float=0.3,
    ),
}
if tuple(PRECISIONS) != METADATA_PRECISIONS:  # an explicit check: python -O strips asserts
    raise RuntimeError(
        f"the precision table {tuple(PRECISIONS)} and the contract {METADATA_PRECISIONS} disagree"
    )


def check_precisions(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate and de-duplicate precision names, keeping the table's order.

    >>> check_precisions(["int8", "fp32", "int8"])
    ('fp32', 'int8')
    """
    unknown = [name for name in names if name not in PRECISIONS]
    if unknown:
        raise ConfigError(f"unknown precision(s) {unknown}: expected some of {list(PRECISIONS)}")
    if not names:
        raise ConfigError(f"no precision selected: choose some of {list(PRECISIONS)}")
    return tuple(name for name in PRECISIONS if name in names)


def resolve_io(precision: str, requested: str) -> str:
    """The input/output type a precision gets: ``requested`` if it allows it, else ``float32``."""
    if requested not in IO_TYPES:
        raise ConfigError(f"unknown io type {requested!r}: expected one of {IO_TYPES}")
    spec = PRECISIONS[precision]
    return requested if requested in spec.io_types else "float32"


def configure_converter(
    converter: Any, precision: str, io_type: str, representative_dataset: Any | None
) -> Any:
    """Set a ``tf.lite.TFLiteConverter`` up for ``precision`` (TensorFlow is passed in via the converter)."""
    import tensorflow as tf  # only reached from the export pipeline, which already imported TF

    spec = PRECISIONS[precision]
    op_sets = {
        "builtins": [tf.lite.OpsSet.TFLITE_BUILTINS],
        "builtins_int8": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8],
        "int16x8": [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8],
    }
    converter.target_spec.supported_ops = op_sets[spec.ops]
    if spec.optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if spec.supported_types:
        converter.target_spec.supported_types = [getattr(tf, name) for name in spec.supported_types]
    if spec.needs_calibration:
        if representative_dataset is None:
            raise ConfigError(f"{precision} needs a calibration set")
        converter.representative_dataset = representative_dataset
    if io_type != "float32":
        converter.inference_input_type = getattr(tf, io_type)
        converter.inference_output_type = getattr(tf, io_type)
    return converter
