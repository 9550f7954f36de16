#!/usr/bin/env bash
# Plain-install export check: a fresh venv with ONLY `asmnet-edge[export]` (no dev extras, no sample-photo
# packages, no repository scripts) runs `asmnet-edge export --int8` on the embedded default model with
# no --calib: the calibration and evaluation faces must come from the package itself.
#
#   bash scripts/check_export_venv.sh [--keep DIR]
#
# The last stdout line is the export's JSON result. Exit 0 only if the export exited 0 and wrote the model.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
KEEP=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep) KEEP="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$ROOT/scripts/_venv.sh"
fresh_venv export  # sets WORK and VENV
cd "$WORK"  # not the repo: the installed copy must be the one imported
for module in feat insightface menpo menpo3d dlib; do
  if "$VENV/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$module') is None)"; then
    echo "the plain venv unexpectedly has $module" >&2; exit 1
  fi
done
# the export's own default gate (int8: 0.5 % NME from float, +0.1 vs the truth): the bundled faces alone
# must calibrate well enough for the shipped default to pass it (issue 15's "done when")
TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/asmnet-edge" export --int8 \
  --out "$WORK/models" --json > "$WORK/result.json"
[[ -s "$WORK/models/asmnet68_int8.tflite" ]] || { echo "no int8 model written" >&2; exit 1; }
# one line: the export's JSON result, compacted
"$VENV/bin/python" -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$WORK/result.json"
