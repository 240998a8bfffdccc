#!/bin/sh
# The README's main-job command: installs what is missing (the build tools and Debian's
# dataset-fashion-mnist), builds the Fashion-MNIST example and trains it. Extra arguments go to
# the example (e.g. --epochs 5 --threads 2).
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh dataset-fashion-mnist
echo "[main] configuring and building in build-main/"
cmake -S . -B build-main -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF \
  -DEMBER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-main --target fashion_mnist --parallel "$(nproc)"
echo "[main] training (weights go to build-main/fashion_mnist.safetensors)"
./build-main/examples/fashion_mnist --out build-main/fashion_mnist.safetensors "$@"
