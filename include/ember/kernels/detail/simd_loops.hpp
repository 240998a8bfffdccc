// ember: the loop skeletons shared by the elementwise, softmax and reduction kernels.
//
// Every element is computed by the same code whatever its position: the last partial vector is
// copied into a padded stack buffer and run through the vector function too, rather than through
// a scalar tail loop. So results never depend on where a chunk boundary falls, which is what makes
// them identical for any thread count.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::detail {

// Below this many elements (about 64 KiB of floats) a call runs on the calling thread: a parallel
// region costs a few microseconds, more than the work it would split.
template <class Arch>
constexpr std::size_t elementwise_grain() noexcept {
  return std::size_t(1) << 14;
}

// Rows per thread chunk for row kernels: enough rows to cover elementwise_grain elements.
template <class Arch>
std::size_t row_grain(std::size_t cols) noexcept {
  return std::max<std::size_t>(1, elementwise_grain<Arch>() / std::max<std::size_t>(1, cols));
}

// Vector width in elements (1 for the scalar arch).
template <class Arch, class T>
constexpr std::size_t width() noexcept {
  if constexpr (is_scalar_arch<Arch>) {
    return 1;
  } else {
    return xsimd::batch<T, Arch>::size;
  }
}

// y[i] = f(x[i]) for i in [lo, hi); f maps a batch (or, for the scalar arch, a T) to the same.
template <class Arch, class T, class F>
EMBER_FLATTEN void map1(std::size_t lo, std::size_t hi, const T* x, T* y, const F& f) noexcept {
  if constexpr (is_scalar_arch<Arch>) {
    for (std::size_t i = lo; i < hi; ++i) y[i] = f(x[i]);
  } else {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = B::size;
    std::size_t i = lo;
    for (; i + W <= hi; i += W) f(B::load_unaligned(x + i)).store_unaligned(y + i);
    if (i < hi) {
      alignas(B::arch_type::alignment()) T buf[W] = {};
      std::copy(x + i, x + hi, buf);
      f(B::load_aligned(buf)).store_aligned(buf);
      std::copy(buf, buf + (hi - i), y + i);
    }
  }
}

// y[i] = f(a[i], b[i]) for i in [lo, hi).
template <class Arch, class T, class F>
EMBER_FLATTEN void map2(std::size_t lo, std::size_t hi, const T* a, const T* b, T* y,
                        const F& f) noexcept {
  if constexpr (is_scalar_arch<Arch>) {
    for (std::size_t i = lo; i < hi; ++i) y[i] = f(a[i], b[i]);
  } else {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = B::size;
    std::size_t i = lo;
    for (; i + W <= hi; i += W) {
      f(B::load_unaligned(a + i), B::load_unaligned(b + i)).store_unaligned(y + i);
    }
    if (i < hi) {
      alignas(B::arch_type::alignment()) T ba[W] = {};
      alignas(B::arch_type::alignment()) T bb[W] = {};
      std::copy(a + i, a + hi, ba);
      std::copy(b + i, b + hi, bb);
      f(B::load_aligned(ba), B::load_aligned(bb)).store_aligned(ba);
      std::copy(ba, ba + (hi - i), y + i);
    }
  }
}

// Runs body(lo, hi) over [0, n), split across threads in blocks of 64 elements when n is large.
template <class Arch, class Body>
void parallel_range(std::size_t n, const Body& body) noexcept {
  constexpr std::size_t block = 64;
  const std::size_t blocks = (n + block - 1) / block;
  ember::parallel_for(
      0, blocks, elementwise_grain<Arch>() / block,
      [&](std::size_t b0, std::size_t b1) { body(b0 * block, std::min(n, b1 * block)); });
}

}  // namespace ember::kernels::detail
