"""3-D face profiling (the 300W-LP method): real labelled faces re-rendered at new poses, and new identities.

For each real face of a teacher-labelled folder: fit the morphable face (``asmnet_edge.data.morphable``)
to its 68 points, take each visible vertex's colour from the photo and fill the hidden side from the
mirror vertex. Each output image then draws, independently, a texture (one fitted face), a shape (another
fitted face, or a random one from the model's prior), an expression (a third fitted face), a colour change
(skin tone, age-like desaturation), a pose (yaw within ±75°, pitch ±35°, roll), light, background,
occluders and camera, and renders it. Labels are exact: the fitted model's 68 keypoints projected, with
the jaw points moved to the visible face outline (300W convention, "landmark marching"), z-buffer
visibility, and the pose that was rendered.

Output: a 300W-style folder as ``asmnet-edge data synth`` writes (``profile_<index>.jpg`` + ``.pts`` +
``.pose.json``, ``poses.csv``), with ``source = profiled-bfm``; image ``index`` depends only on
``(seed, index, size)`` and the source faces, so an interrupted run resumes where it stopped.

>>> result = profile_dataset(["data/teacher_train"], "data/profiled", count=100)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.data import _folder, _synth_augment
from asmnet_edge.data._headpose import rotation_from_pose
from asmnet_edge.data._render import _light_pose, _require, project
from asmnet_edge.data.dataset import Sample, read_dataset
from asmnet_edge.data.morphable import FaceModel, Fit, fit_landmarks, load_face_model
from asmnet_edge.errors import DataError
from asmnet_edge.runtime.image import load_image

SOURCE = "profiled-bfm"
MAX_FIT_ERROR_PERCENT = 6.0  # source faces whose landmarks the model cannot reach are left out
VISIBILITY_TOLERANCE_MM = 4.0
JAW_BAND_MM = 4.0
RANDOM_SHAPE_SHARE = 0.5  # share of images whose face shape is drawn from the prior, not from a fit


@dataclass(frozen=True)
class SourceFace:
    """A fitted real face: coefficients and per-vertex colours (uint8, hidden side mirror-filled)."""

    name: str
    shape: np.ndarray
    expression: np.ndarray
    colours: np.ndarray
    visible_share: float


@dataclass(frozen=True)
class ProfileResult:
    """What ``profile_dataset`` did."""

    out_dir: Path
    sources: int
    rejected: int
    rendered: int
    skipped: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.out_dir),
            "source_faces": self.sources,
            "rejected_sources": self.rejected,
            "rendered": self.rendered,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 2),
        }


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (n, 3)."""
    corners = vertices[triangles]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(vertices)
    for column in range(3):
        np.add.at(normals, triangles[:, column], face_normals)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)


def texture_from_photo(model: FaceModel, fit: Fit, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-vertex colours (n, 3) uint8 sampled from ``image`` under ``fit``, and the visibility mask.

    A vertex is visible when it faces the camera and no other vertex projected within a pixel lies more
    than ``VISIBILITY_TOLERANCE_MM`` in front of it. Hidden vertices take their mirror vertex's colour;
    vertices hidden on both sides take the median visible colour.
    """
    import cv2

    vertices = model.vertices(fit.shape, fit.expression)
    pixels = fit.project(vertices)
    depth = fit.depth(vertices)
    normals = vertex_normals(vertices, model.triangles) @ fit.rotation.T
    height, width = image.shape[:2]
    columns = np.clip(np.round(pixels[:, 0]).astype(int), 0, width - 1)
    rows = np.clip(np.round(pixels[:, 1]).astype(int), 0, height - 1)
    zbuffer = np.full((height, width), -np.inf, dtype=np.float32)
    np.maximum.at(zbuffer, (rows, columns), depth.astype(np.float32))
    nearest = cv2.dilate(zbuffer, np.ones((3, 3), np.uint8))
    inside = (
        (pixels[:, 0] >= 0) & (pixels[:, 0] <= width - 1) & (pixels[:, 1] >= 0) & (pixels[:, 1] <= height - 1)
    )
    visible = inside & (normals[:, 2] > 0.2) & (depth >= nearest[rows, columns] - VISIBILITY_TOLERANCE_MM)
    # remap takes 2-D maps under 32767 a side: lay the vertices out in rows of 256
    padded = np.zeros((-(-len(pixels) // 256) * 256, 2), np.float32)
    padded[: len(pixels)] = pixels
    grid = padded.reshape(-1, 256, 2)
    sampled = cv2.remap(
        image, grid[:, :, 0], grid[:, :, 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    colours = sampled.reshape(-1, 3)[: len(pixels)].astype(np.float32)
    mirrored = model.mirror
    use_mirror = ~visible & visible[mirrored]
    colours[use_mirror] = colours[mirrored[use_mirror]]
    neither = ~visible & ~visible[mirrored]
    if visible.any():
        colours[neither] = np.median(colours[visible], axis=0)
    return np.clip(colours, 0, 255).astype(np.uint8), visible


def fit_sources(samples: list[Sample], model: FaceModel) -> tuple[list[SourceFace], int]:
    """Fit and texture every sample; returns the kept faces and how many were rejected."""
    kept, rejected = [], 0
    for sample in samples:
        if sample.landmarks.shape != (68, 2):
            rejected += 1
            continue
        fit = fit_landmarks(model, sample.landmarks)
        if fit.error_percent > MAX_FIT_ERROR_PERCENT:
            rejected += 1
            continue
        colours, visible = texture_from_photo(model, fit, load_image(sample.image_path))
        kept.append(
            SourceFace(sample.image_path.stem, fit.shape, fit.expression, colours, float(visible.mean()))
        )
    return kept, rejected


@functools.lru_cache(maxsize=1)
def jaw_candidates(model: FaceModel) -> tuple[np.ndarray, ...]:
    """For each jaw keypoint, the vertices on its horizontal parallel it may march to (mean face)."""
    mean = model.mean
    result = []
    for index in range(17):
        point = mean[model.keypoints[index]]
        if index == 8:  # the chin is on the midline
            result.append(np.zeros(0, dtype=np.int64))
            continue
        same_side = np.sign(mean[:, 0]) == np.sign(point[0])
        between = (np.abs(mean[:, 0]) <= 1.05 * abs(point[0])) & (np.abs(mean[:, 0]) >= 0.4 * abs(point[0]))
        in_band = np.abs(mean[:, 1] - point[1]) <= JAW_BAND_MM
        result.append(np.flatnonzero(same_side & between & in_band))
    return tuple(result)


def march_jaw(model: FaceModel, camera_vertices: np.ndarray, focal: float, size: int) -> np.ndarray:
    """Camera-frame jaw points (17, 3) moved to the outline: per point, the candidate furthest outward."""
    jaw = camera_vertices[model.keypoints[:17]].copy()
    head_x = camera_vertices[model.keypoints[45]] - camera_vertices[model.keypoints[36]]
    for index, candidates in enumerate(jaw_candidates(model)):
        if candidates.size == 0:
            continue
        points = camera_vertices[candidates]
        pixels = project(points, focal, size)
        outward = head_x[:2] * np.array([1.0, -1.0]) * (1.0 if index > 8 else -1.0)
        norm = np.linalg.norm(outward)
        if norm < 1e-6:
            continue
        score = pixels @ (outward / norm)
        own = project(jaw[index : index + 1], focal, size)[0] @ (outward / norm)
        best = int(np.argmax(score))
        if score[best] > own:
            jaw[index] = points[best]
    return jaw


class MeshRenderer:
    """An OSMesa offscreen renderer for vertex-coloured meshes: one scene, a camera and two lights."""

    def __init__(self, size: int) -> None:
        if "tensorflow" in sys.modules:
            raise DataError(
                "face rendering cannot run in a process that has imported TensorFlow (OSMesa crashes "
                "there): run 'asmnet-edge data profile' on its own"
            )
        self.pyrender = _require("pyrender")
        self.trimesh = _require("trimesh")
        self.size = size
        self.scene = self.pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0], ambient_light=[0.5, 0.5, 0.5])
        self.camera = self.pyrender.PerspectiveCamera(yfov=0.5, aspectRatio=1.0)
        self.scene.add(self.camera, pose=np.eye(4))
        self.key = self.pyrender.DirectionalLight(color=np.ones(3), intensity=2.0)
        self.key_node = self.scene.add(self.key, pose=np.eye(4))
        self.mesh_node: Any = None
        self.offscreen = self.pyrender.OffscreenRenderer(size, size)
        from asmnet_edge.data._render import _reuse_shader_programs

        _reuse_shader_programs(self.offscreen)

    def render(
        self,
        vertices: np.ndarray,
        triangles: np.ndarray,
        colours: np.ndarray,
        yfov: float,
        ambient: float,
        key_direction: np.ndarray,
        key_intensity: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """RGBA uint8 image and depth of camera-frame ``vertices`` (camera at the origin, looking down -z)."""
        if self.mesh_node is not None:
            self.scene.remove_node(self.mesh_node)
        rgba = np.column_stack([colours, np.full(len(colours), 255, np.uint8)])
        mesh = self.trimesh.Trimesh(vertices, triangles, vertex_colors=rgba, process=False)
        # no explicit material: pyrender then shades with the vertex colours (an explicit one overrides them)
        self.mesh_node = self.scene.add(self.pyrender.Mesh.from_trimesh(mesh, smooth=True))
        self.camera.yfov = float(yfov)
        self.scene.ambient_light = np.full(3, float(ambient))
        self.key.intensity = float(key_intensity)
        self.scene.set_pose(self.key_node, _light_pose(key_direction))
        color, depth = self.offscreen.render(self.scene)
        coverage = np.where(depth > 0, 255, 0).astype(np.uint8)
        return np.dstack([np.asarray(color)[:, :, :3], coverage]), np.asarray(depth)

    def close(self) -> None:
        self.offscreen.delete()


@functools.lru_cache(maxsize=2)
def _renderer(size: int) -> MeshRenderer:
    renderer = MeshRenderer(size)
    atexit.register(renderer.close)
    return renderer


def _recolour(colours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Skin tone and age-like changes: per-channel gain, darkening/lightening, desaturation."""
    values = colours.astype(np.float32)
    tone = rng.uniform(0.55, 1.25)
    gains = (
        tone
        * (1.0 + rng.uniform(-0.08, 0.08, 3))
        * np.array([1.0, 1.0 - 0.1 * (tone < 0.8), 1.0 - 0.2 * (tone < 0.8)])
    )
    values = values * gains
    grey = values.mean(axis=1, keepdims=True)
    values = grey + (values - grey) * rng.uniform(0.6, 1.2)
    return np.clip(values, 0, 255).astype(np.uint8)


def sample_pose(rng: np.random.Generator) -> tuple[float, float, float]:
    """Yaw: 55 % within ±30°, the rest within ±75°; pitch normal(0, 12) within ±35°; roll normal(0, 10)."""
    yaw = rng.uniform(-30, 30) if rng.random() < 0.55 else rng.uniform(-75, 75)
    pitch = float(np.clip(rng.normal(0, 12), -35, 35))
    roll = float(np.clip(rng.normal(0, 10), -30, 30))
    return float(yaw), pitch, roll


def person_of(name: str) -> str:
    """The person id of a teacher sample name (``<person>__<file>_<frame>_<face>``)."""
    return name.split("__", 1)[0]


def _pick(rng: np.random.Generator, sources: list[SourceFace]) -> SourceFace:
    """A person uniformly, then one of their faces: a video of one person must not swamp the stills."""
    people = sorted({person_of(face.name) for face in sources})
    person = people[int(rng.integers(len(people)))]
    faces = [face for face in sources if person_of(face.name) == person]
    return faces[int(rng.integers(len(faces)))]


def make_sample(
    index: int, seed: int, size: int, sources: list[SourceFace], model: FaceModel
) -> _folder.Sample:
    """Render and label image ``index``; depends only on (seed, index, size) and ``sources``."""
    rng = np.random.default_rng([seed, index, 31])
    texture = _pick(rng, sources)
    if rng.random() < RANDOM_SHAPE_SHARE:
        shape = np.clip(rng.normal(0, 1, texture.shape.shape), -2.5, 2.5)
    else:
        shape = _pick(rng, sources).shape
    # expressions come from any frame (the video frames hold most of the expression variety)
    expression = (
        sources[int(rng.integers(len(sources)))].expression if rng.random() < 0.7 else texture.expression
    )
    colours = _recolour(texture.colours, rng) if rng.random() < 0.6 else texture.colours
    yaw, pitch, roll = sample_pose(rng)
    rotation = rotation_from_pose(yaw, pitch, roll)
    vertices = model.vertices(shape, expression) @ rotation.T
    yfov = float(np.radians(rng.uniform(12, 40)))
    focal = size / 2 / np.tan(yfov / 2)
    keypoints = vertices[model.keypoints]
    extent = float(np.ptp(keypoints[:, :2], axis=0).max())
    share = rng.uniform(0.3, 0.6)
    distance = focal * extent / (share * size) + float(vertices[:, 2].max())
    offset = rng.uniform(-0.12, 0.12, 2) * size * distance / focal
    camera = vertices + np.array([offset[0], offset[1], -distance])
    key_from = np.array([rng.uniform(-1, 1), rng.uniform(-0.5, 1), rng.uniform(0.3, 1.5)])
    rgba, depth = _renderer(size).render(
        camera, model.triangles, colours, yfov, rng.uniform(0.55, 0.95), -key_from, rng.uniform(0.3, 2.5)
    )
    points3 = camera[model.keypoints].copy()
    points3[:17] = march_jaw(model, camera, focal, size)
    points = project(points3, focal, size)
    visible = _visible(points3, points, depth)
    done = _synth_augment.finish_render(rng, rgba, points, visible, yaw, roll, occlusion=0.2)
    return _folder.rendered_sample(
        f"profile_{index:06d}",
        done.pixels,
        done.points,
        (done.yaw, pitch, done.roll),
        done.visible,
        done.occluded,
        SOURCE,
        texture_from=texture.name,
        seed=seed,
        index=index,
    )


def _visible(points3: np.ndarray, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
    from asmnet_edge.data._render import visible_points

    return visible_points(points3, pixels, depth, VISIBILITY_TOLERANCE_MM)


def profile_dataset(
    sources: list[str | Path],
    out_dir: str | Path,
    count: int,
    seed: int = 0,
    size: int = 256,
    progress: bool = True,
) -> ProfileResult:
    """Fit the faces of ``sources`` (300W-style folders); render ``count`` profiled images into ``out_dir``.

    Raises :class:`DataError` when no source face can be fitted.
    """
    if count < 0 or size < 64:
        raise DataError(f"count must be >= 0 and size >= 64 (got count={count}, size={size})")
    began = time.perf_counter()
    model = load_face_model()
    samples = [sample for folder in sources for sample in read_dataset(folder)]
    faces, rejected = fit_sources(samples, model)
    if not faces:
        raise DataError(f"none of the {len(samples)} faces in {[str(s) for s in sources]} could be fitted")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rendered = skipped = 0
    for index in range(count):
        name = f"profile_{index:06d}"
        if _folder.is_finished(folder, name):
            skipped += 1
            continue
        _folder.write_sample(folder, make_sample(index, seed, size, faces, model))
        rendered += 1
        done = rendered + skipped
        if progress and (done % 100 == 0 or done == count):
            rate = (time.perf_counter() - began) / max(rendered, 1)
            print(f"profile {done}/{count} rendered={rendered} {rate:.3f}s/img", file=sys.stderr, flush=True)
        if done % 500 == 0:
            _folder.rebuild_poses_csv(folder)
    _folder.rebuild_poses_csv(folder)
    return ProfileResult(folder, len(faces), rejected, rendered, skipped, time.perf_counter() - began)
