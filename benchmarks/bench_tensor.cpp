// Tensor<T> overhead against hand-written loops over the same memory, in one run: contiguous
// elementwise ops on 1M floats, a bias broadcast x[1024, 1024] + b[1024], and sums over the last
// and the first axis of a 1024 x 1024 tensor.
//
// The peer (BM_*_loop) is the plain loop compiled with -O3 -march=native in its own translation
// unit (peers/elementwise_peer.cpp), reading the same tensors' memory and writing into a
// preallocated tensor. BM_*_ember is the Tensor op as a user writes it, so out-of-place ops include
// allocating their result; BM_*_loop_fresh is the loop writing into a buffer it allocates (new[],
// uninitialised), the same job as the out-of-place op; BM_*_ember_cached is the op in a loop that
// keeps its buffers in a CPUCachingAllocator (core/allocator.hpp). Everything runs on one thread
// (set_num_threads(1)), so the ratio measures the Tensor layer, not the core count.
#include <benchmark/benchmark.h>

#include <memory>

#include "ember/ember.hpp"
#include "peers/elementwise_peer.hpp"

namespace {

using ember::Tensor;
constexpr int64_t kN = 1 << 20;
constexpr int64_t kRows = 1024, kCols = 1024;

struct SingleThread {
  SingleThread() { ember::set_num_threads(1); }
};

void bytes(benchmark::State& s, int64_t n, int arrays) {
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations()) * n * arrays * 4);
}

std::size_t u(int64_t n) {
  return static_cast<std::size_t>(n);
}

// An uninitialised buffer from the general-purpose allocator, as a hand-written program gets one.
std::unique_ptr<float[]> fresh(int64_t n) {
  return std::unique_ptr<float[]>(new float[u(n)]);
}

// ---- elementwise, 1M floats -------------------------------------------------------------------

void BM_add_loop(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  auto c = ember::empty<float>({kN});
  for (auto _ : s) {
    peer::add(u(kN), a.data(), b.data(), c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
}
void BM_add_loop_fresh(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  for (auto _ : s) {
    auto c = fresh(kN);
    peer::add(u(kN), a.data(), b.data(), c.get());
    benchmark::DoNotOptimize(c.get());
  }
  bytes(s, kN, 3);
}
void BM_add_ember(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  for (auto _ : s) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.data());
  }
  bytes(s, kN, 3);
}
// The same op in a loop that keeps its buffers (core/allocator.hpp): from the second iteration on,
// the result lands on the block the previous one freed, still in cache.
void BM_add_ember_cached(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  ember::CPUCachingAllocator cache;
  ember::WithCPUCachingAllocatorGuard use(cache);
  for (auto _ : s) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.data());
  }
  bytes(s, kN, 3);
}
void BM_add_inplace_loop(benchmark::State& s) {
  SingleThread st;
  auto a = ember::rand<float>({kN});
  const auto b = ember::zeros<float>({kN});
  for (auto _ : s) {
    peer::add_inplace(u(kN), a.data(), b.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
}
void BM_add_inplace_ember(benchmark::State& s) {
  SingleThread st;
  auto a = ember::rand<float>({kN});
  const auto b = ember::zeros<float>({kN});
  for (auto _ : s) {
    a.add_(b);
    benchmark::DoNotOptimize(a.data());
  }
  bytes(s, kN, 3);
}
void BM_mul_loop(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  auto c = ember::empty<float>({kN});
  for (auto _ : s) {
    peer::mul(u(kN), a.data(), b.data(), c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
}
void BM_mul_loop_fresh(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  for (auto _ : s) {
    auto c = fresh(kN);
    peer::mul(u(kN), a.data(), b.data(), c.get());
    benchmark::DoNotOptimize(c.get());
  }
  bytes(s, kN, 3);
}
void BM_mul_ember(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  for (auto _ : s) {
    auto c = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  bytes(s, kN, 3);
}
void BM_mul_ember_cached(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  ember::CPUCachingAllocator cache;
  ember::WithCPUCachingAllocatorGuard use(cache);
  for (auto _ : s) {
    auto c = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  bytes(s, kN, 3);
}
void BM_exp_loop(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN});
  auto c = ember::empty<float>({kN});
  for (auto _ : s) {
    peer::exp(u(kN), a.data(), c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 2);
}
void BM_exp_ember(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN});
  for (auto _ : s) {
    auto c = a.exp();
    benchmark::DoNotOptimize(c.data());
  }
  bytes(s, kN, 2);
}

// ---- bias broadcast x[1024, 1024] + b[1024] ---------------------------------------------------

void BM_bias_add_loop(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols}), b = ember::rand<float>({kCols});
  auto y = ember::empty<float>({kRows, kCols});
  for (auto _ : s) {
    peer::bias_add(u(kRows), u(kCols), x.data(), b.data(), y.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 2);
}
void BM_bias_add_loop_fresh(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols}), b = ember::rand<float>({kCols});
  for (auto _ : s) {
    auto y = fresh(kRows * kCols);
    peer::bias_add(u(kRows), u(kCols), x.data(), b.data(), y.get());
    benchmark::DoNotOptimize(y.get());
  }
  bytes(s, kRows * kCols, 2);
}
void BM_bias_add_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols}), b = ember::rand<float>({kCols});
  for (auto _ : s) {
    auto y = x + b;
    benchmark::DoNotOptimize(y.data());
  }
  bytes(s, kRows * kCols, 2);
}

// ---- reductions over the last and the first axis ----------------------------------------------

void BM_sum_last_axis_loop(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols});
  auto out = ember::empty<float>({kRows});
  for (auto _ : s) {
    peer::sum_rows(u(kRows), u(kCols), x.data(), out.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 1);
}
void BM_sum_last_axis_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols});
  for (auto _ : s) {
    auto r = x.sum({1});
    benchmark::DoNotOptimize(r.data());
  }
  bytes(s, kRows * kCols, 1);
}
void BM_sum_first_axis_loop(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols});
  auto out = ember::empty<float>({kCols});
  for (auto _ : s) {
    peer::sum_cols(u(kRows), u(kCols), x.data(), out.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 1);
}
void BM_sum_first_axis_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols});
  for (auto _ : s) {
    auto r = x.sum({0});
    benchmark::DoNotOptimize(r.data());
  }
  bytes(s, kRows * kCols, 1);
}

// For reference (no target): the whole-tensor sum, and a strided (transposed) operand, which
// takes the generic strided loop.
void BM_sum_all_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols});
  for (auto _ : s) {
    auto r = x.sum();
    benchmark::DoNotOptimize(r.data());
  }
  bytes(s, kRows * kCols, 1);
}
void BM_add_transposed_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols}), y = ember::rand<float>({kRows, kCols});
  const auto yt = y.t();
  for (auto _ : s) {
    auto z = x + yt;
    benchmark::DoNotOptimize(z.data());
  }
  bytes(s, kRows * kCols, 3);
}

}  // namespace

BENCHMARK(BM_add_loop);
BENCHMARK(BM_add_loop_fresh);
BENCHMARK(BM_add_ember);
BENCHMARK(BM_add_ember_cached);
BENCHMARK(BM_add_inplace_loop);
BENCHMARK(BM_add_inplace_ember);
BENCHMARK(BM_mul_loop);
BENCHMARK(BM_mul_loop_fresh);
BENCHMARK(BM_mul_ember);
BENCHMARK(BM_mul_ember_cached);
BENCHMARK(BM_exp_loop);
BENCHMARK(BM_exp_ember);
BENCHMARK(BM_bias_add_loop);
BENCHMARK(BM_bias_add_loop_fresh);
BENCHMARK(BM_bias_add_ember);
BENCHMARK(BM_sum_last_axis_loop);
BENCHMARK(BM_sum_last_axis_ember);
BENCHMARK(BM_sum_first_axis_loop);
BENCHMARK(BM_sum_first_axis_ember);
BENCHMARK(BM_sum_all_ember);
BENCHMARK(BM_add_transposed_ember);
BENCHMARK_MAIN();
