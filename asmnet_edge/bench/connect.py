"""``open_target``: the target object for a ``--target`` value (local, SSH or adb).

Kept apart from :mod:`asmnet_edge.bench.targets` (local and runner targets) and
:mod:`asmnet_edge.bench.adb` (the ``benchmark_model`` target, which builds on a runner target) so
that neither imports the other both ways.

>>> from asmnet_edge.bench.config import BenchConfig
>>> with open_target(BenchConfig(models=("m.tflite",))) as target:  # doctest: +SKIP
...     target.info["backend"]
'ai_edge_litert'
"""

from __future__ import annotations

from typing import Any

from asmnet_edge.bench import transports
from asmnet_edge.bench.adb import open_adb_target
from asmnet_edge.bench.config import BenchConfig
from asmnet_edge.bench.targets import LocalTarget, RunnerTarget, parse_target


def open_target(config: BenchConfig) -> Any:
    """The target object for ``config.target`` (use it as a context manager)."""
    spec = parse_target(config.target)
    if spec.kind == "local":
        return LocalTarget(config)
    if spec.kind == "ssh":
        destination = transports.SshDestination(spec.user, spec.host or "", spec.port or 22)
        return RunnerTarget(config, transports.SshTransport(destination, config.remote), "ssh")
    return open_adb_target(config, spec.serial)
