"""DAN's training inputs: ASMNet's augmented crops turned grey, the mean shape and the mean/std images.

>>> data = GreyData(TrainingData(samples, 112, None))  # doctest: +SKIP
>>> mean_image, std_image = image_statistics(data, count=256)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asmnet_edge.data.dataset import Sample
from asmnet_edge.runtime.model import grey_crop
from asmnet_edge.training.pipeline import TrainingData

STD_FLOOR = 0.02  # in input units: pixels that barely vary (the black border) must not blow up


class GreyData:
    """ASMNet's augmented training crops as grey (S, S, 1) images in [0, 1] and normalised landmarks."""

    def __init__(self, data: TrainingData) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def example(self, index: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        image, flat, *_ = self.data.example(index, epoch)
        pixels = np.rint(image * 255.0).astype(np.uint8)
        return grey_crop(pixels).astype(np.float32) / 255.0, flat

    def tf_dataset(self, batch_size: int, epoch: int, workers: int = 2, shuffle: bool = True) -> Any:
        import tensorflow as tf

        order = np.arange(len(self))
        if shuffle:
            np.random.default_rng([self.data.seed, epoch, 7]).shuffle(order)
        size, width = self.data.input_size, 2 * self.data.num_landmarks

        def load(index: Any) -> dict[str, Any]:
            image, flat = tf.numpy_function(
                lambda item: self.example(int(item), epoch), [index], [tf.float32, tf.float32]
            )
            image.set_shape((size, size, 1))
            flat.set_shape((width,))
            return {"image": image, "landmarks": flat}

        dataset = tf.data.Dataset.from_tensor_slices(order).map(load, num_parallel_calls=workers)
        return dataset.batch(batch_size).prefetch(2)


def image_statistics(data: GreyData, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel mean and std (floored at :data:`STD_FLOOR`) of ``count`` augmented training crops."""
    images = np.stack(
        [data.example(index % len(data), 1000 + index // len(data))[0] for index in range(count)]
    )
    return images.mean(axis=0)[..., 0], np.maximum(images.std(axis=0)[..., 0], STD_FLOOR)


def mean_shape(samples: list[Sample], size: int) -> np.ndarray:
    """The mean training shape (n, 2) in crop pixels of the runtime's crop (un-augmented, upright)."""
    from asmnet_edge.data.dataset import crop_box
    from asmnet_edge.runtime.geometry import image_to_crop

    shapes = [image_to_crop(sample.landmarks, crop_box(sample.landmarks), size) for sample in samples]
    return np.mean(shapes, axis=0)
