"""The refinement stage behind ASMNet (the practical edge cascade): a small MobileNetV2-style CNN.

Input ``image``: ``aligned_size x aligned_size x 4`` in [0, 1]: the stage-1 crop warped by the
similarity that takes stage 1's points onto the mean shape, and the heatmap of those points
(:func:`asmnet_edge.runtime.refine.aligned_input`, uint8 / 255). Output ``landmarks``: the correction
of every point in the aligned frame, flat ``[dx0, dy0, ...]`` in aligned pixels / ``aligned_size``.
The warp and the heatmap run outside the network (numpy in the runtime), so the .tflite is a plain CNN.

Layout: a stride-2 3x3 conv, inverted-residual blocks (expand 1x1, depthwise 3x3, project 1x1, a skip
where shapes match) at strides 1, 2, 2, 2, 1 over ``widths``, a 1x1 conv to ``head_channels``, then
*flatten* (not global pooling: a correction per point needs to know where in the face a feature is)
and a dense layer started near zero, so an untrained stage 2 returns stage 1's points.

A run folder holds ``refine.weights.h5`` and ``refine_assets.json`` (the spec, the mean shape in
aligned pixels and the stage-1 facts it was trained behind).

>>> spec = RefineSpec(aligned_size=64, widths=(8, 8, 16, 16, 24))
>>> model = build_refine(spec)  # doctest: +SKIP
>>> sorted(model.output)  # doctest: +SKIP
['landmarks']
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.errors import ModelError
from asmnet_edge.model.run_folder import has_run_file, load_run_weights, weights_in
from asmnet_edge.runtime.contract import CROP_MARGIN, INPUT_NAME, LANDMARKS_OUTPUT
from asmnet_edge.runtime.metadata import Stage1Facts

ARCHITECTURE = "refine"
ASSETS_FILE = "refine_assets.json"
WEIGHTS_FILE = "refine.weights.h5"
STRIDES = (1, 2, 2, 2, 1)
OUTPUT_SCALE = 0.1  # one per entry of widths; the stem conv adds the first stride of 2


@dataclass(frozen=True)
class RefineSpec:
    """The shape of a refine network and of its input; every field changes the model.

    ``widths``: the five inverted-residual stages' channels; ``repeats``: blocks per stage;
    ``expansion``: MobileNetV2's t; ``patch_half``: the heatmap patch half-width in aligned pixels;
    ``mean_shape_scale``: the mean shape drawn at this share of the aligned crop's runtime-crop size
    (below 1: some context around the face for points that stage 1 put too far in).
    """

    num_landmarks: int = 68
    aligned_size: int = 80
    widths: tuple[int, ...] = (16, 24, 32, 64, 96)
    repeats: tuple[int, ...] = (1, 2, 2, 2, 1)
    expansion: int = 4
    head_channels: int = 32
    patch_half: float = 6.0
    mean_shape_scale: float = 0.85
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if len(self.widths) != len(STRIDES) or len(self.repeats) != len(STRIDES):
            raise ModelError(f"widths and repeats need {len(STRIDES)} entries each (one per stage)")
        if self.aligned_size % 16 or self.aligned_size < 32:
            raise ModelError(f"aligned_size must be a multiple of 16, at least 32; got {self.aligned_size}")
        if self.num_landmarks < 2 or min(self.widths) < 1 or min(self.repeats) < 1 or self.expansion < 1:
            raise ModelError("num_landmarks >= 2, widths, repeats and expansion >= 1")
        if not 0.3 <= self.mean_shape_scale <= 1.0 or self.patch_half <= 0:
            raise ModelError("mean_shape_scale must be in [0.3, 1] and patch_half positive")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["widths"], data["repeats"] = list(self.widths), list(self.repeats)
        return data


@dataclass(frozen=True)
class RefineAssets:
    """What a refine model is built and fed with besides its weights."""

    spec: RefineSpec
    mean_shape: tuple[float, ...]  # flat, aligned pixels
    stage1: Stage1Facts

    def save(self, path: str | Path) -> None:
        from asmnet_edge._atomic import atomic_write_text

        data = {
            "spec": self.spec.to_dict(),
            "mean_shape": list(self.mean_shape),
            "stage1": asdict(self.stage1),
        }
        atomic_write_text(Path(path), json.dumps(data, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> RefineAssets:
        """Strict load: a missing file, an unknown or missing key is a :class:`ModelError`."""
        from asmnet_edge._config import load_json_file

        source = Path(path)
        if not source.is_file():
            raise ModelError(
                f"{source} is missing: a refine model needs its spec, mean shape and stage-1 facts "
                f"({ASSETS_FILE} beside the weights, written by 'asmnet-edge train --arch refine')"
            )
        assets = load_json_file(cls, source, "refine assets", ModelError)
        if len(assets.mean_shape) != 2 * assets.spec.num_landmarks:
            raise ModelError(f"{source}: mean_shape does not have 2 x {assets.spec.num_landmarks} values")
        return assets

    @property
    def mean_points(self) -> np.ndarray:
        return np.asarray(self.mean_shape, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class LoadedRefine:
    model: Any
    assets: RefineAssets
    path: str


def aligned_mean_shape(crop_shapes: np.ndarray, crop_size: int, spec: RefineSpec) -> np.ndarray:
    """The mean shape (n, 2) in aligned pixels: the mean of runtime-crop shapes (N, n, 2, in
    ``crop_size`` px), rescaled to ``aligned_size`` and shrunk about the centre by ``mean_shape_scale``."""
    mean = np.asarray(crop_shapes, dtype=np.float64).mean(axis=0) * (spec.aligned_size / crop_size)
    centre = spec.aligned_size / 2.0
    return centre + (mean - centre) * spec.mean_shape_scale


def stage1_facts_of(loaded: Any, source: str) -> Stage1Facts:
    """The facts a refine model records of its stage 1 (a :class:`~asmnet_edge.model.io.LoadedASMNet`)
    and the runtime checks."""
    from asmnet_edge.model.io import weights_sha256

    return Stage1Facts(
        weights_sha256=weights_sha256(loaded.model),
        num_landmarks=loaded.num_landmarks,
        input_size=loaded.input_size,
        crop_margin=CROP_MARGIN,
        landmark_sign=loaded.landmark_sign,
        source=source,
    )


def build_refine(spec: RefineSpec) -> Any:
    """An untrained refine network (Keras functional model, input ``image``, dict output ``landmarks``)."""
    from asmnet_edge.model.asmnet import keras_module

    keras = keras_module()
    layers = keras.layers
    size = spec.aligned_size
    inputs = keras.Input((size, size, 4), name=INPUT_NAME)
    x = layers.Conv2D(spec.widths[0], 3, strides=2, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for stage, (width, repeat, stride) in enumerate(zip(spec.widths, spec.repeats, STRIDES, strict=True)):
        for block in range(repeat):
            expansion = 1 if stage == 0 else spec.expansion
            x = _inverted_residual(
                layers, x, width, stride if block == 0 else 1, expansion, f"b{stage}_{block}"
            )
    x = layers.Conv2D(spec.head_channels, 1, use_bias=False, name="head")(x)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(spec.dropout, name="dropout")(x)
    out = layers.Dense(
        2 * spec.num_landmarks,
        kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3),
        bias_initializer="zeros",
        name="correction",
    )(x)
    # corrections are a few % of the crop: a fixed 0.1 keeps Adam's steps on the dense layer (whose
    # ~1000 flattened inputs all move together) from throwing the output around in the first steps
    out = layers.Rescaling(OUTPUT_SCALE, name=LANDMARKS_OUTPUT)(out)
    return keras.Model(inputs, {LANDMARKS_OUTPUT: out}, name=f"refine{spec.num_landmarks}")


def _inverted_residual(layers: Any, x: Any, width: int, stride: int, expansion: int, name: str) -> Any:
    channels = int(x.shape[-1])
    y = x
    if expansion != 1:
        y = layers.Conv2D(channels * expansion, 1, use_bias=False, name=f"{name}_expand")(y)
        y = layers.BatchNormalization(name=f"{name}_expand_bn")(y)
        y = layers.ReLU(6.0, name=f"{name}_expand_relu")(y)
    y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(y)
    y = layers.BatchNormalization(name=f"{name}_dw_bn")(y)
    y = layers.ReLU(6.0, name=f"{name}_dw_relu")(y)
    y = layers.Conv2D(width, 1, use_bias=False, name=f"{name}_project")(y)
    y = layers.BatchNormalization(name=f"{name}_project_bn")(y)
    if stride == 1 and channels == width:
        y = layers.Add(name=f"{name}_add")([x, y])
    return y


def predict_corrections(model: Any, inputs: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Raw outputs (N, 2n) of a Keras refine model on uint8 aligned inputs (N, A, A, 4), scaled by the
    float32 1/255 the runtime uses."""
    from asmnet_edge.model.asmnet import INPUT_SCALE

    out = [
        np.asarray(
            model(inputs[start : start + batch_size].astype(np.float32) * INPUT_SCALE, training=False)[
                LANDMARKS_OUTPUT
            ],
            dtype=np.float64,
        )
        for start in range(0, len(inputs), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0, 0))


def is_refine(path: str | Path) -> bool:
    """Does ``path`` (weights file or run folder) belong to a refine run (a ``refine_assets.json``
    beside it)?"""
    return has_run_file(path, ASSETS_FILE)


def load_refine(path: str | Path) -> LoadedRefine:
    """A refine model from a run folder or its ``refine.weights.h5`` (``refine_assets.json`` beside it)."""
    weights = weights_in(path, WEIGHTS_FILE)
    assets = RefineAssets.load(weights.parent / ASSETS_FILE)
    described = f"refine network of its {ASSETS_FILE}"
    model = load_run_weights(lambda: build_refine(assets.spec), weights, "refine", described)
    return LoadedRefine(model, assets, str(weights))
