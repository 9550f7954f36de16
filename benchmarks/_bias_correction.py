"""Bias correction for int8 weights: the mean output shift that weight rounding causes, taken out of
each convolution's bias before quantisation (Nagel et al., "Data-Free Quantization", ICCV 2019,
empirical variant).

Per-channel int8 rounding of a convolution's weights ``W`` (BatchNorm folded in, as the converter folds
it) leaves ``dW = Q(W) - W``; the layer's output then carries ``conv(x, dW)``, whose mean over the
data is ``conv(E[x], dW)`` (convolution is linear). ASMNet's heads read *global averages* of six
feature maps, so a mean shift is not averaged away like rounding noise: on the interim default model
int8 weights alone (float activations) moved the landmarks 0.34 % NME from the float model. This
module measures ``E[x]`` (the mean input map of every convolution) on the calibration crops, and
subtracts the spatial mean of ``conv(E[x], dW)`` per output channel from the BatchNorm's ``beta``
(or the convolution's bias). The weights themselves are untouched, so the converter rounds them
exactly as simulated here (symmetric per-channel int8, step = max |w| / 127).

Tried for the int8 recipe and not kept (``benchmarks/int8_fixes.py`` measures it as a row): it takes
the mean out of the weights' error but not the activations', which dominate once the ends are float.

>>> corrected, report = bias_corrected_model(source.model, calibration.images)  # doctest: +SKIP
>>> report["layers"]  # doctest: +SKIP
48
"""

from __future__ import annotations

from typing import Any

import numpy as np

from asmnet_edge.model.asmnet import INPUT_SCALE, keras_module

WEIGHT_LEVELS = 127.0  # symmetric int8 weights: [-127, 127] * step


def rounding_error(kernel: np.ndarray, channel_axis: int) -> np.ndarray:
    """``Q(kernel) - kernel`` for symmetric per-channel int8 along ``channel_axis``.

    >>> k = np.array([[1.0, 0.5], [0.004, -0.25]]); e = rounding_error(k, 1)
    >>> bool(np.all(np.abs(e) <= np.abs(k).max(axis=0) / 127 / 2 + 1e-12))
    True
    """
    other = tuple(axis for axis in range(kernel.ndim) if axis != channel_axis % kernel.ndim)
    step = np.max(np.abs(kernel), axis=other, keepdims=True) / WEIGHT_LEVELS
    step = np.where(step > 0, step, 1.0)
    return np.round(kernel / step) * step - kernel


def _conv_bn_pairs(model: Any) -> list[tuple[Any, Any | None]]:
    """(convolution, the BatchNormalization that reads it or None) for every Conv2D / DepthwiseConv2D."""
    keras = keras_module()
    readers: dict[str, list[Any]] = {}
    for layer in model.layers:
        for node in getattr(layer, "_inbound_nodes", []):
            for tensor in node.input_tensors:
                source = tensor._keras_history.operation  # noqa: SLF001 - the functional graph's edges
                readers.setdefault(source.name, []).append(layer)
    pairs = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            after = readers.get(layer.name, [])
            bn = (
                after[0]
                if len(after) == 1 and isinstance(after[0], keras.layers.BatchNormalization)
                else None
            )
            pairs.append((layer, bn))
    return pairs


def _folded_kernel(conv: Any, bn: Any | None) -> tuple[np.ndarray, int]:
    """The kernel the converter quantises (BatchNorm's scale folded in) and its output-channel axis."""
    keras = keras_module()
    kernel = np.asarray(conv.kernel, np.float64)  # Keras 3: a depthwise kernel is (k, k, channels, 1)
    depthwise = isinstance(conv, keras.layers.DepthwiseConv2D)
    if bn is not None:
        gamma = np.asarray(bn.gamma) if bn.scale else 1.0
        factor = gamma / np.sqrt(np.asarray(bn.moving_variance, np.float64) + bn.epsilon)
        kernel = kernel * (factor.reshape(1, 1, -1, 1) if depthwise else factor)
    return kernel, (2 if depthwise else 3)


def bias_corrected_model(model: Any, images: np.ndarray, batch_size: int = 32) -> tuple[Any, dict[str, Any]]:
    """A copy of ``model`` whose biases absorb the mean int8 weight-rounding error (module docstring),
    measured on ``images`` (uint8 crops); returns it and a report (layers corrected, largest shift)."""
    keras = keras_module()
    import tensorflow as tf

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    pairs = _conv_bn_pairs(clone)
    probe = keras.Model(clone.inputs, [conv.input for conv, _ in pairs])
    sums: list[np.ndarray] | None = None
    for start in range(0, len(images), batch_size):
        batch = np.asarray(images[start : start + batch_size], np.float32) * INPUT_SCALE
        outputs = probe(batch, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        batch_sums = [np.asarray(out, np.float64).sum(axis=0) for out in outputs]
        sums = batch_sums if sums is None else [a + b for a, b in zip(sums, batch_sums, strict=True)]
    assert sums is not None
    shifts = []
    for (conv, bn), total in zip(pairs, sums, strict=True):
        mean_input = (total / len(images))[None].astype(np.float32)
        kernel, _axis = _folded_kernel(conv, bn)
        depthwise = isinstance(conv, keras.layers.DepthwiseConv2D)
        error = rounding_error(kernel, 2 if depthwise else 3).astype(np.float32)
        strides = (1, *conv.strides, 1)
        padding = conv.padding.upper()
        if depthwise:
            shifted = tf.nn.depthwise_conv2d(mean_input, error, strides, padding)
        else:
            shifted = tf.nn.conv2d(mean_input, error, strides, padding)
        shift = np.asarray(shifted, np.float64).mean(axis=(0, 1, 2))
        if bn is not None and bn.center:
            bn.beta.assign(np.asarray(bn.beta) - shift)
        elif conv.use_bias:
            conv.bias.assign(np.asarray(conv.bias) - shift)
        else:
            continue
        shifts.append(float(np.abs(shift).max()))
    report = {
        "method": "bias correction of int8 weight rounding (mean input maps, per-channel symmetric)",
        "crops": int(len(images)),
        "layers": len(shifts),
        "max_abs_shift": max(shifts) if shifts else 0.0,
    }
    return clone, report
