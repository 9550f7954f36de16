"""The contract every layer shares: tensor names, units, the crop convention, file kinds, asset places.

Defined once here, at the bottom of the package (no imports beyond the standard library), and read by
the model builder, the exporters, the runtime, the data readers, the benchmarks and the metadata.

>>> default_model_path("asmnet68", "int8").name
'asmnet68_int8.tflite'
>>> POSE_SCALE_DEG, CROP_MARGIN
(65.0, 0.05)
"""

from __future__ import annotations

from pathlib import Path

INPUT_NAME = "image"  # the Keras input and the .tflite signature input
LANDMARKS_OUTPUT = "landmarks"
POSE_OUTPUT = "pose"
OUTPUT_NAMES = (LANDMARKS_OUTPUT, POSE_OUTPUT)
POSE_SCALE_DEG = 65.0  # the network's pose output is degrees / 65 (the reference code's unit)
POSE_ORDER = ("yaw", "pitch", "roll")
PRECISION_NAMES = ("fp32", "fp16", "int8", "dynamic", "int16x8")  # the exporters' table follows this order
# the 68-point (iBUG) layout without its jaw contour (points 0-16): the "inner 51" of NME tables
INNER_51 = tuple(range(17, 68))
# the crop: tight landmark box grown by this share of its width / height on each side
CROP_MARGIN = 0.05
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")
ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_MODEL_DIR = ASSETS_DIR / "default"
DEFAULT_MODEL_NAME = "asmnet68"


def default_model_path(name: str = DEFAULT_MODEL_NAME, precision: str = "int8") -> Path:
    """Where the embedded model ``name`` (e.g. ``asmnet68``, ``asmnet68_128``) of ``precision`` lives."""
    return DEFAULT_MODEL_DIR / f"{name}_{precision}.tflite"
