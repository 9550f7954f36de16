"""Copy an exported ASMNet and its JSON sidecar into the Android demo's assets.

    python android_demo/sync_model.py                     # the default int8 model of asmnet-edge
    python android_demo/sync_model.py my_int8.tflite      # your own export (sidecar my_int8.json beside it)
    python android_demo/sync_model.py asmnet68_int8.tflite --refine refine68_int8.tflite   # ASMNet + refine

The app loads ``app/src/main/assets/asmnet.tflite`` and ``asmnet.json`` whatever the model is, and
refuses a model whose sha256 differs from the sidecar's ``file_sha256``: the sidecar tells the app
the input size, landmark sign, pose scale and crop margin, so the two must travel together. This
script checks that before copying, so a mismatch is caught here rather than on the phone.

Needs only the Python standard library; when the sidecar is missing it is rebuilt from the
metadata embedded in the model, which needs the asmnet-edge package.

``--refine`` adds a refine stage (``refine.tflite`` + ``refine.json``, checked the same way and refused
unless its metadata says ``architecture: refine``); the app runs it on a second interpreter and refuses
it at load when it was trained behind another stage 1. Without ``--refine`` a refine stage left in the
assets by an earlier sync is removed, so it never meets a stage 1 it does not belong to.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "app" / "src" / "main" / "assets"
MODEL_ASSET = "asmnet.tflite"  # LandmarkModel.MODEL_ASSET in the app
SIDECAR_ASSET = "asmnet.json"  # LandmarkModel.SIDECAR_ASSET in the app
REFINE_ASSET = "refine.tflite"  # LandmarkModel.REFINE_ASSET
REFINE_SIDECAR_ASSET = "refine.json"  # LandmarkModel.REFINE_SIDECAR_ASSET
DEFAULT_MODEL = HERE.parent / "asmnet_edge" / "assets" / "default" / "asmnet68_int8.tflite"
# the keys the app cannot do without (the Java core applies the Python defaults to the others)
REQUIRED_KEYS = ("schema_version", "num_landmarks", "input_size", "precision", "file_sha256")


class SyncError(Exception):
    """The model or its sidecar cannot be used; the message says what to do."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_sidecar(model: Path, content: bytes) -> str:
    """The sidecar text for ``model``: the file beside it, or one rebuilt from the embedded metadata."""
    sidecar = model.with_suffix(".json")
    if sidecar.exists():
        return sidecar.read_text(encoding="utf-8")
    try:
        from asmnet_edge.errors import MetadataError
        from asmnet_edge.runtime.metadata import read_tflite_metadata
    except ImportError as err:
        raise SyncError(
            f"no sidecar {sidecar.name} beside {model} and asmnet-edge is not installed to rebuild it: "
            "export with 'asmnet-edge export', which writes both"
        ) from err
    try:
        data = read_tflite_metadata(content).to_dict()
    except MetadataError as err:
        raise SyncError(f"no sidecar {sidecar.name} beside {model}, and {err}") from err
    data.update(file_sha256=sha256_hex(content), file_size=len(content))
    return json.dumps(data, sort_keys=True, indent=1)


def flatten_exporter_sidecar(data: dict[str, object]) -> dict[str, object]:
    """The exporter writes ``{file, metadata: {...}, sha256, size_bytes}``; the app reads one flat object
    (the metadata keys plus ``file_sha256`` and ``file_size``). Flat sidecars pass through unchanged."""
    if not isinstance(data.get("metadata"), dict):
        return data
    flat = dict(data["metadata"])  # type: ignore[arg-type]
    flat.update(file_sha256=data.get("sha256"), file_size=data.get("size_bytes"))
    return flat


def check_pair(content: bytes, sidecar_text: str) -> dict[str, object]:
    """Parse the sidecar and check that it describes ``content``; returns the parsed, flat sidecar."""
    try:
        data = json.loads(sidecar_text)
    except ValueError as err:
        raise SyncError(f"the sidecar is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise SyncError("the sidecar must be a JSON object")
    data = flatten_exporter_sidecar(data)
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise SyncError(f"the sidecar lacks {missing}: re-export the model with 'asmnet-edge export'")
    if content[4:8] != b"TFL3":
        raise SyncError("the model is not a TFLite flatbuffer (no 'TFL3' identifier)")
    digest = sha256_hex(content)
    if data["file_sha256"] != digest:
        raise SyncError(
            f"the sidecar says sha256 {data['file_sha256']} but the model hashes to {digest}: "
            "the two come from different exports; re-export or pick the matching pair"
        )
    if data.get("file_size", len(content)) != len(content):
        raise SyncError(f"the sidecar says {data['file_size']} bytes but the model has {len(content)}")
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{path.name}", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; assets are ordinary project files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _checked(model: Path) -> tuple[bytes, dict[str, object]]:
    if not model.is_file():
        raise SyncError(
            f"no model at {model}: export one with 'asmnet-edge export --int8' "
            "(the default model ships in asmnet_edge/assets/default once trained)"
        )
    content = model.read_bytes()
    return content, check_pair(content, load_sidecar(model, content))


def sync(model: Path, assets: Path = ASSETS, refine: Path | None = None) -> dict[str, object]:
    """Check ``model`` (and ``refine``) against its sidecar; copy them into ``assets`` as the app names them.

    >>> sync(Path("missing.tflite"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    SyncError: no model at missing.tflite: ...
    """
    pairs = [(MODEL_ASSET, SIDECAR_ASSET, *_checked(model))]
    if refine is not None:
        pairs.append((REFINE_ASSET, REFINE_SIDECAR_ASSET, *_checked(refine)))
        if pairs[1][3].get("architecture") != "refine":
            raise SyncError(f"{refine} is not a refine stage: export a refine run ('asmnet-edge export')")
    assets.mkdir(parents=True, exist_ok=True)
    for model_asset, sidecar_asset, content, data in pairs:
        _write_atomic(assets / model_asset, content)
        _write_atomic(assets / sidecar_asset, json.dumps(data, sort_keys=True, indent=1).encode("utf-8"))
    if refine is None:
        for stale in (REFINE_ASSET, REFINE_SIDECAR_ASSET):
            (assets / stale).unlink(missing_ok=True)
    return pairs[0][3]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL, help="exported .tflite")
    parser.add_argument("--assets", type=Path, default=ASSETS, help="the app's assets folder")
    parser.add_argument("--refine", type=Path, default=None, help="a refine-stage .tflite trained behind it")
    args = parser.parse_args(argv)
    try:
        data = sync(args.model, args.assets, args.refine)
    except (SyncError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        f"copied {args.model} ({data['precision']}, {data['num_landmarks']} points, "
        f"{data['input_size']} px) to {args.assets / MODEL_ASSET} and {SIDECAR_ASSET}"
        + (f", and {args.refine} to {REFINE_ASSET} and {REFINE_SIDECAR_ASSET}" if args.refine else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
