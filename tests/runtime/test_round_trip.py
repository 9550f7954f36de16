"""One labelled face through every stage that crops or (de)normalises: training, evaluation, the runtime.

A model that had learnt the training targets perfectly is stood in by an oracle: given the runtime's
crop, it returns the training pipeline's target for that face. If crop geometry, normalisation sign or
point order differed anywhere, the runtime would not give back the labelled points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.data.augment import MIRROR_68, AugmentConfig, augment_crop
from asmnet_edge.data.dataset import Sample, crop_box, make_crops
from asmnet_edge.runtime.geometry import normalise_landmarks
from asmnet_edge.training.pipeline import TrainingData
from tests.conftest import mean_face_68


@pytest.fixture()
def labelled_face(tmp_path: Path) -> Sample:
    import cv2

    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 3)
    points = mean_face_68(110.0) + np.array([150.0, 110.0]) + rng.normal(0, 1.5, (68, 2))
    for x, y in points:
        cv2.circle(image, (int(round(x)), int(round(y))), 2, (255, 255, 255), -1)
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), image[:, :, ::-1])
    return Sample(path, points, np.array([10.0, -5.0, 3.0]))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_training_target_round_trips_through_the_runtime(
    labelled_face: Sample, micro_fp32: Path, sign: float
) -> None:
    import dataclasses

    from asmnet_edge.runtime.aligner import FaceAligner
    from asmnet_edge.runtime.model import LiteModel

    embedded = LiteModel.from_file(micro_fp32).metadata
    size = embedded.input_size
    data = TrainingData([labelled_face], size, None, sign, AugmentConfig.none())
    train_crop, target, _, _, _ = data.example(0, 0)
    evaluation = make_crops([labelled_face], size)
    np.testing.assert_array_equal(np.rint(train_crop * 255).astype(np.uint8), evaluation.images[0])
    expected = normalise_landmarks(evaluation.landmarks[0], size, sign).reshape(-1)
    np.testing.assert_allclose(expected, target, atol=1e-5)

    meta = dataclasses.replace(embedded, landmark_sign=sign)
    aligner = FaceAligner.from_file(micro_fp32, metadata=meta, detector=None)
    seen: list[np.ndarray] = []

    def oracle(tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen.append(np.asarray(tensor))
        return target.astype(np.float64), np.zeros(3)

    aligner.model.run_tensor = oracle  # type: ignore[method-assign]
    aligner.model.input_tensor = lambda crop: crop  # type: ignore[method-assign]
    image = _read_rgb(labelled_face.image_path)
    face = aligner.predict(image, box=crop_box(labelled_face.landmarks, meta.crop_margin))[0]
    np.testing.assert_array_equal(seen[0], evaluation.images[0])
    np.testing.assert_allclose(face.landmarks, labelled_face.landmarks, atol=1e-6)


def _read_rgb(path: Path) -> np.ndarray:
    from asmnet_edge.runtime.image import load_image

    return load_image(path)


def test_flip_augmentation_mirrors_points_and_negates_yaw_and_roll(labelled_face: Sample) -> None:
    """A flipped crop's left eye corner (36) lies where the unflipped right one (45) was, mirrored."""
    size = 96
    plain = AugmentConfig.none()
    flipped = AugmentConfig(**{**plain.__dict__, "flip_probability": 1.0})
    image = _read_rgb(labelled_face.image_path)
    crop, points, pose = augment_crop(
        image, labelled_face.landmarks, labelled_face.pose, size, np.random.default_rng(0), plain
    )
    flip_crop, flip_points, flip_pose = augment_crop(
        image, labelled_face.landmarks, labelled_face.pose, size, np.random.default_rng(0), flipped
    )
    np.testing.assert_array_equal(flip_crop, crop[:, ::-1])
    np.testing.assert_allclose(flip_points[36], [size - 1 - points[45, 0], points[45, 1]])
    mirrored = np.column_stack([size - 1 - points[MIRROR_68, 0], points[MIRROR_68, 1]])
    np.testing.assert_allclose(flip_points, mirrored)
    assert flip_pose.tolist() == [-pose[0], pose[1], -pose[2]]
    # the mirrored left eye is still on the image's left: point order stays anatomical
    assert flip_points[36, 0] < flip_points[45, 0]
