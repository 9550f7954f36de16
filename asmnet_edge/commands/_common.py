"""What every subcommand shares: the ``--json`` contract and the one error translation.

With ``--json`` a command prints exactly one JSON object on stdout; logs and progress go to stderr.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from asmnet_edge.errors import AsmnetEdgeError

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout (logs go to stderr)."
)


def log(message: str) -> None:
    """Progress and log lines: always stderr, so stdout stays machine-readable."""
    click.echo(message, err=True)


def emit(result: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], str] | None = None) -> None:
    """Print a command's result: one JSON object, or a human summary."""
    if as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
    else:
        click.echo(human(result) if human else json.dumps(result, indent=2, sort_keys=True, default=str))


def handle_errors(command: F) -> F:
    """Turn library errors into a one-line message and exit code 1 (JSON error object with --json)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AsmnetEdgeError as err:
            if kwargs.get("as_json"):
                click.echo(json.dumps({"ok": False, "error": str(err), "error_type": type(err).__name__}))
                sys.exit(1)
            raise click.ClickException(str(err)) from err

    return wrapper  # type: ignore[return-value]
