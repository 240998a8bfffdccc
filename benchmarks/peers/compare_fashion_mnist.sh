#!/bin/sh
# Fashion-MNIST side by side: ember's examples/fashion_mnist and the same CNN, batch size, Adam
# and thread count under Debian's PyTorch (benchmarks/peers/fashion_mnist.py), run one after the
# other on the same machine. Prints each epoch's training time and test accuracy, and the ratio
# ember / PyTorch of the summed training time. With --rounds N (default 1) the pair runs N times,
# the order alternating (ember first in odd rounds), and the median of the rounds' ratios is
# printed last: this VM's speed drifts from minute to minute, so one pair can be off either way.
#
#   benchmarks/peers/compare_fashion_mnist.sh [--rounds N] [--threads N] [--epochs N] [--batch-size N]
#
# Needs a built example (EMBER_BUILD=build by default; ./tools/run-main-job.sh builds build-main/)
# and python3-torch (apt-get install --no-install-recommends python3-torch).
set -eu
cd "$(dirname "$0")/../.."
bin="${EMBER_BUILD:-build}/examples/fashion_mnist"
[ -x "$bin" ] || { echo "error: $bin not found; build it first (cmake --build build --target fashion_mnist)" >&2; exit 2; }
# A build with other flags than a fresh Release's (-O3 -DNDEBUG; e.g. the test build's -O2 with
# assertions) is slower, and its figures are no release build's.
cache="$(dirname "$(dirname "$bin")")/CMakeCache.txt"
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$cache" 2>/dev/null ||
  ! grep -q '^CMAKE_CXX_FLAGS_RELEASE:STRING=-O3 -DNDEBUG$' "$cache"; then
  echo "warning: $bin is not a default Release build (-O3 -DNDEBUG); see benchmarks/README.md" >&2
fi
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null ||
  { echo "error: PyTorch missing: apt-get install --no-install-recommends python3-torch" >&2; exit 2; }

rounds=1
if [ "${1:-}" = "--rounds" ]; then
  rounds=${2:?--rounds needs a count}
  shift 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run_ember() {
  echo "[compare] ember: $bin $*"
  "$bin" --out "$tmp/w.safetensors" "$@" | grep '^epoch [0-9]*:' | tee "$tmp/ember"
}
run_torch() {
  echo "[compare] PyTorch: benchmarks/peers/fashion_mnist.py $*"
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/peers/fashion_mnist.py "$@" | tee "$tmp/torch"
}
r=1
while [ "$r" -le "$rounds" ]; do
  if [ $((r % 2)) -eq 1 ]; then
    run_ember "$@"
    run_torch "$@"
  else
    run_torch "$@"
    run_ember "$@"
  fi
  awk -v e="$tmp/ember" -v t="$tmp/torch" 'BEGIN {
    while ((getline l < e) > 0) { split(l, f, " "); es += f[4] }
    while ((getline l < t) > 0) { split(l, f, " "); ts += f[4] }
    printf "[compare] training time: ember %.2f s, PyTorch %.2f s, ratio ember/PyTorch %.2f\n", es, ts, es / ts
    printf "%.4f\n", es / ts >> "'"$tmp/ratios"'"
  }'
  r=$((r + 1))
done
if [ "$rounds" -gt 1 ]; then
  sort -g "$tmp/ratios" | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "[compare] %d rounds, ratios %.2f .. %.2f, median ratio ember/PyTorch %.2f\n", NR, v[1], v[NR], m
  }'
fi
