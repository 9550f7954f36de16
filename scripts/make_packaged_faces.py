"""Make the calibration / evaluation faces that ship inside the package (``asmnet_edge/assets/faces``).

Renders of the BSD-licensed ``menpo3d`` face scan with exact 68 points and pose, spread over yaw, pitch,
roll, light, background, blur and occluders (``asmnet_edge.data.synth``), each cut to its landmark box
grown by 30 % per side and stored at 192 px as a small 300W-style folder. With them, ``asmnet-edge
export --int8`` needs nothing but the package. Run (needs the synth extra, not TensorFlow):

    python scripts/make_packaged_faces.py --count 240 --out asmnet_edge/assets/faces
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from asmnet_edge.data import _folder
from asmnet_edge.data.synth import make_sample
from asmnet_edge.runtime.geometry import crop_image, expand_box, image_to_crop, landmark_box

SEED = 77  # not a seed any training folder of scripts/train_default.sh uses
RENDER_SIZE = 320
STORED_SIZE = 192
MARGIN = 0.3


def packaged_sample(index: int) -> _folder.Sample:
    import cv2

    sample = make_sample(index, SEED, RENDER_SIZE)
    image = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    box = expand_box(landmark_box(sample.points), MARGIN)
    side = max(box.width, box.height)
    centre_x, centre_y = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    square = type(box)(centre_x - side / 2, centre_y - side / 2, centre_x + side / 2, centre_y + side / 2)
    crop = crop_image(np.ascontiguousarray(image), square, STORED_SIZE)
    # crop_image maps the box onto [0, size]; the .pts convention puts pixel centres on integers
    points = image_to_crop(sample.points, square, STORED_SIZE)
    return _folder.Sample(
        name=f"face_{index:04d}",
        image_bytes=_folder.encode_jpeg(crop, quality=88),
        points=points,
        pose=sample.pose,
        visible=sample.visible,
        source="synth-james-packaged",
        extra={"seed": SEED, "index": index},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--out", type=Path, default=Path("asmnet_edge/assets/faces"))
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    for index in range(args.count):
        _folder.write_sample(args.out, packaged_sample(index))
    _folder.rebuild_poses_csv(args.out)
    for sidecar in args.out.glob("*.pose.json"):
        sidecar.unlink()  # poses.csv holds what readers need; the sidecars only mark finished samples
    print(f"{args.count} faces in {args.out}")


if __name__ == "__main__":
    main()
