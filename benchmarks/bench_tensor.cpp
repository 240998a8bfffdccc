// Tensor<T> overhead against hand-written loops over the same memory (the peer), in one run:
// contiguous elementwise ops on 1M floats, a bias broadcast x[1024, 1024] + b[1024], and sums over
// the last and the first axis of a 1024 x 1024 tensor. Everything runs on one thread (ember's
// parallel_for is switched off with set_num_threads(1)) so the ratio measures the Tensor layer,
// not the core count. Out-of-place ember ops include allocating their result.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "ember/ember.hpp"

namespace {

constexpr int64_t kN = 1 << 20;
constexpr int64_t kRows = 1024, kCols = 1024;

struct SingleThread {
  SingleThread() { ember::set_num_threads(1); }
};

void bytes(benchmark::State& s, int64_t n, int arrays) {
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations()) * n * arrays * 4);
}

// ---- elementwise, 1M floats
// ----------------------------------------------------------------------

void BM_add_ember(benchmark::State& s) {
  SingleThread st;
  const auto a = ember::rand<float>({kN}), b = ember::rand<float>({kN});
  for (auto _ : s) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.data());
  }
  bytes(s, kN, 3);
}
void BM_add_loop(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), b(kN, 0.25f), c(kN);
  for (auto _ : s) {
    const float* ap = a.data();
    const float* bp = b.data();
    float* cp = c.data();
    for (int64_t i = 0; i < kN; ++i) cp[i] = ap[i] + bp[i];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
}
void BM_add_inplace_ember(benchmark::State& s) {
  SingleThread st;
  auto a = ember::rand<float>({kN});
  const auto b = ember::full<float>({kN}, 0.f);
  for (auto _ : s) {
    a.add_(b);
    benchmark::DoNotOptimize(a.data());
  }
  bytes(s, kN, 3);
}
void BM_add_inplace_loop(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), b(kN, 0.f);
  for (auto _ : s) {
    float* ap = a.data();
    const float* bp = b.data();
    for (int64_t i = 0; i < kN; ++i) ap[i] += bp[i];
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
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
void BM_mul_loop(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), b(kN, 0.25f), c(kN);
  for (auto _ : s) {
    const float* ap = a.data();
    const float* bp = b.data();
    float* cp = c.data();
    for (int64_t i = 0; i < kN; ++i) cp[i] = ap[i] * bp[i];
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
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
void BM_exp_loop(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), c(kN);
  for (auto _ : s) {
    const float* ap = a.data();
    float* cp = c.data();
    for (int64_t i = 0; i < kN; ++i) cp[i] = std::exp(ap[i]);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 2);
}

// ---- bias broadcast x[1024, 1024] + b[1024]
// --------------------------------------------------------

void BM_bias_add_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols}), b = ember::rand<float>({kCols});
  for (auto _ : s) {
    auto y = x + b;
    benchmark::DoNotOptimize(y.data());
  }
  bytes(s, kRows * kCols, 2);
}
void BM_bias_add_loop(benchmark::State& s) {
  std::vector<float> x(kRows * kCols, 0.5f), b(kCols, 0.25f), y(kRows * kCols);
  for (auto _ : s) {
    for (int64_t r = 0; r < kRows; ++r) {
      const float* xp = x.data() + r * kCols;
      float* yp = y.data() + r * kCols;
      for (int64_t c = 0; c < kCols; ++c) yp[c] = xp[c] + b[static_cast<std::size_t>(c)];
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 2);
}

// ---- reductions over the last and the first axis
// ---------------------------------------------------

void BM_sum_last_axis_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols});
  for (auto _ : s) {
    auto r = x.sum({1});
    benchmark::DoNotOptimize(r.data());
  }
  bytes(s, kRows * kCols, 1);
}
void BM_sum_last_axis_loop(benchmark::State& s) {
  std::vector<float> x(kRows * kCols, 0.5f), out(kRows);
  for (auto _ : s) {
    for (int64_t r = 0; r < kRows; ++r) {
      const float* xp = x.data() + r * kCols;
      float acc = 0.f;
      for (int64_t c = 0; c < kCols; ++c) acc += xp[c];
      out[static_cast<std::size_t>(r)] = acc;
    }
    benchmark::DoNotOptimize(out.data());
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
void BM_sum_first_axis_loop(benchmark::State& s) {
  // The cache-friendly raw loop: add each row into the output vector.
  std::vector<float> x(kRows * kCols, 0.5f), out(kCols);
  for (auto _ : s) {
    std::fill(out.begin(), out.end(), 0.f);
    for (int64_t r = 0; r < kRows; ++r) {
      const float* xp = x.data() + r * kCols;
      for (int64_t c = 0; c < kCols; ++c) out[static_cast<std::size_t>(c)] += xp[c];
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 1);
}
void BM_sum_all_ember(benchmark::State& s) {
  SingleThread st;
  const auto x = ember::rand<float>({kRows, kCols});
  for (auto _ : s) {
    auto r = x.sum();
    benchmark::DoNotOptimize(r.data());
  }
  bytes(s, kRows * kCols, 1);
}

// ---- the dispatched kernels called directly on raw memory: the Tensor layer's own overhead is the
// ratio ember / kernel (the hand loops above also measure the kernels' speed)
// -------------------------

void BM_add_kernel(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), b(kN, 0.25f), c(kN);
  for (auto _ : s) {
    ember::kernels::binary<float>(ember::kernels::BinaryOp::add, kN, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
}
void BM_add_inplace_kernel(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), b(kN, 0.f);
  for (auto _ : s) {
    ember::kernels::binary<float>(ember::kernels::BinaryOp::add, kN, a.data(), b.data(), a.data());
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
}
void BM_mul_kernel(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), b(kN, 0.25f), c(kN);
  for (auto _ : s) {
    ember::kernels::binary<float>(ember::kernels::BinaryOp::mul, kN, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 3);
}
void BM_exp_kernel(benchmark::State& s) {
  std::vector<float> a(kN, 0.5f), c(kN);
  for (auto _ : s) {
    ember::kernels::unary<float>(ember::kernels::UnaryOp::exp, kN, a.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kN, 2);
}
void BM_bias_add_kernel(benchmark::State& s) {
  std::vector<float> x(kRows * kCols, 0.5f), b(kCols, 0.25f), y(kRows * kCols);
  for (auto _ : s) {
    ember::kernels::binary_rowvec<float>(ember::kernels::BinaryOp::add, kRows, kCols, x.data(),
                                         kCols, b.data(), y.data(), kCols);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 2);
}
void BM_sum_last_axis_kernel(benchmark::State& s) {
  std::vector<float> x(kRows * kCols, 0.5f), out(kRows);
  for (auto _ : s) {
    ember::kernels::reduce_rows<float>(ember::kernels::RowReduce::sum, kRows, kCols, x.data(),
                                       kCols, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 1);
}
void BM_sum_first_axis_kernel(benchmark::State& s) {
  std::vector<float> x(kRows * kCols, 0.5f), out(kCols);
  for (auto _ : s) {
    std::fill(out.begin(), out.end(), 0.f);
    for (int64_t r = 0; r < kRows; ++r) {
      ember::kernels::binary<float>(ember::kernels::BinaryOp::add, kCols, out.data(),
                                    x.data() + r * kCols, out.data());
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  bytes(s, kRows * kCols, 1);
}

// A strided (transposed) operand: the generic loop, for reference (no peer target).
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
BENCHMARK(BM_add_kernel);
BENCHMARK(BM_add_ember);
BENCHMARK(BM_add_inplace_loop);
BENCHMARK(BM_add_inplace_kernel);
BENCHMARK(BM_add_inplace_ember);
BENCHMARK(BM_mul_loop);
BENCHMARK(BM_mul_kernel);
BENCHMARK(BM_mul_ember);
BENCHMARK(BM_exp_loop);
BENCHMARK(BM_exp_kernel);
BENCHMARK(BM_exp_ember);
BENCHMARK(BM_bias_add_loop);
BENCHMARK(BM_bias_add_kernel);
BENCHMARK(BM_bias_add_ember);
BENCHMARK(BM_sum_last_axis_loop);
BENCHMARK(BM_sum_last_axis_kernel);
BENCHMARK(BM_sum_last_axis_ember);
BENCHMARK(BM_sum_first_axis_loop);
BENCHMARK(BM_sum_first_axis_kernel);
BENCHMARK(BM_sum_first_axis_ember);
BENCHMARK(BM_sum_all_ember);
BENCHMARK(BM_add_transposed_ember);
BENCHMARK_MAIN();
