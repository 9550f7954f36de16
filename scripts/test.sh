#!/usr/bin/env bash
# Set up a fresh machine and run every test tier: unit (no TensorFlow), tf, slow (among them the
# TF-free runtime check in fresh virtual environments, scripts/check_runtime_venv.sh), ssh, java.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m ruff check asmnet_edge tests benchmarks scripts android_demo
python3 -m mypy asmnet_edge/runtime asmnet_edge/exporters
python3 -m pytest -q -p no:cacheprovider --timeout 900 --run-slow -m "not synth" tests
# OSMesa rendering segfaults in a process that has imported TensorFlow (collecting the tf-tier test
# modules imports it): the synth tier runs on its own, collecting tests/data only
python3 -m pytest -q -p no:cacheprovider --timeout 900 --run-slow -m synth tests/data
