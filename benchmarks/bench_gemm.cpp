// Single-precision GEMM (row-major C = A * B) through ember's dispatch, against OpenBLAS
// (cblas_sgemm) and oneDNN (dnnl_sgemm) in the same run, when those are installed.
// BM_sgemm: one benchmark per library; one-thread figures use CPU time, multi-thread figures wall
// time. BM_sgemm_paired: all libraries in turn within each iteration, wall time. Thread counts:
// ember::set_num_threads, openblas_set_num_threads, and omp_set_num_threads for oneDNN (whose
// threads are OpenMP's). Counter GFLOP/s = 2 * M * N * K per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <new>
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

// 64-byte aligned floats, as a Tensor's storage is (aligned_memory.hpp). With malloc's 16-byte
// alignment the figures depended on where the heap placed each operand: 1 x 256 x 256 ran 20%
// apart between two processes, for every library.
class Floats {
 public:
  explicit Floats(std::size_t n)
      : n_(n),
        p_(static_cast<float*>(::operator new((n + 1) * sizeof(float), std::align_val_t(64)))) {
    std::fill(p_, p_ + n, 0.f);
  }
  Floats(const Floats&) = delete;
  Floats& operator=(const Floats&) = delete;
  ~Floats() { ::operator delete(p_, std::align_val_t(64)); }
  float* data() { return p_; }
  float* begin() { return p_; }
  float* end() { return p_ + n_; }

 private:
  std::size_t n_;
  float* p_;
};

// Operands of one shape (random A and B, caller scratch) and the thread settings of every
// library, restored on destruction.
class Problem {
 public:
  explicit Problem(Shape s)
      : s_(s),
        a_(s.m * s.k),
        b_(s.k * s.n),
        c_(s.m * s.n),
        // Caller-provided scratch, as an allocation-free inference loop would use it.
        scratch_(ember::kernels::gemm_scratch_size<float>(s.m, s.n, s.k)),
        saved_threads_(ember::get_num_threads()) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    for (float& x : a_) x = dist(rng);
    for (float& x : b_) x = dist(rng);
    ember::set_num_threads(s.threads);
#if EMBER_BENCH_OPENBLAS
    openblas_set_num_threads(s.threads);
#endif
#if defined(_OPENMP)
    omp_set_num_threads(s.threads);
#endif
  }
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;
  ~Problem() {
    ember::set_num_threads(saved_threads_);
  }

  void run(Impl impl) {
    const auto m = static_cast<long>(s_.m), n = static_cast<long>(s_.n);
    const auto k = static_cast<long>(s_.k);
    switch (impl) {
      case Impl::ember:
        ember::kernels::gemm<float>(false, false, s_.m, s_.n, s_.k, 1.f, a_.data(), s_.k, b_.data(),
                                    s_.n, 0.f, c_.data(), s_.n, scratch_.data());
        break;
      case Impl::openblas:
#if EMBER_BENCH_OPENBLAS
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a_.data(), k,
                    b_.data(), n, 0.f, c_.data(), n);
#endif
        break;
      case Impl::onednn:
#if EMBER_BENCH_DNNL
        dnnl_sgemm('N', 'N', m, n, k, 1.f, a_.data(), k, b_.data(), n, 0.f, c_.data(), n);
#endif
        break;
    }
    (void)m, (void)n, (void)k;
    benchmark::DoNotOptimize(c_.data());
    benchmark::ClobberMemory();
  }
  double flops() const {
    return 2.0 * double(s_.m) * double(s_.n) * double(s_.k);
  }

 private:
  Shape s_;
  Floats a_, b_, c_, scratch_;
  int saved_threads_;
};

void BM_sgemm(benchmark::State& state, Impl impl, Shape s) {
  Problem problem(s);
  for (auto _ : state) problem.run(impl);
  state.counters["GFLOP/s"] =
      benchmark::Counter(problem.flops() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// ember and the peers in turn within every iteration, each timed on its own (wall clock), so all
// see the same machine conditions: on a VM whose speed drifts from second to second, separate
// benchmarks of a few microseconds each can differ by 20% either way. The reported time is
// ember's; counter ratio = the faster peer's total time over ember's (above 1: ember is faster).
void BM_sgemm_paired(benchmark::State& state, std::vector<Impl> peers, Shape s) {
  Problem problem(s);
  using clock = std::chrono::steady_clock;
  double ember_seconds = 0;
  std::vector<double> peer_seconds(peers.size(), 0.0);
  auto timed = [&](Impl impl) {
    const auto t0 = clock::now();
    problem.run(impl);
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  for (auto _ : state) {
    const double t = timed(Impl::ember);
    state.SetIterationTime(t);
    ember_seconds += t;
    for (std::size_t i = 0; i < peers.size(); ++i) peer_seconds[i] += timed(peers[i]);
  }
  const double best_peer = *std::min_element(peer_seconds.begin(), peer_seconds.end());
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = problem.flops() * iterations / ember_seconds / 1e9;
  state.counters["peer_GFLOP/s"] = problem.flops() * iterations / best_peer / 1e9;
  state.counters["ratio"] = best_peer / ember_seconds;
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
    // One thread only: after a call, OpenBLAS's threads keep spinning on the other core for a
    // while, so in turns with several threads each library would run against the previous one's
    // spinning threads (1024^3 on 2 threads measured about 100 GFLOP/s for every library).
    if (impls.size() > 1 && s.threads == 1) {
      const std::vector<Impl> peers(impls.begin() + 1, impls.end());
      const std::string name = "BM_sgemm_paired/" + std::to_string(s.m) + "x" +
                               std::to_string(s.n) + "x" + std::to_string(s.k) +
                               "/threads:" + std::to_string(s.threads);
      benchmark::RegisterBenchmark(name.c_str(), BM_sgemm_paired, peers, s)
          ->Unit(benchmark::kMicrosecond)
          ->UseManualTime();
    }
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
