// ember: packing GEMM operands into the contiguous micro-panels the register tile reads.
#pragma once

#include <cstddef>
#include <cstring>

#include "ember/kernels/gemm_microkernel.hpp"

namespace ember::kernels::impl::gemm_detail {

// dst[p * MR + i] = op(A)(i0 + i, p0 + p) for i < mr, p < kc; rows mr..MR-1 are zero.
// op(A)(i, p) is a[i * lda + p], or a[p * lda + i] when trans_a.
template <class Arch, class T>
void pack_a(bool trans_a, const T* a, std::size_t lda, std::size_t i0, std::size_t p0,
            std::size_t mr, std::size_t kc, T* dst) noexcept {
  constexpr std::size_t MR = params<Arch, T>::mr;
  if (trans_a) {
    const T* src = a + p0 * lda + i0;
    if (mr < MR) std::memset(dst, 0, kc * MR * sizeof(T));
    for (std::size_t p = 0; p < kc; ++p, src += lda, dst += MR) {
      for (std::size_t i = 0; i < mr; ++i) dst[i] = src[i];
    }
  } else if (mr == MR) {
    const T* rows[MR];
    for (std::size_t i = 0; i < MR; ++i) rows[i] = a + (i0 + i) * lda + p0;
    for (std::size_t p = 0; p < kc; ++p, dst += MR) {
#pragma GCC unroll 16
      for (std::size_t i = 0; i < MR; ++i) dst[i] = rows[i][p];
    }
  } else {
    // An edge sliver: the padding rows zeroed once for the whole panel (not a short memset per
    // step), then the rows it has.
    std::memset(dst, 0, kc * MR * sizeof(T));
    const T* rows[MR];
    for (std::size_t i = 0; i < mr; ++i) rows[i] = a + (i0 + i) * lda + p0;
    for (std::size_t p = 0; p < kc; ++p, dst += MR) {
      for (std::size_t i = 0; i < mr; ++i) dst[i] = rows[i][p];
    }
  }
}

// dst[p * NR + j] = op(B)(p0 + p, j0 + j) for p < kc, j < nr; columns nr..NR-1 are zero.
// op(B)(p, j) is b[p * ldb + j], or b[j * ldb + p] when trans_b.
template <class Arch, class T>
void pack_b(bool trans_b, const T* b, std::size_t ldb, std::size_t p0, std::size_t j0,
            std::size_t kc, std::size_t nr, T* dst) noexcept {
  constexpr std::size_t NR = params<Arch, T>::nr;
  if (!trans_b) {
    const T* src = b + p0 * ldb + j0;
    for (std::size_t p = 0; p < kc; ++p, src += ldb, dst += NR) {
      std::memcpy(dst, src, nr * sizeof(T));
      for (std::size_t j = nr; j < NR; ++j) dst[j] = T(0);
    }
  } else {
    for (std::size_t j = 0; j < nr; ++j) {
      const T* src = b + (j0 + j) * ldb + p0;
      for (std::size_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p];
    }
    for (std::size_t j = nr; j < NR; ++j) {
      for (std::size_t p = 0; p < kc; ++p) dst[p * NR + j] = T(0);
    }
  }
}

}  // namespace ember::kernels::impl::gemm_detail
