#!/bin/sh
# Installs the Debian packages ember's build, tests and examples need, skipping those present.
# Usage: tools/install-deps.sh [extra-package ...]     (run as root, or with sudo available)
set -eu
packages="g++ cmake make libxtensor-dev libxsimd-dev xtl-dev doctest-dev libbenchmark-dev $*"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "[deps] all packages present:$(printf ' %s' $packages)"
  exit 0
fi
echo "[deps] installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "[deps] error: these packages are missing and installing them needs root:$missing" >&2
    exit 1
  fi
fi
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing; }; then
  echo "[deps] error: apt-get could not install:$missing" >&2
  echo "[deps] check the package archive is reachable, then run: apt-get install$missing" >&2
  exit 1
fi
echo "[deps] done"
