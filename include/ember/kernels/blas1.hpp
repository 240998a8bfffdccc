// ember: vector kernels (axpy, scale); arch-tagged implementations, called through dispatch.hpp.
#pragma once

#include <cstddef>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::impl {

template <class Arch, class T>
void axpy(std::size_t n, T alpha, const T* x, T* y) noexcept {
  std::size_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = B::size;
    const B va(alpha);
    for (; i + W <= n; i += W) {
      xsimd::fma(va, B::load_unaligned(x + i), B::load_unaligned(y + i)).store_unaligned(y + i);
    }
  }
  for (; i < n; ++i) y[i] += alpha * x[i];
}

template <class Arch, class T>
void scale(std::size_t n, T alpha, T* x) noexcept {
  std::size_t i = 0;
  if constexpr (!is_scalar_arch<Arch>) {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = B::size;
    const B va(alpha);
    for (; i + W <= n; i += W) (va * B::load_unaligned(x + i)).store_unaligned(x + i);
  }
  for (; i < n; ++i) x[i] *= alpha;
}

}  // namespace ember::kernels::impl
