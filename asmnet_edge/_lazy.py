"""The one helper through which heavy optional modules are imported, inside the functions that need them.

>>> np = require("numpy", extra="runtime", purpose="running models")
>>> np.__name__
'numpy'
"""

from __future__ import annotations

import importlib
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
