"""An exported ASMNet on a LiteRT interpreter: crops in, crop-pixel landmarks and degrees out.

This is the single place where input quantisation and output dequantisation happen; the
FaceAligner, the exporters' fidelity check and the benchmarks all run models through it. Models whose
metadata says ``color_order: GRAY`` (DAN) take the luma of the RGB crop (:func:`grey_crop`); models
without a pose output (DAN) return NaN poses.

>>> lite = LiteModel.from_file("asmnet68_int8.tflite")  # doctest: +SKIP
>>> landmarks, pose = lite.run(crops)  # (N, 68, 2) crop pixels, (N, 3) degrees  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asmnet_edge.errors import InputImageError, ModelError
from asmnet_edge.runtime.geometry import denormalise_landmarks
from asmnet_edge.runtime.interpreter import make_interpreter
from asmnet_edge.runtime.metadata import ModelMetadata, read_tflite_metadata


@dataclass(frozen=True)
class _TensorIO:
    dtype: np.dtype[Any]
    scale: float
    zero_point: int

    @property
    def quantised(self) -> bool:
        return self.dtype != np.float32 and self.scale > 0


class LiteModel:
    """One interpreter and the metadata that says how to feed it and read it."""

    def __init__(self, interpreter: Any, metadata: ModelMetadata) -> None:
        self.interpreter = interpreter
        self.metadata = metadata
        signatures = interpreter.get_signature_list()
        if not signatures:
            raise ModelError("the model has no signature: export it with 'asmnet-edge export'")
        self.signature = next(iter(signatures))
        self._runner = interpreter.get_signature_runner(self.signature)
        inputs = self._runner.get_input_details()
        outputs = self._runner.get_output_details()
        expected = {metadata.landmarks_output} | ({metadata.pose_output} if metadata.has_pose else set())
        if metadata.input_name not in inputs or not expected <= set(outputs):
            raise ModelError(
                f"the model's signature has inputs {sorted(inputs)} and outputs {sorted(outputs)}; "
                f"expected input '{metadata.input_name}' and outputs {sorted(expected)}"
            )
        self._input = _io(inputs[metadata.input_name])
        self._landmarks = _io(outputs[metadata.landmarks_output])
        self._pose = _io(outputs[metadata.pose_output]) if metadata.has_pose else None
        self._grey = metadata.color_order == "GRAY"
        # uint8 pixels have 256 values: quantising through a table built by the same formula gives the
        # same tensor as the float path at a fraction of the per-frame cost
        self._input_table = self._quantise(np.arange(256, dtype=np.uint8)) if self._input.quantised else None

    @classmethod
    def from_file(
        cls,
        path: str | Path | bytes,
        num_threads: int | None = 1,
        use_xnnpack: bool = True,
        metadata: ModelMetadata | None = None,
    ) -> LiteModel:
        """Load a .tflite; its embedded metadata is used unless ``metadata`` is given explicitly."""
        content = path if isinstance(path, bytes) else _read(Path(path))
        meta = metadata if metadata is not None else read_tflite_metadata(content)
        return cls(make_interpreter(content, num_threads=num_threads, use_xnnpack=use_xnnpack), meta)

    @property
    def input_dtype(self) -> np.dtype[Any]:
        return self._input.dtype

    def input_tensor(self, crop: np.ndarray) -> np.ndarray:
        """A uint8 RGB ``size x size x 3`` crop -> the (1, size, size, 3) tensor the model takes
        ((1, size, size, 1) for a grey model, which also takes a ``size x size`` grey crop; a refine
        stage takes its ``size x size x 4`` aligned input)."""
        size = self.metadata.input_size
        if self._grey and crop.dtype == np.uint8 and crop.shape in ((size, size), (size, size, 1)):
            crop = crop.reshape(size, size, 1)
        elif self.metadata.input_channels == 4:  # a refine stage: aligned RGB + heatmap (runtime.refine)
            if crop.shape != (size, size, 4) or crop.dtype != np.uint8:
                raise InputImageError(
                    f"a refine model takes a ({size}, {size}, 4) uint8 array (runtime.refine.aligned_input), "
                    f"got {crop.shape} {crop.dtype}"
                )
        elif crop.shape != (size, size, 3) or crop.dtype != np.uint8:
            raise InputImageError(
                f"crop must be a ({size}, {size}, 3) uint8 RGB array, got {crop.shape} {crop.dtype}"
            )
        elif self._grey:
            crop = grey_crop(crop)
        if self._input_table is not None:
            return _lookup(self._input_table, crop)[None]
        return self._quantise(crop)[None]

    def _quantise(self, pixels: np.ndarray) -> np.ndarray:
        real = pixels.astype(np.float32) * np.float32(self.metadata.input_scale)
        if not self._input.quantised:
            return real
        info = np.iinfo(self._input.dtype)
        quantised = np.rint(real / self._input.scale) + self._input.zero_point
        return np.clip(quantised, info.min, info.max).astype(self._input.dtype)

    def run_raw(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dequantised network outputs for one crop: (2n,) landmark values, (3,) pose values."""
        return self.run_tensor(self.input_tensor(crop))

    def run_tensor(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`run_raw` for a tensor made by :meth:`input_tensor` (lets callers time the two)."""
        outputs = self._runner(**{self.metadata.input_name: tensor})
        landmarks = _dequantise(outputs[self.metadata.landmarks_output], self._landmarks)
        if self._pose is None:
            return landmarks.reshape(-1), np.full(3, np.nan)
        pose = _dequantise(outputs[self.metadata.pose_output], self._pose)
        return landmarks.reshape(-1), pose.reshape(-1)

    def run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Landmarks in crop pixels (N, n, 2) and pose in degrees (N, 3) for N uint8 crops."""
        batch = np.asarray(crops)
        if batch.ndim == 3:
            batch = batch[None]
        size = self.metadata.input_size
        landmarks = np.empty((len(batch), self.metadata.num_landmarks, 2), dtype=np.float64)
        poses = np.empty((len(batch), 3), dtype=np.float64)
        for index, crop in enumerate(batch):
            values, pose = self.run_raw(crop)
            landmarks[index] = denormalise_landmarks(values.reshape(-1, 2), size, self.metadata.landmark_sign)
            poses[index] = pose * self.metadata.pose_scale_deg
        return landmarks, poses


def grey_crop(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (..., 1) uint8 luma ``0.299 R + 0.587 G + 0.114 B``, rounded: what grey
    models (DAN) were trained on and are fed.

    >>> grey_crop(np.array([[[255, 0, 0], [10, 20, 30]]], np.uint8))[..., 0].tolist()
    [[76, 18]]
    """
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    luma = np.asarray(rgb, dtype=np.float32) @ weights
    return np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]


def _lookup(table: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    try:
        import cv2  # optional: its LUT is several times faster than np.take on a 224x224x3 crop
    except ImportError:
        return np.take(table, pixels)
    return cv2.LUT(np.ascontiguousarray(pixels), table)  # type: ignore[no-any-return]


def _io(detail: dict[str, Any]) -> _TensorIO:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return _TensorIO(np.dtype(detail["dtype"]), float(scale), int(zero_point))


def _dequantise(values: np.ndarray, io: _TensorIO) -> np.ndarray:
    if not io.quantised:
        return values.astype(np.float64)
    return (values.astype(np.float64) - io.zero_point) * io.scale


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read model file {path}: {err.strerror}") from err
