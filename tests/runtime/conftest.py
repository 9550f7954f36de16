"""Runtime test fixtures: the committed micro models (the photo is the root conftest's ``astronaut``)."""

from __future__ import annotations

from pathlib import Path

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
def aligner_int8(micro_int8: Path):  # type: ignore[no-untyped-def]
    from asmnet_edge.runtime.aligner import FaceAligner

    return FaceAligner.from_file(micro_int8)
