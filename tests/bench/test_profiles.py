"""Device profiles: the committed ones load; unknown keys and impossible values are ConfigErrors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asmnet_edge.bench.profiles import PACKAGED_PROFILES, DeviceProfile, load_profile, profile_dirs
from asmnet_edge.errors import ConfigError

DEVICES = PACKAGED_PROFILES


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
        ({"thread": [1]}, "board.json: unknown key 'thread'"),
        ({"threads": [1, 8]}, "exceed its 4 cores"),
        ({"kind": "telnet"}, "kind must be one of"),
        ({"taskset_mask": "big"}, "taskset_mask must be hex"),
        ({"threads": "1,2"}, "key 'threads' must be list, got str '1,2'"),
        ({"threads": [1, "4"]}, "key 'threads\\[1\\]' must be int, got str '4'"),
        ({"reference": {"fp32": "fast"}}, "key 'reference.fp32' must be number, got str 'fast'"),
        ({"cores": "4"}, "key 'cores' must be int, got str '4'"),
        ({"kind": "ssh"} | {"name": None}, "key 'name' must be str, got NoneType None"),
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


def test_own_profiles_folder_comes_before_the_packaged_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {"name": "pi4", "kind": "ssh", "cores": 4, "threads": [2], "description": "my own pi4"}
    (tmp_path / "pi4.json").write_text(json.dumps(data))
    monkeypatch.setenv("ASMNET_DEVICE_PROFILES", str(tmp_path))
    assert profile_dirs() == [tmp_path, PACKAGED_PROFILES]
    assert load_profile("pi4").description == "my own pi4"
    assert load_profile("pi5").name == "pi5"  # still found in the package
