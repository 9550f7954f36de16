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
