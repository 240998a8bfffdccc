#!/bin/sh
# The README's test command: installs what is missing, builds everything and runs the test suite.
# Options (for CI and developers):
#   --sanitize        build with -fsanitize=address,undefined (in build-tests-asan*/); any report fails
#   --compiler CXX    use another compiler (e.g. clang++-14), building in build-*<name>/
# The extra builds skip the benchmarks, the header self-containment check and the consumer-package
# tests (the README command builds and runs those), which keeps CI within its time budget.
set -eu
cd "$(dirname "$0")/.."
build=build-tests
cxx=""
sanitize=""
while [ $# -gt 0 ]; do
  case $1 in
    --sanitize) sanitize=address,undefined ;;
    --compiler) cxx=$2; shift ;;
    *) echo "run-tests.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
build=build-tests${sanitize:+-asan}${cxx:+-$(basename "$cxx")}
extra=""
case $cxx in clang*) extra="libomp-14-dev clang-14" ;; esac
./tools/install-deps.sh $extra
echo "[tests] configuring and building in $build/"
# Release with -O2 but without NDEBUG, so internal assertions stay on in tests; sanitized builds
# use -O1 (AddressSanitizer's recommended level; it keeps CI's compile time in budget). Not build/:
# that is the benchmarks' release build (benchmarks/README.md), whose cached flags this would set.
full=ON
opt=-O2
[ -n "$sanitize" ] && opt=-O1
[ -n "$sanitize$cxx" ] && full=OFF
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=$opt \
  ${cxx:+-DCMAKE_CXX_COMPILER=$cxx} -DEMBER_SANITIZE="$sanitize" -DEMBER_BUILD_BENCHMARKS=$full \
  -DEMBER_CHECK_HEADERS=$full >/dev/null
cmake --build "$build" --parallel "$(nproc)"
echo "[tests] running"
if [ -n "$sanitize" ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -LE consumer
elif [ "$full" = OFF ]; then
  ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -LE consumer
else
  ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
fi
