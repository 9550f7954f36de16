"""Write reference vectors for the Android demo's Java core, computed with the Python runtime.

The Java core (android_demo/core) re-implements the crop, input quantisation and output
post-processing of ``asmnet_edge.runtime``; its JUnit tests compare it with these vectors:

- real photos from scikit-image (a face, a cat, a kitchen scene, a grey photo), boxes of several
  sizes, some partly outside the image;
- the crop (``geometry.crop_image``, numpy path: the one the Java code mirrors bit for bit);
- the input tensor bytes for int8, uint8 and float32 inputs (``LiteModel.input_tensor``);
- the raw output tensors of a real LiteRT run and the final landmarks / pose (``LiteModel.run``,
  ``geometry.crop_to_image``), and the next tracking box (``landmark_box`` + ``expand_box``);
- the tracker's guards, motion prediction, re-crop rule and a scripted video, and the shape scores
  (``scripts/android_tracker_vectors.py``);
- the refine stage: similarity, aligned crop, heatmap, input tensor, correction and the stage-1 check
  (``scripts/android_refine_vectors.py``).

The model is, in order: ``--model PATH``; the default int8 export in
``asmnet_edge/assets/default``; a ``.tflite`` with asmnet-edge metadata in ``tests/fixtures``; or a
tiny random-weight ASMNet (alpha 0.35, 96 px) built and int8-quantised with TensorFlow here. The
parity does not depend on the weights, only on the processing around them
(``scripts/android_vector_model.py`` finds or builds it).

    python scripts/android_vectors.py build/android_vectors
    android_demo/core/run_tests.sh build/android_vectors
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from android_refine_vectors import refine_entries  # scripts/, beside this file
from android_tracker_vectors import tracker_entries
from android_vector_model import build_tiny_model, find_model, quant_entry, sidecar_strip, sidecar_text

from asmnet_edge._atomic import atomic_write_bytes, atomic_write_text
from asmnet_edge._lazy import require
from asmnet_edge.errors import AsmnetEdgeError, MetadataError
from asmnet_edge.runtime.geometry import Box, crop_image, crop_to_image, expand_box, landmark_box
from asmnet_edge.runtime.metadata import ModelMetadata
from asmnet_edge.runtime.model import LiteModel

FORMAT_VERSION = 1

# (case name, skimage.data function, box x0, y0, x1, y1); fractional on purpose
CASES = (
    ("astronaut_face", "astronaut", 172.4, 78.7, 271.9, 191.3),
    ("astronaut_top_left_outside", "astronaut", -37.3, -21.6, 120.9, 141.2),
    ("chelsea_below_edge", "chelsea", 95.5, 40.25, 390.75, 330.5),
    ("coffee_right_bottom_outside", "coffee", 420.2, 250.7, 655.3, 470.1),
    ("camera_grey_small_box", "camera", 210.5, 70.25, 250.75, 118.5),
)
# input encodings to check the quantiser on: (label, dtype, scale, zero point); the model's own
# input is added to these. "int8_coarse" saturates at 127 for bright pixels; with "uint8_ties"
# (scale float32(2/255)) odd pixels land on rounding ties, where computing in float64 instead of
# numpy's float32 changes 63 of the 256 possible values.
INPUT_ENCODINGS = (
    ("int8", "int8", 1.0 / 255.0, -128),
    ("uint8", "uint8", 1.0 / 255.0, 0),
    ("float32", "float32", 0.0, 0),
    ("int8_coarse", "int8", 0.0046875, -7),
    ("uint8_ties", "uint8", float(np.float32(2.0 / 255.0)), 0),
)


@contextlib.contextmanager
def numpy_crop() -> Iterator[None]:
    """Make ``crop_image`` take its numpy fallback (the reference the Java crop reproduces exactly).

    ``crop_image`` imports OpenCV when it can; a ``None`` entry in ``sys.modules`` makes that
    import fail for the duration of the block, as if OpenCV were not installed.
    """
    saved = sys.modules.get("cv2")
    sys.modules["cv2"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if saved is None:
            del sys.modules["cv2"]
        else:
            sys.modules["cv2"] = saved


class _StubInterpreter:
    """Just enough interpreter for ``LiteModel`` to run its own pre/post-processing on chosen tensors.

    With it the runtime's quantisation code produces int8, uint8 and float32 input tensors from one
    model, and its dequantisation code decodes uint8/float32 output tensors the model did not emit.
    """

    def __init__(
        self,
        meta: ModelMetadata,
        input_io: tuple[str, float, int],
        output_io: tuple[str, float, int] = ("float32", 0.0, 0),
        outputs: dict[str, np.ndarray] | None = None,
    ) -> None:
        def detail(io: tuple[str, float, int]) -> dict[str, Any]:
            return {"dtype": np.dtype(io[0]), "quantization": (io[1], io[2])}

        self._inputs = {meta.input_name: detail(input_io)}
        self._outputs = {name: detail(output_io) for name in (meta.landmarks_output, meta.pose_output)}
        self._values = outputs or {}

    def get_signature_list(self) -> dict[str, Any]:
        return {"serving_default": {}}

    def get_signature_runner(self, _key: str) -> _StubInterpreter:
        return self

    def get_input_details(self) -> dict[str, Any]:
        return self._inputs

    def get_output_details(self) -> dict[str, Any]:
        return self._outputs

    def __call__(self, **_inputs: np.ndarray) -> dict[str, np.ndarray]:
        return self._values


def load_image(name: str) -> np.ndarray:
    data = require("skimage.data", extra="dev", purpose="reading the scikit-image sample photos")
    image = getattr(data, name)()
    if image.ndim == 2:  # grey photo: the camera delivers RGB, so replicate the channel
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)


def _encodings(lite: LiteModel) -> list[tuple[str, str, float, int, bool]]:
    runner = lite.interpreter.get_signature_runner(lite.signature)
    own = quant_entry(runner.get_input_details()[lite.metadata.input_name])
    rows = [(label, dtype, scale, zp, False) for label, dtype, scale, zp in INPUT_ENCODINGS]
    rows.append(("model", own["dtype"], own["scale"], own["zero_point"], True))
    return rows


def _synthetic_outputs(
    values: np.ndarray, pose: np.ndarray, dtype: str
) -> tuple[dict[str, np.ndarray], float, int]:
    """Re-encode dequantised outputs as another output type, to test decoding the model does not emit."""
    if dtype == "float32":
        return {"landmarks": values.astype(np.float32)[None], "pose": pose.astype(np.float32)[None]}, 0.0, 0
    both = np.concatenate([values, pose])
    scale = float(np.float32((both.max() - both.min()) / 255.0 or 1.0 / 255.0))
    zero_point = int(np.clip(np.rint(-both.min() / scale), 0, 255))

    def encode(array: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(array / scale) + zero_point, 0, 255).astype(np.uint8)[None]

    return {"landmarks": encode(values), "pose": encode(pose)}, scale, zero_point


def _record_run(
    folder: Path,
    prefix: str,
    label: str,
    lite: LiteModel,
    crop: np.ndarray,
    box: Box,
    raw: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Post-process ``raw`` output tensors with ``lite`` (the runtime's code) and record both."""
    meta = lite.metadata
    details = lite.interpreter.get_signature_runner(lite.signature).get_output_details()
    outputs = {}
    for key, tensor_name in (("landmarks", meta.landmarks_output), ("pose", meta.pose_output)):
        file = f"output_{label}_{key}.bin"
        atomic_write_bytes(folder / file, np.ascontiguousarray(raw[tensor_name]).tobytes())
        outputs[key] = {**quant_entry(details[tensor_name]), "file": f"{prefix}/{file}"}
    values, pose_values = lite.run_raw(crop)
    crop_landmarks, pose_deg = lite.run(crop[None])
    landmarks = crop_to_image(crop_landmarks[0], box, meta.input_size)
    try:
        next_box: list[float] | None = expand_box(landmark_box(landmarks), meta.crop_margin).as_list()
    except AsmnetEdgeError:
        next_box = None
    return {
        "label": label,
        "outputs": outputs,
        "landmark_values": values.tolist(),
        "pose_values": pose_values.tolist(),
        "landmarks_crop": crop_landmarks[0].reshape(-1).tolist(),
        "landmarks": landmarks.reshape(-1).tolist(),
        "pose_deg": pose_deg[0].tolist(),
        "next_box": next_box,
    }


def write_case(
    out: Path, name: str, image_file: str, image: np.ndarray, box: Box, lite: LiteModel
) -> dict[str, Any]:
    """Record one image + box through the Python runtime; returns the manifest entry."""
    meta = lite.metadata
    folder = out / name
    with numpy_crop():
        crop = crop_image(image, box, meta.input_size)
    atomic_write_bytes(folder / "crop.rgb", crop.tobytes())
    inputs = []
    for label, dtype, scale, zero_point, is_model in _encodings(lite):
        stub = LiteModel(_StubInterpreter(meta, (dtype, scale, zero_point)), meta)
        tensor = (lite if is_model else stub).input_tensor(crop)
        atomic_write_bytes(folder / f"input_{label}.bin", tensor.tobytes())
        file = f"{name}/input_{label}.bin"
        inputs.append(dict(label=label, dtype=dtype, scale=scale, zero_point=zero_point, file=file))
        inputs[-1]["fed_to_model"] = is_model
    runner = lite.interpreter.get_signature_runner(lite.signature)
    raw = runner(**{meta.input_name: lite.input_tensor(crop)})
    runs = [_record_run(folder, name, "model", lite, crop, box, raw)]
    values, pose_values = lite.run_raw(crop)
    model_input = _encodings(lite)[-1][1:4]
    for dtype in ("uint8", "float32"):
        synthetic, scale, zero_point = _synthetic_outputs(values, pose_values, dtype)
        stub = LiteModel(_StubInterpreter(meta, model_input, (dtype, scale, zero_point), synthetic), meta)
        runs.append(_record_run(folder, name, f"{dtype}_outputs", stub, crop, box, synthetic))
    entry = dict(name=name, image=image_file, box=box.as_list(), crop=f"{name}/crop.rgb")
    return {**entry, "inputs": inputs, "runs": runs}


def write_random_crops(
    out: Path, images: dict[str, tuple[str, np.ndarray]], size: int, count: int
) -> list[dict[str, Any]]:
    """Crops along seeded random boxes (tiny to huge, inside and across the borders): crop-only cases."""
    rng = np.random.default_rng(2024)
    entries = []
    sources = sorted(images)
    for index in range(count):
        source = sources[index % len(sources)]
        file, image = images[source]
        height, width = image.shape[:2]
        side_x, side_y = np.exp(rng.uniform(np.log(4.0), np.log(2.0 * max(width, height)), size=2))
        x0 = rng.uniform(-0.5 * side_x, width - 0.5 * side_x)
        y0 = rng.uniform(-0.5 * side_y, height - 0.5 * side_y)
        box = Box(float(x0), float(y0), float(x0 + side_x), float(y0 + side_y))
        with numpy_crop():
            crop = crop_image(image, box, size)
        crop_file = f"random/crop_{index:04d}.rgb"
        atomic_write_bytes(out / crop_file, crop.tobytes())
        entries.append({"image": file, "box": box.as_list(), "crop": crop_file})
    return entries


def write_vectors(out: Path, model: Path | None = None, random_crops: int = 24) -> dict[str, Any]:
    """Write every case and ``manifest.json`` into ``out``; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    images: dict[str, tuple[str, np.ndarray]] = {}
    for _, source, *_ in CASES:
        if source not in images:
            image = load_image(source)
            file = f"images/{source}.rgb"
            atomic_write_bytes(out / file, image.tobytes())
            images[source] = (file, image)
    model_path = find_model(model)
    if model_path is None:
        with numpy_crop():
            calibration = [crop_image(images[src][1], Box(*coords), 96) for _, src, *coords in CASES]
        model_path = build_tiny_model(calibration, out / "tiny_int8.tflite")
    sidecar = sidecar_text(model_path)
    atomic_write_text(out / "model.json", sidecar)
    lite = LiteModel.from_file(model_path, num_threads=1)
    if ModelMetadata.from_json(sidecar_strip(sidecar)) != lite.metadata:
        raise MetadataError(
            f"the sidecar of {model_path} disagrees with the metadata embedded in it: re-export"
        )
    cases = []
    for name, source, *coords in CASES:
        file, image = images[source]
        cases.append(write_case(out, name, file, image, Box(*coords), lite))
    # the tracking step the app takes: crop the next frame along the box the landmarks gave
    next_box = cases[0]["runs"][0]["next_box"]
    if next_box is not None:
        file, image = images[CASES[0][1]]
        cases.append(write_case(out, "astronaut_tracked", file, image, Box(*next_box), lite))
    manifest = {
        "format": FORMAT_VERSION,
        "random_crops": write_random_crops(out, images, lite.metadata.input_size, random_crops),
        "generator": "scripts/android_vectors.py",
        "model": {"file": str(model_path), "sidecar": "model.json"},
        "images": {name: _image_entry(file, img) for name, (file, img) in images.items()},
        "metadata": json.loads(sidecar_strip(sidecar)),
        "cases": cases,
        **tracker_entries(),
        **refine_entries(
            out,
            cases,
            {file: img for file, img in images.values()},
            lite.metadata,
            _StubInterpreter,
            numpy_crop,
        ),
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1))
    return manifest


def _image_entry(file: str, image: np.ndarray) -> dict[str, Any]:
    return {"file": file, "width": image.shape[1], "height": image.shape[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the vectors (e.g. build/android_vectors)")
    parser.add_argument("--model", type=Path, help="a .tflite with asmnet-edge metadata (default: see above)")
    parser.add_argument("--random-crops", type=int, default=24, help="extra crop-only random boxes")
    args = parser.parse_args(argv)
    try:
        manifest = write_vectors(args.out, args.model, args.random_crops)
    except AsmnetEdgeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(manifest['cases'])} cases for {manifest['model']['file']} into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
