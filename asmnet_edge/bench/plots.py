"""Plots of a benchmark run (matplotlib, Agg backend): latency vs NME Pareto chart, and size bars.

>>> write_plot(report, "bench.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

from asmnet_edge._atomic import atomic_path
from asmnet_edge._lazy import require
from asmnet_edge.bench.results import BenchReport

_MARKERS = {"fp32": "o", "fp16": "s", "int8": "D", "dynamic": "^", "int16x8": "v"}


def _pyplot() -> Any:
    matplotlib = require("matplotlib", extra="bench", purpose="plotting benchmark results")
    matplotlib.use("Agg")  # files only: never needs a display
    return require("matplotlib.pyplot", extra="bench", purpose="plotting benchmark results")


def pareto_points(report: BenchReport) -> list[dict[str, Any]]:
    """(latency, NME) of every model with accuracy, and every peer that ran.

    Latency is per face given its box (crop + model), the same measure for models and peers; when no
    accuracy was measured the y axis falls back to file size.
    """
    points = []
    for row in report.models:
        scores = row.accuracy or {}
        face = scores.get("per_face")
        if face and "nme_percent" in scores:
            points.append(
                {
                    "label": row.name,
                    "latency": face["median_ms"],
                    "nme": scores["nme_percent"],
                    "kind": row.precision,
                    "peer": False,
                }
            )
    for peer in report.peers:
        if peer.ok and peer.per_face and peer.accuracy:
            points.append(
                {
                    "label": peer.name,
                    "latency": peer.per_face["median_ms"],
                    "nme": peer.accuracy["nme_percent"],
                    "kind": "peer",
                    "peer": True,
                }
            )
    return points


def pareto_front(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points no other point beats on both latency and NME, sorted by latency.

    >>> front = pareto_front([{"latency": 1, "nme": 5}, {"latency": 2, "nme": 4}, {"latency": 3, "nme": 6}])
    >>> [point["latency"] for point in front]
    [1, 2]
    """
    front, best = [], float("inf")
    for point in sorted(points, key=lambda item: (item["latency"], item["nme"])):
        if point["nme"] < best:
            front.append(point)
            best = point["nme"]
    return front


def _draw_pareto(axis: Any, report: BenchReport) -> None:
    points = pareto_points(report)
    if points:
        for point in points:
            marker = "*" if point["peer"] else _MARKERS.get(point["kind"], "o")
            axis.scatter(point["latency"], point["nme"], marker=marker, s=80 if point["peer"] else 50)
            axis.annotate(
                point["label"],
                (point["latency"], point["nme"]),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
        front = pareto_front(points)
        axis.plot(
            [p["latency"] for p in front],
            [p["nme"] for p in front],
            "k--",
            linewidth=0.8,
            label="Pareto front",
        )
        latencies = [point["latency"] for point in points]
        if min(latencies) > 0 and max(latencies) / min(latencies) > 20:
            axis.set_xscale("log")
        axis.set_xlabel("latency per face given its box, median (ms)")
        axis.set_ylabel("NME (% of outer-eye distance)")
        axis.set_title("Latency vs accuracy (lower left is better)")
        axis.legend(fontsize=7)
        return
    threads = report.config.get("threads", [1])[0]
    for row in report.models:
        entry = row.latency_for(threads)
        if entry and entry.median_ms is not None and row.size_bytes:
            axis.scatter(entry.median_ms, row.size_bytes / 1e6, marker=_MARKERS.get(row.precision, "o"))
            axis.annotate(
                row.name,
                (entry.median_ms, row.size_bytes / 1e6),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
    axis.set_xlabel(f"inference latency, median, {threads} thread(s) (ms)")
    axis.set_ylabel("file size (MB)")
    axis.set_title("Latency vs size (no accuracy data given)")


def _draw_sizes(axis: Any, report: BenchReport) -> None:
    bars = [(row.name, row.size_bytes, row.gzip_bytes or 0) for row in report.models if row.size_bytes]
    bars += [(peer.name, peer.size_bytes, 0) for peer in report.peers if peer.size_bytes]
    names = [name for name, _, _ in bars]
    sizes = [size / 1e6 for _, size, _ in bars]
    gzipped = [packed / 1e6 for _, _, packed in bars]
    positions = list(range(len(names)))
    axis.barh([p + 0.2 for p in positions], sizes, height=0.4, label="file")
    axis.barh([p - 0.2 for p in positions], gzipped, height=0.4, label="gzip -9")
    axis.set_yticks(positions)
    axis.set_yticklabels(names, fontsize=7)
    axis.set_xscale("log" if sizes and max(sizes) / max(min(sizes), 1e-6) > 30 else "linear")
    axis.set_xlabel("size (MB)")
    axis.set_title("Model size")
    axis.legend(fontsize=7)


def write_plot(report: BenchReport, path: str | os.PathLike[str], panels: str = "both") -> None:
    """A PNG with the Pareto chart and/or the size bars (``panels``: both, pareto, sizes)."""
    pyplot = _pyplot()
    drawers = {"both": (_draw_pareto, _draw_sizes), "pareto": (_draw_pareto,), "sizes": (_draw_sizes,)}[
        panels
    ]
    figure, axes = pyplot.subplots(1, len(drawers), figsize=(6.5 * len(drawers), 5), squeeze=False)
    for axis, draw in zip(axes[0], drawers, strict=True):
        draw(axis, report)
    figure.suptitle(
        f"asmnet-edge bench — {report.target.get('label', '?')}, {report.host.get('cpu', '')}", fontsize=9
    )
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, format="png")
    pyplot.close(figure)
