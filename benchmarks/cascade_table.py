"""ASMNet, ASMNet + refine and DAN side by side on held-out labelled sets (issue 12, part 3).

    python benchmarks/cascade_table.py --name main128b \\
        --asmnet exported/asmnet68_fp32.tflite --asmnet exported/asmnet68_fp16.tflite \\
        --asmnet exported/asmnet68_int8.tflite --refine exported/refine68_fp32.tflite \\
        --refine exported/refine68_fp16.tflite --refine exported/refine68_int8.tflite \\
        --dan exported/dan68_fp32.tflite --dan exported/dan68_fp16.tflite --dan exported/dan68_int8.tflite \\
        --data /work/data/teacher_holdout --data /work/data/menpo_perturbed

One row per family and precision (``--asmnet``, ``--refine``, ``--dan`` take files or folders):

- NME (%, inter-ocular, image pixels, all points and the inner 51) and the failure rate at 10 % on each
  ``--data`` set, every face cropped from its ground-truth box (landmark box + the model's margin, as
  ``asmnet-edge eval``); pose MAE (mean of the three angles, degrees) on the sets that have poses, for
  the models that have a pose output (ASMNet, and the cascade: stage 1's pose; DAN has none);
- size (the cascade's two files together), MACs counted op by op from the .tflite files;
- latency with ``--threads`` (default 1) threads and XNNPACK, median and p90 of ``--runs`` after
  ``--warmup``, each model in a fresh process as ``asmnet-edge bench`` times it: ASMNet and DAN from
  the input set to the outputs (DAN's warp and heatmap are in its graph), the cascade from stage 1's
  input to the refined points (the numpy warp, heatmap and second interpreter included).

Each refine stage is paired with the ``--asmnet`` model it was trained behind, of its own precision
(``asmnet_edge.bench.cascade``). Writes ``benchmarks/results/cascade/<name>.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _result_files import command_line, write_result  # noqa: E402

from asmnet_edge.bench.accuracy import evaluate_cascade, evaluate_model, load_faces  # noqa: E402
from asmnet_edge.bench.config import BenchConfig, expand_models  # noqa: E402
from asmnet_edge.bench.results import BenchReport, ModelResult  # noqa: E402
from asmnet_edge.bench.run import run_bench  # noqa: E402
from asmnet_edge.errors import AsmnetEdgeError, MetadataError  # noqa: E402
from asmnet_edge.runtime.metadata import read_tflite_metadata  # noqa: E402

FAMILIES = {"asmnet": "ASMNet", "cascade": "ASMNet + refine", "dan": "DAN"}
PRECISION_ORDER = ("fp32", "fp16", "int8")
OUT = ROOT / "benchmarks" / "results" / "cascade"


def _architecture(path: str) -> str | None:
    try:
        return read_tflite_metadata(path).architecture
    except MetadataError:
        return None


def family_of(row: ModelResult, dan: set[str]) -> str:
    """The table family of a bench row: ``cascade`` (it has stages), ``dan`` (given as --dan), ``asmnet``."""
    if row.stages or row.name.startswith("cascade:"):
        return "cascade"
    return "dan" if row.path in dan else "asmnet"


def check_families(report: BenchReport, dan: set[str]) -> None:
    """A file given under the wrong flag is an error row (its metadata names another architecture)."""
    for row in report.models:
        family = family_of(row, dan)
        if family == "cascade" or not row.ok:
            continue
        found = _architecture(row.path)
        if found != family:
            row.fail(f"{row.name} is a model of architecture {found!r}, given as --{family}")


def set_scores(row: ModelResult, faces: Any, threads: int) -> dict[str, Any]:
    """NME, inner-51 NME, failure rate at 10 % and pose MAE of one row on one labelled set."""
    try:
        if row.stages:
            stage1, refine = (part["path"] for part in row.stages)
            scores, _ = evaluate_cascade(stage1, refine, faces, threads)
        else:
            scores, _ = evaluate_model(row.path, faces, threads)
    except AsmnetEdgeError as err:
        return {"error": str(err)}
    pose = scores.get("pose_mae_deg") or {}
    has_pose = bool(_pose_output(row))
    return {
        "faces": scores["count"],
        "nme_percent": scores["nme_percent"],
        "nme_inner51_percent": scores.get("nme_inner51_percent"),
        "failure_rate_010": scores["failure_rate_010"],
        "pose_mae_mean_deg": pose.get("mean") if has_pose else None,
        "per_face_median_ms": scores["per_face"]["median_ms"],
    }


def _pose_output(row: ModelResult) -> str:
    path = row.stages[0]["path"] if row.stages else row.path
    try:
        return read_tflite_metadata(path).pose_output
    except MetadataError:
        return ""


def table_row(row: ModelResult, family: str, threads: int, sets: dict[str, Any]) -> dict[str, Any]:
    """One line of the table: what the row is, its cost, its latency, its scores per set."""
    entry = row.latency_for(threads)
    files = [part["path"] for part in row.stages] if row.stages else [row.path]
    return {
        "family": family,
        "precision": row.precision,
        "model": row.name,
        "files": files,
        "sha256": [part["sha256"] for part in row.stages] if row.stages else [row.sha256],
        "size_bytes": row.size_bytes,
        "macs": row.macs,
        "latency": None
        if entry is None
        else {"median_ms": entry.median_ms, "p90_ms": entry.p90_ms, "parts_median_ms": entry.parts_median_ms},
        "error": row.error,
        "sets": sets,
    }


def _order(item: dict[str, Any]) -> tuple[int, int, str]:
    precision = item["precision"]
    rank = PRECISION_ORDER.index(precision) if precision in PRECISION_ORDER else len(PRECISION_ORDER)
    return list(FAMILIES).index(item["family"]), rank, item["model"]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Time every model once (``run_bench``), then score each on every ``--data`` set."""
    asmnet, dan = expand_models(tuple(args.asmnet)), expand_models(tuple(args.dan or ()))
    config = BenchConfig(
        models=(*asmnet, *dan),
        refines=expand_models(tuple(args.refine or ())),
        threads=(args.threads,),
        runs=args.runs,
        warmup=args.warmup,
        xnnpack_compare=False,
    )
    report = run_bench(config, progress=lambda message: print(message, file=sys.stderr))
    dan_paths = {str(path) for path in dan}
    check_families(report, dan_paths)
    scores: dict[str, dict[str, Any]] = {row.name: {} for row in report.models}
    sets = {}
    for folder in args.data:
        faces = load_faces(folder, args.format, args.limit)
        sets[Path(folder).name] = faces.describe()
        for row in report.models:
            if row.ok:
                print(f"scoring {row.name} on {Path(folder).name}", file=sys.stderr)
                scores[row.name][Path(folder).name] = set_scores(row, faces, args.threads)
    rows = [
        table_row(row, family_of(row, dan_paths), args.threads, scores[row.name]) for row in report.models
    ]
    return {
        "name": args.name,
        "command": command_line(),
        "threads": args.threads,
        "runs": args.runs,
        "warmup": args.warmup,
        "host": report.host,
        "tool_version": report.tool_version,
        "sets": sets,
        "rows": sorted(rows, key=_order),
    }


def _cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(result: dict[str, Any]) -> str:
    """The side-by-side table, one column group per held-out set, then each row's files."""
    sets = list(result["sets"])
    header = ["model", "precision", "size MB", "M MACs", "median ms", "p90 ms"]
    for name in sets:
        header += [f"{name} NME %", f"{name} inner-51 %", f"{name} pose MAE °"]
    held_out = ", ".join(f"{name} ({info['faces']} faces)" for name, info in result["sets"].items())
    lines = [
        f"# ASMNet, ASMNet + refine and DAN: {result['name']}",
        "",
        f"Held-out sets: {held_out};"
        " ground-truth box crops, inter-ocular NME in image pixels. Latency: "
        f"{result['threads']} thread(s), XNNPACK, median / p90 of {result['runs']} runs after "
        f"{result['warmup']} warm-up runs, one fresh process per model (load average at start "
        f"{result['host'].get('load_average_start')}, at end {result['host'].get('load_average_end')}).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in result["rows"]:
        latency = row["latency"] or {}
        cells = [
            FAMILIES[row["family"]],
            row["precision"],
            _cell(row["size_bytes"] / 1e6 if row["size_bytes"] else None),
            _cell(row["macs"] / 1e6 if row["macs"] else None, 1),
            _cell(latency.get("median_ms"), 3),
            _cell(latency.get("p90_ms"), 3),
        ]
        for name in sets:
            scores = row["sets"].get(name) or {}
            cells += [
                _cell(scores.get("nme_percent")),
                _cell(scores.get("nme_inner51_percent")),
                _cell(scores.get("pose_mae_mean_deg")),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Models:", ""]
    for row in result["rows"]:
        errors = [row["error"]] if row["error"] else []
        errors += [f"{name}: {scores['error']}" for name, scores in row["sets"].items() if "error" in scores]
        note = f" **error**: {'; '.join(errors)}" if errors else ""
        lines.append(f"- {FAMILIES[row['family']]} {row['precision']}: `{'` + `'.join(row['files'])}`{note}")
    lines += ["", f"Command: `{result['command']}`"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--asmnet", action="append", required=True, help="ASMNet .tflite or folder (repeat)")
    parser.add_argument("--refine", action="append", help="refine-stage .tflite or folder (repeat)")
    parser.add_argument("--dan", action="append", help="DAN .tflite or folder (repeat)")
    parser.add_argument("--data", action="append", required=True, help="labelled held-out set (repeat)")
    parser.add_argument("--format", default="300w", help="dataset format of every --data (default 300w)")
    parser.add_argument("--limit", type=int, default=None, help="first N faces of each set")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--name", required=True, help="result file name (e.g. the stage-1 run)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        result = measure(args)
    except AsmnetEdgeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    write_result(args.out, args.name, result, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
