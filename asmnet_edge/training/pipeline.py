"""The training input pipeline: decoded images in memory, augmented crops made on two workers.

Each example is reproducible from (seed, epoch, index). OpenCV releases the GIL while it warps and
blurs, so two ``tf.numpy_function`` workers keep both cores of a small machine busy.

>>> data = TrainingData(samples, input_size=224, pca=pca, sign=1.0)  # doctest: +SKIP
>>> batches = data.tf_dataset(batch_size=32, epoch=0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from asmnet_edge.data.augment import AugmentConfig, augment_crop, augment_landmarks
from asmnet_edge.data.dataset import Sample
from asmnet_edge.model.asm import ShapePCA
from asmnet_edge.runtime.contract import POSE_SCALE_DEG
from asmnet_edge.runtime.geometry import normalise_landmarks
from asmnet_edge.runtime.image import load_image


class TrainingData:
    """Samples decoded once, served as augmented (image, targets) examples."""

    def __init__(
        self,
        samples: Sequence[Sample],
        input_size: int,
        pca: ShapePCA | None,
        sign: float = 1.0,
        augment: AugmentConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.samples = list(samples)
        self.images = [load_image(sample.image_path) for sample in self.samples]
        self.input_size = input_size
        self.pca = pca
        self.sign = sign
        self.augment = augment or AugmentConfig()
        self.seed = seed
        self.num_landmarks = self.samples[0].landmarks.shape[0]

    def __len__(self) -> int:
        return len(self.samples)

    def example(self, index: int, epoch: int) -> tuple[np.ndarray, ...]:
        """(image float32 [0,1], landmarks, ASM landmarks, pose / 65, pose mask) for one sample."""
        sample = self.samples[index]
        rng = np.random.default_rng([self.seed, epoch, index])
        has_pose = sample.pose is not None
        pose = sample.pose if has_pose else np.zeros(3)
        crop, points, new_pose = augment_crop(
            self.images[index], sample.landmarks, pose, self.input_size, rng, self.augment
        )
        flat = normalise_landmarks(points, self.input_size, self.sign).reshape(-1)
        smooth = self.pca.project(flat[None])[0] if self.pca is not None else flat
        return (
            crop.astype(np.float32) / 255.0,
            flat.astype(np.float32),
            smooth.astype(np.float32),
            (new_pose / POSE_SCALE_DEG).astype(np.float32),
            np.float32(has_pose),
        )

    def tf_dataset(self, batch_size: int, epoch: int, shuffle: bool = True, workers: int = 2) -> Any:
        """A ``tf.data.Dataset`` of batched dict examples for one epoch."""
        import tensorflow as tf

        order = np.arange(len(self))
        if shuffle:
            np.random.default_rng([self.seed, epoch, 7]).shuffle(order)
        size, width = self.input_size, 2 * self.num_landmarks

        def make(index: Any) -> Any:
            return self.example(int(index), epoch)

        def load(index: Any) -> dict[str, Any]:
            image, flat, smooth, pose, mask = tf.numpy_function(
                make, [index], [tf.float32, tf.float32, tf.float32, tf.float32, tf.float32]
            )
            image.set_shape((size, size, 3))
            flat.set_shape((width,))
            smooth.set_shape((width,))
            pose.set_shape((3,))
            mask.set_shape(())
            return {"image": image, "landmarks": flat, "asm": smooth, "pose": pose, "pose_mask": mask}

        dataset = tf.data.Dataset.from_tensor_slices(order).map(load, num_parallel_calls=workers)
        return dataset.batch(batch_size).prefetch(2)


def shape_matrix(
    samples: Sequence[Sample],
    input_size: int,
    sign: float,
    augment: AugmentConfig | None = None,
    copies: int = 4,
    seed: int = 0,
) -> np.ndarray:
    """Normalised, flattened training shapes (N * copies, 2n) as the augmentation makes them.

    The PCA is fit on augmented shapes (as the reference fits it on its expanded training set), so
    that rotated and flipped faces lie inside the shape space the ASM operator projects onto.
    """
    config = augment or AugmentConfig()
    rng = np.random.default_rng([seed, 99])
    rows = [
        normalise_landmarks(augment_landmarks(sample.landmarks, input_size, rng, config), input_size, sign)
        for sample in samples
        for _ in range(copies)
    ]
    return np.stack(rows).reshape(len(rows), -1)
