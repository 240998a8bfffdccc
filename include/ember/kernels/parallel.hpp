// ember: the one place that uses OpenMP. parallel_for splits a range into contiguous chunks, one
// per thread; below the grain threshold it runs inline. Without OpenMP everything runs serially.
//
// Determinism: the caller must make each output element's value independent of how the range is
// split (never reduce across chunks in thread order); then results are identical for any thread
// count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>

#include "ember/config.hpp"
#include "ember/error.hpp"

#if EMBER_HAS_OPENMP
#include <omp.h>
#endif

namespace ember {

namespace detail {
// 0 means "not set": use OpenMP's default (OMP_NUM_THREADS or the number of cores).
inline std::atomic<int>& num_threads_slot() noexcept {
  static std::atomic<int> n{0};
  return n;
}
}  // namespace detail

// Threads ember's kernels use from now on (does not change OpenMP's setting for your own code).
inline void set_num_threads(int n) {
  EMBER_CHECK_VALUE(n >= 1, "set_num_threads: expected a thread count >= 1, got ", n);
  detail::num_threads_slot().store(n, std::memory_order_relaxed);
}

inline int get_num_threads() noexcept {
  const int n = detail::num_threads_slot().load(std::memory_order_relaxed);
#if EMBER_HAS_OPENMP
  return n > 0 ? n : omp_get_max_threads();
#else
  (void)n;
  return 1;
#endif
}

// Threads a parallel_for started here may use: get_num_threads(), or 1 inside a parallel region
// (where parallel_for runs inline).
inline int threads_here() noexcept {
#if EMBER_HAS_OPENMP
  if (omp_in_parallel()) return 1;
#endif
  return get_num_threads();
}

// Calls fn(chunk_begin, chunk_end) over disjoint chunks covering [begin, end). Uses at most
// (end - begin) / grain threads, so tiny ranges never pay for a parallel region. fn must not throw.
template <class F>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, F&& fn) {
  if (end <= begin) return;
  const std::size_t n = end - begin;
  const std::size_t max_by_grain = std::max<std::size_t>(1, n / std::max<std::size_t>(1, grain));
  const auto threads = static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(get_num_threads()), max_by_grain));
#if EMBER_HAS_OPENMP
  if (threads > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
    {
      const auto t = static_cast<std::size_t>(omp_get_thread_num());
      const auto nt = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t lo = begin + n * t / nt, hi = begin + n * (t + 1) / nt;
      if (lo < hi) fn(lo, hi);
    }
    return;
  }
#else
  (void)threads;
#endif
  fn(begin, end);
}

}  // namespace ember
