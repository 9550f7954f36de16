"""Report files of a benchmark run: JSON (schema-versioned), Markdown and CSV, each written atomically.

>>> from asmnet_edge.bench.results import BenchReport, ModelResult
>>> text = markdown_report(BenchReport(models=[ModelResult(name="m", path="m.tflite")]))
>>> "| model | precision |" in text
True
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from asmnet_edge._atomic import atomic_write_text
from asmnet_edge.bench.results import BenchReport, ModelResult

# one latency entry's fields: the CSV columns and the per-row copy share this list
LATENCY_COLUMNS = (
    "threads",
    "xnnpack",
    "runs",
    "median_ms",
    "p90_ms",
    "min_ms",
    "max_ms",
    "mean_ms",
    "std_ms",
    "spread",
    "init_ms",
    "first_inference_ms",
)
CSV_COLUMNS = (
    "kind",
    "model",
    "precision",
    "variant",
    "ok",
    "error",
    "size_bytes",
    "gzip_bytes",
    "macs",
    "flops",
    "parameters",
    *LATENCY_COLUMNS,
    "rss_peak_mb",
    "rss_model_mb",
    "nme_percent",
    "nme_inner51_percent",
    "failure_rate_008",
    "auc_008",
    "pose_mae_mean_deg",
    "per_face_median_ms",
    "nme_percent_change_vs_fp32",
    "nme_vs_fp32_percent",
)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _mb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.2f}"


def _millions(count: int | None) -> str:
    return "-" if count is None else f"{count / 1e6:.1f}"


def _accuracy_cells(row: ModelResult) -> list[str]:
    scores = row.accuracy or {}
    pose = (scores.get("pose_mae_deg") or {}).get("mean")
    change = (row.vs_fp32 or {}).get("nme_percent_change")
    drift = (row.vs_fp32 or {}).get("nme_vs_fp32_percent")
    return [
        _fmt(scores.get("nme_percent")),
        _fmt(change, 3),
        _fmt(drift, 3),
        _fmt(scores.get("failure_rate_008")),
        _fmt(scores.get("auc_008"), 3),
        _fmt(pose),
    ]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def markdown_report(report: BenchReport) -> str:
    """The whole report as Markdown tables (models, latency, ratios, peers, errors)."""
    host, target = report.host, report.target
    info = target.get("info") or {}
    lines = [
        "# asmnet-edge benchmark",
        "",
        f"- command: `{report.command}`",
        f"- date (UTC): {report.created_utc}; asmnet-edge {report.tool_version}",
        f"- host: {host.get('cpu', '?')}, {host.get('cores', '?')} cores, Python {host.get('python', '?')}; "
        f"load average at start {host.get('load_average_start')}, at end {host.get('load_average_end')}",
        f"- target: {target.get('label', report.config.get('target', '?'))} "
        f"(backend {info.get('backend', '?')}, {info.get('cores', '?')} cores)",
        f"- timing: {report.config.get('runs')} runs after {report.config.get('warmup')} warm-up runs; "
        f"{report.config.get('timing', '')}",
    ]
    if report.device_profile:
        lines.append(
            f"- device profile: {report.device_profile.get('name')}: "
            f"{report.device_profile.get('description')}"
        )
    if report.dataset:
        lines.append(
            f"- accuracy data: {report.dataset.get('path')} ({report.dataset.get('format')}, "
            f"{report.dataset.get('faces')} faces); NME normalised by the outer-eye distance"
        )
    if report.error:
        lines.append(f"- **device error**: {report.error}")
    header = [
        "model",
        "precision",
        "variant",
        "size MB",
        "gzip MB",
        "M MACs",
        "M FLOPs",
        "params",
        "init ms",
        "first ms",
        "peak RSS MB",
        "NME %",
        "Δ NME vs fp32",
        "NME vs fp32 output",
        "fail@8%",
        "AUC@8%",
        "pose MAE °",
    ]
    rows = [
        [
            row.name,
            row.precision,
            row.variant,
            _mb(row.size_bytes),
            _mb(row.gzip_bytes),
            _millions(row.macs),
            _millions(row.flops),
            _fmt(row.parameters),
            _fmt(row.init_ms),
            _fmt(row.first_inference_ms),
            _fmt(row.rss_peak_mb, 1),
            *_accuracy_cells(row),
        ]
        for row in report.models
    ]
    lines += ["", "## Models", "", *_table(header, rows)]
    latency_rows = [
        [
            row.name,
            _fmt(entry.threads),
            _fmt(entry.xnnpack),
            _fmt(entry.median_ms, 3),
            _fmt(entry.p90_ms, 3),
            _fmt(entry.min_ms, 3),
            _fmt(entry.max_ms, 3),
            _fmt(entry.std_ms, 3),
            _fmt(entry.spread),
            entry.error or "",
        ]
        for row in report.models
        for entry in row.latency
    ]
    lines += [
        "",
        "## Latency (ms per inference, batch 1)",
        "",
        *_table(
            ["model", "threads", "XNNPACK", "median", "p90", "min", "max", "std", "p90/median", "error"],
            latency_rows,
        ),
    ]
    cascades = [
        [row.name, " + ".join(part["name"] for part in row.stages), _fmt(entry.threads), _fmt(entry.xnnpack)]
        + [_fmt((entry.parts_median_ms or {}).get(part), 3) for part in ("stage1", "between", "refine")]
        for row in report.models
        if row.stages
        for entry in row.latency
        if entry.ok
    ]
    if cascades:
        header = ["cascade", "stages", "threads", "XNNPACK", "stage 1", "warp + heatmap + decode", "refine"]
        lines += ["", "## Cascades (median ms of each part of a timed run)", "", *_table(header, cascades)]
    if report.ratios:
        ratio_rows = [
            [
                item["model"],
                item["versus"],
                _fmt(item["threads"]),
                _fmt(item["latency_ratio"], 3),
                _fmt(item["size_ratio"], 3),
                _fmt(item.get("nme_change"), 3),
            ]
            for item in report.ratios
        ]
        lines += [
            "",
            "## Ratios (model / reference, from this run; < 1 = faster or smaller)",
            "",
            *_table(["model", "versus", "threads", "latency", "size", "NME change (points)"], ratio_rows),
        ]
    if report.peers:
        peer_rows = [
            [
                peer.name,
                "yes" if peer.ok else f"no: {peer.error}",
                _fmt(peer.points),
                _mb(peer.size_bytes),
                _fmt((peer.per_face or {}).get("median_ms"), 3),
                _fmt((peer.per_face or {}).get("p90_ms"), 3),
                _fmt((peer.accuracy or {}).get("nme_percent")),
                _fmt((peer.accuracy or {}).get("failure_rate_008")),
                peer.input,
            ]
            for peer in report.peers
        ]
        face_rows = [
            [
                row.name,
                "yes",
                _fmt(row.num_landmarks),
                _mb(row.size_bytes),
                _fmt(row.accuracy["per_face"]["median_ms"], 3),
                _fmt(row.accuracy["per_face"]["p90_ms"], 3),
                _fmt(row.accuracy.get("nme_percent")),
                _fmt(row.accuracy.get("failure_rate_008")),
                "ASMNet crop of the labelled box",
            ]
            for row in report.models
            if row.accuracy
        ]
        lines += [
            "",
            "## Peers on the same faces (latency per face given its box, 1 thread)",
            "",
            *_table(
                ["predictor", "ran", "points", "size MB", "median ms", "p90 ms", "NME %", "fail@8%", "input"],
                face_rows + peer_rows,
            ),
        ]
        lines += [f"- {peer.name}: {peer.notes}" for peer in report.peers if peer.notes]
    errors = [f"- {row.name}: {row.error}" for row in report.models if row.error]
    if errors:
        lines += ["", "## Errors", "", *errors]
    no_accuracy = [f"- {row.name}: {row.accuracy_error}" for row in report.models if row.accuracy_error]
    if no_accuracy:
        lines += ["", "## Accuracy not measured", "", *no_accuracy]
    if report.device_profile and report.device_profile.get("reference"):
        lines += [
            "",
            "## Reference figures of the device profile (published, NOT measured here)",
            "",
            f"Source: {report.device_profile.get('reference_source')}",
            "",
        ]
        lines += [f"- {key}: {value} ms" for key, value in report.device_profile["reference"].items()]
    return "\n".join(lines) + "\n"


def csv_rows(report: BenchReport) -> list[dict[str, Any]]:
    """One row per (model, threads, XNNPACK) and one per peer, with the model's static facts repeated."""
    rows: list[dict[str, Any]] = []
    for model in report.models:
        scores = model.accuracy or {}
        common = {
            "kind": "model",
            "model": model.name,
            "precision": model.precision,
            "variant": model.variant,
            "ok": model.ok,
            "error": model.error or model.accuracy_error or "",
            "size_bytes": model.size_bytes,
            "gzip_bytes": model.gzip_bytes,
            "macs": model.macs,
            "flops": model.flops,
            "parameters": model.parameters,
            "rss_peak_mb": model.rss_peak_mb,
            "rss_model_mb": model.rss_model_mb,
            "nme_percent": scores.get("nme_percent"),
            "nme_inner51_percent": scores.get("nme_inner51_percent"),
            "failure_rate_008": scores.get("failure_rate_008"),
            "auc_008": scores.get("auc_008"),
            "pose_mae_mean_deg": (scores.get("pose_mae_deg") or {}).get("mean"),
            "per_face_median_ms": (scores.get("per_face") or {}).get("median_ms"),
            "nme_percent_change_vs_fp32": (model.vs_fp32 or {}).get("nme_percent_change"),
            "nme_vs_fp32_percent": (model.vs_fp32 or {}).get("nme_vs_fp32_percent"),
        }
        for entry in model.latency or [None]:
            row = dict(common)
            for key in LATENCY_COLUMNS:
                row[key] = getattr(entry, key, None)
            if entry is not None and entry.error:
                row["error"] = entry.error
            rows.append(row)
    for peer in report.peers:
        rows.append(
            {
                "kind": "peer",
                "model": peer.name,
                "ok": peer.ok,
                "error": peer.error or "",
                "size_bytes": peer.size_bytes,
                "threads": 1,
                "median_ms": (peer.per_face or {}).get("median_ms"),
                "p90_ms": (peer.per_face or {}).get("p90_ms"),
                "nme_percent": (peer.accuracy or {}).get("nme_percent"),
                "failure_rate_008": (peer.accuracy or {}).get("failure_rate_008"),
                "auc_008": (peer.accuracy or {}).get("auc_008"),
                "per_face_median_ms": (peer.per_face or {}).get("median_ms"),
            }
        )
    return rows


def csv_report(report: BenchReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def json_report(report: BenchReport) -> str:
    return json.dumps(report.to_dict(), indent=1, sort_keys=True, default=str) + "\n"


def write_reports(
    report: BenchReport,
    json_path: str | os.PathLike[str] | None = None,
    markdown_path: str | os.PathLike[str] | None = None,
    csv_path: str | os.PathLike[str] | None = None,
    plot_path: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Write the requested files atomically; returns the paths written."""
    written = []
    for path, render in ((json_path, json_report), (markdown_path, markdown_report), (csv_path, csv_report)):
        if path is not None:
            atomic_write_text(path, render(report))
            written.append(str(path))
    if plot_path is not None:
        from asmnet_edge.bench.plots import write_plot

        write_plot(report, plot_path)
        written.append(str(plot_path))
    return written


REPORT_NAMES = {"json": "bench.json", "markdown": "bench.md", "csv": "bench.csv", "plot": "bench.png"}


def write_report_dir(report: BenchReport, folder: str | os.PathLike[str], plot: bool = True) -> list[str]:
    """Every report file under ``folder`` (``bench.json``, ``bench.md``, ``bench.csv``, ``bench.png``)."""
    paths = {kind: Path(folder) / name for kind, name in REPORT_NAMES.items()}
    return write_reports(
        report, paths["json"], paths["markdown"], paths["csv"], paths["plot"] if plot else None
    )
