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

from asmnet_edge._lazy import require
from asmnet_edge.errors import ModelError
from asmnet_edge.runtime.contract import INPUT_NAME

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
) -> Any:
    """Build an untrained ASMNet as a Keras functional model.

    The input is named ``image`` (RGB in [0, 1], ``input_size`` square); outputs are a dict
    ``{"landmarks": (batch, 2 * num_landmarks), "pose": (batch, 3)}``. ``head_l2`` is the L2 factor on the
    heads' kernels and biases (the paper's 0.01 by default; 0 for none).

    >>> build_asmnet(68).count_params()  # doctest: +SKIP
    1439507
    """
    if num_landmarks < 2:
        raise ModelError(f"num_landmarks must be at least 2, got {num_landmarks}")
    if alpha not in SUPPORTED_ALPHAS:
        raise ModelError(f"alpha must be one of {SUPPORTED_ALPHAS} (MobileNetV2 widths), got {alpha}")
    if input_size < 32 or input_size % 32:
        raise ModelError(f"input_size must be a multiple of 32, at least 32; got {input_size}")
    keras = keras_module()
    image = keras.Input(shape=(input_size, input_size, 3), name=INPUT_NAME)
    backbone = keras.applications.MobileNetV2(
        input_tensor=image, alpha=alpha, include_top=False, weights=None
    )
    pooled = [
        keras.layers.GlobalAveragePooling2D(name=f"tap_{index}_gap")(backbone.get_layer(name).output)
        for index, name in enumerate(TAP_LAYERS)
    ]
    shallow = keras.layers.Concatenate(name="taps_shallow")(pooled[:3])
    deep = keras.layers.Concatenate(name="taps_deep")(pooled[3:])
    features = keras.layers.Concatenate(name="taps")([shallow, deep])
    features = keras.layers.Dropout(dropout, name="taps_dropout")(features)
    regulariser = keras.regularizers.L2(head_l2) if head_l2 > 0 else None
    landmarks = keras.layers.Dense(
        2 * num_landmarks,
        name=LANDMARKS_LAYER,
        kernel_regularizer=regulariser,
        bias_regularizer=regulariser,
    )(features)
    pose = keras.layers.Dense(
        3, name=POSE_LAYER, kernel_regularizer=regulariser, bias_regularizer=regulariser
    )(features)
    return keras.Model(
        inputs=image, outputs={"landmarks": landmarks, "pose": pose}, name=f"asmnet_{num_landmarks}"
    )


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
