// Optimizer steps are memory-bound: an Adam step over n floats reads p, g, m, v and writes p, m, v
// (28 bytes per element). Peer: the triad a[i] = b[i] + s * c[i] (12 bytes per element) in the
// same run, same flags, same threads; compare bytes_per_second. Also: SGD with momentum, and Adam
// written as unfused Tensor ops (what the fused pass saves).
//
// Both sizes: 1M floats (the arrays fit in this machine's 32 MB L3) and 8M floats (DRAM).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/optim/adam.hpp"
#include "ember/optim/sgd.hpp"

namespace {

void bytes(benchmark::State& state, int64_t per_element) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0) * per_element);
}

// Threads: state.range(1).
struct Threads {
  explicit Threads(int n) : saved(ember::get_num_threads()) { ember::set_num_threads(n); }
  ~Threads() { ember::set_num_threads(saved); }
  int saved;
};

void BM_triad(benchmark::State& state) {
  Threads th(static_cast<int>(state.range(1)));
  const int64_t n = state.range(0);
  std::vector<float> a(static_cast<std::size_t>(n), 0.f), b(a.size(), 1.f), c(a.size(), 2.f);
  float* __restrict ap = a.data();
  const float* __restrict bp = b.data();
  const float* __restrict cp = c.data();
  const float s = 0.5f;
  for (auto _ : state) {
    // Split like the optimizer's update so both use the same threads.
    // The optimizers' loop machinery (same SIMD width, same threads).
    ember::optim::detail::run_update<float>(n, [&](auto v, int64_t i) {
      using V = decltype(v);
      using ember::optim::detail::load;
      ember::optim::detail::store(ap + i, load<V>(bp + i) + V(s) * load<V>(cp + i));
    });
    benchmark::DoNotOptimize(ap);
    benchmark::ClobberMemory();
  }
  bytes(state, 3 * sizeof(float));
}

std::vector<ember::Tensor<float>> param_with_grad(int64_t n) {
  auto p = ember::full<float>({n}, 0.5f).requires_grad_(true);
  p.set_grad(ember::full<float>({n}, 1e-3f));
  return {p};
}

void BM_adam_step(benchmark::State& state) {
  Threads th(static_cast<int>(state.range(1)));
  auto ps = param_with_grad(state.range(0));
  ember::optim::Adam<float> adam(ps, ember::optim::AdamOptions(1e-3));
  adam.step();  // allocates the state outside the timed loop
  for (auto _ : state) {
    adam.step();
    benchmark::ClobberMemory();
  }
  bytes(state, 7 * sizeof(float));
}

void BM_adam_amsgrad_step(benchmark::State& state) {
  Threads th(static_cast<int>(state.range(1)));
  auto ps = param_with_grad(state.range(0));
  ember::optim::Adam<float> adam(ps, ember::optim::AdamOptions(1e-3).amsgrad(true));
  adam.step();
  for (auto _ : state) {
    adam.step();
    benchmark::ClobberMemory();
  }
  bytes(state, 9 * sizeof(float));  // + vmax read and write
}

void BM_sgd_momentum_step(benchmark::State& state) {
  Threads th(static_cast<int>(state.range(1)));
  auto ps = param_with_grad(state.range(0));
  ember::optim::SGD<float> sgd(ps, ember::optim::SGDOptions(1e-2).momentum(0.9));
  sgd.step();
  for (auto _ : state) {
    sgd.step();
    benchmark::ClobberMemory();
  }
  bytes(state, 5 * sizeof(float));  // read p, g, buf; write p, buf
}

// The same Adam update as a chain of Tensor ops (temporaries, one pass per op): the cost of not
// fusing. Counted with the fused step's 28 bytes per element so the rates compare directly.
void BM_adam_unfused_tensor_ops(benchmark::State& state) {
  Threads th(static_cast<int>(state.range(1)));
  auto ps = param_with_grad(state.range(0));
  ember::Tensor<float> p = ps[0].detach(), g = ps[0].grad();
  auto m = ember::zeros_like(p), v = ember::zeros_like(p);
  ember::NoGradGuard no_grad;
  for (auto _ : state) {
    m.mul_(0.9f).add_(g.mul(0.1f));
    v.mul_(0.999f).add_(g.mul(g).mul_(0.001f));
    p.sub_(m.mul(0.01f).div_(v.sqrt().mul_(1.0f).add_(1e-8f)));
    benchmark::ClobberMemory();
  }
  bytes(state, 7 * sizeof(float));
}

// Single-threaded: rates from CPU time, which other processes on a shared machine do not inflate.
void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {int64_t{1} << 20, int64_t{1} << 23}) b->Args({n, 1});
  b->ArgNames({"n", "threads"});
}
// Two threads: real time (the main thread's CPU time would flatter them); meaningful only on a
// quiet machine.
void sizes_2t(benchmark::internal::Benchmark* b) {
  for (int64_t n : {int64_t{1} << 20, int64_t{1} << 23}) b->Args({n, 2});
  b->ArgNames({"n", "threads"})->UseRealTime();
}

BENCHMARK(BM_triad)->Apply(sizes);
BENCHMARK(BM_adam_step)->Apply(sizes);
BENCHMARK(BM_adam_amsgrad_step)->Apply(sizes);
BENCHMARK(BM_sgd_momentum_step)->Apply(sizes);
BENCHMARK(BM_adam_unfused_tensor_ops)->Apply(sizes);
BENCHMARK(BM_triad)->Apply(sizes_2t);
BENCHMARK(BM_adam_step)->Apply(sizes_2t);

}  // namespace

BENCHMARK_MAIN();
