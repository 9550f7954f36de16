#!/bin/sh
# Make a fresh Debian machine (CI, as root) able to run the `ssh`-marked benchmark tests:
# installs OpenSSH (client + server) and the privilege-separation folder sshd needs.
# The server itself is started by the test fixture (tests/bench/conftest.py: `sshd`) on a free
# loopback port with keys generated in a temporary folder; nothing here opens a port or adds a key.
#
#   sh scripts/start_test_sshd.sh && python -m pytest tests/bench -m ssh -q
set -eu
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openssh-server openssh-client
fi
mkdir -p /run/sshd
chmod 0755 /run/sshd
/usr/sbin/sshd -V 2>&1 | head -1 || true
