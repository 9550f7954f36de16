"""The terminal table of a benchmark run (rich), rendered to a string for the CLI.

>>> from asmnet_edge.bench.results import BenchReport, ModelResult
>>> "m.tflite" in render_table(BenchReport(models=[ModelResult(name="m.tflite", path="m.tflite")]))
True
"""

from __future__ import annotations

import io
from typing import Any

from asmnet_edge._lazy import require
from asmnet_edge.bench.results import BenchReport, LatencyEntry

NOT_RUN = LatencyEntry(threads=0, xnnpack=False, ok=False)  # a configuration with no entry: empty cells


def _cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def render_table(report: BenchReport, width: int = 160) -> str:
    """One line per (model, threads): median / p90 with XNNPACK, median without, size, MACs, NME."""
    rich_table = require("rich.table", extra="cli", purpose="printing the benchmark table")
    rich_console = require("rich.console", extra="cli", purpose="printing the benchmark table")
    table = rich_table.Table(
        title=f"asmnet-edge bench on {report.target.get('label', report.config.get('target'))}"
    )
    for name in (
        "model",
        "prec.",
        "size MB",
        "M MACs",
        "thr",
        "median ms",
        "p90 ms",
        "p90/med",
        "no-XNN ms",
        "init ms",
        "RSS MB",
        "NME %",
        "Δ vs fp32",
        "error",
    ):
        table.add_column(name, overflow="fold")
    for row in report.models:
        scores = row.accuracy or {}
        change = (row.vs_fp32 or {}).get("nme_percent_change")
        threads = sorted({entry.threads for entry in row.latency}) or [None]
        for count in threads:
            on = next((e for e in row.latency if e.threads == count and e.xnnpack), NOT_RUN)
            off = next((e for e in row.latency if e.threads == count and not e.xnnpack), NOT_RUN)
            error = row.error if count is None else (on.error or off.error or "")
            table.add_row(
                row.name,
                row.precision,
                _cell(row.size_bytes / 1e6 if row.size_bytes else None),
                _cell(row.macs / 1e6 if row.macs else None, 1),
                _cell(count),
                _cell(on.median_ms, 3),
                _cell(on.p90_ms, 3),
                _cell(on.spread),
                _cell(off.median_ms, 3),
                _cell(row.init_ms),
                _cell(row.rss_peak_mb, 1),
                _cell(scores.get("nme_percent")),
                _cell(change, 3),
                error or (row.accuracy_error or ""),
            )
    for peer in report.peers:
        table.add_row(
            f"peer: {peer.name} (per face)",
            "-",
            _cell(peer.size_bytes / 1e6 if peer.size_bytes else None),
            "-",
            "1",
            _cell((peer.per_face or {}).get("median_ms"), 3),
            _cell((peer.per_face or {}).get("p90_ms"), 3),
            "-",
            "-",
            "-",
            "-",
            _cell((peer.accuracy or {}).get("nme_percent")),
            "-",
            peer.error or "",
        )
    buffer = io.StringIO()
    console = rich_console.Console(file=buffer, width=width, force_terminal=False, color_system=None)
    console.print(table)
    if report.error:
        console.print(f"device error: {report.error}")
    return buffer.getvalue()
