"""Calibration and evaluation crop sets, with augmentation that spans pose, scale and lighting.

int8 outputs clip at the range seen in calibration, so a few faces are expanded into many crops by
seeded random rotation (+-30 degrees), scale, shift, horizontal flip, brightness, contrast and gamma.
The first pass over the faces is unaugmented; later passes are augmented. Same faces and seed, same
crops (and therefore the same int8 model bytes).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> image = np.full((120, 100, 3), 128, np.uint8)
>>> augmented_crop(image, Box(10.0, 10.0, 90.0, 110.0), 32, rng).shape
(32, 32, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from asmnet_edge.data.dataset import Sample as DatasetSample
from asmnet_edge.data.dataset import make_crops
from asmnet_edge.errors import DataError
from asmnet_edge.exporters.faces import Face, load_face_image
from asmnet_edge.runtime.geometry import Box, crop_image

MAX_ROTATION_DEG = 30.0
SCALE_RANGE = (0.85, 1.2)  # crop box size factor: the face fills more or less of the crop
SHIFT = 0.06  # share of the box width/height
BRIGHTNESS = 40.0  # grey levels added or removed
CONTRAST_RANGE = (0.6, 1.4)
GAMMA_RANGE = (0.7, 1.4)


@dataclass(frozen=True)
class CropSet:
    """Model-ready crops and what is known about them."""

    images: np.ndarray  # (N, S, S, 3) uint8 RGB
    source: str
    faces: int  # distinct faces the crops come from
    landmarks: np.ndarray | None = None  # (N, n, 2) crop pixels, only for unaugmented labelled crops
    poses: np.ndarray | None = None  # (N, 3) degrees, NaN where unknown
    skipped: dict[str, str] = field(default_factory=dict)  # file -> reason

    def __len__(self) -> int:
        return len(self.images)

    def representative_dataset(self, input_scale: float = 1.0 / 255.0):  # type: ignore[no-untyped-def]
        """A TFLite representative-dataset generator: one float32 (1, S, S, 3) batch per crop."""
        scale = np.float32(input_scale)

        def generate():  # type: ignore[no-untyped-def]
            for image in self.images:
                yield [image[None].astype(np.float32) * scale]

        return generate


def augmented_crop(image: np.ndarray, box: Box, size: int, rng: np.random.Generator) -> np.ndarray:
    """A randomly rotated, scaled, shifted, flipped and relit ``size x size`` crop of ``box``."""
    import cv2

    angle = math.radians(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    scale = rng.uniform(*SCALE_RANGE)
    shift_x, shift_y = rng.uniform(-SHIFT, SHIFT, size=2) * [box.width, box.height]
    centre_x = (box.x0 + box.x1) / 2.0 + shift_x
    centre_y = (box.y0 + box.y1) / 2.0 + shift_y
    # image -> crop: move the centre to the origin, rotate, scale the box onto the crop, recentre
    cos, sin = math.cos(angle), math.sin(angle)
    scale_x, scale_y = size / (box.width * scale), size / (box.height * scale)
    rotate = np.array([[cos, -sin], [sin, cos]])
    linear = np.diag([scale_x, scale_y]) @ rotate
    offset = np.array([size / 2.0, size / 2.0]) - linear @ np.array([centre_x, centre_y])
    matrix = np.hstack([linear, offset[:, None]])
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    values = crop.astype(np.float32) / 255.0
    values = values ** rng.uniform(*GAMMA_RANGE)
    values = (
        (values - 0.5) * rng.uniform(*CONTRAST_RANGE) + 0.5 + rng.uniform(-BRIGHTNESS, BRIGHTNESS) / 255.0
    )
    return np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)


def _file_key(face: Face) -> tuple[str, int]:
    return str(face.image_path), -1 if face.frame is None else face.frame


def build_crops(
    faces: list[Face], count: int, size: int, seed: int, source: str, augment: bool = True
) -> CropSet:
    """``count`` crops from ``faces``: a seeded round-robin, unaugmented first, then augmented.

    Faces whose image does not decode are skipped and listed (the others fill all ``count`` crops);
    no decodable image at all is a :class:`DataError`.
    """
    if not faces:
        raise DataError(f"no faces to crop in {source}")
    skipped: dict[str, str] = {}
    first_face = {_file_key(face): face for face in reversed(faces)}
    for key in sorted(first_face):
        try:
            load_face_image(first_face[key])
        except DataError as err:
            skipped[key[0]] = str(err)
    usable = [face for face in faces if _file_key(face)[0] not in skipped]
    if not usable:
        raise DataError(f"none of the images of {source} could be decoded ({len(skipped)} skipped)")
    order = np.random.default_rng([seed, 1]).permutation(len(usable))
    plan: dict[int, list[int]] = {}  # face index -> output slots
    for slot in range(count if augment else min(count, len(usable))):
        plan.setdefault(int(order[slot % len(usable)]), []).append(slot)
    images = np.zeros((sum(len(slots) for slots in plan.values()), size, size, 3), np.uint8)
    by_file: dict[tuple[str, int], list[int]] = {}
    for index in sorted(plan):
        by_file.setdefault(_file_key(usable[index]), []).append(index)
    for key in sorted(by_file):
        image = load_face_image(usable[by_file[key][0]])
        for index in by_file[key]:
            for variant, slot in enumerate(plan[index]):
                if variant == 0:
                    images[slot] = crop_image(image, usable[index].box, size)
                else:
                    rng = np.random.default_rng([seed, index, variant])
                    images[slot] = augmented_crop(image, usable[index].box, size, rng)
    return CropSet(images, source, len(plan), skipped=skipped)


def labelled_crops(faces: list[Face], count: int, size: int, seed: int, source: str) -> CropSet:
    """Unaugmented ASMNet crops of labelled faces with their ground truth (through ``make_crops``).

    At most ``count`` faces (a seeded choice); undecodable images are skipped and listed.
    """
    if not faces:
        raise DataError(f"no faces to evaluate in {source}")
    order = np.random.default_rng([seed, 2]).permutation(len(faces))[:count]
    images, landmarks, poses, skipped = [], [], [], {}
    for index in sorted(int(value) for value in order):
        face = faces[index]
        assert face.landmarks is not None  # labelled faces only: a programming error otherwise
        sample = DatasetSample(face.image_path, face.landmarks, face.pose)
        try:
            crops = make_crops([sample], size)
        except DataError as err:
            skipped[str(face.image_path)] = str(err)
            continue
        images.append(crops.images[0])
        landmarks.append(crops.landmarks[0])
        poses.append(crops.poses[0])
    if not images:
        raise DataError(f"none of the images of {source} could be decoded ({len(skipped)} skipped)")
    return CropSet(np.stack(images), source, len(images), np.stack(landmarks), np.stack(poses), skipped)
