"""300W ``.pts`` landmark files: 1-based pixel coordinates on disk, 0-based in memory.

>>> import tempfile, pathlib, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "face.pts"
>>> write_pts(path, np.array([[0.0, 1.5], [10.0, 20.0]]))
>>> path.read_text().splitlines()[:4]
['version: 1', 'n_points: 2', '{', '1.000 2.500']
>>> read_pts(path).tolist()
[[0.0, 1.5], [10.0, 20.0]]
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from asmnet_edge._atomic import atomic_write_text
from asmnet_edge.errors import DataError


def read_pts(path: str | os.PathLike[str], expected_points: int | None = None) -> np.ndarray:
    """Read a ``.pts`` file into an (n, 2) float64 array of 0-based pixel coordinates."""
    source = Path(path)
    try:
        lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read landmark file {source}: {err}") from err
    lines = [line for line in lines if line]
    try:
        header = dict(line.split(":", 1) for line in lines[: lines.index("{")])
        count = int(header["n_points"])
        body = lines[lines.index("{") + 1 : lines.index("}")]
        points = np.array([[float(value) for value in row.split()] for row in body], dtype=np.float64)
    except (ValueError, KeyError) as err:
        raise DataError(
            f"malformed .pts file {source}: expected 'version', 'n_points: N' and N 'x y' rows between "
            f"braces ({err})"
        ) from err
    if points.shape != (count, 2):
        raise DataError(f"malformed .pts file {source}: header says {count} points, found {points.shape[0]}")
    if expected_points is not None and count != expected_points:
        raise DataError(f"{source} has {count} landmarks, the model expects {expected_points}")
    if not np.all(np.isfinite(points)):
        raise DataError(f"{source} contains non-finite coordinates")
    return points - 1.0


def write_pts(path: str | os.PathLike[str], points: np.ndarray) -> None:
    """Write 0-based (n, 2) ``points`` as a 1-based ``.pts`` file, atomically."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise DataError(f"points must be an (n, 2) array, got shape {pts.shape}")
    rows = "\n".join(f"{x + 1.0:.3f} {y + 1.0:.3f}" for x, y in pts)
    atomic_write_text(path, f"version: 1\nn_points: {len(pts)}\n{{\n{rows}\n}}\n")
