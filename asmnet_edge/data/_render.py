"""The james face scan shipped by ``menpo3d``, in the project's frontal frame, and an offscreen renderer.

What this module decides, and why:

* **iBUG order.** ``james.ljson`` groups its 68 points as chin, eyes, brows, nose, mouth; ``IBUG_FROM_LJSON``
  re-indexes them to iBUG-68 (0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 mouth).
* **Frontal frame.** The scan's own axes are not frontal. ``SCAN_OFFSET_DEG`` is the pose of the raw scan:
  yaw and roll from the left/right symmetry of the 51 inner landmarks (the rotation that makes them best
  mirror-symmetric about x = 0), pitch from aligning those landmarks (scale + rotation about the head's
  x-axis) to the ``template.ply`` landmarks of ``menpo3d`` after the same symmetry correction of the
  template. ``estimate_scan_offset`` recomputes it; a test checks it matches the constant.
* **Jaw.** The scan's jaw points are fixed surface points; 300W labels the jaw on the visible face
  outline. ``march_jaw`` moves each jaw point (except the chin) along its horizontal parallel on the
  head toward the face centre, to the vertex that lies furthest outward in the image (3DDFA / 300W-LP
  "landmark marching"), so the turned-away side follows the cheek silhouette. The points it starts from
  are not the scan's surface jaw points but ``JAW_ANCHOR_VERTICES``: the scan vertices where dlib's
  300W-trained predictor puts the jaw on 15 near-frontal renders (``teacher.calibrate_jaw_anchors``).
  Measured against dlib on 18 renders (yaw -40..40°, pitch ±12°, 320 px), mean jaw error / outer-eye
  distance: surface points 14.4 %, anchors + marching 7.2 %; the inner 51 points agree to 4.0 %.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._lazy import package_file
from asmnet_edge.data._headpose import FLIP_68, rotation_from_pose
from asmnet_edge.errors import DataError, MissingDependencyError
from asmnet_edge.runtime.contract import INNER_51

# PyOpenGL binds its platform on first import, wherever that happens: ask for OSMesa (headless) before
# anything can import pyrender, unless the user chose a platform (e.g. egl)
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

IBUG_FROM_LJSON: tuple[int, ...] = tuple(
    list(range(0, 17))
    + list(range(29, 34))
    + list(range(43, 48))
    + list(range(34, 43))
    + list(range(17, 23))
    + list(range(23, 29))
    + list(range(48, 68))
)
# (yaw, pitch, roll) of the raw scan in the project convention; see estimate_scan_offset
SCAN_OFFSET_DEG: tuple[float, float, float] = (6.5, -7.0, 0.7)
JAW_BAND = 6.0  # half-height (scan units, about mm) of the horizontal strip a jaw point marches along
# james.obj vertices that serve as the 300W-style jaw in a frontal view (iBUG points 0-16); see the
# module docstring and asmnet_edge.data.teacher.calibrate_jaw_anchors, which recomputes them
JAW_ANCHOR_VERTICES: tuple[int, ...] = (
    941,
    5307,
    2626,
    3126,
    5,
    1502,
    2375,
    2369,
    4769,
    4785,
    4790,
    3902,
    4475,
    5847,
    6375,
    824,
    4109,
)
MENPO3D_INSTALL = "pip install cython && pip install --no-deps --no-build-isolation menpo3d==0.8.6"


class ScanMissingError(MissingDependencyError):
    """menpo3d (which ships the face scan) is not installed; it needs a special install command."""

    def __init__(self) -> None:
        self.module, self.extra, self.purpose = "menpo3d", "synth", "rendering synthetic faces"
        Exception.__init__(
            self,
            "rendering synthetic faces needs the face scan shipped by 'menpo3d', which is not installed: "
            f"pip install 'asmnet-edge[synth]' and then {MENPO3D_INSTALL}",
        )


def menpo3d_data_dir() -> Path:
    """Folder of the installed ``menpo3d`` package's data files, found without importing menpo3d.

    >>> menpo3d_data_dir().joinpath("james.obj").is_file()  # doctest: +SKIP
    True
    """
    scan = package_file("menpo3d", "data/james.obj")
    if scan is None:
        raise ScanMissingError()
    return scan.parent


def _ljson_points(path: Path) -> np.ndarray:
    document = json.loads(path.read_text())
    group = next(iter(document["groups"].values()))
    return np.asarray(group["landmarks"]["points"], dtype=np.float64)


def _symmetry_yaw_roll(points: np.ndarray) -> tuple[float, float]:
    from scipy.optimize import minimize

    centred = points - points.mean(axis=0)
    inner = list(INNER_51)

    def asymmetry(angles: np.ndarray) -> float:
        upright = centred @ rotation_from_pose(angles[0], 0.0, angles[1])
        mirrored = upright[list(FLIP_68)] * np.array([-1.0, 1.0, 1.0])
        return float(((upright - mirrored)[inner] ** 2).sum())

    best = minimize(asymmetry, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-4})
    return float(best.x[0]), float(best.x[1])


def estimate_scan_offset(data_dir: Path | None = None) -> tuple[float, float, float]:
    """Measure the raw james scan's (yaw, pitch, roll) in degrees; see the module docstring.

    >>> [round(angle) for angle in estimate_scan_offset()]  # doctest: +SKIP
    [6, -7, 1]
    """
    folder = data_dir or menpo3d_data_dir()
    james = _ljson_points(folder / "james.ljson")[list(IBUG_FROM_LJSON)]
    template = _ljson_points(folder / "template.ljson")
    yaw, roll = _symmetry_yaw_roll(james)
    template_yaw, template_roll = _symmetry_yaw_roll(template)
    reference = (template - template.mean(0)) @ rotation_from_pose(template_yaw, 0.0, template_roll)
    reference = reference[list(INNER_51)]
    centred = james - james.mean(0)

    def misfit(pitch: float) -> float:
        frontal = (centred @ rotation_from_pose(yaw, pitch, roll))[list(INNER_51)]
        scale = (frontal * reference).sum() / (frontal * frontal).sum()
        return float(((scale * frontal - reference) ** 2).sum())

    pitches = np.arange(-30.0, 30.0, 0.05)
    pitch = float(pitches[int(np.argmin([misfit(value) for value in pitches]))])
    return yaw, pitch, roll


@dataclass(frozen=True)
class Scan:
    """The textured scan in the frontal frame (origin = landmark centroid, units about mm)."""

    vertices: np.ndarray  # (n, 3)
    faces: np.ndarray  # (m, 3)
    uv: np.ndarray  # (n, 2)
    texture: Any  # PIL image
    landmarks: np.ndarray  # (68, 3), iBUG order, the scan's own surface points
    contour_jaw: np.ndarray  # (17, 3), 300W-style jaw anchors (see JAW_ANCHOR_VERTICES)
    jaw_candidates: tuple[np.ndarray, ...]  # vertex indices each jaw point may march to


def _jaw_candidates(vertices: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, ...]:
    candidates = []
    for index in range(17):
        point = landmarks[index]
        if index == 8:  # the chin sits on the midline: no horizontal parallel to march along
            candidates.append(np.zeros(0, dtype=np.int64))
            continue
        same_side = np.sign(vertices[:, 0]) == np.sign(point[0])
        # medial half of the parallel only: further out lie the ears and the back of the head
        between = (np.abs(vertices[:, 0]) <= abs(point[0])) & (np.abs(vertices[:, 0]) >= 0.5 * abs(point[0]))
        in_band = np.abs(vertices[:, 1] - point[1]) <= JAW_BAND
        in_front = vertices[:, 2] >= point[2] - 5.0
        candidates.append(np.flatnonzero(same_side & between & in_band & in_front))
    return tuple(candidates)


@functools.lru_cache(maxsize=1)
def load_james() -> Scan:
    """Load ``james.obj`` + ``james.ljson`` from the installed menpo3d, in the frontal frame.

    >>> load_james().landmarks.shape  # doctest: +SKIP
    (68, 3)
    """
    trimesh = _require("trimesh")
    folder = menpo3d_data_dir()
    mesh = trimesh.load(folder / "james.obj", process=False)
    landmarks = _ljson_points(folder / "james.ljson")[list(IBUG_FROM_LJSON)]
    centre = landmarks.mean(axis=0)
    # row vectors: v_frontal = R_offset^T v_raw  <=>  v_raw_rows @ R_offset
    to_frontal = rotation_from_pose(*SCAN_OFFSET_DEG)
    vertices = (np.asarray(mesh.vertices) - centre) @ to_frontal
    frontal_landmarks = (landmarks - centre) @ to_frontal
    return Scan(
        vertices=vertices,
        faces=np.asarray(mesh.faces),
        uv=np.asarray(mesh.visual.uv),
        texture=mesh.visual.material.image.convert("RGB"),
        landmarks=frontal_landmarks,
        contour_jaw=vertices[list(JAW_ANCHOR_VERTICES)],
        jaw_candidates=_jaw_candidates(vertices, vertices[list(JAW_ANCHOR_VERTICES)]),
    )


def _require(module: str) -> Any:
    from asmnet_edge._lazy import require

    return require(module, extra="synth", purpose="rendering synthetic faces")


def march_jaw(scan: Scan, rotation: np.ndarray, translation: np.ndarray, focal: float) -> np.ndarray:
    """Camera-frame 3-D jaw points moved to the face outline (see the module docstring). Returns (17, 3).

    >>> import numpy as np
    >>> scan = load_james()  # doctest: +SKIP
    >>> march_jaw(scan, np.eye(3), np.array([0, 0, -600.0]), 500.0).shape  # doctest: +SKIP
    (17, 3)
    """
    jaw = scan.contour_jaw @ rotation.T + translation
    head_x = rotation[:, 0]  # the head's left-right axis in the camera frame
    for index, candidates in enumerate(scan.jaw_candidates):
        if candidates.size == 0:
            continue
        points = np.vstack([scan.vertices[candidates] @ rotation.T + translation, jaw[index]])
        image_x = focal * points[:, 0] / -points[:, 2]
        image_y = focal * points[:, 1] / -points[:, 2]
        outward = np.array([head_x[0], head_x[1]]) * np.sign(scan.contour_jaw[index, 0])
        norm = np.linalg.norm(outward)
        if norm < 1e-6:  # head seen exactly side-on: the parallel collapses, keep the surface point
            continue
        score = (image_x * outward[0] + image_y * outward[1]) / norm
        jaw[index] = points[int(np.argmax(score))]
    return jaw


class Renderer:
    """An OSMesa offscreen renderer holding one scene with the scan, a camera and two lights.

    >>> renderer = Renderer(128)  # doctest: +SKIP
    >>> color, depth = renderer.render(np.eye(4), 0.5, [1, 1, 1], 3.0, np.eye(4), 0.3)  # doctest: +SKIP
    """

    def __init__(self, size: int) -> None:
        import sys

        if "tensorflow" in sys.modules:
            # measured: OSMesa's LLVM and TensorFlow's clash, and the first draw segfaults
            raise DataError(
                "synthetic rendering cannot run in a process that has imported TensorFlow (OSMesa "
                "crashes there): run 'asmnet-edge data synth' on its own"
            )
        pyrender = _require("pyrender")
        scan = load_james()
        trimesh = _require("trimesh")
        visuals = trimesh.visual.TextureVisuals(uv=scan.uv, image=scan.texture)
        mesh = trimesh.Trimesh(scan.vertices, scan.faces, visual=visuals, process=False)
        self.material = pyrender.MetallicRoughnessMaterial(
            baseColorTexture=pyrender.Texture(source=scan.texture, source_channels="RGB"),
            metallicFactor=0.0,
            roughnessFactor=0.8,
        )
        self.size = size
        self.pyrender = pyrender
        self.scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0], ambient_light=[0.3, 0.3, 0.3])
        self.head = self.scene.add(pyrender.Mesh.from_trimesh(mesh, material=self.material))
        self.camera = pyrender.PerspectiveCamera(yfov=0.5, aspectRatio=1.0)
        self.scene.add(self.camera, pose=np.eye(4))
        self.key_light = pyrender.DirectionalLight(color=np.ones(3), intensity=3.0)
        self.fill_light = pyrender.DirectionalLight(color=np.ones(3), intensity=1.0)
        self.key_node = self.scene.add(self.key_light, pose=np.eye(4))
        self.fill_node = self.scene.add(self.fill_light, pose=np.eye(4))
        self.offscreen = pyrender.OffscreenRenderer(size, size)
        _reuse_shader_programs(self.offscreen)

    def render(self, view: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """Render one view; returns RGBA uint8 (size, size, 4) and linear depth (0 = background)."""
        self.camera.yfov = float(view["yfov"])
        head = np.eye(4)
        head[:3, :3] = view["rotation"]
        head[:3, 3] = view["translation"]
        self.scene.set_pose(self.head, head)
        self.scene.ambient_light = np.asarray(view["ambient"], dtype=np.float64)
        self.material.roughnessFactor = float(view["roughness"])
        lights = ((self.key_light, self.key_node, "key"), (self.fill_light, self.fill_node, "fill"))
        for light, node, key in lights:
            light.color = np.asarray(view[f"{key}_color"], dtype=np.float64)
            light.intensity = float(view[f"{key}_intensity"])
            self.scene.set_pose(node, _light_pose(np.asarray(view[f"{key}_direction"], dtype=np.float64)))
        # OSMesa has no framebuffer objects, so pyrender returns RGB only: coverage comes from the depth
        color, depth = self.offscreen.render(self.scene)
        coverage = np.where(depth > 0, 255, 0).astype(np.uint8)
        return np.dstack([np.asarray(color)[:, :, :3], coverage]), np.asarray(depth)

    def close(self) -> None:
        self.offscreen.delete()


def _reuse_shader_programs(offscreen: Any) -> None:
    """Make pyrender reuse its compiled shaders under OSMesa.

    pyrender keys its shader cache on ``OpenGL.contextdata.getContext()``, which under OSMesa returns a
    new pointer object on every call: every frame then compiled a fresh program and leaked about 3.5 MB
    (10 GB over 2,600 renders). One renderer owns one context, so the key can leave the context out.
    """
    cache = getattr(getattr(offscreen, "_renderer", None), "_program_cache", None)
    if cache is None or not hasattr(cache, "get_program"):
        return
    compiled: dict[tuple[Any, ...], Any] = {}
    build = cache.get_program

    def get_program(
        vertex_shader: str,
        fragment_shader: str,
        geometry_shader: str | None = None,
        defines: dict[str, Any] | None = None,
    ) -> Any:
        key = (vertex_shader, fragment_shader, geometry_shader, tuple(sorted((defines or {}).items())))
        if key not in compiled:
            compiled[key] = build(vertex_shader, fragment_shader, geometry_shader, defines)
        return compiled[key]

    cache.get_program = get_program


def _light_pose(toward: np.ndarray) -> np.ndarray:
    """Node pose of a directional light shining along ``toward`` (a light shines along its -z axis)."""
    back = -toward / np.linalg.norm(toward)
    helper = np.array([0.0, 1.0, 0.0]) if abs(back[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(helper, back)
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([right, np.cross(back, right), back])
    return pose


def project(points: np.ndarray, focal: float, size: int) -> np.ndarray:
    """Camera-frame 3-D points to 0-based pixel coordinates (pixel i's centre is at i).

    >>> import numpy as np
    >>> project(np.array([[0.0, 0.0, -100.0]]), 200.0, 128).tolist()
    [[63.5, 63.5]]
    """
    depth = -points[:, 2]
    column = size / 2 + focal * points[:, 0] / depth - 0.5
    row = size / 2 - focal * points[:, 1] / depth - 0.5
    return np.column_stack([column, row])


def visible_points(
    points_camera: np.ndarray, pixels: np.ndarray, depth: np.ndarray, tolerance: float
) -> np.ndarray:
    """Z-buffer test: a point is visible if nothing in its 3x3 pixel neighbourhood lies clearly in front.

    >>> import numpy as np
    >>> visible_points(np.array([[0, 0, -10.0]]), np.array([[1.0, 1.0]]), np.full((3, 3), 5.0), 1.0).tolist()
    [False]
    """
    height, width = depth.shape
    result = np.zeros(len(points_camera), dtype=bool)
    zbuffer = np.where(depth > 0, depth, np.inf)
    for index, ((column, row), point) in enumerate(zip(pixels, points_camera, strict=True)):
        col, line = int(round(column)), int(round(row))
        if not (0 <= col < width and 0 <= line < height):
            continue
        window = zbuffer[max(line - 1, 0) : line + 2, max(col - 1, 0) : col + 2]
        result[index] = -point[2] <= window.max() + tolerance
    return result
