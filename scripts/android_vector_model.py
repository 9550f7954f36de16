"""The model the Android vectors are recorded with, and its JSON sidecar (``scripts/android_vectors.py``).

In order: ``--model PATH``; the default int8 export in ``asmnet_edge/assets/default``; a ``.tflite``
with asmnet-edge metadata in ``tests/fixtures``; or a tiny random-weight ASMNet (alpha 0.35, 96 px)
built and int8-quantised with TensorFlow here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

import asmnet_edge
from asmnet_edge._atomic import atomic_write_bytes
from asmnet_edge._lazy import require
from asmnet_edge.errors import MetadataError
from asmnet_edge.runtime.metadata import ModelMetadata, QuantParams, embed_metadata, read_tflite_metadata
from asmnet_edge.runtime.model import LiteModel

DEFAULT_MODEL = Path(asmnet_edge.__file__).parent / "assets" / "default" / "asmnet68_int8.tflite"
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def quant_entry(detail: dict[str, Any]) -> dict[str, Any]:
    """A tensor detail's dtype and quantisation as the manifest records them."""
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero_point)}


def _has_metadata(path: Path) -> bool:
    with contextlib.suppress(MetadataError):
        return read_tflite_metadata(path) is not None
    return False


def find_model(explicit: Path | None) -> Path | None:
    """The model to record raw outputs from, or None when a tiny one must be built."""
    if explicit is not None:
        return explicit
    if DEFAULT_MODEL.exists():
        return DEFAULT_MODEL
    # an int8 fixture first: it exercises quantised inputs and outputs like the app's model
    fixtures = sorted(FIXTURES.glob("*.tflite"), key=lambda path: ("int8" not in path.name, path.name))
    return next((path for path in fixtures if _has_metadata(path)), None) if FIXTURES.is_dir() else None


def build_tiny_model(calibration: list[np.ndarray], out: Path) -> Path:
    """A random-weight ASMNet (alpha 0.35, 96 px), full int8 with int8 in/out, calibrated on real crops."""
    tf = require("tensorflow", extra="export", purpose="building a stand-in model for the Android vectors")
    from asmnet_edge.model.asmnet import build_asmnet

    tf.keras.utils.set_random_seed(7)
    model = build_asmnet(num_landmarks=68, alpha=0.35, input_size=96)

    def representative() -> Iterator[list[np.ndarray]]:
        for crop in calibration:
            yield [crop[None].astype(np.float32) / np.float32(255.0)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    content = converter.convert()
    probe = LiteModel.from_file(content, metadata=ModelMetadata(68, 96, "int8"))
    runner = probe.interpreter.get_signature_runner(probe.signature)
    quant = {
        name: QuantParams(**quant_entry(detail))
        for name, detail in {**runner.get_input_details(), **runner.get_output_details()}.items()
    }
    meta = ModelMetadata(
        num_landmarks=68,
        input_size=96,
        precision="int8",
        alpha=0.35,
        model_name="asmnet-tiny-random",
        input_quant=quant["image"],
        landmarks_quant=quant["landmarks"],
        pose_quant=quant["pose"],
        calibration_source="scripts/android_vectors.py test crops",
        calibration_count=len(calibration),
        tool_version=asmnet_edge.__version__,
    )
    atomic_write_bytes(out, embed_metadata(content, meta))
    return out


def sidecar_text(model_path: Path) -> str:
    """The model's JSON sidecar (the exporter's, when it sits beside the model), checked against the file."""
    content = model_path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    beside = model_path.with_suffix(".json")
    if beside.exists():
        # the app's sidecar format: android_demo/sync_model.py flattens the exporter's one the same way
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "android_demo"))
        from sync_model import flatten_exporter_sidecar

        data = flatten_exporter_sidecar(json.loads(beside.read_text(encoding="utf-8")))
        recorded = data.get("file_sha256")
        if recorded != digest:
            raise MetadataError(f"{beside} says sha256 {recorded} but {model_path.name} hashes to {digest}")
        return json.dumps(data, sort_keys=True, indent=1)
    data = read_tflite_metadata(content).to_dict()
    data.update(file_sha256=digest, file_size=len(content))
    return json.dumps(data, sort_keys=True, indent=1)


def sidecar_strip(text: str) -> str:
    """Sidecar JSON minus the file fields, i.e. the metadata ``ModelMetadata.from_json`` accepts."""
    data = json.loads(text)
    return json.dumps({key: value for key, value in data.items() if key not in ("file_sha256", "file_size")})
