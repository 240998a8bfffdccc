#!/bin/sh
# The README's main-job command: installs what is missing, builds and runs ember's main program.
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh
echo "[main] configuring and building in build-main/"
cmake -S . -B build-main -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF \
  -DEMBER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-main --target ember_sysinfo --parallel "$(nproc)"
echo "[main] running"
./build-main/examples/ember_sysinfo "$@"
