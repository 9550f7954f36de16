"""Static checks of the Android demo, which cannot be built here (no Android SDK, no Google Maven).

Unmarked and TF-free: the manifest, pinned versions, the uncompressed model asset and its hash, no
TODO left in the camera/inference path, and android_demo/sync_model.py's checks.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

DEMO = Path(__file__).resolve().parents[2] / "android_demo"
APP = DEMO / "app"
ASSETS = APP / "src" / "main" / "assets"
ANDROID_NS = "{http://schemas.android.com/apk/res/android}"
# a pinned version: digits and dots, optionally a qualifier such as -alpha01 or -1.0.29
PINNED = re.compile(r"^\d+(\.\d+)+(-[A-Za-z0-9.]+)?$")


def _sync_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_model", DEMO / "sync_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_manifest_asks_for_the_camera_and_launches_the_activity() -> None:
    root = ET.parse(APP / "src" / "main" / "AndroidManifest.xml").getroot()
    permissions = {item.get(f"{ANDROID_NS}name") for item in root.iter("uses-permission")}
    assert "android.permission.CAMERA" in permissions
    activities = [item.get(f"{ANDROID_NS}name") for item in root.iter("activity")]
    assert activities == [".MainActivity"]
    assert (APP / "src" / "main" / "java" / "dev" / "asmnetedge" / "demo" / "MainActivity.kt").is_file()


def test_every_catalog_version_is_pinned() -> None:
    tomllib = pytest.importorskip("tomllib", reason="reading TOML needs Python 3.11+")
    catalog = tomllib.loads((DEMO / "gradle" / "libs.versions.toml").read_text(encoding="utf-8"))
    versions = catalog["versions"]
    assert {"agp", "kotlin", "camerax", "litert"} <= set(versions)
    for name, version in versions.items():
        assert isinstance(version, str) and PINNED.match(version), f"{name} = {version!r} is not pinned"
    for section in ("libraries", "plugins"):
        for name, entry in catalog[section].items():
            version = entry.get("version")  # a literal, or {"ref": name} for version.ref
            assert version is not None, f"{section}.{name} has no version"
            resolved = versions[version["ref"]] if isinstance(version, dict) else version
            assert PINNED.match(resolved), f"{section}.{name} resolves to {resolved!r}, not a pinned version"
    assert catalog["libraries"]["litert"]["group"] == "com.google.ai.edge.litert"


def test_build_scripts_use_no_dynamic_versions_and_a_pinned_gradle() -> None:
    for script in DEMO.rglob("*.gradle.kts"):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r":\+\"|latest\.(release|integration)|\[[\d.]+,", text), script
        assert not re.search(r"\"[\w.-]+:[\w.-]+:[\d.]+\"", text), f"{script}: versions belong in the catalog"
    wrapper = (DEMO / "gradle" / "wrapper" / "gradle-wrapper.properties").read_text(encoding="utf-8")
    assert re.search(r"distributionUrl=.*/gradle-\d+\.\d+(\.\d+)?-(bin|all)\.zip", wrapper)


def test_tflite_assets_are_stored_uncompressed() -> None:
    text = (APP / "build.gradle.kts").read_text(encoding="utf-8")
    assert re.search(r"androidResources\s*\{[^}]*noCompress\s*\+=\s*[^}]*\"tflite\"", text)


def test_no_todo_in_the_camera_and_inference_path() -> None:
    sources = [*(APP / "src" / "main").rglob("*.kt"), *(DEMO / "core" / "src" / "main").rglob("*.java")]
    assert len(sources) >= 10
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"\b(TODO|FIXME|XXX)\b", text), f"{source} has an unfinished marker"
        assert len(text.splitlines()) < 400, f"{source} is over 400 lines"


def test_app_and_sync_script_agree_on_asset_names() -> None:
    sync = _sync_module()
    kotlin = (APP / "src/main/java/dev/asmnetedge/demo/LandmarkModel.kt").read_text(encoding="utf-8")
    assert f'MODEL_ASSET = "{sync.MODEL_ASSET}"' in kotlin
    assert f'SIDECAR_ASSET = "{sync.SIDECAR_ASSET}"' in kotlin
    assert f'REFINE_ASSET = "{sync.REFINE_ASSET}"' in kotlin
    assert f'REFINE_SIDECAR_ASSET = "{sync.REFINE_SIDECAR_ASSET}"' in kotlin
    assert sync.REFINE_ASSET.endswith(".tflite")
    assert sync.MODEL_ASSET.endswith(".tflite")  # covered by noCompress


def test_model_asset_matches_its_sidecar() -> None:
    sync = _sync_module()
    model, sidecar = ASSETS / sync.MODEL_ASSET, ASSETS / sync.SIDECAR_ASSET
    if not model.exists():
        pytest.skip(
            f"{model.relative_to(DEMO.parent)} is absent: run 'python android_demo/sync_model.py' once the "
            "default int8 model is in asmnet_edge/assets/default"
        )
    content = model.read_bytes()
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    assert data["file_sha256"] == hashlib.sha256(content).hexdigest()
    assert data["file_size"] == len(content)
    assert data["precision"] == "int8", "the demo ships the int8 model"


def _export_pair(folder: Path, content: bytes, **overrides: object) -> Path:
    model = folder / "mine.tflite"
    model.write_bytes(content)
    sidecar = {
        "schema_version": 1,
        "num_landmarks": 68,
        "input_size": 224,
        "precision": "int8",
        "file_sha256": hashlib.sha256(content).hexdigest(),
        "file_size": len(content),
        **overrides,
    }
    model.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    return model


def test_sync_copies_a_matching_pair_under_the_app_names(tmp_path: Path) -> None:
    sync = _sync_module()
    content = b"\x1c\x00\x00\x00TFL3" + bytes(range(200))
    model = _export_pair(tmp_path, content)
    assets = tmp_path / "assets"
    assert sync.main([str(model), "--assets", str(assets)]) == 0
    assert (assets / "asmnet.tflite").read_bytes() == content
    sidecar = json.loads((assets / "asmnet.json").read_text())
    assert sidecar["file_sha256"] == hashlib.sha256(content).hexdigest()


def test_sync_refuses_a_mismatched_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sync = _sync_module()
    model = _export_pair(tmp_path, b"\x1c\x00\x00\x00TFL3 model", file_sha256="00" * 32)
    assets = tmp_path / "assets"
    assert sync.main([str(model), "--assets", str(assets)]) == 1
    assert "the two come from different exports" in capsys.readouterr().err
    assert not (assets / "asmnet.tflite").exists()


def test_sync_explains_a_missing_model_or_key(tmp_path: Path) -> None:
    sync = _sync_module()
    with pytest.raises(sync.SyncError, match="export one with 'asmnet-edge export --int8'"):
        sync.sync(tmp_path / "absent.tflite", tmp_path)
    model = _export_pair(tmp_path, b"\x1c\x00\x00\x00TFL3", precision=None)
    data = json.loads(model.with_suffix(".json").read_text())
    del data["input_size"]
    model.with_suffix(".json").write_text(json.dumps(data))
    with pytest.raises(sync.SyncError, match=r"lacks \['input_size'\]"):
        sync.sync(model, tmp_path / "assets")


def test_sync_refine_copies_the_second_pair_and_a_plain_sync_removes_it(tmp_path: Path) -> None:
    sync = _sync_module()
    stage1 = _export_pair(tmp_path, b"\x1c\x00\x00\x00TFL3 stage one")
    (tmp_path / "refine").mkdir()
    refine = _export_pair(tmp_path / "refine", b"\x1c\x00\x00\x00TFL3 refine", architecture="refine")
    assets = tmp_path / "assets"
    assert sync.main([str(stage1), "--assets", str(assets), "--refine", str(refine)]) == 0
    assert (assets / "refine.tflite").read_bytes() == refine.read_bytes()
    assert json.loads((assets / "refine.json").read_text())["architecture"] == "refine"
    assert sync.main([str(stage1), "--assets", str(assets)]) == 0  # a new stage 1 alone: no stale refine
    assert not (assets / "refine.tflite").exists() and not (assets / "refine.json").exists()
    with pytest.raises(sync.SyncError, match="is not a refine stage"):
        sync.sync(stage1, assets, refine=stage1)
