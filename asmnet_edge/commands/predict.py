"""``asmnet-edge predict``: landmarks and head pose on images, a video file or a camera (headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from asmnet_edge.commands._common import emit, handle_errors, json_option, log
from asmnet_edge.commands._options import library_default, precision_switches, threads_option
from asmnet_edge.runtime.aligner import DETECTORS, FaceAligner
from asmnet_edge.runtime.media import run_video


@click.command("predict")
@click.argument("images", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--model", type=click.Path(path_type=Path), help="An exported .tflite (default: the embedded model)."
)
@precision_switches(
    multiple=False,
    default=library_default(FaceAligner.default, "precision"),
    what="the embedded model used without --model",
)
@click.option(
    "--refine",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="A refine-stage .tflite trained behind the model: its points are corrected on a second interpreter.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("predictions"),
    show_default=True,
    help="Folder for annotated images.",
)
@threads_option(library_default(FaceAligner.from_file, "num_threads"))
@click.option(
    "--detector",
    type=click.Choice(DETECTORS),
    default=library_default(FaceAligner.from_file, "detector"),
    show_default=True,
    help="auto: BlazeFace when its model file is installed, else OpenCV 4 Haar cascades.",
)
@click.option("--video", type=click.Path(path_type=Path), help="Run on every frame of a video file.")
@click.option("--camera", type=click.IntRange(min=0), help="Run on a camera (OpenCV index).")
@click.option(
    "--save-video", type=click.Path(path_type=Path), help="Write the annotated video (.mp4 or .avi)."
)
@click.option("--show", is_flag=True, help="Show frames in a window (needs an OpenCV build with GUI).")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
@click.option(
    "--redetect-interval",
    type=click.IntRange(min=0),
    default=library_default(run_video, "redetect_interval"),
    show_default=True,
    help="Also re-run the detector every N frames (0: only when a tracking guard fires).",
)
@click.option("--no-tracking", is_flag=True, help="Run the detector on every frame.")
@json_option
@handle_errors
def predict(
    images: tuple[Path, ...],
    model: Path | None,
    precision: str,
    refine: Path | None,
    out_dir: Path,
    threads: int,
    detector: str,
    video: Path | None,
    camera: int | None,
    save_video: Path | None,
    show: bool,
    max_frames: int | None,
    redetect_interval: int,
    no_tracking: bool,
    as_json: bool,
) -> None:
    """Draw landmarks and a 3-D pose axis on IMAGES (or on a --video / --camera stream)."""
    from asmnet_edge.runtime.interpreter import backend_name
    from asmnet_edge.runtime.media import annotate_image_file

    sources = [bool(images), video is not None, camera is not None]
    if sum(sources) != 1:
        raise click.UsageError("give image files, or --video FILE, or --camera N (exactly one of them)")
    if model is not None or refine is not None:
        from asmnet_edge.runtime.contract import default_model_path

        path = model if model is not None else default_model_path(precision=precision)
        aligner = FaceAligner.from_file(path, num_threads=threads, detector=detector, refine=refine)
    else:
        aligner = FaceAligner.default(precision, num_threads=threads, detector=detector)
    result: dict[str, Any] = {
        "ok": True,
        "model": str(model) if model is not None else f"default {precision}",
        "refine": str(refine) if refine is not None else None,
        "backend": backend_name(),
        "pose_convention": aligner.metadata.pose_convention,
    }
    if images:
        result["images"] = []
        for path in images:
            item = annotate_image_file(aligner, path, out_dir)
            log(f"{path}: {len(item['faces'])} face(s) -> {item['output']}")
            result["images"].append(item)
    else:
        stream: str | int = str(video) if video is not None else int(camera or 0)
        outcome = run_video(
            aligner,
            stream,
            save_path=save_video,
            show=show,
            max_frames=max_frames,
            tracking=not no_tracking,
            redetect_interval=redetect_interval,
            on_frame=_progress,
        )
        result["video"] = outcome.to_dict()
        log(f"{outcome.frames} frames, {outcome.fps:.1f} fps (pipeline), {outcome.wall_fps:.1f} fps (wall)")
    emit(result, as_json, human=_human)


def _progress(index: int, faces: list[Any]) -> None:
    if index and index % 100 == 0:
        timing = faces[0].timing if faces else None
        spent = f", last frame {timing.total:.1f} ms" if timing is not None else ""
        log(f"frame {index}: {len(faces)} face(s){spent}")


def _human(result: dict[str, Any]) -> str:
    if "images" in result:
        lines = []
        for item in result["images"]:
            for index, face in enumerate(item["faces"]):
                pose = face["pose_deg"]
                lines.append(
                    f"{item['path']} face {index}: yaw {pose['yaw']:+.1f} pitch {pose['pitch']:+.1f} "
                    f"roll {pose['roll']:+.1f}  ({face['timing_ms']['total']:.1f} ms)"
                )
            if not item["faces"]:
                lines.append(f"{item['path']}: no face found")
        return "\n".join(lines)
    video = result["video"]
    saved = f", saved {video['output']}" if video["output"] else ""
    return (
        f"{video['frames']} frames, {video['frames_with_face']} with a face, "
        f"{video['fps']} fps pipeline, {video['wall_fps']} fps wall{saved}"
    )
