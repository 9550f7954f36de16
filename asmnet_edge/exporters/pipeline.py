"""``export_model``: the export pipeline, one short explicit sequence returning an :class:`ExportResult`.

1. load the Keras model; 2. gather faces and build the calibration and (disjoint) evaluation crops;
3. per precision: convert, read the quantisation back, embed metadata, write the .tflite and its JSON
sidecar atomically, validate against the Keras model, write ``<model>.report.json``;
4. raise :class:`FidelityError` naming the files if a model is over tolerance (files are kept).

>>> recipe = ExportRecipe(precisions=("int8",))
>>> result = export_model(recipe, model_path="my.keras", out_dir="out")  # doctest: +SKIP
>>> result.models["int8"].path.name  # doctest: +SKIP
'asmnet68_int8.tflite'
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asmnet_edge
from asmnet_edge._atomic import atomic_write_bytes
from asmnet_edge.errors import ConfigError, ExportError, FidelityError, ModelError
from asmnet_edge.exporters import faces as face_sources
from asmnet_edge.exporters.calibration import CropSet, build_crops, labelled_crops
from asmnet_edge.exporters.convert import convert
from asmnet_edge.exporters.fidelity import FidelityReport, KerasPredictions, Tolerance, validate
from asmnet_edge.exporters.graph import TfliteGraph
from asmnet_edge.exporters.precisions import PRECISIONS, resolve_io
from asmnet_edge.exporters.recipe import MIN_GOOD_CALIB_COUNT, ExportRecipe
from asmnet_edge.exporters.source import ModelSource, load_source
from asmnet_edge.exporters.standard_metadata import (
    STANDARD_NAME,
    associated_files_zip,
    build_standard_metadata,
)
from asmnet_edge.runtime.metadata import ModelMetadata, embed_metadata
from asmnet_edge.runtime.model import LiteModel

MIN_DISTINCT_CALIB_FACES = 150
# what the standard metadata says of the weights: the default model's data carries research-only terms
MODEL_LICENCE = (
    "Code Apache-2.0. Weights trained by asmnet-edge; the default model's training data includes "
    "BFM-2009-derived renders and dlib (300-W) teacher labels: research use only"
)
MAX_LOG_LINES = 2000
EVAL_SHARE = 0.2  # share of the calibration source's image files held out for evaluation


@dataclass(frozen=True)
class ExportedModel:
    precision: str
    io: str
    path: Path
    size_bytes: int
    sha256: str
    sidecar: Path
    report: Path
    passed: bool
    metrics: dict[str, Any]
    fidelity: FidelityReport | None = None  # the typed form of the report's "fidelity"


@dataclass(frozen=True)
class ExportResult:
    models: dict[str, ExportedModel]
    calibration: dict[str, Any]
    evaluation: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(model.passed for model in self.models.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.passed,
            "models": {
                name: {
                    "precision": model.precision,
                    "io": model.io,
                    "path": str(model.path),
                    "size_bytes": model.size_bytes,
                    "sha256": model.sha256,
                    "sidecar": str(model.sidecar),
                    "report": str(model.report),
                    "passed": model.passed,
                    "metrics": model.metrics,
                }
                for name, model in self.models.items()
            },
            "calibration": self.calibration,
            "evaluation": self.evaluation,
            "warnings": self.warnings,
        }


def _writable_dir(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test-"):
            pass
    except OSError as err:
        raise ExportError(f"cannot write to output folder {out_dir}: {err.strerror or err}") from err
    return out_dir


def _faces(folder: str, fmt: str, source: ModelSource) -> face_sources.FaceList:
    if fmt == "images":
        return face_sources.photo_faces(folder, _predictor(source), source.input_size)
    return face_sources.labelled_faces(folder, fmt, source.num_landmarks)


def _predictor(source: ModelSource) -> Callable[[Any], Any]:
    return lambda crops: source.predict(crops)[0]


def _crop_sets(
    recipe: ExportRecipe, source: ModelSource, needs_calibration: bool, warn: Callable[[str], None]
) -> tuple[CropSet | None, CropSet]:
    size, seed = source.input_size, recipe.seed
    found = (
        _faces(recipe.calib, recipe.calib_format, source)
        if recipe.calib
        else face_sources.default_faces(_predictor(source), size, source.num_landmarks)
    )
    if not found.faces:
        raise ExportError(
            f"no usable face in {found.source} ({len(found.skipped)} files skipped: "
            f"{sorted(set(found.skipped.values()))}): give face photos or a labelled folder"
        )
    if recipe.eval:
        held = _faces(recipe.eval, recipe.calib_format, source)
        calib_faces, eval_faces, eval_source = found.faces, held.faces, held.source
        skipped = {**found.skipped, **held.skipped}
        shared = {str(face.image_path) for face in calib_faces} & {
            str(face.image_path) for face in eval_faces
        }
        if shared and needs_calibration:
            warn(f"{len(shared)} evaluation images are also calibration images: fidelity is optimistic")
    else:
        # hold out labelled faces when the source has any, so the gate also sees the ground truth
        labelled = [face for face in found.faces if face.landmarks is not None]
        pool = labelled if len(labelled) >= 2 else found.faces
        _, eval_faces = face_sources.split_faces(pool, EVAL_SHARE, seed)
        held_files = {str(face.image_path) for face in eval_faces}
        calib_faces = [face for face in found.faces if str(face.image_path) not in held_files]
        eval_source, skipped = f"{found.source} (held-out files)", dict(found.skipped)
    if not eval_faces:
        raise ExportError(f"no usable face in the evaluation source {eval_source}: give photos or labels")
    calibration = None
    if needs_calibration:
        if recipe.calib_count < MIN_GOOD_CALIB_COUNT:
            warn(f"calib_count {recipe.calib_count} is below {MIN_GOOD_CALIB_COUNT}: int8 ranges may clip")
        calibration = build_crops(calib_faces, recipe.calib_count, size, seed, found.source)
        skipped.update(calibration.skipped)
        if calibration.faces < MIN_DISTINCT_CALIB_FACES:
            warn(
                f"calibrated on {calibration.faces} distinct faces ({len(calibration)} crops) from "
                f"{found.source}; a few hundred varied faces give safer int8 ranges (--calib DIR)"
            )
    if eval_faces[0].landmarks is not None:
        eval_set = labelled_crops(eval_faces, recipe.eval_count, size, seed, eval_source)
    else:
        eval_set = build_crops(eval_faces, recipe.eval_count, size, seed, eval_source)
    skipped.update(eval_set.skipped)
    if skipped and (recipe.calib or recipe.eval):  # packaged photos without a face are expected
        listed = "; ".join(f"{path}: {reason}" for path, reason in sorted(skipped.items())[:5])
        warn(f"skipped {len(skipped)} unusable files: {listed}")
    return calibration, eval_set


def _write(path: Path, content: bytes) -> None:
    """Atomic write, then the permissions of a normal new file (the temp file was private)."""
    atomic_write_bytes(path, content)
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


def with_standard_metadata(content: bytes, metadata: ModelMetadata, graph: TfliteGraph) -> bytes:
    """The model with the project's metadata and the standard TFLite metadata, associated files appended."""
    by_index = {index: name for name, index in graph.outputs.items()}
    order = [by_index[index] for index in graph.subgraph.outputs if index in by_index]
    standard = build_standard_metadata(metadata, order, asmnet_edge.__version__, MODEL_LICENCE)
    return embed_metadata(content, metadata, {STANDARD_NAME: standard}) + associated_files_zip(metadata)


def _check_loads(content: bytes, precision: str) -> None:
    """Refuse to write a model the runtime cannot load (e.g. int16x8 scales that overflow)."""
    try:
        LiteModel.from_file(content, num_threads=1)
    except ModelError as err:
        raise ExportError(
            f"the {precision} model that TensorFlow produced does not load in LiteRT, "
            f"so it was not written: {err}"
        ) from err


def _metadata(
    source: ModelSource, precision: str, graph: TfliteGraph, calibration: CropSet | None
) -> ModelMetadata:
    calibrated = PRECISIONS[precision].needs_calibration and calibration is not None
    return ModelMetadata(
        num_landmarks=source.num_landmarks,
        input_size=source.input_size,
        precision=precision,
        alpha=source.alpha,
        landmark_sign=source.landmark_sign,
        input_quant=graph.io_quant("image"),
        landmarks_quant=graph.io_quant("landmarks"),
        pose_quant=graph.io_quant("pose"),
        calibration_source=calibration.source if calibrated else "",  # type: ignore[union-attr]
        calibration_count=len(calibration) if calibrated else 0,  # type: ignore[arg-type]
        shape_model=source.shape_model,
        weights_sha256=source.weights_sha256,
        tool_version=asmnet_edge.__version__,
    )


def export_model(
    recipe: ExportRecipe,
    model_path: str | Path | None = None,
    out_dir: str | Path = "exported",
    landmark_sign: float | None = None,
    log: Callable[[str], None] = lambda message: None,
    source: ModelSource | None = None,
) -> ExportResult:
    """Export ``model_path`` (``None``: the default model; or an in-memory ``source``) per ``recipe``."""
    out = _writable_dir(Path(out_dir))
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        log(f"warning: {message}")

    io_types = {name: resolve_io(name, recipe.io) for name in recipe.precisions}
    if recipe.io != "float32" and recipe.io not in io_types.values():
        raise ConfigError(
            f"--io {recipe.io} needs an integer precision (int8); got {list(recipe.precisions)}"
        )
    for name, io_type in io_types.items():
        if io_type != recipe.io:
            warn(f"{name} keeps float32 input/output ({recipe.io} applies to int8 only)")
    if (recipe.float_layers or recipe.debug) and "int8" not in recipe.precisions:
        warn("float_layers and debug apply to int8 exports only; no int8 precision was selected")
    model = source if source is not None else load_source(model_path, landmark_sign)
    log(f"model: {model.path} ({model.num_landmarks} points, {model.input_size} px, alpha {model.alpha})")
    needs_calibration = any(PRECISIONS[name].needs_calibration for name in recipe.precisions)
    calibration, eval_set = _crop_sets(recipe, model, needs_calibration, warn)
    keras = KerasPredictions(*model.predict(eval_set.images))
    stem = f"asmnet{model.num_landmarks}"
    models: dict[str, ExportedModel] = {}
    for name in recipe.precisions:
        spec, io_type = PRECISIONS[name], io_types[name]
        log(f"{name}: converting ({spec.description})")
        started = time.perf_counter()
        converted = convert(
            model,
            name,
            io_type,
            calibration,
            recipe.int8_float_layers(io_type),
            recipe.debug_top_k if recipe.debug else 0,
            recipe.int8_ranges,
        )
        seconds = time.perf_counter() - started
        graph = TfliteGraph(converted.content)
        metadata = _metadata(model, name, graph, calibration)
        content = with_standard_metadata(converted.content, metadata, graph)
        _check_loads(content, name)
        path = out / f"{stem}{spec.suffix}{'' if io_type == 'float32' else f'_{io_type}io'}.tflite"
        digest = hashlib.sha256(content).hexdigest()
        _write(path, content)
        sidecar = path.with_suffix(".json")
        sidecar_data = {
            "file": path.name,
            "sha256": digest,
            "size_bytes": len(content),
            "metadata": metadata.to_dict(),
        }
        _write(sidecar, (json.dumps(sidecar_data, indent=1, sort_keys=True) + "\n").encode())
        tolerance = Tolerance(
            recipe.max_nme_increase if recipe.max_nme_increase is not None else spec.max_nme_increase,
            recipe.max_pose_increase_deg
            if recipe.max_pose_increase_deg is not None
            else spec.max_pose_increase_deg,
            recipe.max_nme_vs_float if recipe.max_nme_vs_float is not None else spec.max_nme_vs_float,
        )
        fidelity = validate(content, keras, eval_set, tolerance)
        report = {
            "file": path.name,
            "precision": name,
            "io": io_type,
            "size_bytes": len(content),
            "sha256": digest,
            "conversion_seconds": round(seconds, 2),
            "ops": graph.op_counts(),
            "fidelity": fidelity.to_dict(),
            "debug": converted.debug,
            "recipe": recipe.to_dict(),
            "model": model.path,
            "weights_sha256": model.weights_sha256,
            "tool_version": asmnet_edge.__version__,
            # the converter's own output, kept out of the console (ASMNET_EDGE_VERBOSE=1 shows it)
            "converter_log": converted.log.splitlines()[-MAX_LOG_LINES:],
        }
        report_path = path.with_name(path.stem + ".report.json")
        _write(report_path, (json.dumps(report, indent=1, sort_keys=True, default=float) + "\n").encode())
        gate = fidelity.gate
        summary = {
            "nme_increase_percent": round(gate.nme_increase_percent, 4),
            "pose_mae_increase_deg": round(gate.pose_mae_increase_deg, 4),
            "nme_vs_keras_percent": round(fidelity.vs_keras.nme_percent, 4),
            "gate_basis": gate.basis,
            "failures": list(gate.failures),
        }
        models[name] = ExportedModel(
            name,
            io_type,
            path,
            len(content),
            digest,
            sidecar,
            report_path,
            fidelity.passed,
            summary,
            fidelity,
        )
        log(f"{name}: {path} ({len(content) / 1e6:.2f} MB), NME increase {summary['nme_increase_percent']} %")
    result = ExportResult(
        models,
        calibration={
            "source": calibration.source if calibration else "",
            "count": len(calibration) if calibration else 0,
            "faces": calibration.faces if calibration else 0,
        },
        evaluation={
            "source": eval_set.source,
            "count": len(eval_set),
            "faces": eval_set.faces,
            "labelled": eval_set.landmarks is not None,
        },
        warnings=warnings,
    )
    failed = [model for model in models.values() if not model.passed]
    if failed:
        details = "; ".join(
            f"{model.precision}: {', '.join(model.metrics['failures'])} "
            f"(model kept at {model.path}, details in {model.report})"
            for model in failed
        )
        raise FidelityError(f"exported model(s) over the fidelity tolerance: {details}", result)
    return result
