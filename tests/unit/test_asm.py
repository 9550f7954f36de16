"""The ASM operator, its PCA file and the alpha schedule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asmnet_edge.errors import DataError, ModelError
from asmnet_edge.model.asm import ShapePCA, asm_alpha


def _shapes(count: int = 300) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.normal(size=12)
    modes = np.linalg.qr(rng.normal(size=(12, 3)))[0].T  # three orthonormal modes
    coefficients = rng.normal(size=(count, 3)) * [3.0, 1.0, 0.2]
    return base + coefficients @ modes + rng.normal(scale=0.01, size=(count, 12))


def test_keeps_the_fewest_components_for_the_share() -> None:
    shapes = _shapes()
    # variances about 9 : 1 : 0.04 (shares 89.6 %, 99.6 %) -> 85 % needs 1 component, 97 % needs 2
    assert len(ShapePCA.fit(shapes, 85).eigenvalues) == 1
    assert len(ShapePCA.fit(shapes, 97).eigenvalues) == 2
    assert len(ShapePCA.fit(shapes, 99.9).eigenvalues) >= 3


def test_projection_clamps_coefficients_to_three_sigma() -> None:
    pca = ShapePCA.fit(_shapes(), 97)
    extreme = pca.mean + 50.0 * np.sqrt(pca.eigenvalues[0]) * pca.components[0]
    clamped = pca.coefficients(pca.project(extreme[None]))[0]
    assert clamped[0] == pytest.approx(3.0 * np.sqrt(pca.eigenvalues[0]))
    typical = _shapes(5)
    # an in-model shape barely moves; noise outside the kept modes is removed
    assert np.abs(pca.project(typical) - typical).max() < 0.5


def test_npz_round_trip_without_pickle(tmp_path: Path) -> None:
    pca = ShapePCA.fit(_shapes(), 90)
    pca.save(tmp_path / "pca.npz")
    loaded = ShapePCA.load(tmp_path / "pca.npz")
    np.testing.assert_array_equal(loaded.components, pca.components)
    assert loaded.accuracy == 90.0
    with np.load(tmp_path / "pca.npz", allow_pickle=False) as data:
        assert set(data.files) == {"mean", "components", "eigenvalues", "accuracy"}
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="not an asmnet-edge PCA file"):
        ShapePCA.load(tmp_path / "bad.npz")


def test_bad_fit_input() -> None:
    with pytest.raises(DataError, match="at least 2"):
        ShapePCA.fit(np.zeros((1, 4)), 90)
    with pytest.raises(DataError, match="percentage"):
        ShapePCA.fit(_shapes(), 100)


def test_alpha_schedule_by_thirds_of_epochs() -> None:
    assert [asm_alpha(epoch, 30) for epoch in (0, 9, 10, 19, 20, 29)] == [2.0, 2.0, 1.0, 1.0, 0.5, 0.5]
    assert [asm_alpha(epoch, 3) for epoch in range(3)] == [2.0, 1.0, 0.5]
    with pytest.raises(ValueError):
        asm_alpha(3, 3)
