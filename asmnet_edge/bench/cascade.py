"""Cascade rows of a benchmark: a refine stage behind its stage-1 ASMNet, reported as one model.

``asmnet-edge bench --model s1_int8.tflite --refine refine_int8.tflite`` adds, beside the plain rows,
one row for the pair: size, gzip size, MACs, FLOPs and parameters summed; latency timed end to end by
:mod:`asmnet_edge.bench.cascade_runner` (both interpreters and the warp and heatmap between them);
accuracy of the refined points (:func:`asmnet_edge.bench.accuracy.evaluate_cascade`). Each refine
stage is paired with the ``--model`` it was trained behind (its metadata's stage-1 facts, as
:func:`~asmnet_edge.runtime.refine.check_stage1` checks them), of the same precision when there is one;
a refine stage that fits none is a row with the error that says why.

>>> from asmnet_edge.bench.results import ModelResult
>>> cascade_row(ModelResult("s1", "s1.tflite", precision="int8", variant="a1_128_68pt", size_bytes=10),
...             ModelResult("r", "r.tflite", precision="int8", input_size=80, size_bytes=5)).size_bytes
15
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from asmnet_edge.bench.results import ModelResult
from asmnet_edge.bench.static import describe_model
from asmnet_edge.errors import MetadataError, StageMismatchError
from asmnet_edge.runtime.metadata import ModelMetadata, read_tflite_metadata
from asmnet_edge.runtime.refine import check_stage1, stage1_facts

SUMMED = ("size_bytes", "gzip_bytes", "macs", "flops", "parameters")


def _part(row: ModelResult) -> dict[str, Any]:
    return {
        "name": row.name,
        "path": row.path,
        "precision": row.precision,
        "sha256": row.sha256,
        "size_bytes": row.size_bytes,
        "macs": row.macs,
    }


def _summed_ops(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for per_op in (first, second):
        for name, cost in per_op.items():
            total = ops.setdefault(name, {key: 0 for key in cost})
            for key, value in cost.items():
                total[key] = total.get(key, 0) + value
    return ops


def cascade_row(stage1: ModelResult, refine: ModelResult) -> ModelResult:
    """The row of ``stage1`` + ``refine`` (both described, paired) with their static facts combined."""
    same = stage1.precision == refine.precision
    row = ModelResult(
        name=f"{stage1.name}+{refine.name}",
        path=f"{stage1.path}+{refine.path}",
        precision=stage1.precision if same else f"{stage1.precision}+{refine.precision}",
        variant=f"{stage1.variant}+refine{refine.input_size}",
        num_landmarks=stage1.num_landmarks,
        input_size=stage1.input_size,
        alpha=stage1.alpha,
        stages=[_part(stage1), _part(refine)],
    )
    for key in SUMMED:
        values = (getattr(stage1, key), getattr(refine, key))
        setattr(row, key, None if None in values else sum(values))  # type: ignore[arg-type]
    row.per_op = _summed_ops(stage1.per_op, refine.per_op)
    return row


def _metadata(path: str) -> ModelMetadata | None:
    try:
        return read_tflite_metadata(path)
    except MetadataError:
        return None


def pair_refine(refine: ModelResult, stage1_rows: Sequence[ModelResult]) -> ModelResult:
    """The cascade row of ``refine`` behind the ``stage1_rows`` entry it belongs to, or an error row."""
    failed = ModelResult(name=f"cascade:{refine.name}", path=refine.path, precision=refine.precision)
    if not refine.ok:
        failed.fail(refine.error or "the refine stage could not be read")
        return failed
    meta = _metadata(refine.path)
    if meta is None or meta.refine is None:
        kind = "no asmnet-edge metadata" if meta is None else f"architecture {meta.architecture!r}"
        failed.fail(
            f"{refine.name} is not a refine stage ({kind}): pass stage-1 models with --model and refine "
            "stages (asmnet-edge export of a refine run) with --refine"
        )
        return failed
    fitting, refusals = [], []
    for row in stage1_rows:
        stage_meta = _metadata(row.path) if row.ok else None
        if stage_meta is None:
            continue
        try:
            check_stage1(meta.refine, stage1_facts(stage_meta), stage_meta.architecture)
        except StageMismatchError as err:
            refusals.append(f"{row.name}: {err}")
            continue
        fitting.append(row)
    if not fitting:
        reason = "; ".join(refusals) if refusals else "no stage-1 model with asmnet-edge metadata was given"
        failed.fail(f"no --model is the stage 1 {refine.name} was trained behind ({reason})")
        return failed
    same = [row for row in fitting if row.precision == refine.precision]
    return cascade_row((same or fitting)[0], refine)


def cascade_rows(stage1_rows: Sequence[ModelResult], refines: Sequence[str | Path]) -> list[ModelResult]:
    """One row per refine stage in ``refines`` (paths), paired with its stage 1 among ``stage1_rows``."""
    return [pair_refine(describe_model(Path(path)), stage1_rows) for path in refines]
