// ember::optim: how the fused update loops run. Each optimizer's update is one pass over a
// parameter and its state (read everything once, write once, no temporaries); the pass is split
// across threads in contiguous chunks (results do not depend on the thread count: every element
// is independent), and the inner loops are marked for vectorisation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ember/kernels/parallel.hpp"

// Asks the compiler to vectorise the loop that follows (the update loops have no dependences
// between iterations; -O2 alone does not vectorise loops with a remainder).
#if defined(_OPENMP)
#define EMBER_OPTIM_SIMD _Pragma("omp simd")
#else
#define EMBER_OPTIM_SIMD
#endif

namespace ember::optim::detail {

// Below this many elements a parameter is updated by the calling thread alone.
inline constexpr std::size_t update_grain = std::size_t{1} << 16;

// Calls body(begin, end) over chunks covering [0, n).
template <class F>
void run_update(int64_t n, F&& body) {
  ember::parallel_for(0, static_cast<std::size_t>(n), update_grain,
                      [&](std::size_t lo, std::size_t hi) {
                        body(static_cast<int64_t>(lo), static_cast<int64_t>(hi));
                      });
}

}  // namespace ember::optim::detail
