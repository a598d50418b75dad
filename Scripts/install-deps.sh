#!/usr/bin/env bash
# Installs the system packages the build needs (Debian): OpenBLAS with its cblas.h, and pkg-config to find it.
# Does nothing when they are already there, so it is safe to run before every build.
set -euo pipefail
if pkg-config --exists openblas 2>/dev/null && [ -f /usr/include/x86_64-linux-gnu/cblas.h -o -f /usr/include/cblas.h ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
echo "installed libopenblas-dev and pkg-config" >&2
