"""Image files and videos in, annotated files and per-face results out (what ``asmnet-edge predict`` runs).

Needs OpenCV (image/video decoding and drawing). Output files are written atomically.

>>> aligner = FaceAligner.from_file("model.tflite")  # doctest: +SKIP
>>> annotate_image_file(aligner, "photo.jpg", "out/")["faces"][0]["pose_deg"]  # doctest: +SKIP
{'yaw': 3.1, 'pitch': -2.0, 'roll': 0.4}
>>> run_video(aligner, "clip.mp4", save_path="clip_annotated.mp4").fps  # doctest: +SKIP
140.2
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge._atomic import atomic_path, atomic_write_bytes
from asmnet_edge._lazy import require
from asmnet_edge.errors import ConfigError, InputImageError
from asmnet_edge.runtime.aligner import Face, FaceAligner
from asmnet_edge.runtime.draw import draw_faces, draw_text
from asmnet_edge.runtime.image import load_image
from asmnet_edge.runtime.tracking import DEFAULT_REDETECT_INTERVAL, FaceTracker

VIDEO_CODECS = {".avi": "MJPG", ".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "MJPG"}


def annotate_image_file(aligner: FaceAligner, path: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Predict on one image file, write ``<out_dir>/<stem>_asmnet.<png|jpg>``, return the faces as JSON."""
    cv2 = _cv2()
    source = Path(path)
    rgb = load_image(source)
    faces = aligner.predict(rgb)
    pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # drawn and encoded in OpenCV's channel order
    drawn = draw_faces(pixels, faces, inplace=True)
    suffix = ".jpg" if source.suffix.lower() in (".jpg", ".jpeg") else ".png"
    target = Path(out_dir) / f"{source.stem}_asmnet{suffix}"
    encoded_ok, encoded = cv2.imencode(suffix, drawn)
    if not encoded_ok:
        raise InputImageError(f"OpenCV could not encode {target.name}")
    atomic_write_bytes(target, encoded.tobytes())
    return {
        "path": str(source),
        "output": str(target),
        "width": int(pixels.shape[1]),
        "height": int(pixels.shape[0]),
        "faces": [face.to_dict() for face in faces],
    }


@dataclass
class VideoResult:
    """What one video run did; ``fps`` counts the aligner/tracker time only, ``wall_fps`` everything."""

    source: str
    frames: int = 0
    seconds_pipeline: float = 0.0
    seconds_wall: float = 0.0
    frames_with_face: int = 0
    output: str | None = None
    tracker: dict[str, Any] = field(default_factory=dict)
    per_frame: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # frames that could not be used, and why
    interrupted: bool = False  # stopped by Ctrl-C: what was processed (and written) is kept

    @property
    def fps(self) -> float:
        return self.frames / self.seconds_pipeline if self.seconds_pipeline else 0.0

    @property
    def wall_fps(self) -> float:
        return self.frames / self.seconds_wall if self.seconds_wall else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "fps": round(self.fps, 1),
            "wall_fps": round(self.wall_fps, 1),
            "output": self.output,
            "tracker": self.tracker,
            "per_frame": self.per_frame,
            "skipped_frames": self.skipped,
            "interrupted": self.interrupted,
        }


def run_video(
    aligner: FaceAligner,
    source: str | int,
    save_path: str | Path | None = None,
    show: bool = False,
    max_frames: int | None = None,
    tracking: bool = True,
    redetect_interval: int = DEFAULT_REDETECT_INTERVAL,
    on_frame: Callable[[int, list[Face]], None] | None = None,
) -> VideoResult:
    """Align every frame of a video file or camera index, with tracking; optionally save/show it."""
    cv2 = _cv2()
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        kind = "camera" if isinstance(source, int) else "video file"
        raise InputImageError(f"cannot open {kind} {source!r}: check the path/index and OpenCV's codecs")
    fps_in = capture.get(cv2.CAP_PROP_FPS) or 30.0
    tracker = FaceTracker(aligner, redetect_interval=redetect_interval, fps=fps_in) if tracking else None
    result = VideoResult(source=str(source))
    writer: Any = None
    writer_size: tuple[int, ...] | None = None
    size: tuple[int, ...] | None = None
    start_wall = time.perf_counter()
    try:
        with _maybe_atomic(save_path) as temp_path:
            while max_frames is None or result.frames < max_frames:
                try:
                    grabbed, frame = capture.read()
                except KeyboardInterrupt:
                    result.interrupted = True
                    break
                if not grabbed:  # end of the file, or a camera that went away: keep what was done
                    break
                start = time.perf_counter_ns()
                try:
                    if (
                        tracker is not None
                        and size is not None
                        and frame is not None
                        and frame.shape[:2] != size
                    ):
                        tracker.reset()  # the stream changed resolution: boxes of the old size mean nothing
                    faces = (
                        tracker.update(frame, color="bgr") if tracker else aligner.predict(frame, color="bgr")
                    )
                except InputImageError as err:  # an empty, truncated or odd frame: skip it, say so
                    result.skipped.append({"read": result.frames + len(result.skipped), "reason": str(err)})
                    continue
                size = frame.shape[:2]
                elapsed = (time.perf_counter_ns() - start) / 1e9
                result.seconds_pipeline += elapsed
                result.frames += 1
                result.frames_with_face += bool(faces)
                result.per_frame.append(
                    {"index": result.frames - 1, "faces": [_brief(face) for face in faces]}
                )
                if on_frame is not None:
                    on_frame(result.frames - 1, faces)
                if temp_path is None and not show:
                    continue
                drawn = draw_faces(frame, faces, inplace=True)
                draw_text(drawn, f"{1.0 / max(elapsed, 1e-9):.0f} fps ({len(faces)} face)")
                if temp_path is not None:
                    writer = writer or _writer(cv2, temp_path, fps_in, drawn.shape[1], drawn.shape[0])
                    writer.write(_fit(cv2, drawn, writer_size := writer_size or drawn.shape[:2]))
                if show and _show(cv2, drawn):
                    break
            if result.frames == 0:
                raise InputImageError(f"no frame could be read from {source!r}")
            if writer is not None:
                writer.release()
                writer = None
    finally:
        capture.release()
        if writer is not None:
            writer.release()
    result.seconds_wall = time.perf_counter() - start_wall
    result.output = str(save_path) if save_path is not None and result.frames else None
    if tracker is not None:
        stats = tracker.stats
        result.tracker = {"detections": stats.detections, "lost": stats.lost, "reasons": dict(stats.reasons)}
    return result


def _fit(cv2: Any, image: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    """A 3-channel BGR frame at the video writer's size (a stream that changes resolution or channel
    count is scaled and converted to its first frame's shape)."""
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.shape[:2] == tuple(size[:2]):
        return image
    return cv2.resize(image, (int(size[1]), int(size[0])), interpolation=cv2.INTER_AREA)


def _show(cv2: Any, image: np.ndarray) -> bool:
    """Show a frame; True when the user pressed q or Esc."""
    try:
        cv2.imshow("asmnet-edge", image)
        return bool(cv2.waitKey(1) & 0xFF in (27, ord("q")))
    except cv2.error as err:
        raise ConfigError(
            "--show needs an OpenCV build with GUI support (pip install opencv-python instead of "
            f"opencv-python-headless); run without --show to stay headless ({str(err).strip()[:80]})"
        ) from err


def _brief(face: Face) -> dict[str, Any]:
    return {
        "pose_deg": [round(float(value), 2) for value in face.pose_deg],
        "box": [round(value, 1) for value in face.box.as_list()],
        "score": round(face.score, 3),
    }


def _writer(cv2: Any, path: Path, fps: float, width: int, height: int) -> Any:
    codec = VIDEO_CODECS.get(path.suffix.lower(), "mp4v")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (width, height))
    if not writer.isOpened():
        raise InputImageError(f"OpenCV cannot write {path.suffix} video with codec {codec}: try .avi (MJPG)")
    return writer


class _maybe_atomic:  # noqa: N801 - used like a function
    def __init__(self, path: str | Path | None) -> None:
        self._context = atomic_path(path) if path is not None else None

    def __enter__(self) -> Path | None:
        return self._context.__enter__() if self._context is not None else None

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)  # type: ignore[arg-type]


def _cv2() -> Any:
    return require("cv2", extra="runtime", purpose="reading and writing images and videos")


def synthetic_motion_frames(
    rgb: np.ndarray, count: int, size: tuple[int, int] = (640, 480)
) -> list[np.ndarray]:
    """Frames of a real photo moving smoothly (pan, zoom, small rotation) at ``size``: a test video.

    >>> frames = synthetic_motion_frames(np.zeros((100, 100, 3), np.uint8), 3, (64, 48))
    >>> len(frames), frames[0].shape
    (3, (48, 64, 3))
    """
    cv2 = _cv2()
    width, height = size
    base = min(width / rgb.shape[1], height / rgb.shape[0])
    frames = []
    for index in range(count):
        phase = 2 * np.pi * index / max(count, 1)
        zoom = base * (1.0 + 0.15 * np.sin(phase))
        angle = 8.0 * np.sin(2 * phase)
        matrix = cv2.getRotationMatrix2D((rgb.shape[1] / 2, rgb.shape[0] / 2), angle, zoom)
        matrix[0, 2] += width / 2 - rgb.shape[1] / 2 + 40 * np.sin(phase)
        matrix[1, 2] += height / 2 - rgb.shape[0] / 2 + 20 * np.cos(phase)
        frames.append(cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT))
    return frames
