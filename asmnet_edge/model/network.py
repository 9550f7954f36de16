"""The Keras ``ASMNet`` model class: a functional model that carries its own config.

Imported only by :func:`asmnet_edge.model.asmnet.build_asmnet` and the loaders (it imports Keras at
the top). As keras-hub's backbones do, the constructor builds the functional graph and
``get_config`` returns the constructor's arguments: landmark count, MobileNetV2 width, input size
and the landmark sign convention travel inside every ``.keras`` file, so loading one rebuilds the
same network without reading weight shapes or a ``config.json`` beside it.

>>> model = ASMNet(num_landmarks=68, alpha=0.35, input_size=96)  # doctest: +SKIP
>>> model.get_config()["alpha"], model.landmark_sign  # doctest: +SKIP
(0.35, 1.0)
"""

from __future__ import annotations

from typing import Any

from asmnet_edge.model.asmnet import (
    HEAD_L2,
    LANDMARKS_LAYER,
    POSE_LAYER,
    TAP_LAYERS,
    keras_module,
)
from asmnet_edge.runtime.contract import INPUT_NAME

keras = keras_module()


@keras.saving.register_keras_serializable(package="asmnet_edge", name="ASMNet")
class ASMNet(keras.Model):  # type: ignore[misc,name-defined]
    """MobileNetV2 taps -> ``O_L`` landmarks and ``O_P`` pose (see :mod:`asmnet_edge.model.asmnet`)."""

    def __init__(
        self,
        num_landmarks: int = 68,
        alpha: float = 1.0,
        input_size: int = 224,
        landmark_sign: float = 1.0,
        dropout: float = 0.3,
        head_l2: float = HEAD_L2,
        **kwargs: Any,
    ) -> None:
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
        kwargs.setdefault("name", f"asmnet_{num_landmarks}")
        super().__init__(inputs=image, outputs={"landmarks": landmarks, "pose": pose}, **kwargs)
        self.num_landmarks = int(num_landmarks)
        self.alpha = float(alpha)
        self.input_size = int(input_size)
        self.landmark_sign = float(landmark_sign)
        self.dropout = float(dropout)
        self.head_l2 = float(head_l2)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "num_landmarks": self.num_landmarks,
            "alpha": self.alpha,
            "input_size": self.input_size,
            "landmark_sign": self.landmark_sign,
            "dropout": self.dropout,
            "head_l2": self.head_l2,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ASMNet:
        return cls(**config)
