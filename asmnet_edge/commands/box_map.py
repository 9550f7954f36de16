"""``asmnet-edge bench fit-box-map``: fit a detector's box-to-crop map and write its JSON.

Calls :func:`asmnet_edge.bench.box_map_fit.fit_box_map` on labelled faces; the runtime reads the
result from ``asmnet_edge/runtime/box_maps/<detector>.json`` (the default ``--out``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from asmnet_edge.bench.box_map_fit import fit_box_map as fit
from asmnet_edge.bench.box_map_fit import labelled_pairs
from asmnet_edge.commands._common import emit, handle_errors, json_option, log
from asmnet_edge.commands._options import format_option, library_default
from asmnet_edge.data.dataset import FORMATS
from asmnet_edge.runtime.contract import CROP_MARGIN
from asmnet_edge.runtime.detect import BOX_MAP_DIR


def _human(result: dict[str, Any]) -> str:
    box_map, quality = result["box_map"], result["box_map"]["fit"]
    return (
        f"{result['out']}: offset ({box_map['offset_x']:+.3f}, {box_map['offset_y']:+.3f}), "
        f"scale ({box_map['scale_x']:.3f}, {box_map['scale_y']:.3f}); {quality['detected']} of "
        f"{quality['faces']} faces detected, IoU {quality['iou_unmapped_mean']:.3f} -> "
        f"{quality['iou_mapped_mean']:.3f}"
    )


@click.command("fit-box-map")
@click.option("--detector", type=click.Choice(("blazeface", "haar")), default="blazeface", show_default=True)
@click.option(
    "--data",
    multiple=True,
    required=True,
    help="Labelled faces (a 300W-style folder by default); repeat to add more.",
)
@format_option(FORMATS, library_default(labelled_pairs, "fmt"))
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=library_default(labelled_pairs, "limit"),
    show_default=True,
    help="Faces drawn per --data (0: all).",
)
@click.option(
    "--margin",
    type=click.FloatRange(min=0),
    default=library_default(fit, "crop_margin"),
    show_default=True,
    help=f"crop_margin of the models the map serves (theirs: {CROP_MARGIN}).",
)
@click.option("--seed", type=int, default=library_default(labelled_pairs, "seed"), show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where to write the map (default {BOX_MAP_DIR}/<detector>.json, which the runtime reads).",
)
@json_option
@handle_errors
def fit_box_map(
    detector: str,
    data: tuple[str, ...],
    fmt: str,
    limit: int,
    margin: float,
    seed: int,
    out_path: Path | None,
    as_json: bool,
) -> None:
    """Fit the map from --detector's boxes to the ASMNet crop on labelled faces; write its JSON."""
    from asmnet_edge._atomic import atomic_write_text
    from asmnet_edge.runtime.aligner import make_detector
    from asmnet_edge.runtime.detect import IDENTITY_MAP

    pairs, sources = labelled_pairs(list(data), limit=limit, seed=seed, fmt=fmt)
    log(f"{len(pairs)} labelled faces from {', '.join(sources)}")
    fitted = fit(make_detector(detector, box_map=IDENTITY_MAP), pairs, crop_margin=margin, sources=sources)
    out = out_path or BOX_MAP_DIR / f"{detector}.json"
    atomic_write_text(out, fitted.to_json() + "\n")
    emit({"ok": True, "out": str(out), "box_map": json.loads(fitted.to_json())}, as_json, _human)
