"""The options every subcommand spells the same way, with defaults read from the library.

- ``--model PATH``: the model (repeat it where a command takes several; a folder means its .tflite files);
- ``--data PATH`` with ``--format NAME``: a labelled dataset, formats from the readers' own list;
- ``--fp32 / --fp16 / --int8 / --dynamic / --int16x8``: switches over one ``precision`` setting, from
  the one precision table (several may be given where a command makes several);
- ``--threads N``: an integer (repeat it where several thread counts are measured).

>>> from asmnet_edge.training.config import TrainConfig
>>> library_default(TrainConfig, "epochs")
30
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import click

from asmnet_edge.exporters.precisions import PRECISIONS

F = TypeVar("F", bound=Callable[..., Any])


def library_default(owner: Any, name: str) -> Any:
    """The default of field ``name`` of a dataclass, or of parameter ``name`` of a function.

    The CLI shows and uses the library's own default instead of repeating a literal.
    """
    if dataclasses.is_dataclass(owner):
        for item in dataclasses.fields(owner):
            if item.name == name:
                if item.default is not dataclasses.MISSING:
                    return item.default
                if item.default_factory is not dataclasses.MISSING:
                    return item.default_factory()
        raise KeyError(f"{owner.__name__} has no field {name!r} with a default")
    default = inspect.signature(owner).parameters[name].default
    if default is inspect.Parameter.empty:
        raise KeyError(f"{owner.__name__} has no parameter {name!r} with a default")
    return default


def precision_switches(multiple: bool, default: str | None = None, what: str = "") -> Callable[[F], F]:
    """``--fp32 --fp16 --int8 --dynamic --int16x8`` writing the ``precision`` (or ``precisions``) argument."""

    def decorate(command: F) -> F:
        for name in reversed(PRECISIONS):
            text = PRECISIONS[name].description + (f" ({what})" if what else "") + "."
            if multiple:
                option = click.option(f"--{name}", "precisions", flag_value=name, multiple=True, help=text)
            else:
                option = click.option(
                    f"--{name}",
                    "precision",
                    flag_value=name,
                    default=name == default,
                    help=text + (" [default]" if name == default else ""),
                )
            command = option(command)
        return command

    return decorate


def format_option(
    choices: tuple[str, ...], default: str | None, what: str = "--data", fallback: str = ""
) -> Callable[[F], F]:
    """``--format``: the dataset format of ``what``, one of the readers' own ``choices``.

    ``default`` ``None`` leaves the choice to a recipe (``fallback`` says what applies then).
    """
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=default is not None,
        help=f"Format of {what}" + (f" (default: {fallback})." if fallback else "."),
    )


def threads_option(default: int | tuple[int, ...], multiple: bool = False) -> Callable[[F], F]:
    """``--threads N``; with ``multiple``, repeat it (``--threads 1 --threads 4``) to measure several."""
    if multiple:
        return click.option(
            "--threads",
            type=click.IntRange(min=1),
            multiple=True,
            help="Interpreter threads; repeat for several (default: the device profile's, else "
            f"{' '.join(str(count) for count in default)}).",  # type: ignore[union-attr]
        )
    return click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help="Interpreter threads.",
    )
