// The FMA throughput ceiling of one core: independent fused multiply-add chains held in registers,
// per vector ISA. The GEMM benchmark's "fraction of peak" is measured against this.
//
// This file is a benchmark, not a kernel: each function carries its own target attribute and is
// called only when the CPU supports it (ember's kernels use per-ISA translation units instead).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include "ember/kernels/isa.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define EMBER_BENCH_X86 1
#endif

namespace {

// More chains than latency x throughput (Zen 4 and 5: 4 cycles x 2 pipes): the FMAs never wait.
constexpr int kChains = 12;
constexpr std::int64_t kInner = 4096;

#if EMBER_BENCH_X86
__attribute__((target("avx512f"))) float fma_chains_avx512(std::int64_t iters) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c) * 0.01f);
  const __m512 mul = _mm512_set1_ps(0.999f), add = _mm512_set1_ps(1e-6f);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], mul, add);
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm512_add_ps(s, acc[c]);
  alignas(64) float out[16];  // not _mm512_reduce_add_ps: g++ 12 warns inside it
  _mm512_store_ps(out, s);
  return out[0] + out[15];
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(std::int64_t iters) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(float(c) * 0.01f);
  const __m256 mul = _mm256_set1_ps(0.999f), add = _mm256_set1_ps(1e-6f);
  for (std::int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], mul, add);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  return out[0] + out[7];
}

template <int Lanes>
void run_peak(benchmark::State& state, float (*fn)(std::int64_t)) {
  for (auto _ : state) {
    std::int64_t iters = kInner;
    benchmark::DoNotOptimize(iters);  // or the compiler hoists the pure call out of the loop
    benchmark::DoNotOptimize(fn(iters));
  }
  // Two flops (multiply and add) per lane per FMA.
  state.counters["GFLOP/s"] = benchmark::Counter(double(kInner) * kChains * Lanes * 2 / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_fma_peak_avx512(benchmark::State& state) {
  if (!ember::cpu_features().supports(ember::Isa::avx512)) {
    state.SkipWithError("CPU lacks AVX-512");
    return;
  }
  run_peak<16>(state, fma_chains_avx512);
}

void BM_fma_peak_avx2(benchmark::State& state) {
  if (!ember::cpu_features().supports(ember::Isa::avx2)) {
    state.SkipWithError("CPU lacks AVX2+FMA");
    return;
  }
  run_peak<8>(state, fma_chains_avx2);
}

BENCHMARK(BM_fma_peak_avx512);
BENCHMARK(BM_fma_peak_avx2);
#endif

}  // namespace

BENCHMARK_MAIN();
