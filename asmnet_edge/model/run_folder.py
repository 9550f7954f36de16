"""A cascade run's folder: which run a path belongs to, where its weights are, loading them.

A DAN or refine run is named by its folder or by its weights file; its assets file beside the
weights says which architecture it is.

>>> import tempfile
>>> run = Path(tempfile.mkdtemp())
>>> weights_in(run, "dan.weights.h5") == run / "dan.weights.h5", has_run_file(run, "dan_assets.npz")
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from asmnet_edge.errors import ModelError


def has_run_file(path: str | Path, name: str) -> bool:
    """Does the run of ``path`` (its folder, or a file in it) hold the file ``name``?"""
    source = Path(path)
    folder = source if source.is_dir() else source.parent
    return (folder / name).is_file()


def weights_in(path: str | Path, name: str) -> Path:
    """The weights of the run ``path`` names: the folder's ``name``, or ``path`` itself."""
    source = Path(path)
    return source / name if source.is_dir() else source


def load_run_weights(build: Callable[[], Any], weights: Path, kind: str, described: str) -> Any:
    """The network ``build()`` makes (a ``kind`` one, e.g. ``"DAN"``) with ``weights`` loaded;
    :class:`ModelError` when the file is missing (before building) or does not fit the network
    ``described`` by the run's assets."""
    if not weights.is_file():
        raise ModelError(f"{kind} weights {weights} do not exist")
    model = build()
    try:
        model.load_weights(str(weights))
    except (ValueError, OSError) as err:
        raise ModelError(f"{weights} does not fit the {described}: {err}") from err
    return model
