"""``asmnet-edge``: a thin click group whose subcommands are imported only when invoked.

Each subcommand lives in ``asmnet_edge.commands.<name>`` and calls one library function. The grammar
is the same on every subcommand: ``--json`` prints exactly one JSON object on stdout (an error too),
``--model`` names the model, ``--data``/``--format`` a labelled dataset, ``--fp32/--fp16/--int8/...``
switch the precision, ``--threads N`` (repeat it where several are measured), ``--out DIR`` is where
the command writes.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Sequence
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
    "bench": "Benchmark models: MACs, size, latency, memory, accuracy; local, SSH or adb; the suite.",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs.

    ``commands`` maps names to ``"module:attribute"``; with ``default_command``, arguments that do not
    start with a subcommand's name go to that one (``asmnet-edge bench --model m.tflite`` runs
    ``bench run``).
    """

    def __init__(
        self,
        *args: Any,
        commands_table: dict[str, str] | None = None,
        commands_help: dict[str, str] | None = None,
        default_command: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.table = SUBCOMMANDS if commands_table is None else commands_table
        self.table_help = HELP if commands_help is None else commands_help
        self.default_command = default_command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in self.table if _available(self.table[name])]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.table or not _available(self.table[cmd_name]):
            return None
        module_name, attribute = self.table[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if self.default_command is not None and not (
            args and (args[0] in self.table or args[0] in ctx.help_option_names)
        ):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.table_help[name]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """With ``--json``, a usage error is one JSON object on stdout too (and click's exit code)."""
        argv = list(sys.argv[1:] if args is None else args)
        if "--json" not in argv or not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            return super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as err:
            click.echo(
                json.dumps({"ok": False, "error": err.format_message(), "error_type": type(err).__name__})
            )
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo(json.dumps({"ok": False, "error": "aborted", "error_type": "Abort"}))
            sys.exit(1)


def _available(target: str) -> bool:
    return importlib.util.find_spec(target.split(":")[0]) is not None


@click.group(cls=LazyGroup)
@click.version_option(package_name="asmnet-edge")
def main() -> Any:
    """asmnet-edge: ASMNet facial landmarks and head pose, from Keras to LiteRT on edge devices."""


if __name__ == "__main__":
    raise SystemExit(main())
