"""Runtime test fixtures: the committed micro models and real photos from installed packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="session")
def micro_fp32() -> Path:
    return FIXTURES / "micro68_fp32.tflite"


@pytest.fixture(scope="session")
def micro_int8() -> Path:
    return FIXTURES / "micro68_int8.tflite"


@pytest.fixture(scope="session")
def micro_nometa() -> Path:
    return FIXTURES / "micro68_nometa.tflite"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real photo with one frontal face (scikit-image ships it; never committed here)."""
    data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def aligner_int8(micro_int8: Path):  # type: ignore[no-untyped-def]
    from asmnet_edge.runtime.aligner import FaceAligner

    return FaceAligner.from_file(micro_int8)
