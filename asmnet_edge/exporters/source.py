"""The Keras model being exported: loading it, checking it is an ASMNet, hashing and running it.

>>> source = load_source("runs/default/asmnet.keras")  # doctest: +SKIP
>>> source.num_landmarks, source.input_size, source.landmark_sign  # doctest: +SKIP
(68, 224, 1.0)
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.errors import ModelError
from asmnet_edge.model.asmnet import describe, predict_crops
from asmnet_edge.model.io import weights_sha256  # the exports' and the refine stage's one hash
from asmnet_edge.runtime.contract import INPUT_NAME, OUTPUT_NAMES, POSE_SCALE_DEG
from asmnet_edge.runtime.geometry import denormalise_landmarks


@dataclass(frozen=True)
class ModelSource:
    """A loaded Keras ASMNet and the facts the export records about it."""

    model: Any
    num_landmarks: int
    input_size: int
    alpha: float
    landmark_sign: float
    sign_source: str
    path: str
    weights_sha256: str
    # the training run's PCA as a ShapeModel dict, when a pca.npz sits beside the weights
    shape_model: dict[str, Any] | None = None

    def predict(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Landmarks in crop pixels (N, n, 2) and pose in degrees (N, 3) of uint8 crops, like
        ``LiteModel.run``."""
        values, poses = predict_crops(self.model, crops)
        points = denormalise_landmarks(values.reshape(len(crops), -1, 2), self.input_size, self.landmark_sign)
        return points, poses * POSE_SCALE_DEG


def load_source(path: str | os.PathLike[str] | None, landmark_sign: float | None = None) -> ModelSource:
    """Load ``path`` (``.keras``, ``.weights.h5`` or a Keras-2 ``.h5``), or the default model if None.

    Raises :class:`ModelError` for a missing/corrupt file or a model that is not an ASMNet.
    """
    if path is None:
        from asmnet_edge.model import DEFAULT_PCA, default_asset_dir, load_default

        loaded = load_default()
        pca_path: Path | None = default_asset_dir() / DEFAULT_PCA
        if landmark_sign is not None and float(landmark_sign) != loaded.landmark_sign:
            raise ModelError("the default model's landmark sign is fixed; --landmark-sign applies to --model")
    else:
        from asmnet_edge.model.io import load_asmnet

        loaded = load_asmnet(Path(path), landmark_sign=landmark_sign)
        pca_path = Path(path).parent / "pca.npz"
    source = from_keras(
        loaded.model, loaded.landmark_sign, loaded.sign_source, str(path or "default"), loaded.alpha
    )
    return dataclasses.replace(source, shape_model=shape_model_from(pca_path, source))


def shape_model_from(pca_path: Path | None, source: ModelSource) -> dict[str, Any] | None:
    """The ShapeModel dict of a training run's ``pca.npz`` (None when there is none).

    The PCA is in the run's own output units (its landmark sign), the units the exported model emits.
    """
    if pca_path is None or not pca_path.is_file():
        return None
    from asmnet_edge.model.asm import ShapePCA
    from asmnet_edge.runtime.shape_score import ShapeModel

    pca = ShapePCA.load(pca_path)
    if pca.num_landmarks != source.num_landmarks:
        raise ModelError(
            f"{pca_path} is a {pca.num_landmarks}-point shape model but the model predicts "
            f"{source.num_landmarks} points: remove it or use the run's own pca.npz"
        )
    return ShapeModel.from_pca(pca.mean, pca.components, pca.eigenvalues, pca.accuracy).to_dict()


def from_keras(
    model: Any,
    landmark_sign: float | None = None,
    sign_source: str = "given",
    path: str = "",
    alpha: float | None = None,
) -> ModelSource:
    """Wrap an in-memory Keras ASMNet (checks its input/output names); without ``landmark_sign``, the
    sign (and without ``alpha``, the width) is the model's own config (+1 for a plain functional model).

    >>> from asmnet_edge.model.asmnet import build_asmnet  # doctest: +SKIP
    >>> from_keras(build_asmnet(68, 0.35, 96)).input_size  # doctest: +SKIP
    96
    """
    facts = describe(model)
    outputs = model.output
    if not isinstance(outputs, dict) or set(outputs) != set(OUTPUT_NAMES):
        raise ModelError(
            f"model '{model.name}' must have dict outputs {list(OUTPUT_NAMES)} (as build_asmnet makes); "
            f"it has {sorted(outputs) if isinstance(outputs, dict) else 'positional outputs'}"
        )
    input_names = [tensor.name.split(":")[0] for tensor in model.inputs]
    if len(input_names) != 1 or not input_names[0].startswith(INPUT_NAME):
        raise ModelError(f"model '{model.name}' must have one input named '{INPUT_NAME}', got {input_names}")
    if landmark_sign is None:
        landmark_sign = float(getattr(model, "landmark_sign", 1.0))
        sign_source = "model" if hasattr(model, "landmark_sign") else sign_source
    if landmark_sign not in (1.0, -1.0):
        raise ModelError(f"landmark_sign must be +1 or -1, got {landmark_sign}")
    alpha = getattr(model, "alpha", alpha) if alpha is None else alpha
    if alpha is None:
        from asmnet_edge.model.io import BLOCK15_CHANNELS

        channels = int(model.get_layer("block_15_project").kernel.shape[-1])
        alpha = BLOCK15_CHANNELS.get(channels, 1.0)
    return ModelSource(
        model=model,
        num_landmarks=facts["num_landmarks"],
        input_size=facts["input_size"],
        alpha=float(alpha),
        landmark_sign=float(landmark_sign),
        sign_source=sign_source,
        path=path,
        weights_sha256=weights_sha256(model),
    )
