"""The result objects of a benchmark run and their JSON form (``schema_version`` 1).

A model that failed is still a :class:`ModelResult`, with ``ok = False`` and its ``error``; a thread
count that failed is a latency entry with its own ``error``. Reports are written from these objects.

>>> row = ModelResult(name="m", path="m.tflite", ok=False, error="not a TFLite model")
>>> BenchReport(models=[row]).to_dict()["models"][0]["error"]
'not a TFLite model'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from asmnet_edge._config import load_dataclass

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LatencyEntry:
    """One (threads, XNNPACK on/off) configuration timed on the target, or why it could not be.

    The runner's (and ``benchmark_model``'s) JSON loads strictly through :meth:`from_dict`;
    :meth:`to_dict` writes back the figures that were measured (``None`` fields are left out).
    """

    threads: int
    xnnpack: bool
    ok: bool = True
    error: str | None = None
    runs: int | None = None
    median_ms: float | None = None
    p90_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None
    std_ms: float | None = None
    spread: float | None = None  # p90 / median
    init_ms: float | None = None
    first_inference_ms: float | None = None
    warmup_mean_ms: float | None = None
    outputs_finite: bool | None = None
    samples_ms: tuple[float, ...] | None = None
    # benchmark_model (adb) only: its own memory figures and XNNPACK's delegation
    memory_init_mb: float | None = None
    memory_overall_mb: float | None = None
    delegated_nodes: str | None = None
    delegate_partitions: int | None = None
    # a cascade row (cascade_runner): medians of its parts, "stage1", "between" (numpy) and "refine"
    parts_median_ms: dict[str, float] | None = None

    @classmethod
    def from_dict(cls, data: Any) -> LatencyEntry:
        return load_dataclass(cls, data, "latency entry")

    def to_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in asdict(self).items() if value is not None}
        data["error"] = self.error
        if self.samples_ms is not None:
            data["samples_ms"] = list(self.samples_ms)
        return data


@dataclass
class ModelResult:
    """Everything measured about one .tflite file."""

    name: str
    path: str
    ok: bool = True
    error: str | None = None
    precision: str = "unknown"
    variant: str = "unknown"
    num_landmarks: int | None = None
    input_size: int | None = None
    alpha: float | None = None
    size_bytes: int | None = None
    gzip_bytes: int | None = None
    sha256: str | None = None
    macs: int | None = None
    flops: int | None = None
    parameters: int | None = None
    per_op: dict[str, Any] = field(default_factory=dict)
    backend: str | None = None
    init_ms: float | None = None
    first_inference_ms: float | None = None
    warmup_mean_ms: float | None = None
    rss_baseline_mb: float | None = None
    rss_peak_mb: float | None = None
    rss_model_mb: float | None = None
    latency: list[LatencyEntry] = field(default_factory=list)
    accuracy: dict[str, Any] | None = None
    accuracy_error: str | None = None
    vs_fp32: dict[str, Any] | None = None
    # a cascade row (asmnet_edge.bench.cascade): its stage-1 model and refine stage, each's own facts
    stages: list[dict[str, Any]] | None = None

    def fail(self, message: str) -> None:
        if self.ok:
            self.ok = False
            self.error = message

    def latency_for(self, threads: int, xnnpack: bool = True) -> LatencyEntry | None:
        """The successful latency entry for one configuration, if it ran."""
        for entry in self.latency:
            if entry.threads == threads and entry.xnnpack == xnnpack and entry.ok:
                return entry
        return None

    def best_median_ms(self) -> float | None:
        values = [entry.median_ms for entry in self.latency if entry.ok and entry.median_ms]
        return min(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "latency": [entry.to_dict() for entry in self.latency]}


@dataclass
class PeerResult:
    """A competing landmark predictor measured on the same images (or why it could not be)."""

    name: str
    ok: bool = True
    error: str | None = None
    points: int | None = None
    size_bytes: int | None = None
    input: str = ""
    per_face: dict[str, Any] | None = None  # latency stats of one face given its box
    accuracy: dict[str, Any] | None = None
    notes: str = ""


@dataclass
class BenchReport:
    """One run: where, how, what was measured, and the ratios between models and peers."""

    models: list[ModelResult] = field(default_factory=list)
    peers: list[PeerResult] = field(default_factory=list)
    target: dict[str, Any] = field(default_factory=dict)
    host: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    device_profile: dict[str, Any] | None = None
    dataset: dict[str, Any] | None = None
    ratios: list[dict[str, Any]] = field(default_factory=list)
    command: str = ""
    created_utc: str = ""
    tool_version: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = [row.to_dict() for row in self.models]
        return {"schema_version": SCHEMA_VERSION, "tool": "asmnet-edge bench", **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchReport:
        """Read a report back (the plots and the suite re-use saved JSON)."""
        from asmnet_edge.errors import ConfigError

        if data.get("schema_version") != SCHEMA_VERSION:
            raise ConfigError(
                f"bench report schema version {data.get('schema_version')!r} is not {SCHEMA_VERSION}: "
                "re-run the benchmark with this asmnet-edge"
            )
        values = {key: value for key, value in data.items() if key not in ("schema_version", "tool")}
        values["models"] = [
            ModelResult(
                **{**row, "latency": [LatencyEntry.from_dict(entry) for entry in row.get("latency", [])]}
            )
            for row in values.get("models", [])
        ]
        values["peers"] = [PeerResult(**row) for row in values.get("peers", [])]
        return cls(**values)

    @property
    def failed(self) -> bool:
        """True when the device failed or no model produced a latency figure."""
        return self.error is not None or not any(row.best_median_ms() for row in self.models)
