"""The Keras ASMNet (Fard et al., CVPR-W 2021) with the reference layer names.

MobileNetV2 cut after ``block_15_add``; global-average-pooled taps at six depths, concatenated (536
values at alpha 1.0), dropout 0.3, and two linear heads ``O_L`` (landmarks, flat x/y) and ``O_P``
(pose: yaw, pitch, roll in degrees / 65), both with L2(0.01) on kernel and bias.

The six-way concatenation is built as two nested three-way concatenations: numerically the same
model, but XNNPACK (which takes at most five concat inputs) then delegates the whole graph.

>>> model = build_asmnet(num_landmarks=68, alpha=0.35, input_size=96)  # doctest: +SKIP
>>> sorted(model.output.keys())  # doctest: +SKIP
['landmarks', 'pose']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asmnet_edge._lazy import require
from asmnet_edge.errors import ModelError

TAP_LAYERS = (
    "block_1_project_BN",
    "block_3_project_BN",
    "block_6_project_BN",
    "block_10_project_BN",
    "block_13_project_BN",
    "block_15_add",
)
LANDMARKS_LAYER = "O_L"
POSE_LAYER = "O_P"
SUPPORTED_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
HEAD_L2 = 0.01  # the paper's L2 factor on both heads (kernel and bias)
INPUT_SCALE = np.float32(1.0 / 255.0)  # uint8 pixels -> the network's [0, 1], as LiteModel scales them


def keras_module() -> Any:
    """Import Keras (through TensorFlow's install) or say which extra to install."""
    require("tensorflow", extra="train", purpose="building the Keras ASMNet")
    return require("keras", extra="train", purpose="building the Keras ASMNet")


def build_asmnet(
    num_landmarks: int = 68,
    alpha: float = 1.0,
    input_size: int = 224,
    dropout: float = 0.3,
    head_l2: float = HEAD_L2,
    landmark_sign: float = 1.0,
) -> Any:
    """Build an untrained ASMNet: a Keras functional model of class
    :class:`asmnet_edge.model.network.ASMNet`, whose config holds these arguments.

    The input is named ``image`` (RGB in [0, 1], ``input_size`` square); outputs are a dict
    ``{"landmarks": (batch, 2 * num_landmarks), "pose": (batch, 3)}``. ``head_l2`` is the L2 factor on the
    heads' kernels and biases (the paper's 0.01 by default; 0 for none). ``landmark_sign`` records how
    the landmark outputs are normalised (+1: ``(u - S/2) / S``, -1: ``(S/2 - u) / S``).

    >>> build_asmnet(68).count_params()  # doctest: +SKIP
    1439507
    """
    if num_landmarks < 2:
        raise ModelError(f"num_landmarks must be at least 2, got {num_landmarks}")
    if alpha not in SUPPORTED_ALPHAS:
        raise ModelError(f"alpha must be one of {SUPPORTED_ALPHAS} (MobileNetV2 widths), got {alpha}")
    if input_size < 32 or input_size % 32:
        raise ModelError(f"input_size must be a multiple of 32, at least 32; got {input_size}")
    if landmark_sign not in (1.0, -1.0):
        raise ModelError(f"landmark_sign must be +1 or -1, got {landmark_sign}")
    from asmnet_edge.model.network import ASMNet

    return ASMNet(num_landmarks, float(alpha), input_size, float(landmark_sign), dropout, head_l2)


def predict_crops(model: Any, crops: np.ndarray, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """The Keras model's raw outputs on uint8 crops (N, S, S, 3): landmark values (N, 2n) and pose
    values (N, 3), float64, in batches; pixels are scaled by the float32 1/255 that LiteModel uses.

    >>> model = build_asmnet(68, alpha=0.35, input_size=96)  # doctest: +SKIP
    >>> values, poses = predict_crops(model, np.zeros((2, 96, 96, 3), np.uint8))  # doctest: +SKIP
    >>> values.shape, poses.shape  # doctest: +SKIP
    ((2, 136), (2, 3))
    """
    landmarks, poses = [], []
    for start in range(0, len(crops), batch_size):
        batch = np.asarray(crops[start : start + batch_size]).astype(np.float32) * INPUT_SCALE
        outputs = model(batch, training=False)
        landmarks.append(np.asarray(outputs["landmarks"], dtype=np.float64))
        poses.append(np.asarray(outputs["pose"], dtype=np.float64))
    return np.concatenate(landmarks), np.concatenate(poses)


def describe(model: Any) -> dict[str, int]:
    """Shape facts of a built ASMNet: landmarks, input size, parameters.

    Raises :class:`ModelError` when ``model`` lacks the ASMNet outputs.
    """
    try:
        landmarks = model.get_layer(LANDMARKS_LAYER)
        pose = model.get_layer(POSE_LAYER)
    except ValueError as err:
        raise ModelError(
            f"model '{model.name}' is not an ASMNet: it has no '{LANDMARKS_LAYER}'/'{POSE_LAYER}' layers"
        ) from err
    if pose.units != 3 or landmarks.units % 2:
        raise ModelError(
            f"model '{model.name}' is not an ASMNet: pose head has {pose.units} outputs (expected 3), "
            f"landmark head {landmarks.units} (expected an even number)"
        )
    shape = model.inputs[0].shape
    return {
        "num_landmarks": landmarks.units // 2,
        "input_size": int(shape[1]),
        "parameters": int(model.count_params()),
    }
