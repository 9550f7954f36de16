"""The one strict loader: a JSON object -> a dataclass, checked against the dataclass's type hints.

An unknown key, a missing required key or a value of the wrong type is an error that names the file
(or object) and the key; nothing is silently defaulted or dropped. Export recipes, device profiles,
the training config, model metadata, box maps and the Keras model config all load through here.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Board:
...     name: str
...     cores: int = 1
...     threads: tuple[int, ...] = (1,)
>>> load_dataclass(Board, {"name": "pi", "threads": [1, 4]}, "device profile pi.json")
Board(name='pi', cores=1, threads=(1, 4))
>>> load_dataclass(Board, {"name": "pi", "core": 4}, "device profile pi.json")
Traceback (most recent call last):
...
asmnet_edge.errors.ConfigError: device profile pi.json: unknown key 'core'; known keys: cores, name, threads
>>> load_dataclass(Board, {"name": "pi", "cores": "4"}, "device profile pi.json")
Traceback (most recent call last):
...
asmnet_edge.errors.ConfigError: device profile pi.json: key 'cores' must be int, got str '4'
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from asmnet_edge.errors import AsmnetEdgeError, ConfigError

T = TypeVar("T")


class _FieldError(Exception):
    """What is wrong with one key (the message without the file's name)."""


def _wrong(path: str, expected: str, value: Any) -> _FieldError:
    return _FieldError(f"key {path!r} must be {expected}, got {_describe(value)}")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    if hint is float:
        return "number"
    if isinstance(hint, type):
        return hint.__name__
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_name(arg) for arg in typing.get_args(hint))
    return getattr(origin, "__name__", str(hint))


def _convert(hint: Any, value: Any, path: str) -> Any:
    """``value`` checked against ``hint``, with JSON's lists turned into tuples and objects into
    nested dataclasses; raises :class:`_Wrong` where it does not fit."""
    if hint is Any:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (arg for arg in args if arg is not type(None)):
            try:
                return _convert(arg, value, path)
            except _FieldError:
                continue
        raise _wrong(path, _name(hint), value)
    if hint is type(None):
        if value is not None:
            raise _wrong(path, "null", value)
        return None
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, dict):
            raise _wrong(path, "object", value)
        return _load(hint, value, path + ".")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _wrong(path, "list", value)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise _wrong(path, f"list of {len(args)} values", value)
            pairs = enumerate(zip(args, value, strict=True))
            return tuple(_convert(arg, item, f"{path}[{i}]") for i, (arg, item) in pairs)
        item_hint = args[0] if args else Any
        items = [_convert(item_hint, item, f"{path}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise _wrong(path, "object", value)
        value_hint = args[1] if len(args) == 2 else Any
        return {str(key): _convert(value_hint, item, f"{path}.{key}") for key, item in value.items()}
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong(path, "number", value)
        return float(value)
    if hint in (int, str, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise _wrong(path, hint.__name__, value)
        return value
    raise TypeError(f"the strict loader does not know the type hint {hint!r} (at {path})")


def _load(cls: type[T], data: dict[str, Any], prefix: str) -> T:
    fields = {item.name: item for item in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise _FieldError(f"unknown key {prefix + str(key)!r}; known keys: {known}")
    values: dict[str, Any] = {}
    for name, item in fields.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], prefix + name)
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            raise _FieldError(f"missing key {prefix + name!r}")
    return cls(**values)


def load_dataclass(cls: type[T], data: Any, what: str, error: type[AsmnetEdgeError] = ConfigError) -> T:
    """``data`` (a parsed JSON object) as a ``cls``; ``what`` names it in errors (``"recipe pi.json"``).

    Lists become tuples where the field is a tuple, objects become nested dataclasses, integers
    become floats where the field is a float; ``bool`` is never taken for a number. The dataclass's
    own ``__post_init__`` checks run as usual; their ``error`` is re-raised prefixed with ``what``.
    """
    if not isinstance(data, dict):
        raise error(f"{what} must be a JSON object, got {_describe(data)}")
    try:
        return _load(cls, data, "")
    except _FieldError as err:
        raise error(f"{what}: {err}") from None
    except error as err:
        if str(err).startswith(what):
            raise
        raise error(f"{what}: {err}") from err


def read_json(path: str | Path, what: str, error: type[AsmnetEdgeError] = ConfigError) -> Any:
    """The parsed JSON of ``path``; a missing, unreadable or invalid file is ``error`` naming it."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise error(f"cannot read {what} {source}: {reason}") from err
    try:
        return json.loads(text)
    except ValueError as err:
        raise error(f"{what} {source} is not valid JSON: {err}") from err


def load_json_file(
    cls: type[T], path: str | Path, what: str, error: type[AsmnetEdgeError] = ConfigError
) -> T:
    """:func:`read_json` then :func:`load_dataclass`, errors naming ``what`` and the file."""
    return load_dataclass(cls, read_json(path, what, error), f"{what} {path}", error)
