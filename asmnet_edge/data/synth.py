"""Synthetic training faces with exact labels: renders of the menpo3d james scan in a 300W-style folder.

Each image ``synth_<index>.jpg`` comes with ``.pts`` (68 iBUG points, 1-based pixels), a sidecar
``.pose.json`` and a row in ``poses.csv`` (yaw, pitch, roll in degrees, project convention; ``visible`` =
68 '0'/'1' from a z-buffer test, self-occlusion only; points under a drawn occluder are listed in the
sidecar's ``occluded``). Image ``index`` depends only on ``(seed, index, size)``. Jaw points are moved to
the face outline (see ``asmnet_edge.data._render``); the scan's own surface jaw points are kept in the
sidecar as ``surface_jaw`` (0-based pixels).

>>> result = render_dataset("/tmp/synth_demo", count=2, size=128, progress=False)  # doctest: +SKIP
>>> result.rendered + result.skipped  # doctest: +SKIP
2
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
from asmnet_edge.data._render import Renderer, load_james, march_jaw, project, visible_points
from asmnet_edge.errors import DataError

SOURCE = "synth-james"
VISIBILITY_TOLERANCE = 6.0  # scan units (about mm): depth slack of the z-buffer test


@dataclass(frozen=True)
class SynthResult:
    """What ``render_dataset`` did: folder, counts and timing."""

    out_dir: Path
    count: int
    rendered: int
    skipped: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        per_image = self.seconds / self.rendered if self.rendered else 0.0
        return {
            "folder": str(self.out_dir),
            "count": self.count,
            "rendered": self.rendered,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 2),
            "seconds_per_image": round(per_image, 4),
        }


@dataclass(frozen=True)
class RenderedFace:
    """One rendered face before augmentation: RGBA image, 0-based points, visibility, depth."""

    rgba: np.ndarray
    points: np.ndarray
    surface_jaw: np.ndarray
    visible: np.ndarray
    depth: np.ndarray


@functools.lru_cache(maxsize=4)
def _renderer(size: int) -> Renderer:
    renderer = Renderer(size)
    # free the GL context before interpreter shutdown, when PyOpenGL can no longer import its handlers
    atexit.register(renderer.close)
    return renderer


def _focal(yfov: float, size: int) -> float:
    return size / 2 / np.tan(yfov / 2)


def _frame_head(
    rng: np.random.Generator, rotation: np.ndarray, size: int, yfov: float, share: float, centred: bool
) -> np.ndarray:
    """Head translation so the landmark box spans ``share`` of the image and keeps a 20 % margin."""
    landmarks = load_james().landmarks @ rotation.T
    focal = _focal(yfov, size)
    extent = float(np.ptp(landmarks[:, :2], axis=0).max())
    distance = focal * extent / (share * size)
    translation = np.array([0.0, 0.0, -distance])
    pixels = project(landmarks + translation, focal, size)
    low, high = pixels.min(axis=0), pixels.max(axis=0)
    margin = 0.2 * float((high - low).max())
    shift = np.zeros(2)
    if not centred:
        for axis in range(2):
            lowest, highest = margin - low[axis], size - 1 - margin - high[axis]
            shift[axis] = rng.uniform(min(lowest, highest), max(lowest, highest))
    translation[:2] = [shift[0] * distance / focal, -shift[1] * distance / focal]
    return translation


def sample_view(rng: np.random.Generator, size: int) -> dict[str, Any]:
    """Random pose, framing and lighting. Yaw: 60 % within ±30°, the rest within ±75°."""
    yaw = rng.uniform(-30, 30) if rng.random() < 0.6 else rng.uniform(-75, 75)
    pitch = float(np.clip(rng.normal(0, 12), -30, 30))
    roll = float(np.clip(rng.normal(0, 12), -30, 30))
    rotation = rotation_from_pose(yaw, pitch, roll)
    yfov = np.radians(rng.uniform(15, 45))
    translation = _frame_head(rng, rotation, size, yfov, rng.uniform(0.28, 0.62), centred=False)
    key_from = np.array([rng.uniform(-1, 1), rng.uniform(-0.6, 1), rng.uniform(0.2, 1.5)])
    fill_from = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 1)])
    warmth = rng.uniform(-0.15, 0.15)
    return {
        "pose": (float(yaw), pitch, roll),
        "rotation": rotation,
        "translation": translation,
        "yfov": yfov,
        "ambient": np.full(3, rng.uniform(0.2, 0.7)) * (1 + rng.uniform(-0.08, 0.08, 3)),
        "roughness": rng.uniform(0.5, 1.0),
        "key_direction": -key_from,
        "key_intensity": rng.uniform(1.5, 6.0),
        "key_color": np.clip(np.array([1 + warmth, 1.0, 1 - warmth]) + rng.uniform(-0.05, 0.05, 3), 0, 1),
        "fill_direction": -fill_from,
        "fill_intensity": rng.uniform(0.0, 2.0),
        "fill_color": np.clip(rng.uniform(0.7, 1.0, 3), 0, 1),
    }


def neutral_view(yaw: float, pitch: float, roll: float, size: int, share: float = 0.5) -> dict[str, Any]:
    """A centred, evenly lit view of a given pose (for checks and tests)."""
    rotation = rotation_from_pose(yaw, pitch, roll)
    yfov = np.radians(25.0)
    translation = _frame_head(np.random.default_rng(0), rotation, size, yfov, share, centred=True)
    return {
        "pose": (yaw, pitch, roll),
        "rotation": rotation,
        "translation": translation,
        "yfov": yfov,
        "ambient": np.full(3, 0.5),
        "roughness": 0.8,
        "key_direction": np.array([0.0, 0.0, -1.0]),
        "key_intensity": 3.0,
        "key_color": np.ones(3),
        "fill_direction": np.array([0.0, -1.0, -1.0]),
        "fill_intensity": 1.0,
        "fill_color": np.ones(3),
    }


def render_view(view: dict[str, Any], size: int) -> RenderedFace:
    """Render a view and label it: marched jaw, projected points, z-buffer visibility.

    >>> face = render_view(neutral_view(0.0, 0.0, 0.0, 128), 128)  # doctest: +SKIP
    >>> face.points.shape, bool(face.visible[30])  # doctest: +SKIP
    ((68, 2), True)
    """
    scan = load_james()
    rgba, depth = _renderer(size).render(view)
    focal = _focal(view["yfov"], size)
    camera_points = scan.landmarks @ view["rotation"].T + view["translation"]
    surface_jaw = project(camera_points[:17], focal, size)
    camera_points[:17] = march_jaw(scan, view["rotation"], view["translation"], focal)
    pixels = project(camera_points, focal, size)
    visible = visible_points(camera_points, pixels, depth, VISIBILITY_TOLERANCE)
    return RenderedFace(rgba=rgba, points=pixels, surface_jaw=surface_jaw, visible=visible, depth=depth)


def render_pose(yaw: float, pitch: float, roll: float, size: int = 128) -> RenderedFace:
    """Centred render of the scan at an exact pose on a black background.

    >>> face = render_pose(30.0, 0.0, 0.0)  # doctest: +SKIP
    >>> # yaw > 0: the nose tip lies right of the eye-corner midpoint
    >>> bool(face.points[30, 0] > face.points[[36, 45], 0].mean())  # doctest: +SKIP
    True
    """
    return render_view(neutral_view(yaw, pitch, roll, size), size)


def make_sample(index: int, seed: int, size: int) -> _folder.Sample:
    """Render and augment image ``index``; depends only on (seed, index, size)."""
    rng = np.random.default_rng([seed, index])
    view = sample_view(rng, size)
    face = render_view(view, size)
    yaw, pitch, roll = view["pose"]
    done = _synth_augment.finish_render(rng, face.rgba, face.points, face.visible, yaw, roll, occlusion=0.25)
    surface_jaw = face.surface_jaw
    if done.mirrored:  # a mirrored james is a second, mirror-symmetric identity
        surface_jaw = np.column_stack([size - 1 - surface_jaw[::-1, 0], surface_jaw[::-1, 1]])
    return _folder.rendered_sample(
        f"synth_{index:06d}",
        done.pixels,
        done.points,
        (done.yaw, pitch, done.roll),
        done.visible,
        done.occluded,
        SOURCE,
        seed=seed,
        index=index,
        surface_jaw=np.round(surface_jaw, 3).tolist(),
    )


def render_dataset(
    out_dir: str | Path, count: int, seed: int = 0, size: int = 384, progress: bool = True, start: int = 0
) -> SynthResult:
    """Render images ``start .. start+count-1`` into a 300W-style folder; finished images are skipped.

    >>> render_dataset("/tmp/synth_demo", count=2, size=128, progress=False).count  # doctest: +SKIP
    2
    """
    if count < 0 or size < 64:
        raise DataError(f"count must be >= 0 and size >= 64 (got count={count}, size={size})")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    rendered = skipped = 0
    for index in range(start, start + count):
        name = f"synth_{index:06d}"
        if _folder.is_finished(folder, name):
            skipped += 1
            continue
        _folder.write_sample(folder, make_sample(index, seed, size))
        rendered += 1
        done = rendered + skipped
        if progress and (done % 50 == 0 or done == count):
            elapsed = time.perf_counter() - began
            rate = elapsed / max(rendered, 1)
            print(
                f"synth {done}/{count} rendered={rendered} skipped={skipped} {rate:.3f}s/img "
                f"eta={rate * (count - done) / 60:.1f}min",
                file=sys.stderr,
                flush=True,
            )
        if done % 250 == 0:  # keep poses.csv usable while a long run is still going
            _folder.rebuild_poses_csv(folder)
    _folder.rebuild_poses_csv(folder)
    return SynthResult(
        out_dir=folder, count=count, rendered=rendered, skipped=skipped, seconds=time.perf_counter() - began
    )
