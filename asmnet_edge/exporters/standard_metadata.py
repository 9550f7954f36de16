"""Standard TFLite Model Metadata (the ``TFLITE_METADATA`` entry), so Android Studio's model binding and
the LiteRT support library understand an exported ASMNet; written without ``tflite-support``.

What it holds, following the metadata schema (``metadata_schema.fbs``, file identifier ``M001``): model
name, description, version, author, licence; the input image (RGB, its size, normalisation ``(x - 0) /
255``); the two outputs in the subgraph's own output order, with their units; and two associated files
packed into the model as a zip archive appended to the flatbuffer (as the support library expects):
``landmark_order.txt`` (one line per output value: ``<point>_<part>_x`` / ``_y``, iBUG-68 order) and
``pose_order.txt`` (yaw, pitch, roll). The project's own metadata (``asmnet_edge``) stays beside it.

>>> meta = read_standard_metadata(open("asmnet68_int8.tflite", "rb").read())  # doctest: +SKIP
>>> meta["name"], meta["outputs"][0]["name"]  # doctest: +SKIP
('ASMNet-68', 'pose')
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from asmnet_edge._lazy import require
from asmnet_edge.errors import MetadataError
from asmnet_edge.runtime.contract import LANDMARKS_OUTPUT, POSE_ORDER, POSE_OUTPUT, POSE_SCALE_DEG
from asmnet_edge.runtime.metadata import ModelMetadata, _Table, tflite_metadata_entries

STANDARD_NAME = "TFLITE_METADATA"
FILE_IDENTIFIER = b"M001"
MIN_PARSER_VERSION = "1.0.1"
TENSOR_AXIS_LABELS = 2  # AssociatedFileType
COLOR_RGB = 1
CONTENT_FEATURE, CONTENT_IMAGE = 1, 2  # ContentProperties union members
PROCESS_NORMALIZATION = 1  # ProcessUnitOptions union member
REGIONS_68 = (
    [("jaw", index) for index in range(17)]
    + [("right_brow", index) for index in range(5)]
    + [("left_brow", index) for index in range(5)]
    + [("nose_bridge", index) for index in range(4)]
    + [("nose_base", index) for index in range(5)]
    + [("right_eye", index) for index in range(6)]
    + [("left_eye", index) for index in range(6)]
    + [("outer_lips", index) for index in range(12)]
    + [("inner_lips", index) for index in range(8)]
)


def landmark_order(num_landmarks: int) -> str:
    """One line per value of the landmarks output: ``00_jaw_0_x``, ``00_jaw_0_y``, ... (iBUG order)."""
    names = [f"{region}_{index}" for region, index in REGIONS_68] if num_landmarks == 68 else []
    if not names:
        names = [f"point_{index}" for index in range(num_landmarks)]
    return "".join(f"{number:02d}_{name}_{axis}\n" for number, name in enumerate(names) for axis in "xy")


def _string_vector(builder: Any, values: list[str]) -> int:
    offsets = [builder.CreateString(value) for value in values]
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return int(builder.EndVector())


def _float_vector(builder: Any, values: list[float]) -> int:
    builder.StartVector(4, len(values), 4)
    for value in reversed(values):
        builder.PrependFloat32(value)
    return int(builder.EndVector())


def _table_vector(builder: Any, offsets: list[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return int(builder.EndVector())


def _table(builder: Any, slots: int, fields: list[tuple[str, int, Any]]) -> int:
    """A table from (kind, slot, value) with kind 'offset', 'byte' or 'uint' (strings etc. made first)."""
    builder.StartObject(slots)
    for kind, slot, value in fields:
        if kind == "offset":
            builder.PrependUOffsetTRelativeSlot(slot, value, 0)
        elif kind == "byte":
            builder.PrependInt8Slot(slot, value, 0)
        else:
            builder.PrependUint32Slot(slot, value, 0)
    return int(builder.EndObject())


def _associated_file(builder: Any, name: str, description: str) -> int:
    name_offset, text = builder.CreateString(name), builder.CreateString(description)
    return _table(
        builder, 4, [("offset", 0, name_offset), ("offset", 1, text), ("byte", 2, TENSOR_AXIS_LABELS)]
    )


def _tensor(
    builder: Any, name: str, description: str, content: int, extra: list[tuple[str, int, Any]]
) -> int:
    name_offset, text = builder.CreateString(name), builder.CreateString(description)
    return _table(
        builder, 7, [("offset", 0, name_offset), ("offset", 1, text), ("offset", 3, content), *extra]
    )


def build_standard_metadata(
    meta: ModelMetadata, output_order: list[str], version: str, licence: str
) -> bytes:
    """The ``TFLITE_METADATA`` flatbuffer for an exported ASMNet; ``output_order`` = subgraph output names."""
    flatbuffers = require("flatbuffers", extra="runtime", purpose="writing model metadata")
    builder = flatbuffers.Builder(4096)
    size = meta.input_size
    image_size = _table(builder, 2, [("uint", 0, size), ("uint", 1, size)])
    image_props = _table(builder, 2, [("byte", 0, COLOR_RGB), ("offset", 1, image_size)])
    image_content = _table(builder, 3, [("byte", 0, CONTENT_IMAGE), ("offset", 1, image_props)])
    mean, std = _float_vector(builder, [0.0]), _float_vector(builder, [1.0 / meta.input_scale])
    normalisation = _table(builder, 2, [("offset", 0, mean), ("offset", 1, std)])
    unit = _table(builder, 2, [("byte", 0, PROCESS_NORMALIZATION), ("offset", 1, normalisation)])
    units = _table_vector(builder, [unit])
    low, high = _float_vector(builder, [0.0]), _float_vector(builder, [1.0])
    stats = _table(builder, 2, [("offset", 0, high), ("offset", 1, low)])
    image = _tensor(
        builder,
        meta.input_name,
        f"RGB face crop, {size}x{size}, values in [0, 1] (pixel / 255): the landmark box grown by "
        f"{meta.crop_margin} per side, resized without keeping the aspect ratio",
        image_content,
        [("offset", 4, units), ("offset", 5, stats)],
    )
    outputs = []
    for name in output_order:
        feature = _table(builder, 0, [])
        content = _table(builder, 3, [("byte", 0, CONTENT_FEATURE), ("offset", 1, feature)])
        if name == LANDMARKS_OUTPUT:
            files = _table_vector(
                builder, [_associated_file(builder, "landmark_order.txt", "x/y of each point")]
            )
            text = (
                f"{meta.num_landmarks} landmarks, flat [x0, y0, x1, y1, ...] in crop units: crop pixel = "
                f"{size}/2 + ({meta.landmark_sign:+g}) * value * {size}"
            )
        elif name == POSE_OUTPUT:
            files = _table_vector(builder, [_associated_file(builder, "pose_order.txt", "angle order")])
            angles = ", ".join(meta.pose_order)
            text = f"head pose {angles} in degrees / {meta.pose_scale_deg:g}; {meta.pose_convention}"
        else:
            raise MetadataError(
                f"unexpected model output {name!r}: expected {LANDMARKS_OUTPUT!r} and {POSE_OUTPUT!r}"
            )
        outputs.append(_tensor(builder, name, text, content, [("offset", 6, files)]))
    inputs_vector, outputs_vector = _table_vector(builder, [image]), _table_vector(builder, outputs)
    subgraph_name = builder.CreateString(meta.model_name)
    subgraph = _table(
        builder,
        7,
        [("offset", 0, subgraph_name), ("offset", 2, inputs_vector), ("offset", 3, outputs_vector)],
    )
    strings = [
        builder.CreateString(f"ASMNet-{meta.num_landmarks}"),
        builder.CreateString(
            f"Facial landmarks ({meta.num_landmarks} points) and head pose from a face crop; ASMNet "
            f"(MobileNetV2 cut at block 15, ASM-assisted loss), {meta.precision}, exported by asmnet-edge"
        ),
        builder.CreateString(version),
        builder.CreateString("asmnet-edge"),
        builder.CreateString(licence),
        builder.CreateString(MIN_PARSER_VERSION),
    ]
    subgraphs = _table_vector(builder, [subgraph])
    root = _table(
        builder,
        8,
        [
            ("offset", 0, strings[0]),
            ("offset", 1, strings[1]),
            ("offset", 2, strings[2]),
            ("offset", 3, subgraphs),
            ("offset", 4, strings[3]),
            ("offset", 5, strings[4]),
            ("offset", 7, strings[5]),
        ],
    )
    builder.Finish(root, file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def associated_files_zip(meta: ModelMetadata) -> bytes:
    """The zip archive of the associated files (stored, not compressed, with fixed dates: same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, text in (
            ("landmark_order.txt", landmark_order(meta.num_landmarks)),
            ("pose_order.txt", "".join(f"{angle}\n" for angle in POSE_ORDER)),
        ):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, text)
    return buffer.getvalue()


def read_standard_metadata(model: bytes) -> dict[str, Any]:
    """Read back the standard metadata (no TensorFlow, no tflite-support): names, I/O, files."""
    entries = tflite_metadata_entries(model)
    if STANDARD_NAME not in entries:
        raise MetadataError("this .tflite has no standard TFLite metadata (TFLITE_METADATA)")
    data = entries[STANDARD_NAME]
    if data[4:8] != FILE_IDENTIFIER:
        raise MetadataError("the TFLITE_METADATA entry is not a metadata flatbuffer (identifier M001)")
    import struct

    root = _Table(data, struct.unpack_from("<I", data, 0)[0])
    subgraph = root.table_vector(3)[0]

    def tensor(table: _Table) -> dict[str, Any]:
        files = [item.string(0) for item in table.table_vector(6)]
        return {"name": table.string(0), "description": table.string(1), "associated_files": files}

    image = subgraph.table_vector(2)[0]
    unit = image.table_vector(4)[0]
    start, count = _Table(data, unit.indirect(1) or 0).vector(1)  # type: ignore[arg-type]
    std = list(struct.unpack_from(f"<{count}f", data, start)) if start else []
    archive = zipfile.ZipFile(io.BytesIO(model))
    return {
        "name": root.string(0),
        "description": root.string(1),
        "version": root.string(2),
        "author": root.string(4),
        "license": root.string(5),
        "min_parser_version": root.string(7),
        "inputs": [{**tensor(image), "normalisation_std": std}],
        "outputs": [tensor(item) for item in subgraph.table_vector(3)],
        "files": {name: archive.read(name).decode() for name in archive.namelist()},
        "pose_scale_deg": POSE_SCALE_DEG,
    }
