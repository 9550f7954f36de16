"""Reading frames of a video file: the one reader the dataset tools, the exporters and the benchmarks share.

Needs OpenCV. Frames come out as uint8 (H, W, 3) in ``color`` order ("rgb" by default, the package's
image contract; "bgr" for code that hands frames to OpenCV or to ``FaceTracker.update(color="bgr")``).
(The live ``predict`` loop in :mod:`asmnet_edge.runtime.media` reads its cameras and files itself: it
must survive odd frames and Ctrl-C mid-stream.)

>>> wanted = evenly_spaced(frame_count("clip.mp4"), 3)  # doctest: +SKIP
>>> frames = list(video_frames("clip.mp4", indices=wanted))  # doctest: +SKIP
>>> [index for index, _ in frames]  # doctest: +SKIP
[0, 74, 149]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from asmnet_edge._lazy import require
from asmnet_edge.errors import InputImageError
from asmnet_edge.runtime.image import COLORS


def _cv2() -> Any:
    return require("cv2", extra="runtime", purpose="reading video files")


def frame_count(path: str | os.PathLike[str]) -> int:
    """The number of frames the container announces; :class:`InputImageError` if it does not open."""
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
    if total <= 0:
        raise InputImageError(f"{path} is not a readable video")
    return total


def evenly_spaced(total: int, count: int) -> list[int]:
    """Up to ``count`` distinct frame indices spread over ``total`` frames, first and last included.

    >>> evenly_spaced(100, 3), evenly_spaced(2, 5)
    ([0, 50, 99], [0, 1])
    """
    return sorted({round(index) for index in np.linspace(0, total - 1, min(count, total))})


def video_frames(
    path: str | os.PathLike[str],
    indices: Sequence[int] | None = None,
    limit: int | None = None,
    color: str = "rgb",
) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` of a video file: every frame in order (at most ``limit``), or the frames at
    ``indices`` (seeked; one that cannot be read is left out)."""
    if color not in COLORS:
        raise InputImageError(f"color must be one of {COLORS}, got {color!r}")
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise InputImageError(f"cannot open video file {path}: check the path and OpenCV's codecs")
    try:
        if indices is None:
            index = 0
            while limit is None or index < limit:
                grabbed, frame = capture.read()
                if not grabbed:
                    break
                yield index, _in_color(cv2, frame, color)
                index += 1
            return
        for index in indices:
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            grabbed, frame = capture.read()
            if grabbed:
                yield int(index), _in_color(cv2, frame, color)
    finally:
        capture.release()


def _in_color(cv2: Any, frame: np.ndarray, color: str) -> np.ndarray:
    return frame if color == "bgr" else cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
