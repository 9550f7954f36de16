"""Target parsing and the quoting of remote commands: no file name or host can inject anything."""

from __future__ import annotations

import shlex

import pytest

from asmnet_edge.bench.config import RemoteOptions
from asmnet_edge.bench.targets import TargetSpec, parse_target
from asmnet_edge.bench.transports import SshDestination, SshTransport, check_remote_path
from asmnet_edge.errors import ConfigError, DeviceError


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("local", TargetSpec("local")),
        ("ssh://pi@raspberrypi.local", TargetSpec("ssh", "pi", "raspberrypi.local", 22)),
        ("ssh://pi@10.0.0.7:2222", TargetSpec("ssh", "pi", "10.0.0.7", 2222)),
        ("ssh://board", TargetSpec("ssh", None, "board", 22)),
        ("adb", TargetSpec("adb")),
        ("adb:emulator-5554", TargetSpec("adb", serial="emulator-5554")),
    ],
)
def test_parse_target(text: str, spec: TargetSpec) -> None:
    assert parse_target(text) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scp://pi@host", "unknown target"),
        ("ssh://pi@host:99999", "bad SSH port"),
        ("ssh://pi@host:ssh", "bad SSH port"),
        ("ssh://-oProxyCommand=touch /tmp/x@host", "bad user"),
        ("ssh://pi@-oProxyCommand=x", "bad host"),
        ("ssh://pi@host;reboot", "bad host"),
        ("adb:-s", "bad adb serial"),
        ("adb:R5$(reboot)", "bad adb serial"),
    ],
)
def test_bad_targets_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_target(text)


def test_ssh_command_quotes_every_remote_argument() -> None:
    transport = SshTransport(
        SshDestination("pi", "board", 2200), RemoteOptions(strict_host_key_checking="yes")
    )
    argv = transport.ssh_command(["python3", "/tmp/d/runner.py", "--model", "a;touch pwned.tflite", "$(id)"])
    assert argv[:3] == ["ssh", "-o", "BatchMode=yes"] and "StrictHostKeyChecking=yes" in argv
    assert argv[-3:-1] == ["--", "pi@board"] and argv[argv.index("-p") + 1] == "2200"
    assert shlex.split(argv[-1]) == [
        "python3",
        "/tmp/d/runner.py",
        "--model",
        "a;touch pwned.tflite",
        "$(id)",
    ]


def test_remote_paths_must_be_plain() -> None:
    assert check_remote_path("/tmp/asmnet-bench.AbC123/model_0.tflite", "path")
    for bad in ("relative/path", "/tmp/a b", "/tmp/$(id)", "/tmp/a;b"):
        with pytest.raises(DeviceError, match="unexpected path"):
            check_remote_path(bad, "path")
