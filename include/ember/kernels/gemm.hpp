// ember: matrix products (GEMM, strided-batched GEMM, GEMV); arch-tagged implementations.
// PLACEHOLDER: correct reference loops; the packed, register-tiled version replaces them.
#pragma once

#include <cstddef>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::impl {

template <class Arch, class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
          T* /*scratch*/) {
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      T acc = T(0);
      for (std::size_t p = 0; p < k; ++p) {
        const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += av * bv;
      }
      T& out = c[i * ldc + j];
      out = beta == T(0) ? alpha * acc : alpha * acc + beta * out;
    }
  }
}

template <class Arch, class T>
void gemm_strided_batched(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                          T alpha, const T* a, std::size_t lda, std::size_t stride_a, const T* b,
                          std::size_t ldb, std::size_t stride_b, T beta, T* c, std::size_t ldc,
                          std::size_t stride_c, std::size_t batch, T* scratch) {
  for (std::size_t i = 0; i < batch; ++i) {
    gemm<Arch, T>(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb,
                  beta, c + i * stride_c, ldc, scratch);
  }
}

template <class Arch, class T>
void gemv(bool trans_a, std::size_t m, std::size_t n, T alpha, const T* a, std::size_t lda,
          const T* x, T beta, T* y) noexcept {
  const std::size_t rows = trans_a ? n : m, inner = trans_a ? m : n;
  for (std::size_t i = 0; i < rows; ++i) {
    T acc = T(0);
    for (std::size_t p = 0; p < inner; ++p) acc += (trans_a ? a[p * lda + i] : a[i * lda + p]) * x[p];
    y[i] = beta == T(0) ? alpha * acc : alpha * acc + beta * y[i];
  }
}

}  // namespace ember::kernels::impl
