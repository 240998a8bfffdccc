// ember: the row splits of the Winograd F(2x2, 3x3) transforms
// (functional/detail/conv_winograd.hpp): the even and odd columns of zero-padded rows, and the
// adjoint (scatter-add back into the rows); and the same for F(4x4, 3x3)'s four column phases
// (functional/detail/conv_winograd4.hpp); arch-tagged, called through the kernel table.
//
// Split: for r < rows, k < n, with s = 2k - pad:
//   e[r * lde + k] = x[r * ldx + s], o[r * lde + k] = x[r * ldx + s + 1], zero where the column
//   (s or s + 1) is outside [0, W).
// Merge (the adjoint, add = true): x[r * ldx + s] += e[r * lde + k], x[r * ldx + s + 1] +=
// o[r * lde + k] where the column is inside [0, W); other entries of x are not touched. Every
// column of x gets at most one addition, so every ISA gives the same bits. add = false stores
// instead of adding (the interleave of the output transform).
//
// Float on AVX-512 uses masked loads and stores with a two-source permute (16 outputs, 32 input
// columns per step); the other types and ISAs use the scalar loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::impl {

// The k range [k0, k1) whose column 2k + par - pad lies in [0, W), clamped to [0, n).
template <class Arch>
inline void wino_valid_range(std::size_t W, std::size_t pad, std::size_t n, std::size_t par,
                             std::size_t& k0, std::size_t& k1) noexcept {
  // 0 <= 2k + par - pad  <=>  k >= ceil((pad - par) / 2); 2k + par - pad < W  <=>  k < ceil((W +
  // pad - par) / 2).
  const std::size_t lo = pad >= par ? (pad - par + 1) / 2 : 0;
  const std::size_t hi = (W + pad - par + 1) / 2;
  k1 = hi < n ? hi : n;
  k0 = lo < k1 ? lo : k1;
}

template <class Arch, class T>
void wino_split_row_generic(std::size_t W, std::size_t pad, std::size_t n, const T* x, T* e,
                            T* o) noexcept {
  std::size_t a, b;
  wino_valid_range<Arch>(W, pad, n, 0, a, b);
  for (std::size_t k = 0; k < a; ++k) e[k] = T(0);
  for (std::size_t k = a; k < b; ++k) e[k] = x[2 * k - pad];
  for (std::size_t k = b; k < n; ++k) e[k] = T(0);
  wino_valid_range<Arch>(W, pad, n, 1, a, b);
  for (std::size_t k = 0; k < a; ++k) o[k] = T(0);
  for (std::size_t k = a; k < b; ++k) o[k] = x[2 * k + 1 - pad];
  for (std::size_t k = b; k < n; ++k) o[k] = T(0);
}

template <class Arch, class T>
void wino_merge_row_generic(bool add, std::size_t W, std::size_t pad, std::size_t n, const T* e,
                            const T* o, T* x) noexcept {
  std::size_t a, b;
  wino_valid_range<Arch>(W, pad, n, 0, a, b);
  if (add) {
    for (std::size_t k = a; k < b; ++k) x[2 * k - pad] += e[k];
  } else {
    for (std::size_t k = a; k < b; ++k) x[2 * k - pad] = e[k];
  }
  wino_valid_range<Arch>(W, pad, n, 1, a, b);
  if (add) {
    for (std::size_t k = a; k < b; ++k) x[2 * k + 1 - pad] += o[k];
  } else {
    for (std::size_t k = a; k < b; ++k) x[2 * k + 1 - pad] = o[k];
  }
}

#if defined(__AVX512F__)
// The 32-bit mask of the input columns c0 + i, i < 2 cnt, that lie in [0, W) (c0 may be negative).
template <class Arch>
inline std::uint64_t wino_col_mask(std::int64_t c0, std::int64_t W, std::int64_t cnt) noexcept {
  std::int64_t lo = -c0, hi = W - c0;
  if (lo < 0) lo = 0;
  if (hi > 2 * cnt) hi = 2 * cnt;
  if (hi <= lo) return 0;
  return ((std::uint64_t(1) << hi) - 1) & ~((std::uint64_t(1) << lo) - 1);
}

template <class Arch>
inline void wino_split_row_avx512(std::size_t W, std::size_t pad, std::size_t n, const float* x,
                                  float* e, float* o) noexcept {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k < n; k += 16) {
    const auto cnt = static_cast<std::int64_t>(n - k < 16 ? n - k : 16);
    const std::int64_t c0 = 2 * static_cast<std::int64_t>(k) - sp;
    const std::uint64_t m = wino_col_mask<Arch>(c0, sw, cnt);
    const auto klo = static_cast<__mmask16>(m & 0xffffu), khi = static_cast<__mmask16>(m >> 16);
    // Lanes outside the mask are not read (no fault), whatever the address.
    const auto base = reinterpret_cast<std::intptr_t>(x) + c0 * std::int64_t(sizeof(float));
    const __m512 lo = _mm512_maskz_loadu_ps(klo, reinterpret_cast<const void*>(base));
    // Rows up to 16 columns (the common case) need no second load.
    const __m512 hi = khi != 0
                          ? _mm512_maskz_loadu_ps(khi, reinterpret_cast<const void*>(base + 64))
                          : _mm512_setzero_ps();
    const auto kout = static_cast<__mmask16>((1u << cnt) - 1u);
    _mm512_mask_storeu_ps(e + k, kout, _mm512_permutex2var_ps(lo, even, hi));
    _mm512_mask_storeu_ps(o + k, kout, _mm512_permutex2var_ps(lo, odd, hi));
  }
}

template <class Arch>
inline void wino_merge_row_avx512(bool add, std::size_t W, std::size_t pad, std::size_t n,
                                  const float* e, const float* o, float* x) noexcept {
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k < n; k += 16) {
    const auto cnt = static_cast<std::int64_t>(n - k < 16 ? n - k : 16);
    const std::int64_t c0 = 2 * static_cast<std::int64_t>(k) - sp;
    const std::uint64_t m = wino_col_mask<Arch>(c0, sw, cnt);
    if (m == 0) continue;
    const auto klo = static_cast<__mmask16>(m & 0xffffu), khi = static_cast<__mmask16>(m >> 16);
    const auto kin = static_cast<__mmask16>((1u << cnt) - 1u);
    const __m512 ve = _mm512_maskz_loadu_ps(kin, e + k), vo = _mm512_maskz_loadu_ps(kin, o + k);
    const auto base = reinterpret_cast<std::intptr_t>(x) + c0 * std::int64_t(sizeof(float));
    void* plo = reinterpret_cast<void*>(base);
    void* phi = reinterpret_cast<void*>(base + 64);
    __m512 vlo = _mm512_permutex2var_ps(ve, ilo, vo);
    if (add) vlo = _mm512_add_ps(_mm512_maskz_loadu_ps(klo, plo), vlo);
    _mm512_mask_storeu_ps(plo, klo, vlo);
    if (khi != 0) {
      __m512 vhi = _mm512_permutex2var_ps(ve, ihi, vo);
      if (add) vhi = _mm512_add_ps(_mm512_maskz_loadu_ps(khi, phi), vhi);
      _mm512_mask_storeu_ps(phi, khi, vhi);
    }
  }
}
#endif

template <class Arch, class T>
void wino_split_rows(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n, const T* x,
                     std::size_t ldx, T* e, T* o, std::size_t lde) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    for (std::size_t r = 0; r < rows; ++r) {
      wino_split_row_avx512<Arch>(W, pad, n, x + r * ldx, e + r * lde, o + r * lde);
    }
    return;
  }
#endif
  for (std::size_t r = 0; r < rows; ++r) {
    wino_split_row_generic<Arch, T>(W, pad, n, x + r * ldx, e + r * lde, o + r * lde);
  }
}

template <class Arch, class T>
void wino_merge_rows(bool add, std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                     const T* e, const T* o, std::size_t lde, T* x, std::size_t ldx) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    for (std::size_t r = 0; r < rows; ++r) {
      wino_merge_row_avx512<Arch>(add, W, pad, n, e + r * lde, o + r * lde, x + r * ldx);
    }
    return;
  }
#endif
  for (std::size_t r = 0; r < rows; ++r) {
    wino_merge_row_generic<Arch, T>(add, W, pad, n, e + r * lde, o + r * lde, x + r * ldx);
  }
}

// ---- F(4x4, 3x3): the four column phases (mod 4) ----
//
// Split4: for r < rows, k < n, j < 4, with s = 4k + j - pad:
//   p[j * ldj + r * ldp + k] = x[r * ldx + s], zero where s is outside [0, W).
// Merge4 (add): x[r * ldx + s] += p[j * ldj + r * ldp + k] where s is inside [0, W); other
// entries of x are not touched (every column gets at most one addition). !add: = instead of +=.
// Float on AVX-512: masked loads and stores around two rounds of two-source permutes (16 outputs
// per phase, 64 columns per step); the other types and ISAs use the scalar loops.

// The k range [k0, k1) whose column 4k + j - pad lies in [0, W), clamped to [0, n).
template <class Arch>
inline void wino4_valid_range(std::size_t W, std::size_t pad, std::size_t n, std::size_t j,
                              std::size_t& k0, std::size_t& k1) noexcept {
  // 0 <= 4k + j - pad  <=>  k >= ceil((pad - j) / 4); 4k + j - pad < W  <=>  k < ceil((W + pad -
  // j) / 4) (none when W + pad <= j).
  const std::size_t lo = pad >= j ? (pad - j + 3) / 4 : 0;
  const std::size_t hi = W + pad > j ? (W + pad - j + 3) / 4 : 0;
  k1 = hi < n ? hi : n;
  k0 = lo < k1 ? lo : k1;
}

template <class Arch, class T>
void wino4_split_row_generic(std::size_t W, std::size_t pad, std::size_t n, const T* x, T* p,
                             std::size_t ldj) noexcept {
  for (std::size_t j = 0; j < 4; ++j) {
    std::size_t a, b;
    wino4_valid_range<Arch>(W, pad, n, j, a, b);
    T* pj = p + j * ldj;
    for (std::size_t k = 0; k < a; ++k) pj[k] = T(0);
    for (std::size_t k = a; k < b; ++k) pj[k] = x[4 * k + j - pad];
    for (std::size_t k = b; k < n; ++k) pj[k] = T(0);
  }
}

template <class Arch, class T>
void wino4_merge_row_generic(bool add, std::size_t W, std::size_t pad, std::size_t n, const T* p,
                             std::size_t ldj, T* x) noexcept {
  for (std::size_t j = 0; j < 4; ++j) {
    std::size_t a, b;
    wino4_valid_range<Arch>(W, pad, n, j, a, b);
    const T* pj = p + j * ldj;
    if (add) {
      for (std::size_t k = a; k < b; ++k) x[4 * k + j - pad] += pj[k];
    } else {
      for (std::size_t k = a; k < b; ++k) x[4 * k + j - pad] = pj[k];
    }
  }
}

#if defined(__AVX512F__)
// The 64-bit mask of the input columns c0 + i, i < 4 cnt, that lie in [0, W) (c0 may be negative).
template <class Arch>
inline std::uint64_t wino4_col_mask(std::int64_t c0, std::int64_t W, std::int64_t cnt) noexcept {
  std::int64_t lo = -c0, hi = W - c0;
  if (lo < 0) lo = 0;
  if (hi > 4 * cnt) hi = 4 * cnt;
  if (hi <= lo) return 0;
  const std::uint64_t below_hi = hi >= 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << hi) - 1;
  return below_hi & ~((std::uint64_t(1) << lo) - 1);
}

// 16 outputs per phase (64 input columns) per step: two rounds of even / odd permutes.
template <class Arch>
inline void wino4_split_row_avx512(std::size_t W, std::size_t pad, std::size_t n, const float* x,
                                   float* p, std::size_t ldj) noexcept {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k < n; k += 16) {
    const auto cnt = static_cast<std::int64_t>(n - k < 16 ? n - k : 16);
    const std::int64_t c0 = 4 * static_cast<std::int64_t>(k) - sp;
    const std::uint64_t m = wino4_col_mask<Arch>(c0, sw, cnt);
    // Lanes outside the mask are not read (no fault), whatever the address.
    const auto base = reinterpret_cast<std::intptr_t>(x) + c0 * std::int64_t(sizeof(float));
    // Explicit loads (an array of vectors filled in a loop went through the stack).
    const auto k0 = static_cast<__mmask16>(m & 0xffffu);
    const auto k1 = static_cast<__mmask16>((m >> 16) & 0xffffu);
    const auto k2 = static_cast<__mmask16>((m >> 32) & 0xffffu);
    const auto k3 = static_cast<__mmask16>(m >> 48);
    const __m512 v0 = _mm512_maskz_loadu_ps(k0, reinterpret_cast<const void*>(base));
    const __m512 v1 = k1 != 0 ? _mm512_maskz_loadu_ps(k1, reinterpret_cast<const void*>(base + 64))
                              : _mm512_setzero_ps();
    const __m512 v2 = k2 != 0 ? _mm512_maskz_loadu_ps(k2, reinterpret_cast<const void*>(base + 128))
                              : _mm512_setzero_ps();
    const __m512 v3 = k3 != 0 ? _mm512_maskz_loadu_ps(k3, reinterpret_cast<const void*>(base + 192))
                              : _mm512_setzero_ps();
    // Columns 4i + j: even / odd of each 32, then even / odd of those.
    const __m512 e0 = _mm512_permutex2var_ps(v0, even, v1);
    const __m512 o0 = _mm512_permutex2var_ps(v0, odd, v1);
    const __m512 e1 = _mm512_permutex2var_ps(v2, even, v3);
    const __m512 o1 = _mm512_permutex2var_ps(v2, odd, v3);
    const auto kout = static_cast<__mmask16>((1u << cnt) - 1u);
    _mm512_mask_storeu_ps(p + k, kout, _mm512_permutex2var_ps(e0, even, e1));
    _mm512_mask_storeu_ps(p + ldj + k, kout, _mm512_permutex2var_ps(o0, even, o1));
    _mm512_mask_storeu_ps(p + 2 * ldj + k, kout, _mm512_permutex2var_ps(e0, odd, e1));
    _mm512_mask_storeu_ps(p + 3 * ldj + k, kout, _mm512_permutex2var_ps(o0, odd, o1));
  }
}

// x[i] (+)= v[i] on the lanes of k, at the address a.
template <class Arch>
inline void wino4_store(bool add, __mmask16 k, std::intptr_t a, __m512 v) noexcept {
  if (k == 0) return;
  void* p = reinterpret_cast<void*>(a);
  if (add) v = _mm512_add_ps(_mm512_maskz_loadu_ps(k, p), v);
  _mm512_mask_storeu_ps(p, k, v);
}

template <class Arch>
inline void wino4_merge_row_avx512(bool add, std::size_t W, std::size_t pad, std::size_t n,
                                   const float* p, std::size_t ldj, float* x) noexcept {
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k < n; k += 16) {
    const auto cnt = static_cast<std::int64_t>(n - k < 16 ? n - k : 16);
    const std::int64_t c0 = 4 * static_cast<std::int64_t>(k) - sp;
    const std::uint64_t m = wino4_col_mask<Arch>(c0, sw, cnt);
    if (m == 0) continue;
    const auto kin = static_cast<__mmask16>((1u << cnt) - 1u);
    const __m512 p0 = _mm512_maskz_loadu_ps(kin, p + k);
    const __m512 p1 = _mm512_maskz_loadu_ps(kin, p + ldj + k);
    const __m512 p2 = _mm512_maskz_loadu_ps(kin, p + 2 * ldj + k);
    const __m512 p3 = _mm512_maskz_loadu_ps(kin, p + 3 * ldj + k);
    // Phases 0, 2 interleaved (the even columns), 1, 3 (the odd ones), then those interleaved.
    const __m512 elo = _mm512_permutex2var_ps(p0, ilo, p2),
                 ehi = _mm512_permutex2var_ps(p0, ihi, p2);
    const __m512 olo = _mm512_permutex2var_ps(p1, ilo, p3),
                 ohi = _mm512_permutex2var_ps(p1, ihi, p3);
    const __m512 out0 = _mm512_permutex2var_ps(elo, ilo, olo);
    const __m512 out1 = _mm512_permutex2var_ps(elo, ihi, olo);
    const __m512 out2 = _mm512_permutex2var_ps(ehi, ilo, ohi);
    const __m512 out3 = _mm512_permutex2var_ps(ehi, ihi, ohi);
    const auto base = reinterpret_cast<std::intptr_t>(x) + c0 * std::int64_t(sizeof(float));
    // Explicit stores (an array of vectors indexed in a loop went through the stack).
    wino4_store<Arch>(add, static_cast<__mmask16>(m & 0xffffu), base, out0);
    wino4_store<Arch>(add, static_cast<__mmask16>((m >> 16) & 0xffffu), base + 64, out1);
    wino4_store<Arch>(add, static_cast<__mmask16>((m >> 32) & 0xffffu), base + 128, out2);
    wino4_store<Arch>(add, static_cast<__mmask16>(m >> 48), base + 192, out3);
  }
}
#endif

template <class Arch, class T>
void wino4_split_rows(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n, const T* x,
                      std::size_t ldx, T* p, std::size_t ldp, std::size_t ldj) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    for (std::size_t r = 0; r < rows; ++r) {
      wino4_split_row_avx512<Arch>(W, pad, n, x + r * ldx, p + r * ldp, ldj);
    }
    return;
  }
#endif
  for (std::size_t r = 0; r < rows; ++r) {
    wino4_split_row_generic<Arch, T>(W, pad, n, x + r * ldx, p + r * ldp, ldj);
  }
}

template <class Arch, class T>
void wino4_merge_rows(bool add, std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                      const T* p, std::size_t ldp, std::size_t ldj, T* x,
                      std::size_t ldx) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    for (std::size_t r = 0; r < rows; ++r) {
      wino4_merge_row_avx512<Arch>(add, W, pad, n, p + r * ldp, ldj, x + r * ldx);
    }
    return;
  }
#endif
  for (std::size_t r = 0; r < rows; ++r) {
    wino4_merge_row_generic<Arch, T>(add, W, pad, n, p + r * ldp, ldj, x + r * ldx);
  }
}

}  // namespace ember::kernels::impl
