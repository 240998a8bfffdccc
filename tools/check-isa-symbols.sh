#!/bin/sh
# Usage: check-isa-symbols.sh ISA=OBJECT [ISA=OBJECT ...]
# Fails when a per-ISA kernel object defines a weak (COMDAT) symbol whose name does not carry its
# arch tag: the linker keeps one copy of each weak symbol, possibly the AVX-512 one, for all callers.
set -eu
status=0
for arg in "$@"; do
  isa=${arg%%=*}
  obj=${arg#*=}
  case $isa in
    sse2) tag='xsimd::sse2' ;;
    avx2) tag='xsimd::avx2' ;;
    avx512) tag='xsimd::avx512' ;;
    neon) tag='xsimd::neon' ;;
    *) echo "check-isa-symbols: unknown ISA '$isa'" >&2; exit 2 ;;
  esac
  weak=$(nm -C --defined-only "$obj" | awk '$2 ~ /^[WwVvu]$/ { $1 = ""; $2 = ""; sub(/^  /, ""); print }')
  count=$(printf '%s\n' "$weak" | grep -c . || true)
  # DW.ref.__gxx_personality_v0 is a data word pointing at the C++ EH personality routine, the same
  # in every object; it holds no code. ember::detail::num_threads_slot()::n is the thread-count
  # variable parallel_for reads (an int, no code): the kernels must all share that one copy.
  # __clang_call_terminate is clang's helper for an exception escaping a noexcept function (the
  # kernels call parallel_for): two calls, __cxa_begin_catch and std::terminate, no vector code.
  untagged=$(printf '%s\n' "$weak" | grep -v -F "$tag" | grep -v -x 'DW.ref.__gxx_personality_v0' \
    | grep -v -x -F 'ember::detail::num_threads_slot()::n' | grep -v -x '__clang_call_terminate' \
    | grep . || true)
  if [ -n "$untagged" ]; then
    echo "FAIL $isa ($obj): weak symbols without '$tag':" >&2
    printf '  %s\n' "$untagged" >&2
    status=1
  else
    echo "ok   $isa: $count weak symbols, all tagged '$tag'"
  fi
done
exit $status
