"""``asmnet-edge``: a thin click group whose subcommands are imported only when invoked.

Each subcommand lives in ``asmnet_edge.commands.<name>`` and calls one library function.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

# name -> "module:attribute"; the one table of subcommands
SUBCOMMANDS: dict[str, str] = {
    "train": "asmnet_edge.commands.train:train",
    "eval": "asmnet_edge.commands.evaluate:evaluate",
    "data": "asmnet_edge.commands.data:data",
    "export": "asmnet_edge.commands.export:export",
    "predict": "asmnet_edge.commands.predict:predict",
    "bench": "asmnet_edge.commands.bench:bench",
}

HELP = {
    "train": "Train an ASMNet with the ASM-assisted loss.",
    "eval": "Evaluate a model: NME, CED/AUC, failure rate, pose MAE.",
    "data": "Make training data: synthetic renders and teacher labels.",
    "export": "Export to TFLite (fp32, fp16, int8, ...) with metadata and a fidelity check.",
    "predict": "Landmarks and head pose on images, a video or a camera.",
    "bench": "Benchmark models: MACs, size, latency, memory, accuracy; local, SSH or adb.",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in SUBCOMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS or not _available(cmd_name):
            return None
        module_name, attribute = SUBCOMMANDS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP[name]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    module_name = SUBCOMMANDS[name].split(":")[0]
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup)
@click.version_option(package_name="asmnet-edge")
def main() -> Any:
    """asmnet-edge: ASMNet facial landmarks and head pose, from Keras to LiteRT on edge devices."""


if __name__ == "__main__":
    main()
