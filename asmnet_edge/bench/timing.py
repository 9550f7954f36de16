"""Latency statistics of timing runs: the one summary every benchmark reports (median and p90 first).

The standalone ``remote_runner.py`` computes the same figures on the device (it may not import this
package); everything that times on the host goes through :func:`latency_stats`.

>>> latency_stats([3.0, 1.0, 2.0, 10.0])
{'runs': 4, 'median_ms': 2.5, 'p90_ms': 7.9, 'min_ms': 1.0, 'max_ms': 10.0}
>>> latency_stats([4.0], count_key="faces")["faces"]
1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def latency_stats(samples_ms: Sequence[float], count_key: str = "runs", digits: int = 4) -> dict[str, Any]:
    """Count, median, p90 (linear interpolation, as numpy's percentile), min and max of ``samples_ms``,
    rounded to ``digits`` decimals; ``count_key`` names the count (``"runs"``, ``"faces"``, ...)."""
    values = np.asarray(samples_ms, dtype=np.float64)
    if values.size == 0:
        raise ValueError("latency statistics need at least one timed run")
    return {
        count_key: int(values.size),
        "median_ms": round(float(np.median(values)), digits),
        "p90_ms": round(float(np.percentile(values, 90)), digits),
        "min_ms": round(float(values.min()), digits),
        "max_ms": round(float(values.max()), digits),
    }
