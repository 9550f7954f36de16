"""The asmnet-edge model metadata: what a runtime must know to use an exported ASMNet.

It lives inside the .tflite flatbuffer (a ``Model.metadata`` entry named ``asmnet_edge`` whose buffer
holds UTF-8 JSON) and in a JSON sidecar beside the file. Reading needs no TensorFlow and no
flatbuffers package: :func:`read_tflite_metadata` walks the few flatbuffer tables it needs.

>>> meta = ModelMetadata(num_landmarks=68, input_size=224, precision="fp32")
>>> ModelMetadata.from_json(meta.to_json()) == meta
True
>>> meta.landmark_sign
1.0
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from asmnet_edge._config import load_dataclass
from asmnet_edge.errors import MetadataError
from asmnet_edge.runtime.contract import (
    CROP_MARGIN,
    INPUT_NAME,
    LANDMARKS_OUTPUT,
    POSE_ORDER,
    POSE_OUTPUT,
    POSE_SCALE_DEG,
    PRECISION_NAMES,
)

METADATA_NAME = "asmnet_edge"
SCHEMA_VERSION = 1
PRECISIONS = PRECISION_NAMES
ARCHITECTURES = ("asmnet", "dan", "refine")
COLOR_ORDERS = ("RGB", "GRAY")  # GRAY: one channel, the luma of the RGB crop (runtime.model.grey_crop)
POSE_CONVENTION = (
    "degrees; camera x right, y up, z toward the camera; head-to-camera R = Rz(-roll) Rx(-pitch) Ry(yaw); "
    "yaw>0 subject turns to their left (nose to image right), pitch>0 looks up, roll>0 clockwise in the image"
)


@dataclass(frozen=True)
class QuantParams:
    """Affine quantisation of one tensor: ``real = scale * (q - zero_point)``."""

    dtype: str = "float32"
    scale: float = 0.0
    zero_point: int = 0


@dataclass(frozen=True)
class Stage1Facts:
    """What a refinement stage knows of the stage-1 ASMNet it was trained behind: a refine model run
    behind any other stage 1 is refused (:class:`~asmnet_edge.errors.StageMismatchError`).

    ``weights_sha256`` is :func:`asmnet_edge.model.io.weights_sha256` of the Keras stage 1,
    the value every precision of its export carries in its own metadata.
    """

    weights_sha256: str
    num_landmarks: int
    input_size: int
    crop_margin: float
    landmark_sign: float
    source: str = ""  # the stage-1 weights file the refine model was trained with (for messages)


@dataclass(frozen=True)
class RefineInfo:
    """How a refinement stage (``architecture: refine``) is fed: the stage-1 crop warped by the
    similarity that takes stage 1's points onto ``mean_shape`` (aligned pixels), plus a fourth input
    channel, the heatmap of those points (``1 / (1 + d)`` within ``heatmap_patch_half`` px, times 255);
    its ``landmarks`` output is the correction in aligned pixels divided by ``input_size``."""

    stage1: Stage1Facts
    heatmap_patch_half: float


@dataclass(frozen=True)
class ModelMetadata:
    """Everything that pre- and post-processing read from the model, never from constants.

    ``crop_margin`` is the share of the landmark box's width/height added on each side of the face
    when the crop is made from landmarks (training used a random margin around this value).
    Landmarks come out flat ``[x0, y0, x1, y1, ...]``; crop pixel = ``size/2 + sign * value * size``.
    Pose comes out as ``degrees / pose_scale_deg`` in ``pose_order``.
    """

    num_landmarks: int
    input_size: int
    precision: str
    schema_version: int = SCHEMA_VERSION
    model_name: str = "asmnet"
    alpha: float = 1.0
    input_name: str = INPUT_NAME
    landmarks_output: str = LANDMARKS_OUTPUT
    pose_output: str = POSE_OUTPUT
    color_order: str = "RGB"
    input_scale: float = 1.0 / 255.0
    crop_convention: str = "landmark-box+margin, resized to input_size x input_size, aspect not kept"
    crop_margin: float = CROP_MARGIN
    landmark_sign: float = 1.0
    pose_order: tuple[str, ...] = POSE_ORDER
    pose_scale_deg: float = POSE_SCALE_DEG
    pose_convention: str = POSE_CONVENTION
    input_quant: QuantParams = field(default_factory=QuantParams)
    landmarks_quant: QuantParams = field(default_factory=QuantParams)
    pose_quant: QuantParams = field(default_factory=QuantParams)
    calibration_source: str = ""
    calibration_count: int = 0
    weights_sha256: str = ""
    tool_version: str = ""
    # the training run's PCA shape model in output units (asmnet_edge.runtime.shape_score), for a
    # per-face plausibility score; None for models exported without it
    shape_model: dict[str, Any] | None = None
    # the model family: "asmnet" (one network, landmarks + pose) or "dan" (a Deep Alignment Network
    # cascade of ``stages`` stages on a grey crop, started from ``mean_shape``: flat crop pixels); the
    # three keys are written only for non-ASMNet models, so ASMNet metadata keeps its bytes
    architecture: str = "asmnet"
    stages: int = 1
    mean_shape: tuple[float, ...] | None = None
    # ``architecture: refine`` only (written only then): the stage 1 it refines and how it is fed
    refine: RefineInfo | None = None

    def __post_init__(self) -> None:
        if (self.architecture == "refine") != (self.refine is not None):
            raise MetadataError("'refine' facts go with architecture 'refine', and only with it")
        if self.architecture == "refine" and self.mean_shape is None:
            raise MetadataError("a refine model's metadata needs its mean_shape (aligned pixels)")
        if self.architecture not in ARCHITECTURES:
            raise MetadataError(
                f"unknown architecture {self.architecture!r}: expected one of {ARCHITECTURES}"
            )
        if self.stages < 1:
            raise MetadataError(f"stages must be at least 1, got {self.stages}")
        if self.mean_shape is not None and len(self.mean_shape) != 2 * self.num_landmarks:
            raise MetadataError("mean_shape does not have 2 x num_landmarks values")
        if self.color_order not in COLOR_ORDERS:
            raise MetadataError(f"unknown color_order {self.color_order!r}: expected one of {COLOR_ORDERS}")
        if self.precision not in PRECISIONS:
            raise MetadataError(f"unknown precision {self.precision!r}: expected one of {PRECISIONS}")
        if self.landmark_sign not in (1.0, -1.0):
            raise MetadataError(f"landmark_sign must be +1 or -1, got {self.landmark_sign}")
        if self.num_landmarks <= 0 or self.input_size <= 0:
            raise MetadataError("num_landmarks and input_size must be positive")
        if self.shape_model is not None:
            from asmnet_edge.runtime.shape_score import ShapeModel

            if len(ShapeModel.from_dict(self.shape_model).mean) != 2 * self.num_landmarks:
                raise MetadataError("shape_model does not have 2 x num_landmarks values")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pose_order"] = list(self.pose_order)
        if self.refine is None:
            del data["refine"]
        if self.architecture == "asmnet" and self.stages == 1 and self.mean_shape is None:
            for key in ("architecture", "stages", "mean_shape"):
                del data[key]
        elif self.mean_shape is not None:
            data["mean_shape"] = list(self.mean_shape)
        return data

    @property
    def input_channels(self) -> int:
        """Channels of the input tensor: 1 (grey), 3 (RGB) or 4 (a refine model: RGB + heatmap)."""
        if self.architecture == "refine":
            return 4
        return 1 if self.color_order == "GRAY" else 3

    @property
    def has_pose(self) -> bool:
        """Does the model have a pose output (DAN models have landmarks only)?"""
        return bool(self.pose_output)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): the same metadata always gives the same bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=1)

    @classmethod
    def from_dict(cls, data: Any) -> ModelMetadata:
        """Strict load (:func:`asmnet_edge._config.load_dataclass`): an unknown key, a wrong type or
        another schema version is a :class:`MetadataError`."""
        if not isinstance(data, dict):
            raise MetadataError("metadata must be a JSON object")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise MetadataError(
                f"metadata schema version {version!r} is not supported by this asmnet-edge "
                f"(it reads version {SCHEMA_VERSION}): upgrade asmnet-edge or re-export the model"
            )
        return load_dataclass(cls, data, "metadata", MetadataError)

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelMetadata:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as err:
            raise MetadataError(f"metadata is not valid JSON: {err}") from err
        return cls.from_dict(data)


# --- reading the flatbuffer without dependencies ------------------------------------------------
# TFLite schema: Model fields 4 = buffers, 6 = metadata; Metadata fields 0 = name, 1 = buffer;
# Buffer fields 0 = data, 1 = offset, 2 = size (offset/size are used by models over 2 GB).


class _Table:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos
        vtable = pos - struct.unpack_from("<i", data, pos)[0]
        self.vtable = vtable
        self.vtable_len = struct.unpack_from("<H", data, vtable)[0]

    def _field(self, index: int) -> int:
        entry = 4 + 2 * index
        if entry >= self.vtable_len:
            return 0
        return int(struct.unpack_from("<H", self.data, self.vtable + entry)[0])

    def indirect(self, index: int) -> int | None:
        offset = self._field(index)
        if not offset:
            return None
        where = self.pos + offset
        return where + struct.unpack_from("<I", self.data, where)[0]

    def scalar(self, index: int, fmt: str, default: int = 0) -> int:
        offset = self._field(index)
        return struct.unpack_from(fmt, self.data, self.pos + offset)[0] if offset else default

    def vector(self, index: int) -> tuple[int, int]:
        start = self.indirect(index)
        if start is None:
            return 0, 0
        return start + 4, struct.unpack_from("<I", self.data, start)[0]

    def table_vector(self, index: int) -> list[_Table]:
        start, count = self.vector(index)
        items = []
        for item in range(count):
            where = start + 4 * item
            items.append(_Table(self.data, where + struct.unpack_from("<I", self.data, where)[0]))
        return items

    def string(self, index: int) -> str:
        start, length = self.vector(index)
        return self.data[start : start + length].decode("utf-8") if start else ""


def tflite_metadata_entries(model: bytes) -> dict[str, bytes]:
    """All ``Model.metadata`` entries of a .tflite flatbuffer, name -> buffer bytes.

    Raises :class:`MetadataError` when ``model`` is not a TFLite flatbuffer.
    """
    if len(model) < 8 or model[4:8] != b"TFL3":
        raise MetadataError("not a TFLite model (missing the 'TFL3' identifier): re-export it")
    try:
        root = _Table(model, struct.unpack_from("<I", model, 0)[0])
        buffers = root.table_vector(4)
        entries: dict[str, bytes] = {}
        for entry in root.table_vector(6):
            buffer = buffers[entry.scalar(1, "<I")]
            start, length = buffer.vector(0)
            if not start:  # data stored after the flatbuffer (models over 2 GB)
                offset, size = buffer.scalar(1, "<Q"), buffer.scalar(2, "<Q")
                start, length = offset, size
            entries[entry.string(0)] = bytes(model[start : start + length])
        return entries
    except (struct.error, IndexError, UnicodeDecodeError) as err:
        raise MetadataError(f"corrupt TFLite flatbuffer: {err}") from err


def read_tflite_metadata(model: bytes | str | Path) -> ModelMetadata:
    """Read the asmnet-edge metadata from a .tflite file (path) or its bytes.

    >>> read_tflite_metadata(b"not a model")
    Traceback (most recent call last):
    ...
    asmnet_edge.errors.MetadataError: not a TFLite model (missing the 'TFL3' identifier): re-export it
    """
    data = model if isinstance(model, bytes) else _read_file(Path(model))
    entries = tflite_metadata_entries(data)
    if METADATA_NAME not in entries:
        raise MetadataError(
            "this .tflite has no asmnet-edge metadata: export it with 'asmnet-edge export', "
            "or pass explicit parameters (num_landmarks, input_size, landmark_sign)"
        )
    return ModelMetadata.from_json(entries[METADATA_NAME])


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise MetadataError(f"cannot read model file {path}: {err.strerror}") from err


def embed_metadata(model: bytes, metadata: ModelMetadata, extra: dict[str, bytes] | None = None) -> bytes:
    """Return ``model`` with ``metadata`` stored as the ``asmnet_edge`` metadata entry (and each of
    ``extra``, name -> bytes, as an entry of its own, e.g. the standard ``TFLITE_METADATA``).

    Replaces existing entries of those names. Needs the ``flatbuffers`` package and the TFLite schema
    that ships in ``ai-edge-litert`` (both installed with the runtime extra). Deterministic: same input,
    same bytes.
    """
    from asmnet_edge._lazy import require

    flatbuffers = require("flatbuffers", extra="runtime", purpose="writing model metadata")
    schema = require("ai_edge_litert.schema_py_generated", "runtime", "writing model metadata")
    tflite_metadata_entries(model)  # validates the identifier with a clear error
    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    for buffer in tree.buffers or []:
        # some tools (ai-edge-quantizer) store constants after the flatbuffer, addressed by offset:
        # re-packing moves everything, so bring them inline
        if getattr(buffer, "offset", 0) and getattr(buffer, "size", 0):
            buffer.data = list(model[buffer.offset : buffer.offset + buffer.size])
            buffer.offset, buffer.size = 0, 0
    entries = {METADATA_NAME: metadata.to_json().encode("utf-8"), **(extra or {})}
    names = {name.encode() for name in entries}
    tree.metadata = [item for item in (tree.metadata or []) if item.name not in names]
    for name, content in entries.items():
        buffer = schema.BufferT()
        buffer.data = list(content)
        tree.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = name
        entry.buffer = len(tree.buffers) - 1
        tree.metadata.append(entry)
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
