// axpy (y += a * x) through ember's dispatch on every usable ISA, against a plain loop compiled
// with the project's default flags. Peer: the plain loop, in the same run.
#include <benchmark/benchmark.h>

#include <vector>

#include "ember/ember.hpp"

namespace {

void set_bytes(benchmark::State& state, std::size_t n) {
  // Two reads and one write per element.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(3 * n * sizeof(float)));
}

void BM_axpy_ember(benchmark::State& state, ember::Isa isa) {
  const ember::Isa saved = ember::current_isa();
  ember::set_isa(isa);
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> x(n, 0.5f), y(n, 1.0f);
  for (auto _ : state) {
    ember::kernels::axpy(n, 1e-3f, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
  ember::set_isa(saved);
}

void BM_axpy_plain_loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> x(n, 0.5f), y(n, 1.0f);
  for (auto _ : state) {
    float* yp = y.data();
    const float* xp = x.data();
    for (std::size_t i = 0; i < n; ++i) yp[i] += 1e-3f * xp[i];
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}

// 4K floats stay in L1, 1M floats stream from memory.
BENCHMARK(BM_axpy_plain_loop)->Arg(4096)->Arg(1 << 20);

const bool registered = [] {
  for (ember::Isa isa : ember::available_isas()) {
    benchmark::RegisterBenchmark((std::string("BM_axpy_ember/") + ember::isa_name(isa)).c_str(),
                                 BM_axpy_ember, isa)
        ->Arg(4096)
        ->Arg(1 << 20);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
