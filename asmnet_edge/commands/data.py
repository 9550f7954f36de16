"""``asmnet-edge data``: make labelled training data (synthetic renders, teacher-labelled real faces)."""

from __future__ import annotations

from typing import Any

import click

from asmnet_edge.commands._common import emit, handle_errors, json_option
from asmnet_edge.commands._options import library_default
from asmnet_edge.data.profiling import profile_dataset
from asmnet_edge.data.synth import render_dataset
from asmnet_edge.data.teacher import label_dataset


@click.group(name="data")
def data() -> None:
    """Make training data: synthetic renders and teacher labels, as 300W-style folders."""


def _human_synth(result: dict[str, Any]) -> str:
    return (
        f"{result['folder']}: {result['rendered']} rendered, {result['skipped']} already there, "
        f"{result['seconds']} s ({result['seconds_per_image']} s/image)"
    )


@data.command(name="synth")
@click.option("--count", type=click.IntRange(min=0), required=True, help="Number of images.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option(
    "--seed",
    type=int,
    default=library_default(render_dataset, "seed"),
    show_default=True,
    help="Image i depends only on (seed, i).",
)
@click.option(
    "--size",
    type=click.IntRange(min=64),
    default=library_default(render_dataset, "size"),
    show_default=True,
    help="Image side, px.",
)
@click.option(
    "--start",
    type=click.IntRange(min=0),
    default=library_default(render_dataset, "start"),
    show_default=True,
    help="First image index (to split one dataset across runs).",
)
@json_option
@handle_errors
def synth(count: int, out_dir: str, seed: int, size: int, start: int, as_json: bool) -> None:
    """Render COUNT faces of the menpo3d james scan with exact 68 points and head pose.

    Resumable: run the same command again after an interruption and finished images are skipped.
    """
    result = render_dataset(out_dir, count, seed=seed, size=size, progress=True, start=start)
    emit({"ok": True, **result.as_dict()}, as_json, _human_synth)


def _human_teacher(result: dict[str, Any]) -> str:
    return (
        f"{result['train_count']} faces in {result['train_folder']}, {result['holdout_count']} of "
        f"{result['holdout_person']} in {result['holdout_folder']} ({result['seconds']} s)"
    )


@data.command(name="teacher")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Training folder.")
@click.option(
    "--holdout-out",
    "holdout_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for the held-out person (evaluation only).",
)
@click.option(
    "--size",
    type=click.IntRange(min=64),
    default=library_default(label_dataset, "size"),
    show_default=True,
    help="Crop side, px.",
)
@json_option
@handle_errors
def teacher(out_dir: str, holdout_dir: str, size: int, as_json: bool) -> None:
    """Label real faces shipped by installed packages with dlib (68 points) and PnP head pose."""
    result = label_dataset(out_dir, holdout_dir, size=size, progress=True)
    emit({"ok": True, **result.as_dict()}, as_json, _human_teacher)


def _human_profile(result: dict[str, Any]) -> str:
    return (
        f"{result['folder']}: {result['rendered']} rendered, {result['skipped']} already there, from "
        f"{result['source_faces']} fitted faces ({result['rejected_sources']} rejected), "
        f"{result['seconds']} s"
    )


@data.command(name="profile")
@click.option(
    "--from",
    "sources",
    multiple=True,
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Labelled 300W-style folder of real faces to fit (repeat to add more).",
)
@click.option("--count", type=click.IntRange(min=0), required=True, help="Number of images.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option(
    "--seed",
    type=int,
    default=library_default(profile_dataset, "seed"),
    show_default=True,
    help="Image i depends only on (seed, i).",
)
@click.option(
    "--size",
    type=click.IntRange(min=64),
    default=library_default(profile_dataset, "size"),
    show_default=True,
    help="Image side, px.",
)
@json_option
@handle_errors
def profile(sources: tuple[str, ...], count: int, out_dir: str, seed: int, size: int, as_json: bool) -> None:
    """3-D face profiling: fit a morphable face to each real face, re-render COUNT new views.

    Textures, shapes and expressions are mixed across the fitted faces (new identities); labels are the
    model's projected 68 points (jaw on the visible outline) and the rendered pose. Resumable.
    """
    result = profile_dataset(list(sources), out_dir, count, seed=seed, size=size, progress=True)
    emit({"ok": True, **result.as_dict()}, as_json, _human_profile)
