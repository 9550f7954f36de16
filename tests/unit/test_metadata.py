"""Model metadata: strict JSON, and the pure-python flatbuffer reader on committed tiny models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asmnet_edge.errors import MetadataError
from asmnet_edge.runtime.metadata import (
    METADATA_NAME,
    ModelMetadata,
    QuantParams,
    embed_metadata,
    read_tflite_metadata,
    tflite_metadata_entries,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_json_round_trip_and_canonical_bytes() -> None:
    meta = ModelMetadata(
        num_landmarks=68,
        input_size=224,
        precision="int8",
        landmark_sign=-1.0,
        input_quant=QuantParams("int8", 1 / 255, -128),
        calibration_count=300,
    )
    assert ModelMetadata.from_json(meta.to_json()) == meta
    assert meta.to_json() == ModelMetadata.from_json(meta.to_json()).to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": 99}, "schema version 99 is not supported"),
        ({"colour": "RGB"}, "metadata: unknown key 'colour'; known keys: alpha, "),
        ({"input_size": "224"}, "metadata: key 'input_size' must be int, got str '224'"),
        ({"input_quant": {"dtype": "int8", "scal": 0.1}}, "unknown key 'input_quant.scal'"),
        ({"precision": "int4"}, "unknown precision 'int4'"),
        ({"landmark_sign": 0.5}, "landmark_sign must be"),
    ],
)
def test_strict_loading(change: dict, message: str) -> None:
    data = json.loads(ModelMetadata(num_landmarks=68, input_size=224, precision="fp32").to_json())
    data.update(change)
    with pytest.raises(MetadataError, match=message):
        ModelMetadata.from_dict(data)


def test_reads_committed_fixture_without_tensorflow() -> None:
    meta = read_tflite_metadata(FIXTURES / "micro68_int8.tflite")
    assert meta.num_landmarks == 68 and meta.precision == "int8"
    entries = tflite_metadata_entries((FIXTURES / "micro68_int8.tflite").read_bytes())
    assert METADATA_NAME in entries and "min_runtime_version" in entries


def test_model_without_metadata_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="no asmnet-edge metadata"):
        read_tflite_metadata(FIXTURES / "micro68_nometa.tflite")
    with pytest.raises(MetadataError, match="missing the 'TFL3' identifier"):
        read_tflite_metadata(b"\x00" * 64)
    truncated = (FIXTURES / "micro68_int8.tflite").read_bytes()[:200]
    with pytest.raises(MetadataError):
        read_tflite_metadata(truncated)
    with pytest.raises(MetadataError, match="cannot read model file"):
        read_tflite_metadata(tmp_path / "absent.tflite")


def test_embed_replaces_and_is_deterministic() -> None:
    pytest.importorskip("ai_edge_litert")
    plain = (FIXTURES / "micro68_nometa.tflite").read_bytes()
    first = ModelMetadata(num_landmarks=68, input_size=96, precision="fp32")
    second = ModelMetadata(num_landmarks=68, input_size=96, precision="fp32", calibration_source="x")
    once = embed_metadata(plain, first)
    assert once == embed_metadata(plain, first)
    assert read_tflite_metadata(once) == first
    replaced = embed_metadata(once, second)
    assert read_tflite_metadata(replaced) == second
    assert list(tflite_metadata_entries(replaced)).count(METADATA_NAME) == 1
