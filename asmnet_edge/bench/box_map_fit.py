"""Fit a detector's box map on labelled faces; the runtime reads it from ``runtime/box_maps/``.

For every labelled face the detector runs exactly as FaceAligner runs it (on the downscaled copy);
the detection that overlaps the face best is paired with the target crop, the tight landmark box
grown by ``crop_margin``. The four map parameters (centre offset and size scale relative to the
detector box) are the least-squares constants over those pairs; the residuals and the IoU between
the mapped box and the target are stored in the JSON next to them.

    asmnet-edge bench fit-box-map --detector blazeface \\
        --data /work/data/synth_train --data /work/data/teacher_train

A tool of the benchmark layer (it reads datasets with ``asmnet_edge.data``); the runtime only reads
the JSON it writes.

>>> pairs, sources = labelled_pairs(["data/synth_train"], limit=100, seed=0)  # doctest: +SKIP
>>> fit_box_map(make_detector("haar", box_map=IDENTITY_MAP), pairs).fit["iou_mapped_mean"]  # doctest: +SKIP
0.83
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.data.dataset import read_dataset
from asmnet_edge.errors import DataError
from asmnet_edge.runtime.contract import CROP_MARGIN
from asmnet_edge.runtime.detect import BoxMap, DetectedBox, Detector, box_iou
from asmnet_edge.runtime.geometry import Box, expand_box, landmark_box
from asmnet_edge.runtime.image import detection_copy, load_image, prepare_image

MIN_IOU = 0.3
MIN_DETECTED = 10
DEFAULT_LIMIT = 1500  # faces drawn per folder
PARAMS = ("offset_x", "offset_y", "scale_x", "scale_y")


def relative_params(detected: DetectedBox, target: Box) -> np.ndarray:
    """(dx, dy, sx, sy) that map ``detected`` exactly onto ``target``."""
    width, height = detected.width, detected.height
    return np.array(
        [
            ((target.x0 + target.x1) - (detected.x0 + detected.x1)) / 2.0 / width,
            ((target.y0 + target.y1) - (detected.y0 + detected.y1)) / 2.0 / height,
            target.width / width,
            target.height / height,
        ]
    )


def fit_box_map(
    detector: Detector,
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    crop_margin: float = CROP_MARGIN,
    sources: Sequence[str] = (),
) -> BoxMap:
    """Fit on ``(rgb image, landmarks)`` pairs; faces the detector misses are counted, not used."""
    params: list[np.ndarray] = []
    targets: list[Box] = []
    detections: list[DetectedBox] = []
    for rgb, landmarks in pairs:
        target = expand_box(landmark_box(landmarks), crop_margin)
        frame = prepare_image(rgb)
        small, factor = detection_copy(frame, detector.max_side)
        found = [item.scaled(factor) for item in detector.detect(small)]
        scored = [(box_iou(item.as_box(), target), item) for item in found]
        best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        if best[1] is None or best[0] < MIN_IOU:
            continue
        params.append(relative_params(best[1], target))
        targets.append(target)
        detections.append(best[1])
    if len(params) < MIN_DETECTED:
        raise DataError(
            f"only {len(params)} of {len(pairs)} labelled faces were detected: too few to fit a box map "
            f"(at least {MIN_DETECTED}); give more or larger faces with --data"
        )
    table = np.array(params)
    # least squares of a constant = the mean; residuals are reported per parameter
    mean = table.mean(axis=0)
    fitted = BoxMap(
        name=detector.name,
        offset_x=float(mean[0]),
        offset_y=float(mean[1]),
        scale_x=float(mean[2]),
        scale_y=float(mean[3]),
        crop_margin=crop_margin,
    )
    ious = np.array(
        [box_iou(fitted.apply(item), target) for item, target in zip(detections, targets, strict=True)]
    )
    identity = np.array(
        [box_iou(item.as_box(), target) for item, target in zip(detections, targets, strict=True)]
    )
    residual = table - mean
    fit: dict[str, Any] = {
        "method": "least-squares constants of (dx, dy, sx, sy); target = landmark box grown by crop_margin",
        "sources": list(sources),
        "faces": len(pairs),
        "detected": len(params),
        "detection_rate": round(len(params) / max(1, len(pairs)), 4),
        "residual_rms": dict(zip(PARAMS, np.sqrt((residual**2).mean(axis=0)).round(4).tolist(), strict=True)),
        "iou_mapped_mean": round(float(ious.mean()), 4),
        "iou_mapped_p10": round(float(np.percentile(ious, 10)), 4),
        "iou_unmapped_mean": round(float(identity.mean()), 4),
    }
    return replace(fitted, fit=fit)


def labelled_pairs(
    folders: Sequence[str], limit: int = DEFAULT_LIMIT, seed: int = 0, fmt: str = "300w"
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[str]]:
    """``(rgb image, landmarks)`` pairs: up to ``limit`` faces per folder (0: all), a seeded draw."""
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    sources: list[str] = []
    rng = np.random.default_rng(seed)
    for folder in folders:
        samples = read_dataset(folder, fmt=fmt)
        chosen = rng.permutation(len(samples))[:limit] if limit else range(len(samples))
        for index in chosen:
            sample = samples[int(index)]
            pairs.append((load_image(sample.image_path), sample.landmarks))
        sources.append(f"{Path(folder).name} ({len(chosen)} of {len(samples)})")
    return pairs, sources
