"""What a benchmark script leaves: ``NAME.json`` and ``NAME.md`` in its output folder, the Markdown
printed too, and the command that made them (for the record's ``command`` field).

Imported by the scripts beside it (``python benchmarks/eval_targets.py`` puts this folder on the path).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asmnet_edge._atomic import atomic_write_text


def command_line() -> str:
    """The command that is running, as the result files record it (``python benchmarks/...``)."""
    return "python " + " ".join(sys.argv)


def write_result(
    out: Path,
    name: str,
    report: dict[str, Any],
    markdown: Callable[[dict[str, Any]], str],
    default: Callable[[Any], Any] | None = float,
) -> None:
    """Write ``out/name.json`` (``default`` turns numpy numbers into JSON ones) and ``out/name.md``,
    each atomically, and print the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{name}.json", json.dumps(report, indent=1, default=default))
    text = markdown(report)
    atomic_write_text(out / f"{name}.md", text)
    print(text)
