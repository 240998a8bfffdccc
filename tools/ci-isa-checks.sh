#!/bin/sh
# CI: proves the kernel dispatch never executes an instruction the CPU lacks, and runs the NEON
# kernels. Needs the kernel tests built in build-tests/ (the README test command,
# tools/run-tests.sh).
#  1. build-tests/tests/kernels_test_* under qemu-x86_64 -cpu Nehalem (SSE4.2, no AVX) and
#     -cpu Haswell (AVX2 + FMA, no AVX-512); EMBER_ISA=avx512 under Nehalem is capped to sse2
#     with a warning.
#  2. the kernel tests cross-built for aarch64 (cmake/toolchains/aarch64-linux-gnu.cmake) and run
#     under qemu-aarch64, which selects the scalar and neon tables; the neon unit's symbols are
#     checked like the x86 ones.
set -eu
cd "$(dirname "$0")/.."
./tools/install-deps.sh qemu-user g++-aarch64-linux-gnu libgomp1-arm64-cross binutils-aarch64-linux-gnu

fail() { echo "ci-isa-checks: FAIL: $*" >&2; exit 1; }
# qemu warns once per CPUID feature its TCG lacks (pcid, x2apic, ...): noise, not errors.
quiet() { grep -v "TCG doesn't support requested feature" || true; }

tests=$(ls build-tests/tests/kernels_test_* 2>/dev/null | grep -v '\.cmake$' || true)
[ -n "$tests" ] || fail "no build-tests/tests/kernels_test_* executables; run ./tools/run-tests.sh first"

# The aarch64 cross build (section 2) runs in the background while qemu emulates the x86 CPUs:
# built after them, it kept one core idle, and this step took 311 s in CI instead of 273.
mkdir -p build-aarch64
(cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2 -DEMBER_BUILD_BENCHMARKS=OFF \
  -DEMBER_BUILD_EXAMPLES=OFF -DEMBER_INSTALL=OFF &&
  cmake --build build-aarch64 --parallel 2 --target kernel_tests ember_sysinfo) \
  >build-aarch64/build.log 2>&1 &
aarch64_build=$!

# ---- 1. x86-64 CPUs without AVX / without AVX-512 -------------------------------------------
# What each emulated CPU reports decides what the test proves, so check it first.
check_cpu() {  # cpu, expected "ISAs usable" line
  out=$(qemu-x86_64 -cpu "$1" build-tests/examples/ember_sysinfo 2>&1 | quiet)
  echo "$out" | sed -n 's/^/  /; 2,4p'
  echo "$out" | grep -q "^ISAs usable: *$2\$" || fail "-cpu $1: expected usable ISAs '$2'"
}
run_cpu() {  # cpu: every kernel test under qemu-x86_64 -cpu $1
  for t in $tests; do
    log="build-tests/qemu-$1-$(basename "$t").log"
    start=$(date +%s)
    if ! qemu-x86_64 -cpu "$1" "$t" >"$log" 2>&1; then
      quiet <"$log" | tail -40
      echo "ci-isa-checks: FAIL: $t under -cpu $1" >&2
      return 1
    fi
    echo "  ok -cpu $1 $(basename "$t") ($(($(date +%s) - start)) s)"
  done
}
echo "[isa] qemu-x86_64 -cpu Nehalem"
check_cpu Nehalem "scalar, sse2"
echo "[isa] qemu-x86_64 -cpu Haswell"
check_cpu Haswell "scalar, sse2, avx2"
# Both CPUs at once: about 165 s here, against 185 s one after the other (the GEMM tests' own
# threads share the two cores).
echo "[isa] kernel tests under both"
run_cpu Nehalem &
nehalem=$!
run_cpu Haswell &
haswell=$!
wait $nehalem || fail "under -cpu Nehalem"
wait $haswell || fail "under -cpu Haswell"

echo "[isa] EMBER_ISA=avx512 under -cpu Nehalem is capped to sse2 with one warning line"
out=$(EMBER_ISA=avx512 qemu-x86_64 -cpu Nehalem build-tests/examples/ember_sysinfo 2>&1 | quiet)
warn="ember: EMBER_ISA: ISA 'avx512' is not supported here (CPU lacks it); using 'sse2'"
[ "$(echo "$out" | grep -c -F "$warn")" = 1 ] || fail "expected the warning: $warn"
[ "$(echo "$out" | grep -c '^ember: ')" = 1 ] || fail "expected exactly one warning line"
echo "$out" | grep -q "^ISA in use: *sse2 " || fail "expected 'ISA in use: sse2'"
echo "  ok: $warn"

# ---- 2. aarch64: cross-built kernel tests under qemu-aarch64 ---------------------------------
echo "[isa] aarch64 cross build (scalar + neon units)"
wait "$aarch64_build" || { tail -40 build-aarch64/build.log; fail "aarch64 cross build"; }
targets=""
for t in $tests; do targets="$targets $(basename "$t")"; done
out=$(qemu-aarch64 -L /usr/aarch64-linux-gnu build-aarch64/examples/ember_sysinfo 2>&1)
echo "$out" | sed -n 's/^/  /; 2,4p'
echo "$out" | grep -q "^ISAs usable: *scalar, neon\$" || fail "aarch64: expected usable ISAs 'scalar, neon'"
for t in $targets; do
  start=$(date +%s)
  qemu-aarch64 -L /usr/aarch64-linux-gnu "build-aarch64/tests/$t" >"build-aarch64/$t.log" 2>&1 ||
    { tail -40 "build-aarch64/$t.log"; fail "$t under qemu-aarch64"; }
  echo "  ok $t ($(($(date +%s) - start)) s)"
done

echo "[isa] aarch64 neon unit: ember's weak symbols all carry the neon tag"
neon_obj=$(find build-aarch64 -path '*ember_kernels_neon.dir*' -name '*.o' | head -1)
[ -n "$neon_obj" ] || fail "neon kernel object not found"
# Only ember's own symbols: xsimd 8.1 defines plain inline NEON wrappers
# (xsimd::kernel::wrap::vreinterpretq_*) that no arch tag can name; they are harmless here because
# the neon unit is compiled with the same flags as generic aarch64 code (NEON is baseline).
untagged=$(aarch64-linux-gnu-nm -C --defined-only "$neon_obj" | awk '$2 ~ /^[WwVvu]$/' |
  grep ' ember::' | grep -v -F 'xsimd::neon' | grep -v -F 'ember::detail::num_threads_slot()::n' || true)
[ -z "$untagged" ] || { echo "$untagged" >&2; fail "untagged ember symbols in the neon unit"; }
echo "  ok"
echo "[isa] all ISA checks passed"
