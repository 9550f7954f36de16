"""``--json`` on EVERY subcommand: stdout is exactly one JSON object, on success and on error.

Each command runs on a cheap input (tiny committed models, the package's bundled faces, ``tmp_path``)
or on a bad one, where it must still print one JSON error object and exit 1. The list of commands is
read from the CLI itself, so a new subcommand without a case here fails the first test.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from asmnet_edge.cli import main

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "asmnet_edge" / "assets" / "faces"
MICRO = ROOT / "tests" / "fixtures" / "micro68_int8.tflite"

# command path -> (arguments given a tmp_path, expected exit code)
Case = Callable[[Path], list[str]]
CASES: dict[tuple[str, ...], tuple[Case, int]] = {
    ("train",): (lambda tmp: ["--data", str(FACES), "--out", str(tmp / "run"), "--val-fraction", "0.6"], 1),
    ("eval",): (lambda tmp: ["--model", str(MICRO), "--data", str(FACES), "--limit", "3"], 0),
    ("data", "synth"): (lambda tmp: ["--count", "0", "--out", str(tmp / "synth")], 0),
    ("data", "teacher"): (lambda tmp: ["--out", str(tmp / "t"), "--holdout-out", str(tmp / "t")], 1),
    ("data", "profile"): (lambda tmp: ["--from", str(tmp), "--count", "1", "--out", str(tmp / "p")], 1),
    ("export",): (lambda tmp: ["--model", str(tmp / "missing.keras"), "--fp16", "--out", str(tmp / "x")], 1),
    ("predict",): (
        lambda tmp: [str(FACES / "face_0000.jpg"), "--model", str(MICRO), "--out", str(tmp / "pred")],
        0,
    ),
    ("bench", "run"): (lambda tmp: ["--model", str(MICRO), "--runs", "2", "--no-xnnpack-compare"], 0),
    ("bench", "suite"): (
        lambda tmp: (
            ["--model", str(MICRO), "--out", str(tmp / "results"), "--runs", "2", "--warmup", "0"]
            + ["--threads", "1", "--no-xnnpack-compare"]
        ),
        0,
    ),
    ("bench", "fit-box-map"): (lambda tmp: ["--data", str(tmp), "--out", str(tmp / "map.json")], 1),
}


def _runner() -> CliRunner:
    """stdout alone (click >= 8.2 always keeps stderr apart; older clicks need mix_stderr=False)."""
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    return CliRunner()


def _leaf_commands(
    group: click.Group, ctx: click.Context, prefix: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, click.Context(command, parent=ctx), (*prefix, name))
        else:
            yield (*prefix, name)


def _one_object(stdout: str) -> dict:
    data = json.loads(stdout)  # raises on anything but one JSON document ("Extra data" for two)
    assert isinstance(data, dict), stdout[:200]
    return data


def test_every_subcommand_has_a_case() -> None:
    commands = set(_leaf_commands(main, click.Context(main), ()))
    assert commands == set(CASES)


@pytest.mark.parametrize("path", sorted(CASES), ids=" ".join)
def test_json_prints_exactly_one_object(path: tuple[str, ...], tmp_path: Path) -> None:
    arguments, expected = CASES[path]
    result = _runner().invoke(main, [*path, *arguments(tmp_path), "--json"])
    assert result.exit_code == expected, (result.stdout, result.stderr)
    data = _one_object(result.stdout)
    assert data["ok"] is (expected == 0)
    if expected:
        assert data["error"] and data["error_type"].endswith("Error"), data


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["eval"], "Missing option '--data'"),
        (["bench", "--threads", "1,2"], "'1,2' is not a valid integer"),
        (["predict", "--camera", "0", "--video", "clip.mp4"], "exactly one of them"),
    ],
)
def test_usage_errors_are_one_object_too(arguments: list[str], message: str) -> None:
    result = _runner().invoke(main, [*arguments, "--json"])
    assert result.exit_code == 2
    data = _one_object(result.stdout)
    assert data["ok"] is False and message in data["error"]
    assert data["error_type"] in ("MissingParameter", "BadParameter", "UsageError")
