#!/usr/bin/env bash
# Set up a fresh machine and run every test tier: unit (no TensorFlow), tf, slow, ssh, java,
# then the TF-free runtime check in a fresh virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pytest -q -p no:cacheprovider --timeout 900 tests
bash scripts/check_runtime_venv.sh
