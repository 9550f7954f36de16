"""Device profiles: the committed ones load; unknown keys and impossible values are ConfigErrors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asmnet_edge.bench.profiles import DeviceProfile, load_profile
from asmnet_edge.errors import ConfigError

DEVICES = Path(__file__).resolve().parents[2] / "benchmarks" / "devices"


def test_committed_profiles_load_and_label_reference_figures() -> None:
    names = sorted(path.stem for path in DEVICES.glob("*.json"))
    assert {"pi4", "pi5", "android_midrange"} <= set(names)
    for name in names:
        profile = load_profile(DEVICES / f"{name}.json")
        assert profile.name == name
        assert max(profile.threads) <= profile.cores
        if profile.reference:
            assert "NOT MEASUREMENTS" in profile.reference_source
    phone = load_profile("android_midrange")
    assert (
        phone.kind == "adb"
        and phone.taskset_mask == "f0"
        and phone.benchmark_binary.endswith("benchmark_model")
    )


def _profile(tmp_path: Path, **changes: object) -> Path:
    data = {"name": "board", "kind": "ssh", "cores": 4, "threads": [1, 4], **changes}
    path = tmp_path / "board.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"thread": [1]}, "unknown keys \\['thread'\\]"),
        ({"threads": [1, 8]}, "exceed its 4 cores"),
        ({"kind": "telnet"}, "kind must be one of"),
        ({"taskset_mask": "big"}, "taskset_mask must be hex"),
        ({"threads": "1,2"}, "threads must be a list of integers"),
        ({"reference": {"fp32": "fast"}}, "reference must map labels to milliseconds"),
        ({"cores": "4"}, "cores must be a int"),
    ],
)
def test_strict_loading(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_profile(_profile(tmp_path, **changes))


def test_not_json_and_unknown_name(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_profile(broken)
    with pytest.raises(ConfigError, match="no device profile 'toaster'.*pi4"):
        load_profile("toaster")


def test_profile_is_frozen() -> None:
    profile = DeviceProfile.from_dict({"name": "x", "kind": "local", "cores": 2})
    with pytest.raises(AttributeError):
        profile.cores = 8  # type: ignore[misc]
