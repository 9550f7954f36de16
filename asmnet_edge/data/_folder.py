"""Writing a 300W-style labelled folder: ``<name>.jpg`` + ``<name>.pts`` + ``<name>.pose.json``, and
``poses.csv`` rebuilt from the sidecars.

Order of writes per sample, each atomic: image, then ``.pts``, then the sidecar. A sample counts as
finished only when its sidecar exists, so a killed run resumed with the same arguments redoes at most
the one sample it was writing, and ``poses.csv`` (rebuilt at the end) never lists a half-written sample.

>>> import tempfile, pathlib, numpy as np
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> sample = Sample("a", b"jpeg", np.zeros((68, 2)), (1.0, 2.0, 3.0), "1" * 68, "test")
>>> write_sample(folder, sample)
>>> is_finished(folder, "a"), rebuild_poses_csv(folder)
(True, 1)
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._atomic import atomic_write_bytes, atomic_write_text
from asmnet_edge.data.pts import write_pts

POSES_HEADER = ("file", "yaw", "pitch", "roll", "visible", "source")
IMAGE_SUFFIX = ".jpg"


@dataclass(frozen=True)
class Sample:
    """One labelled image: encoded bytes, 0-based (68, 2) points, (yaw, pitch, roll) in degrees."""

    name: str
    image_bytes: bytes
    points: np.ndarray
    pose: tuple[float, float, float]
    visible: str
    source: str
    extra: dict[str, Any] = field(default_factory=dict)


def sidecar_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.pose.json"


def is_finished(folder: Path, name: str) -> bool:
    """True when the sample's image, .pts and sidecar all exist (the sidecar is written last)."""
    return (
        sidecar_path(folder, name).is_file()
        and (folder / f"{name}{IMAGE_SUFFIX}").is_file()
        and (folder / f"{name}.pts").is_file()
    )


def write_sample(folder: Path, sample: Sample) -> None:
    """Write image, .pts, then sidecar, each atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / f"{sample.name}{IMAGE_SUFFIX}", sample.image_bytes)
    write_pts(folder / f"{sample.name}.pts", sample.points)
    yaw, pitch, roll = sample.pose
    record = {
        "file": f"{sample.name}{IMAGE_SUFFIX}",
        "yaw": round(float(yaw), 4),
        "pitch": round(float(pitch), 4),
        "roll": round(float(roll), 4),
        "visible": sample.visible,
        "source": sample.source,
        **sample.extra,
    }
    atomic_write_text(sidecar_path(folder, sample.name), json.dumps(record, sort_keys=True) + "\n")


def read_sidecars(folder: Path) -> list[dict[str, Any]]:
    """All finished samples' sidecar records, sorted by file name."""
    records = []
    for path in sorted(folder.glob("*.pose.json")):
        name = path.name[: -len(".pose.json")]
        if is_finished(folder, name):
            records.append(json.loads(path.read_text()))
    return records


def rebuild_poses_csv(folder: Path) -> int:
    """Rewrite ``poses.csv`` from the sidecars; returns the number of rows."""
    records = read_sidecars(folder)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(POSES_HEADER)
    for record in records:
        writer.writerow(
            [
                record["file"],
                f"{record['yaw']:.4f}",
                f"{record['pitch']:.4f}",
                f"{record['roll']:.4f}",
                record["visible"],
                record["source"],
            ]
        )
    atomic_write_text(folder / "poses.csv", buffer.getvalue())
    return len(records)


def encode_jpeg(image_rgb: np.ndarray, quality: int = 95) -> bytes:
    """JPEG bytes of an RGB uint8 image (OpenCV's encoder is deterministic, so resumed runs match)."""
    import cv2

    ok, encoded = cv2.imencode(IMAGE_SUFFIX, image_rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG")
    return encoded.tobytes()


def rendered_sample(
    name: str,
    pixels: np.ndarray,
    points: np.ndarray,
    pose: tuple[float, float, float],
    visible: np.ndarray,
    occluded: np.ndarray,
    source: str,
    **extra: Any,
) -> Sample:
    """A rendered face as a :class:`Sample`: JPEG pixels, per-point visible / occluded flags as "0"/"1"
    strings (the sidecar's format), and whatever else the renderer records in ``extra``."""
    return Sample(
        name=name,
        image_bytes=encode_jpeg(pixels),
        points=points,
        pose=pose,
        visible=_flags(visible),
        source=source,
        extra={"occluded": _flags(occluded), **extra},
    )


def _flags(mask: np.ndarray) -> str:
    return "".join("1" if flag else "0" for flag in mask)
