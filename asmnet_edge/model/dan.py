"""The Deep Alignment Network (Kowalski et al., CVPR-W 2017) as a Keras model of this toolkit.

A cascade of VGG-style stages on a grey ``input_size`` crop (the ASMNet crop convention: landmark box
+ margin, aspect not kept), normalised by the training set's mean and std images. Stage 1 predicts a
correction of the mean shape (the mean training shape in crop pixels, i.e. fitted to the box). Each
later stage estimates the similarity from the current shape to the mean shape, warps the normalised
image by it, draws a heatmap of the transformed shape, makes a feature image from the previous stage's
fully connected layer (56x56, upscaled), stacks the three as its input and predicts a correction in
the mean-shape frame, mapped back by the inverse transform.

The output ``landmarks`` is flat ``[x0, y0, ...]`` normalised like ASMNet's (``(u - size/2) / size``,
sign +1), so the runtime denormalises both the same way. Layer names: ``s<k>_...`` per stage.

>>> spec = DanSpec(stages=2, widths=(8, 16, 32, 64), fc_units=64)
>>> assets = DanAssets(mean_shape, mean_image, std_image)  # doctest: +SKIP
>>> model = build_dan(spec, assets)  # doctest: +SKIP
>>> sorted(model.output)  # doctest: +SKIP
['landmarks']
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.errors import ModelError
from asmnet_edge.model.run_folder import has_run_file, load_run_weights, weights_in
from asmnet_edge.runtime.contract import INPUT_NAME, LANDMARKS_OUTPUT

ARCHITECTURE = "dan"
ASSETS_FILE = "dan_assets.npz"  # mean shape, mean and std image, spec: beside the weights
WEIGHTS_FILE = "dan.weights.h5"
FEATURE_SIZE = 56  # DAN's feature image: 56x56, upscaled to the input size


@dataclass(frozen=True)
class DanSpec:
    """The shape of a DAN; every field changes the network.

    ``widths``: the four VGG blocks' channels (the paper: 64, 128, 256, 512); ``fc_units``: the fully
    connected layer (paper 256); ``heatmap_resolution``: grid the heatmap is computed on (``input_size``
    = full resolution).
    """

    stages: int = 2
    num_landmarks: int = 68
    input_size: int = 112
    widths: tuple[int, ...] = (16, 32, 64, 128)
    fc_units: int = 128
    dropout: float = 0.5
    heatmap_resolution: int = 56
    patch_half: float = 8.0

    def __post_init__(self) -> None:
        if self.stages < 1:
            raise ModelError(f"a DAN needs at least one stage, got {self.stages}")
        if self.num_landmarks < 2:
            raise ModelError(f"num_landmarks must be at least 2, got {self.num_landmarks}")
        blocks = len(self.widths)
        if blocks < 1 or self.input_size % (2**blocks) or self.input_size % 2:
            raise ModelError(
                f"input_size {self.input_size} must be divisible by 2^{blocks} (one pooling per VGG block)"
            )
        if not 1 <= self.heatmap_resolution <= self.input_size:
            raise ModelError(f"heatmap_resolution must be in [1, input_size], got {self.heatmap_resolution}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DanSpec:
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"unknown DAN spec keys {unknown}; known keys: {sorted(known)}")
        values = dict(data)
        if "widths" in values:
            values["widths"] = tuple(int(value) for value in values["widths"])
        return cls(**values)


@dataclass(frozen=True)
class DanAssets:
    """What a DAN is built from besides its weights: mean shape (crop pixels) and mean/std images."""

    mean_shape: np.ndarray  # (n, 2) crop pixels
    mean_image: np.ndarray  # (S, S) grey, input units ([0, 1])
    std_image: np.ndarray  # (S, S), > 0

    def check(self, spec: DanSpec) -> None:
        """Raise :class:`ModelError` when an asset is missing or does not fit ``spec``."""
        size = spec.input_size
        for name in ("mean_image", "std_image"):
            value = getattr(self, name)
            if value is None:
                raise ModelError(
                    f"a DAN needs the training set's {name.replace('_', ' ')}: compute it with "
                    "asmnet_edge.training.dan.image_statistics, or load the run's dan_assets.npz"
                )
            if np.asarray(value).reshape(-1).size != size * size:
                raise ModelError(f"{name} must be {size}x{size}, got shape {np.asarray(value).shape}")
        if self.mean_shape is None or np.asarray(self.mean_shape).shape != (spec.num_landmarks, 2):
            raise ModelError(f"mean_shape must be ({spec.num_landmarks}, 2) crop pixels")
        std = np.asarray(self.std_image, dtype=np.float64)
        if not np.all(np.isfinite(std)) or np.any(std <= 0):
            raise ModelError("std_image must be finite and positive everywhere")
        if not np.all(np.isfinite(np.asarray(self.mean_image, dtype=np.float64))):
            raise ModelError("mean_image holds non-finite values")

    def save(self, path: str | Path, spec: DanSpec) -> None:
        """Write ``dan_assets.npz`` (with the spec as JSON) atomically."""
        import io

        from asmnet_edge._atomic import atomic_write_bytes

        buffer = io.BytesIO()
        np.savez(
            buffer,
            mean_shape=np.asarray(self.mean_shape, np.float64),
            mean_image=np.asarray(self.mean_image, np.float32),
            std_image=np.asarray(self.std_image, np.float32),
            spec=np.array(json.dumps(spec.to_dict())),
        )
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> tuple[DanAssets, DanSpec]:
        source = Path(path)
        if not source.is_file():
            raise ModelError(
                f"{source} is missing: a DAN needs its mean shape and mean/std images (dan_assets.npz "
                "beside the weights, written by 'asmnet-edge train --arch dan')"
            )
        try:
            with np.load(source) as data:
                missing = {"mean_shape", "mean_image", "std_image", "spec"} - set(data.files)
                if missing:
                    raise ModelError(f"{source} lacks {sorted(missing)}: it is not a DAN assets file")
                assets = cls(data["mean_shape"], data["mean_image"], data["std_image"])
                spec = DanSpec.from_dict(json.loads(str(data["spec"])))
        except (OSError, ValueError) as err:
            raise ModelError(f"cannot read DAN assets {source}: {err}") from err
        assets.check(spec)
        return assets, spec


def build_dan(spec: DanSpec, assets: DanAssets) -> Any:
    """A DAN as a Keras functional model: input ``image`` (B, S, S, 1) grey in [0, 1], output dict
    ``{"landmarks": (B, 2n)}`` normalised; per-stage outputs stay reachable as layers ``s<k>_shape``
    (crop pixels). Refuses to build without the mean/std images (:class:`ModelError`)."""
    assets.check(spec)
    from asmnet_edge._lazy import require

    require("tensorflow", extra="train", purpose="building the Keras DAN")
    keras = require("keras", extra="train", purpose="building the Keras DAN")
    from asmnet_edge.model import dan_layers as custom

    size, points = spec.input_size, spec.num_landmarks
    mean_shape = np.asarray(assets.mean_shape, np.float64).reshape(-1)
    image = keras.Input(shape=(size, size, 1), name=INPUT_NAME)
    normaliser = custom.ImageNormalisation(name="normalise")
    normalised = normaliser(image)
    normaliser.set_weights(
        [
            np.asarray(assets.mean_image, np.float32).reshape(size, size, 1),
            np.asarray(assets.std_image, np.float32).reshape(size, size, 1),
        ]
    )
    features, delta = _vgg_stage(keras, normalised, spec, "s1")
    shape = custom.ShapeOffset(mean_shape, name="s1_shape")(delta)
    for stage in range(2, spec.stages + 1):
        prefix = f"s{stage}"
        params = custom.TransformEstimation(mean_shape, name=f"{prefix}_transform")(shape)
        warped = custom.ImageWarp(name=f"{prefix}_warp")([normalised, params])
        aligned = custom.LandmarkTransform(name=f"{prefix}_align_shape")([shape, params])
        heat = custom.LandmarkHeatmap(
            size, spec.heatmap_resolution, spec.patch_half, name=f"{prefix}_heatmap"
        )(aligned)
        feature = keras.layers.Dense(
            FEATURE_SIZE * FEATURE_SIZE, activation="relu", name=f"{prefix}_feature_dense"
        )(features)
        feature = keras.layers.Reshape((FEATURE_SIZE, FEATURE_SIZE, 1), name=f"{prefix}_feature_image")(
            feature
        )
        feature = keras.layers.Resizing(size, size, interpolation="nearest", name=f"{prefix}_feature_up")(
            feature
        )
        stacked = keras.layers.Concatenate(name=f"{prefix}_input")([warped, heat, feature])
        features, delta = _vgg_stage(keras, stacked, spec, prefix)
        corrected = keras.layers.Add(name=f"{prefix}_corrected")([aligned, delta])
        shape = custom.LandmarkTransform(inverse=True, name=f"{prefix}_shape")([corrected, params])
    # crop pixels -> ASMNet units: (u - size/2) / size
    output = custom.ShapeOffset(np.full(2 * points, -0.5), 1.0 / size, name=LANDMARKS_OUTPUT)(shape)
    return keras.Model(inputs=image, outputs={LANDMARKS_OUTPUT: output}, name=f"dan_{points}")


def _vgg_stage(keras: Any, inputs: Any, spec: DanSpec, prefix: str) -> tuple[Any, Any]:
    """Conv-BN-ReLU x2 + max-pool per width, then dropout, FC-BN-ReLU and a linear shape correction
    (kernel started small: the stage starts close to its input shape)."""
    layers = keras.layers
    value = inputs
    for block, width in enumerate(spec.widths, start=1):
        for conv in (1, 2):
            name = f"{prefix}_conv{block}_{conv}"
            value = layers.Conv2D(width, 3, padding="same", use_bias=False, name=name)(value)
            value = layers.BatchNormalization(name=f"{name}_bn")(value)
            value = layers.ReLU(name=f"{name}_relu")(value)
        value = layers.MaxPooling2D(2, name=f"{prefix}_pool{block}")(value)
    value = layers.Flatten(name=f"{prefix}_flatten")(value)
    value = layers.Dropout(spec.dropout, name=f"{prefix}_dropout")(value)
    value = layers.Dense(spec.fc_units, use_bias=False, name=f"{prefix}_fc1")(value)
    value = layers.BatchNormalization(name=f"{prefix}_fc1_bn")(value)
    features = layers.ReLU(name=f"{prefix}_fc1_relu")(value)
    delta = layers.Dense(
        2 * spec.num_landmarks,
        kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3),
        name=f"{prefix}_delta",
    )(features)
    return features, delta


def stage_layers(model: Any, stage: int) -> list[Any]:
    """The layers that belong to ``stage`` (names ``s<stage>_...``), the weights stage-wise training moves."""
    prefix = f"s{stage}_"
    return [layer for layer in model.layers if layer.name.startswith(prefix)]


def stage_output(model: Any, stage: int) -> Any:
    """A model with the same input whose output is ``stage``'s shape (B, 2n) in crop pixels."""
    from asmnet_edge._lazy import require

    keras = require("keras", extra="train", purpose="building the Keras DAN")
    return keras.Model(model.input, model.get_layer(f"s{stage}_shape").output, name=f"{model.name}_s{stage}")


@dataclass(frozen=True)
class LoadedDAN:
    model: Any
    spec: DanSpec
    assets: DanAssets
    path: str


def is_dan(path: str | Path) -> bool:
    """Does ``path`` (weights file or run folder) belong to a DAN run (a ``dan_assets.npz`` beside it)?"""
    return has_run_file(path, ASSETS_FILE)


def load_dan(path: str | Path) -> LoadedDAN:
    """A DAN from a run folder or its ``dan.weights.h5`` (with ``dan_assets.npz`` beside it)."""
    weights = weights_in(path, WEIGHTS_FILE)
    assets, spec = DanAssets.load(weights.parent / ASSETS_FILE)
    described = f"DAN described by its {ASSETS_FILE}"
    model = load_run_weights(lambda: build_dan(spec, assets), weights, "DAN", described)
    _check_normalisation(model, assets)
    return LoadedDAN(model, spec, assets, str(weights))


def _check_normalisation(model: Any, assets: DanAssets) -> None:
    """Refuse weights whose stored mean/std images are the empty defaults (mean 0, std 1)."""
    mean, std = model.get_layer("normalise").get_weights()
    if np.all(mean == 0) and np.all(std == 1):
        raise ModelError("the DAN's mean/std images are unset (mean 0, std 1): it was saved without them")
    if not np.allclose(mean.reshape(-1), np.asarray(assets.mean_image).reshape(-1), atol=1e-5):
        raise ModelError("the weights' mean image differs from dan_assets.npz: they come from different runs")
