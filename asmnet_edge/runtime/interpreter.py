"""The one place that finds a TFLite interpreter: ``ai_edge_litert`` first, then ``tflite_runtime``.

There is deliberately no TensorFlow fallback: the runtime must run where TensorFlow cannot.

>>> backend_name() in ("ai_edge_litert", "tflite_runtime")  # doctest: +SKIP
True
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from asmnet_edge.errors import MissingDependencyError, ModelError

_BACKENDS = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")


def _interpreter_module() -> Any:
    for name in _BACKENDS:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise MissingDependencyError(
        "ai-edge-litert (or tflite-runtime on 32-bit boards)", "runtime", "running .tflite models"
    )


def backend_name() -> str:
    """Name of the interpreter package that :func:`make_interpreter` uses."""
    return str(_interpreter_module().__name__.split(".")[0])


def make_interpreter(model: str | Path | bytes, num_threads: int | None = 1, use_xnnpack: bool = True) -> Any:
    """Create and allocate an interpreter for a .tflite path or its bytes.

    ``use_xnnpack=False`` runs the builtin reference/optimized kernels only (for benchmarks that
    measure what the delegate brings). A corrupt file raises :class:`ModelError`.
    """
    module = _interpreter_module()
    content = model if isinstance(model, bytes) else _read(Path(model))
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ModelError("not a TFLite model (missing the 'TFL3' identifier): check the file or re-export it")
    options: dict[str, Any] = {"model_content": content, "num_threads": num_threads}
    if not use_xnnpack:
        resolver = getattr(module, "OpResolverType", None)
        if resolver is None:
            raise ModelError(f"{module.__name__} cannot switch XNNPACK off")
        options["experimental_op_resolver_type"] = resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    try:
        interpreter = module.Interpreter(**options)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        hint = ""
        if module.__name__.startswith("tflite_runtime") and "version" in str(err):
            hint = (
                " (tflite-runtime 2.14 predates the converter: export fp32, fp16 or int8 for it; "
                "dynamic-range models need ai-edge-litert)"
            )
        raise ModelError(f"the interpreter cannot load this model: {err}{hint}") from err
    return interpreter


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read model file {path}: {err.strerror}") from err
