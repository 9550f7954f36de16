"""int8 activation ranges by quantisation MSE: the search itself, on histograms (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.errors import ConfigError
from asmnet_edge.exporters.graph import TfliteGraph, float_nodes
from asmnet_edge.exporters.ranges import BINS, _Histogram, best_range, quantisation_mse


def _histogram(values: np.ndarray) -> _Histogram:
    histogram = _Histogram(float(values.min()), float(values.max()), np.zeros(BINS, np.int64))
    histogram.add(values)
    return histogram


def test_one_outlier_no_longer_sets_the_step():
    """The pooled-taps case: values within ±0.5 but a few of one crop at 1.9 (measured on the default
    model: 300 crops x 536 values)."""
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.0, 0.15, 160_000), rng.uniform(-1.5, 1.9, 8)])
    histogram = _histogram(values)
    low, high = best_range(histogram)
    # the extremes cost their clipping error: the range shrinks until that balances the finer step
    assert 0.4 < high < 0.8 * histogram.high and 0.8 * histogram.low < low < -0.4
    centres = histogram.centres()
    tightened = quantisation_mse(centres, histogram.counts, low, high)
    assert tightened < 0.8 * quantisation_mse(centres, histogram.counts, histogram.low, histogram.high)


def test_a_uniform_activation_keeps_its_range():
    values = np.random.default_rng(1).uniform(-1.0, 1.0, 100_000)
    low, high = best_range(_histogram(values))
    assert low < -0.97 and high > 0.97


def test_a_relu6_output_keeps_zero_as_its_low_end():
    values = np.clip(np.random.default_rng(2).normal(1.0, 1.5, 100_000), 0.0, 6.0)
    low, high = best_range(_histogram(values))
    assert low == 0.0 and 4.0 < high <= 6.0


def test_float_layers_name_keras_layers_and_a_typo_is_refused():
    """The one lookup both int8 paths (MSE ranges, the debugger) use for --float-layers."""
    fixture = Path(__file__).parent.parent / "fixtures" / "micro68_fp32.tflite"
    graph = TfliteGraph(fixture.read_bytes())
    assert float_nodes(graph, ("O_L", "O_L")) == ("StatefulPartitionedCall_1:0",)
    with pytest.raises(ConfigError, match=r"float layer 'O_X' matches no op .* Keras layer names"):
        float_nodes(graph, ("O_L", "O_X"))
