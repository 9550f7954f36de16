"""ASMNet's ASM-assisted loss (TensorFlow).

landmark loss = MSE(G, P) + alpha * MSE(ASM(G), P); total = landmark loss + 0.5 * MSE(pose), where
G is the ground truth, P the prediction and ASM(G) the PCA-smoothed ground truth, precomputed by the
input pipeline. Pose terms are masked where a sample has no pose label.

>>> import numpy as np
>>> parts = asm_losses(np.zeros((2, 4)), np.ones((2, 4)), np.ones((2, 4)), np.zeros((2, 3)),
...                    np.zeros((2, 3)), np.ones(2), alpha=2.0)  # doctest: +SKIP
>>> float(parts["landmarks"])  # 1 + 2 * 0  # doctest: +SKIP
1.0
"""

from __future__ import annotations

from typing import Any

POSE_WEIGHT = 0.5


def asm_losses(
    pred_landmarks: Any,
    true_landmarks: Any,
    asm_landmarks: Any,
    pred_pose: Any,
    true_pose: Any,
    pose_mask: Any,
    alpha: Any,
) -> dict[str, Any]:
    """The loss terms of one batch as scalar tensors: ``mse``, ``asm``, ``landmarks``, ``pose``, ``total``.

    Pose tensors are in network units (degrees / 65); ``pose_mask`` (batch,) is 1 where the pose is known.
    """
    import tensorflow as tf

    mse = tf.reduce_mean(tf.square(true_landmarks - pred_landmarks))
    asm = tf.reduce_mean(tf.square(asm_landmarks - pred_landmarks))
    landmarks = mse + tf.cast(alpha, mse.dtype) * asm
    mask = tf.cast(pose_mask, mse.dtype)
    per_sample = tf.reduce_mean(tf.square(true_pose - pred_pose), axis=-1)
    pose = tf.reduce_sum(per_sample * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)
    return {
        "mse": mse,
        "asm": asm,
        "landmarks": landmarks,
        "pose": pose,
        "total": landmarks + POSE_WEIGHT * pose,
    }
