"""The Keras ASMNet, its ASM shape model and losses, and the embedded default model.

>>> from asmnet_edge.model import load_default  # doctest: +SKIP
>>> loaded = load_default()  # doctest: +SKIP
>>> loaded.model.count_params()  # doctest: +SKIP
1439507
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asmnet_edge.errors import ModelError
from asmnet_edge.runtime.contract import DEFAULT_MODEL_DIR

DEFAULT_WEIGHTS = "asmnet68.weights.h5"
DEFAULT_PCA = "pca.npz"


def default_asset_dir() -> Path:
    """The folder inside the installed package that holds the default model's files."""
    return DEFAULT_MODEL_DIR


def load_default() -> Any:
    """The embedded default ASMNet (68 points + pose, alpha 1.0, 224 px) as a :class:`LoadedASMNet`."""
    from asmnet_edge.model.io import load_asmnet

    weights = default_asset_dir() / DEFAULT_WEIGHTS
    if not weights.exists():
        raise ModelError(
            f"the default model's weights are missing from the package ({weights}): reinstall asmnet-edge "
            "or pass --model PATH"
        )
    return load_asmnet(weights)
