// Single-precision GEMM (row-major C = A * B) through ember's dispatch, against OpenBLAS
// (cblas_sgemm) and oneDNN (dnnl_sgemm) in the same run, when those are installed.
// One-thread figures use CPU time, multi-thread figures wall time. Thread counts:
// ember::set_num_threads, openblas_set_num_threads, and omp_set_num_threads for oneDNN (whose
// threads are OpenMP's). Counter GFLOP/s = 2 * M * N * K per second.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "ember/ember.hpp"

#if EMBER_BENCH_OPENBLAS
#include <cblas.h>
#endif
#if EMBER_BENCH_DNNL
#include <dnnl.h>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

enum class Impl { ember, openblas, onednn };

const char* impl_name(Impl impl) {
  switch (impl) {
    case Impl::ember:
      return "ember";
    case Impl::openblas:
      return "openblas";
    case Impl::onednn:
      return "onednn";
  }
  return "?";
}

struct Shape {
  std::size_t m, n, k;
  int threads;
};

void BM_sgemm(benchmark::State& state, Impl impl, Shape s) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> a(s.m * s.k), b(s.k * s.n), c(s.m * s.n, 0.f);
  for (float& x : a) x = dist(rng);
  for (float& x : b) x = dist(rng);
  // Caller-provided scratch, as an allocation-free inference loop would use it.
  std::vector<float> scratch(ember::kernels::gemm_scratch_size<float>(s.m, s.n, s.k));
  const int saved_threads = ember::get_num_threads();
  ember::set_num_threads(s.threads);
#if EMBER_BENCH_OPENBLAS
  openblas_set_num_threads(s.threads);
#endif
#if defined(_OPENMP)
  omp_set_num_threads(s.threads);
#endif
  const auto m = static_cast<long>(s.m), n = static_cast<long>(s.n), k = static_cast<long>(s.k);
  for (auto _ : state) {
    switch (impl) {
      case Impl::ember:
        ember::kernels::gemm<float>(false, false, s.m, s.n, s.k, 1.f, a.data(), s.k, b.data(), s.n,
                                    0.f, c.data(), s.n, scratch.data());
        break;
      case Impl::openblas:
#if EMBER_BENCH_OPENBLAS
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a.data(), k, b.data(),
                    n, 0.f, c.data(), n);
#endif
        break;
      case Impl::onednn:
#if EMBER_BENCH_DNNL
        dnnl_sgemm('N', 'N', m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n);
#endif
        break;
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  (void)m, (void)n, (void)k;
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(s.m) * double(s.n) * double(s.k) / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
  ember::set_num_threads(saved_threads);
}

const bool registered = [] {
  std::vector<Impl> impls{Impl::ember};
#if EMBER_BENCH_OPENBLAS
  impls.push_back(Impl::openblas);
#endif
#if EMBER_BENCH_DNNL
  impls.push_back(Impl::onednn);
#endif
  const Shape shapes[] = {
      {256, 256, 256, 1},
      {512, 512, 512, 1},
      {1024, 1024, 1024, 1},
      {2048, 2048, 2048, 1},
      // Small-network shapes: batch-1 linear layer, MNIST-sized layer, small MLP, conv as GEMM.
      {1, 256, 256, 1},
      {32, 128, 784, 1},
      {64, 256, 256, 1},
      {256, 1152, 64, 1},
      {1024, 1024, 1024, 2}};
  for (const Shape& s : shapes) {
    for (Impl impl : impls) {
      const std::string name = std::string("BM_sgemm/") + impl_name(impl) + "/" +
                               std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                               std::to_string(s.k) + "/threads:" + std::to_string(s.threads);
      auto* b = benchmark::RegisterBenchmark(name.c_str(), BM_sgemm, impl, s);
      b->Unit(benchmark::kMicrosecond);
      // One thread: CPU time, robust when other processes share the cores. Several threads: wall
      // time (the CPU time of the main thread alone would overstate the rate).
      if (s.threads > 1) b->UseRealTime();
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
