"""Evaluating ASMNet + refine: the stage-1 predictor of :func:`~asmnet_edge.eval.evaluate.load_predictor`
followed by a refine stage (a .tflite on LiteRT, or a refine run's Keras weights), checked to belong to it.

>>> run, points, size = load_refined_predictor("stage1.tflite", "refine68_int8.tflite")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.runtime.metadata import RefineInfo, Stage1Facts
from asmnet_edge.runtime.refine import (
    RefineModel,
    aligned_input,
    check_stage1,
    corrected_points,
    stage1_facts,
)


def stage1_facts_for(model: str | Path | None) -> Stage1Facts:
    """The facts of the stage 1 ``model`` names (a .tflite's metadata, or Keras weights hashed)."""
    if model is not None and str(model).endswith(".tflite"):
        from asmnet_edge.runtime.metadata import read_tflite_metadata

        return stage1_facts(read_tflite_metadata(model))
    from asmnet_edge.model import load_default
    from asmnet_edge.model.io import load_asmnet
    from asmnet_edge.model.refine import stage1_facts_of

    loaded = load_default() if model is None else load_asmnet(model)
    return stage1_facts_of(loaded, str(model or "default"))


def load_refined_predictor(
    model: str | Path | None, refine: str | Path, num_threads: int = 1
) -> tuple[Any, int, int]:
    """Like ``load_predictor``: crops -> (refined landmarks in crop pixels, stage 1's pose degrees)."""
    from asmnet_edge.eval.evaluate import load_predictor

    first, points, size = load_predictor(model, num_threads)
    facts = stage1_facts_for(model)
    if str(refine).endswith(".tflite"):
        refiner = RefineModel.from_file(refine, num_threads=num_threads)
        refiner.check(facts)

        def run(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            start, poses = first(crops)
            return refiner.refine_batch(crops, start), poses

        return run, points, size
    from asmnet_edge.model.refine import load_refine, predict_corrections

    loaded = load_refine(refine)
    check_stage1(RefineInfo(loaded.assets.stage1, loaded.assets.spec.patch_half), facts)
    spec, mean = loaded.assets.spec, loaded.assets.mean_points

    def run_keras(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        start, poses = first(crops)
        made = [
            aligned_input(crop, pts, mean, spec.aligned_size, spec.patch_half)
            for crop, pts in zip(crops, start, strict=True)
        ]
        values = predict_corrections(loaded.model, np.stack([item[0] for item in made]))
        refined = [
            corrected_points(pts, item[1], value, spec.aligned_size)
            for pts, item, value in zip(start, made, values, strict=True)
        ]
        return np.stack(refined), poses

    return run_keras, points, size
