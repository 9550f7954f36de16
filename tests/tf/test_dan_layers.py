"""DAN's four custom steps, each on its own: forward values against NumPy references written here, and
gradients against central differences in float64 (relative error of the whole gradient <= 1e-4).

Run with ``-s`` to see the measured errors (``forward max abs``, ``gradient rel``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

pytestmark = pytest.mark.tf
tf = pytest.importorskip("tensorflow")

from asmnet_edge.model import dan_layers  # noqa: E402

GRADIENT_TOLERANCE = 1e-4
STEP = 1e-6


# --- NumPy references ---------------------------------------------------------------------------


def reference_similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """[a, b, tx, ty] by a generic least-squares solve of the 2n x 4 linear system."""
    rows, values = [], []
    for (sx, sy), (mx, my) in zip(source, target, strict=True):
        rows += [[sx, -sy, 1.0, 0.0], [sy, sx, 0.0, 1.0]]
        values += [mx, my]
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(values), rcond=None)
    return solution


def reference_apply(points: np.ndarray, params: np.ndarray, inverse: bool = False) -> np.ndarray:
    a, b, tx, ty = params
    matrix = np.array([[a, -b, tx], [b, a, ty], [0.0, 0.0, 1.0]])
    if inverse:
        matrix = np.linalg.inv(matrix)
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def reference_warp(image: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Pixel by pixel: read the input at T^-1(p), bilinear, 0 outside."""
    height, width, channels = image.shape
    out = np.zeros_like(image)
    for row in range(height):
        for col in range(width):
            x, y = reference_apply(np.array([[col, row]], float), params, inverse=True)[0]
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            for yy in (y0, y0 + 1):
                for xx in (x0, x0 + 1):
                    if 0 <= xx < width and 0 <= yy < height:
                        weight = (1 - abs(x - xx)) * (1 - abs(y - yy))
                        out[row, col] += weight * image[yy, xx]
    return out


def reference_heatmap(points: np.ndarray, size: int, patch_half: float) -> np.ndarray:
    heat = np.zeros((size, size))
    for row in range(size):
        for col in range(size):
            best = 0.0
            for x, y in points:
                if abs(col - x) <= patch_half and abs(row - y) <= patch_half:
                    best = max(best, 1.0 / (1.0 + np.hypot(col - x, row - y)))
            heat[row, col] = best
    return heat


def reference_resize_bilinear(image: np.ndarray, size: int) -> np.ndarray:
    """Half-pixel-centre bilinear upsampling of a square map (edges clamped)."""
    source = image.shape[0]
    coords = np.clip((np.arange(size) + 0.5) * source / size - 0.5, 0, source - 1)
    low = np.floor(coords).astype(int)
    high = np.minimum(low + 1, source - 1)
    frac = coords - low
    rows = image[low] * (1 - frac)[:, None] + image[high] * frac[:, None]
    return rows[:, low] * (1 - frac)[None] + rows[:, high] * frac[None]


# --- helpers ------------------------------------------------------------------------------------


def gradient_error(function: Callable[..., object], *inputs: np.ndarray, seed: int = 0) -> list[float]:
    """Relative error ||numeric - analytic|| / max(||numeric||, ||analytic||) of d(sum(w * f)) / d input,
    one value per input; central differences with step 1e-6 in float64."""
    rng = np.random.default_rng(seed)
    variables = [tf.Variable(value.astype(np.float64)) for value in inputs]
    output = np.asarray(function(*variables))
    weights = tf.constant(rng.normal(size=output.shape))

    def scalar(*values: object) -> float:
        return float(tf.reduce_sum(weights * function(*values)))

    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weights * function(*variables))
    analytic = [np.asarray(grad) for grad in tape.gradient(loss, variables)]
    errors = []
    for position, value in enumerate(inputs):
        numeric = np.zeros(value.size)
        for index in range(value.size):
            shifted = []
            for sign in (1.0, -1.0):
                moved = [np.asarray(item, dtype=np.float64).copy() for item in inputs]
                moved[position].reshape(-1)[index] += sign * STEP
                shifted.append(scalar(*[tf.constant(item) for item in moved]))
            numeric[index] = (shifted[0] - shifted[1]) / (2 * STEP)
        exact = analytic[position].reshape(-1)
        scale = max(np.linalg.norm(numeric), np.linalg.norm(exact), 1e-12)
        errors.append(float(np.linalg.norm(numeric - exact) / scale))
    return errors


def random_shapes(rng: np.random.Generator, batch: int, points: int, size: float) -> np.ndarray:
    return rng.uniform(0.15 * size, 0.85 * size, size=(batch, points, 2))


def report(name: str, forward: float, gradients: list[float]) -> None:
    print(f"{name}: forward max abs {forward:.3g}, gradient rel {', '.join(f'{v:.3g}' for v in gradients)}")


# --- the four layers ----------------------------------------------------------------------------


def test_transform_estimation_matches_least_squares_and_its_gradient() -> None:
    rng = np.random.default_rng(1)
    mean = random_shapes(rng, 1, 7, 20.0)[0]
    # the current shapes: rotated, scaled, shifted mean shapes plus noise
    angles, scales = rng.uniform(-0.6, 0.6, 3), rng.uniform(0.7, 1.4, 3)
    shapes = np.stack(
        [
            reference_apply(mean, [s * np.cos(t), s * np.sin(t), *rng.uniform(-3, 3, 2)])
            + rng.normal(0, 0.5, mean.shape)
            for t, s in zip(angles, scales, strict=True)
        ]
    )
    layer = dan_layers.TransformEstimation(mean.reshape(-1), dtype="float64")
    got = np.asarray(layer(shapes.reshape(3, -1)))
    expected = np.stack([reference_similarity(shape, mean) for shape in shapes])
    forward = float(np.abs(got - expected).max())
    assert forward < 1e-9
    errors = gradient_error(lambda flat: layer(flat), shapes.reshape(3, -1))
    report("transform estimation", forward, errors)
    assert max(errors) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("inverse", [False, True])
def test_landmark_transform_matches_the_matrix_and_its_gradient(inverse: bool) -> None:
    rng = np.random.default_rng(2)
    shapes = random_shapes(rng, 2, 5, 30.0)
    params = np.column_stack(
        [rng.uniform(0.7, 1.3, 2), rng.uniform(-0.4, 0.4, 2), rng.uniform(-4, 4, (2, 2))]
    )
    layer = dan_layers.LandmarkTransform(inverse=inverse, dtype="float64")
    got = np.asarray(layer([shapes.reshape(2, -1), params])).reshape(2, -1, 2)
    expected = np.stack([reference_apply(s, p, inverse) for s, p in zip(shapes, params, strict=True)])
    forward = float(np.abs(got - expected).max())
    assert forward < 1e-9
    errors = gradient_error(lambda flat, par: layer([flat, par]), shapes.reshape(2, -1), params)
    report(f"landmark transform (inverse={inverse})", forward, errors)
    assert max(errors) < GRADIENT_TOLERANCE


def test_image_warp_matches_bilinear_sampling_and_its_gradient() -> None:
    rng = np.random.default_rng(3)
    images = rng.uniform(-1, 1, size=(2, 9, 11, 2))
    # rotation by ~0.3 rad, scale ~1.1, shifts that push part of the output outside the input
    params = np.array([[1.05, 0.31, -1.7, 0.9], [0.83, -0.22, 2.3, -1.4]])
    layer = dan_layers.ImageWarp(dtype="float64")
    got = np.asarray(layer([images, params]))
    expected = np.stack([reference_warp(image, p) for image, p in zip(images, params, strict=True)])
    forward = float(np.abs(got - expected).max())
    assert forward < 1e-9
    assert np.any(got == 0.0)  # some output pixels read outside the input
    errors = gradient_error(lambda image, par: layer([image, par]), images, params)
    report("image warp", forward, errors)
    assert max(errors) < GRADIENT_TOLERANCE


def test_image_warp_identity_returns_the_image() -> None:
    image = np.random.default_rng(4).uniform(size=(1, 6, 6, 1)).astype(np.float32)
    out = dan_layers.ImageWarp()([image, np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)])
    np.testing.assert_allclose(np.asarray(out), image, atol=1e-6)


def test_heatmap_full_resolution_matches_the_definition_and_its_gradient() -> None:
    rng = np.random.default_rng(5)
    size, patch = 16, 3.0
    shapes = random_shapes(rng, 2, 4, size)
    layer = dan_layers.LandmarkHeatmap(size, size, patch, dtype="float64")
    got = np.asarray(layer(shapes.reshape(2, -1)))[..., 0]
    expected = np.stack([reference_heatmap(shape, size, patch) for shape in shapes])
    forward = float(np.abs(got - expected).max())
    assert forward < 1e-6  # the sqrt's 1e-12 guard
    assert got.max() > 0.3 and np.any(got == 0.0)
    errors = gradient_error(lambda flat: layer(flat), shapes.reshape(2, -1))
    report("heatmap (full resolution)", forward, errors)
    assert max(errors) < GRADIENT_TOLERANCE


def test_heatmap_reduced_resolution_is_the_upsampled_coarse_map() -> None:
    rng = np.random.default_rng(6)
    size, coarse, patch = 16, 8, 4.0
    shapes = random_shapes(rng, 1, 4, size)
    layer = dan_layers.LandmarkHeatmap(size, coarse, patch, dtype="float64")
    got = np.asarray(layer(shapes.reshape(1, -1)))[0, ..., 0]
    # the coarse grid covers the same extent: landmark u -> (u + 0.5) / 2 - 0.5; distances in full pixels
    scaled = (shapes[0] + 0.5) * coarse / size - 0.5
    small = reference_heatmap(scaled, coarse, patch * coarse / size)
    with np.errstate(divide="ignore"):
        small = np.where(small > 0, 1.0 / (1.0 + (1.0 / small - 1.0) * size / coarse), 0.0)
    expected = reference_resize_bilinear(small, size)
    forward = float(np.abs(got - expected).max())
    assert forward < 1e-6
    errors = gradient_error(lambda flat: layer(flat), shapes.reshape(1, -1))
    report("heatmap (8 px grid -> 16)", forward, errors)
    assert max(errors) < GRADIENT_TOLERANCE


def test_the_upsampling_matrix_is_tensorflows_bilinear_resize() -> None:
    coarse = np.random.default_rng(7).uniform(size=(1, 7, 7, 1)).astype(np.float32)
    resized = tf.image.resize(coarse, (16, 16), method="bilinear").numpy()[0, ..., 0]
    matrix = dan_layers.bilinear_matrix(7, 16)
    np.testing.assert_allclose(matrix @ coarse[0, ..., 0] @ matrix.T, resized, atol=1e-5)
