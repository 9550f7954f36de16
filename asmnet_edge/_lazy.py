"""The one helper through which heavy optional modules are imported, inside the functions that need them,
and the one way to find the data files installed packages ship, without importing them.

>>> np = require("numpy", extra="runtime", purpose="running models")
>>> np.__name__
'numpy'
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from asmnet_edge.errors import MissingDependencyError


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the pip extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.split(".")[0]
        if err.name is not None and err.name.split(".")[0] != top:
            raise  # the module exists but one of *its* imports is broken: show the real cause
        raise MissingDependencyError(module, extra, purpose) from err


def package_dirs(name: str) -> list[Path]:
    """The folders of an installed package, found without importing it (empty when it is not installed).

    The one way the package finds data files that other packages ship (sample photos, model files).

    >>> package_dirs("json")[0].name, package_dirs("no_such_package_here")
    ('json', [])
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # a dotted name whose parent is missing, or a broken spec
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def package_dir(name: str) -> Path | None:
    """The (first) folder of an installed package, or None; see :func:`package_dirs`."""
    folders = package_dirs(name)
    return folders[0] if folders else None


def package_file(name: str, relative: str) -> Path | None:
    """``relative`` inside an installed package, if the package and the file are there.

    >>> package_file("json", "decoder.py").name, package_file("json", "missing.txt")
    ('decoder.py', None)
    """
    for folder in package_dirs(name):
        if (folder / relative).is_file():
            return folder / relative
    return None
