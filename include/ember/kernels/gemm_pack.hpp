// ember: packing GEMM operands into the contiguous micro-panels the register tile reads.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "ember/kernels/gemm_microkernel.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace ember::kernels::impl::gemm_detail {

#if defined(__AVX512F__)
// Transposes 16 rows of 16 floats in registers (r[i][j] becomes r[j][i]): 64 shuffles instead of
// 256 scattered stores. A template on Arch, so the copy in each ISA unit carries its arch's name.
// Always inlined: called, it passes the 16 registers through memory.
template <class Arch>
__attribute__((always_inline)) inline void transpose16x16(__m512* r) noexcept {
  __m512 t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 4) {
    const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
    const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 8) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      t[i + k] = _mm512_shuffle_f32x4(r[i + k], r[i + k + 4], 0x88);
      t[i + k + 4] = _mm512_shuffle_f32x4(r[i + k], r[i + k + 4], 0xdd);
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
    r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
  }
}
#endif

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
    return;
  }
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch> && std::is_same_v<T, float> && MR <= 16) {
    // 16 steps at a time: up to 16 rows of 16 floats (missing rows are zeros) transposed in
    // registers, each step's MR values one masked store; edge slivers need no memset.
    const auto keep = static_cast<__mmask16>((1u << MR) - 1);
    const T* src = a + i0 * lda + p0;
    std::size_t p = 0;
    for (; p + 16 <= kc; p += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (std::size_t i = 0; i < 16; ++i) {
        r[i] = i < mr ? _mm512_loadu_ps(src + i * lda + p) : _mm512_setzero_ps();
      }
      transpose16x16<Arch>(r);
#pragma GCC unroll 16
      for (std::size_t q = 0; q < 16; ++q) _mm512_mask_storeu_ps(dst + (p + q) * MR, keep, r[q]);
    }
    if (p < kc) {  // the last kc - p < 16 steps: masked loads, the first kc - p steps stored
      const auto kk = static_cast<__mmask16>((1u << (kc - p)) - 1u);
      __m512 r[16];
#pragma GCC unroll 16
      for (std::size_t i = 0; i < 16; ++i) {
        r[i] = i < mr ? _mm512_maskz_loadu_ps(kk, src + i * lda + p) : _mm512_setzero_ps();
      }
      transpose16x16<Arch>(r);
#pragma GCC unroll 16
      for (std::size_t q = 0; q < 16; ++q) {
        if (p + q < kc) _mm512_mask_storeu_ps(dst + (p + q) * MR, keep, r[q]);
      }
    }
    return;
  }
#endif
  if (mr == MR) {
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
#if defined(__AVX512F__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch> && std::is_same_v<T, float> &&
                  NR % 16 == 0) {
      // Masked row copies (an edge panel's rows are a few floats: memcpy calls cost more).
      __mmask16 k[NR / 16];
      for (std::size_t h = 0; h < NR; h += 16) {
        k[h / 16] = nr >= h + 16 ? __mmask16(0xffff)
                    : nr > h     ? static_cast<__mmask16>((1u << (nr - h)) - 1u)
                                 : __mmask16(0);
      }
      for (std::size_t p = 0; p < kc; ++p, src += ldb, dst += NR) {
        for (std::size_t h = 0; h < NR; h += 16) {
          _mm512_storeu_ps(dst + h, _mm512_maskz_loadu_ps(k[h / 16], src + h));
        }
      }
      return;
    }
#endif
    for (std::size_t p = 0; p < kc; ++p, src += ldb, dst += NR) {
      std::memcpy(dst, src, nr * sizeof(T));
      for (std::size_t j = nr; j < NR; ++j) dst[j] = T(0);
    }
  } else {
#if defined(__AVX512F__)
    if constexpr (std::is_base_of_v<xsimd::avx512f, Arch> && std::is_same_v<T, float> &&
                  NR % 16 == 0) {
      // Full panels: 16 x 16 blocks transposed in registers; the last kc % 16 steps below.
      if (nr == NR) {
        std::size_t p = 0;
        for (; p + 16 <= kc; p += 16) {
          for (std::size_t h = 0; h < NR; h += 16) {
            __m512 r[16];
#pragma GCC unroll 16
            for (std::size_t i = 0; i < 16; ++i) {
              r[i] = _mm512_loadu_ps(b + (j0 + h + i) * ldb + p0 + p);
            }
            transpose16x16<Arch>(r);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < 16; ++i) _mm512_storeu_ps(dst + (p + i) * NR + h, r[i]);
          }
        }
        if (p < kc) {  // the last kc - p < 16 steps: masked loads, the first kc - p rows stored
          const auto kk = static_cast<__mmask16>((1u << (kc - p)) - 1u);
          for (std::size_t h = 0; h < NR; h += 16) {
            __m512 r[16];
#pragma GCC unroll 16
            for (std::size_t i = 0; i < 16; ++i) {
              r[i] = _mm512_maskz_loadu_ps(kk, b + (j0 + h + i) * ldb + p0 + p);
            }
            transpose16x16<Arch>(r);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < 16; ++i) {
              if (p + i < kc) _mm512_storeu_ps(dst + (p + i) * NR + h, r[i]);
            }
          }
        }
        return;
      }
    }
#endif
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
