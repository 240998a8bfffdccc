// ember: vector kernels (axpy, scale); arch-tagged implementations, called through dispatch.hpp.
// Large vectors are split across threads; every element is computed by the same vector code
// wherever it falls (detail/simd_loops.hpp), so results do not depend on the thread count.
#pragma once

#include <cstddef>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/detail/simd_loops.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::impl {

template <class Arch, class T>
void axpy(std::size_t n, T alpha, const T* x, T* y) noexcept {
  auto body = [&](std::size_t lo, std::size_t hi) {
    if constexpr (is_scalar_arch<Arch>) {
      for (std::size_t i = lo; i < hi; ++i) y[i] += alpha * x[i];
    } else {
      using B = xsimd::batch<T, Arch>;
      const B va(alpha);
      detail::map2<Arch, T>(lo, hi, x, y, y, [&](B xv, B yv) { return xsimd::fma(va, xv, yv); });
    }
  };
  detail::parallel_range<Arch>(n, body);
}

template <class Arch, class T>
void scale(std::size_t n, T alpha, T* x) noexcept {
  auto body = [&](std::size_t lo, std::size_t hi) {
    if constexpr (is_scalar_arch<Arch>) {
      for (std::size_t i = lo; i < hi; ++i) x[i] *= alpha;
    } else {
      using B = xsimd::batch<T, Arch>;
      const B va(alpha);
      detail::map1<Arch, T>(lo, hi, x, x, [&](B v) { return va * v; });
    }
  };
  detail::parallel_range<Arch>(n, body);
}

}  // namespace ember::kernels::impl
