"""The interpreter search order: ai_edge_litert, then tflite_runtime, then a clear error."""

from __future__ import annotations

import importlib
import types

import pytest

from asmnet_edge.errors import MissingDependencyError, ModelError
from asmnet_edge.runtime import interpreter


def _block(monkeypatch, blocked: set[str], fakes: dict[str, types.ModuleType] | None = None) -> None:
    real = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> types.ModuleType:
        if name.split(".")[0] in blocked:
            raise ImportError(f"No module named {name!r}", name=name)
        if fakes and name in fakes:
            return fakes[name]
        return real(name, package)

    monkeypatch.setattr(interpreter.importlib, "import_module", fake_import)


def test_litert_first():
    assert interpreter.backend_name() == "ai_edge_litert"


def test_tflite_runtime_when_litert_is_missing(monkeypatch):
    fake = types.ModuleType("tflite_runtime.interpreter")
    _block(monkeypatch, {"ai_edge_litert"}, {"tflite_runtime.interpreter": fake})
    assert interpreter.backend_name() == "tflite_runtime"


def test_neither_names_what_to_install(monkeypatch):
    _block(monkeypatch, {"ai_edge_litert", "tflite_runtime"})
    with pytest.raises(MissingDependencyError) as caught:
        interpreter.make_interpreter(b"\0\0\0\0TFL3")
    message = str(caught.value)
    assert "ai-edge-litert" in message and "tflite-runtime" in message
    assert "pip install 'asmnet-edge[runtime]'" in message


def test_old_tflite_runtime_refusing_a_newer_op_says_which_exports_work(monkeypatch):
    fake = types.ModuleType("tflite_runtime.interpreter")

    class Interpreter:
        def __init__(self, **options: object) -> None:
            raise ValueError("Didn't find op for builtin opcode 'FULLY_CONNECTED' version '12'")

    fake.Interpreter = Interpreter  # type: ignore[attr-defined]
    _block(monkeypatch, {"ai_edge_litert"}, {"tflite_runtime.interpreter": fake})
    with pytest.raises(ModelError, match=r"version '12'.*export fp32, fp16 or int8.*need ai-edge-litert"):
        interpreter.make_interpreter(b"\0\0\0\0TFL3" + b"\0" * 16)
