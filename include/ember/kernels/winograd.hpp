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

// The masks of the 2 cnt columns c0 .. c0 + 2 cnt - 1 that lie in [0, W), as two 16-lane halves,
// and their byte offset from a row's start. Computed once per step for all of a call's rows.
struct WinoCols {
  __mmask16 lo, hi;
  std::intptr_t off;
};

template <class Arch>
inline WinoCols wino_cols(std::int64_t c0, std::int64_t W, std::int64_t cnt) noexcept {
  const std::uint64_t m = wino_col_mask<Arch>(c0, W, cnt);
  return {static_cast<__mmask16>(m & 0xffffu), static_cast<__mmask16>(m >> 16),
          static_cast<std::intptr_t>(c0 * std::int64_t(sizeof(float)))};
}

// The columns of c in the row x into lo / hi, zero outside: lanes outside the masks are not read
// (no fault), whatever the address.
template <class Arch>
inline void wino_load_cols(const float* x, const WinoCols& c, __m512& lo, __m512& hi) noexcept {
  const auto base = reinterpret_cast<std::intptr_t>(x) + c.off;
  lo = _mm512_maskz_loadu_ps(c.lo, reinterpret_cast<const void*>(base));
  // Rows up to 16 columns (the common case) need no second load.
  hi = c.hi != 0 ? _mm512_maskz_loadu_ps(c.hi, reinterpret_cast<const void*>(base + 64))
                 : _mm512_setzero_ps();
}

// x[c] (+)= v on the lanes of k, at the byte address a.
template <class Arch>
inline void wino_store_cols(bool add, __mmask16 k, std::intptr_t a, __m512 v) noexcept {
  if (k == 0) return;
  void* p = reinterpret_cast<void*>(a);
  if (add) v = _mm512_add_ps(_mm512_maskz_loadu_ps(k, p), v);
  _mm512_mask_storeu_ps(p, k, v);
}

template <class Arch>
inline void wino_split_rows_avx512(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                                   const float* x, std::size_t ldx, float* e, float* o,
                                   std::size_t lde) noexcept {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k < n; k += 16) {
    const auto cnt = static_cast<std::int64_t>(n - k < 16 ? n - k : 16);
    const WinoCols cols = wino_cols<Arch>(2 * static_cast<std::int64_t>(k) - sp, sw, cnt);
    const auto kout = static_cast<__mmask16>((1u << cnt) - 1u);
    for (std::size_t r = 0; r < rows; ++r) {
      __m512 lo, hi;
      wino_load_cols<Arch>(x + r * ldx, cols, lo, hi);
      _mm512_mask_storeu_ps(e + r * lde + k, kout, _mm512_permutex2var_ps(lo, even, hi));
      _mm512_mask_storeu_ps(o + r * lde + k, kout, _mm512_permutex2var_ps(lo, odd, hi));
    }
  }
}

template <class Arch>
inline void wino_merge_rows_avx512(bool add, std::size_t rows, std::size_t W, std::size_t pad,
                                   std::size_t n, const float* e, const float* o, std::size_t lde,
                                   float* x, std::size_t ldx) noexcept {
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k < n; k += 16) {
    const auto cnt = static_cast<std::int64_t>(n - k < 16 ? n - k : 16);
    const WinoCols cols = wino_cols<Arch>(2 * static_cast<std::int64_t>(k) - sp, sw, cnt);
    if (cols.lo == 0 && cols.hi == 0) continue;
    const auto kin = static_cast<__mmask16>((1u << cnt) - 1u);
    for (std::size_t r = 0; r < rows; ++r) {
      const __m512 ve = _mm512_maskz_loadu_ps(kin, e + r * lde + k);
      const __m512 vo = _mm512_maskz_loadu_ps(kin, o + r * lde + k);
      const auto base = reinterpret_cast<std::intptr_t>(x + r * ldx) + cols.off;
      wino_store_cols<Arch>(add, cols.lo, base, _mm512_permutex2var_ps(ve, ilo, vo));
      wino_store_cols<Arch>(add, cols.hi, base + 64, _mm512_permutex2var_ps(ve, ihi, vo));
    }
  }
}
#endif

template <class Arch, class T>
void wino_split_rows(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n, const T* x,
                     std::size_t ldx, T* e, T* o, std::size_t lde) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    wino_split_rows_avx512<Arch>(rows, W, pad, n, x, ldx, e, o, lde);
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
    wino_merge_rows_avx512<Arch>(add, rows, W, pad, n, e, o, lde, x, ldx);
    return;
  }
#endif
  for (std::size_t r = 0; r < rows; ++r) {
    wino_merge_row_generic<Arch, T>(add, W, pad, n, e + r * lde, o + r * lde, x + r * ldx);
  }
}

// ---- F(2x2, 3x3): the input tiles' B^T d B; B along the columns (the adjoint's last step) ----
//
// BtTiles: for tile rows j < rows, tiles k < n, a, b < 4:
//   v[(4a + b) * ldv + j * n + k] = (B^T d B)[a][b],  d[i][l] = xs_{2j + i}(2k - pad + l)
// where xs_m(c) = x[m][c] inside [0, W), zero outside (x[m]: padded row m, nullptr for a row of
// zeros). Computed as B^T along the columns of each padded row, c_b(m) = (xs(s) - xs(s + 2),
// xs(s + 1) + xs(s + 2), xs(s + 2) - xs(s + 1), xs(s + 1) - xs(s + 3))[b] with s = 2k - pad, then
// along the rows: (c(2j) - c(2j + 2), c(2j + 1) + c(2j + 2), c(2j + 2) - c(2j + 1),
// c(2j + 1) - c(2j + 3))[a]. One transformed column per output tile: no filler column.
// BCols (the adjoint, adding): with g_b[k] = g[b * ldb + r * ldg + k] for k < n, zero outside,
// h[k] = (g_1[k] + g_2[k]) - g_0[k] and q[k] = (g_1[k] - g_2[k]) + g_3[k], for k <= n:
//   x[r * ldx + 2k - pad] += g_0[k] + h[k - 1], x[r * ldx + 2k + 1 - pad] += q[k] - g_3[k - 1]
// where the column is inside [0, W); nothing else of x is touched. Every ISA gives the same bits.
// Float on AVX-512: masked loads and stores around two-source permutes (16 tiles per step); the
// other types and ISAs use the scalar loops.

template <class Arch, class T>
void wino_bt_tiles_generic(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                           const T* const* x, T* v, std::size_t ldv) noexcept {
  const auto sw = static_cast<std::int64_t>(W);
  // c_b of padded row m at tile k.
  auto col = [&](std::size_t m, std::size_t k, T* c) {
    const T* r = x[m];
    auto xs = [&](std::int64_t i) { return r != nullptr && i >= 0 && i < sw ? r[i] : T(0); };
    const std::int64_t s = 2 * static_cast<std::int64_t>(k) - static_cast<std::int64_t>(pad);
    const T x0 = xs(s), x1 = xs(s + 1), x2 = xs(s + 2), x3 = xs(s + 3);
    c[0] = x0 - x2;
    c[1] = x1 + x2;
    c[2] = x2 - x1;
    c[3] = x1 - x3;
  };
  for (std::size_t j = 0; j < rows; ++j) {
    for (std::size_t k = 0; k < n; ++k) {
      T c[4][4];
      for (std::size_t i = 0; i < 4; ++i) col(2 * j + i, k, c[i]);
      T* o = v + j * n + k;
      for (std::size_t b = 0; b < 4; ++b) {
        o[b * ldv] = c[0][b] - c[2][b];
        o[(4 + b) * ldv] = c[1][b] + c[2][b];
        o[(8 + b) * ldv] = c[2][b] - c[1][b];
        o[(12 + b) * ldv] = c[1][b] - c[3][b];
      }
    }
  }
}

template <class Arch, class T>
void wino_b_cols_row_generic(std::size_t W, std::size_t pad, std::size_t n, const T* g,
                             std::size_t ldb, T* x) noexcept {
  const auto sw = static_cast<std::int64_t>(W);
  auto gb = [&](std::size_t b, std::size_t k) { return k < n ? g[b * ldb + k] : T(0); };
  T h_prev = T(0), g3_prev = T(0);  // h[k - 1], g_3[k - 1]
  for (std::size_t k = 0; k <= n; ++k) {
    const T g0 = gb(0, k), g1 = gb(1, k), g2 = gb(2, k), g3 = gb(3, k);
    const T ev = g0 + h_prev, od = ((g1 - g2) + g3) - g3_prev;
    const std::int64_t c = 2 * static_cast<std::int64_t>(k) - static_cast<std::int64_t>(pad);
    if (c >= 0 && c < sw) x[c] += ev;
    if (c + 1 >= 0 && c + 1 < sw) x[c + 1] += od;
    h_prev = (g1 + g2) - g0;
    g3_prev = g3;
  }
}

#if defined(__AVX512F__)
// 16 tiles per step from the 34 padded columns 2k - pad .. 2k - pad + 33 of each padded row: two
// masked loads of 32 columns (the second 2 columns on), even / odd permutes, B^T along the
// columns; a tile row's last two padded rows are the next tile row's first two (kept in
// registers).
struct WinoCols4 {
  __m512 b0, b1, b2, b3;
};

template <class Arch>
inline WinoCols4 wino_bt_cols_avx512(const float* r, const WinoCols& ca,
                                     const WinoCols& cb) noexcept {
  if (r == nullptr)
    return {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  __m512 a_lo, a_hi, b_lo, b_hi;
  wino_load_cols<Arch>(r, ca, a_lo, a_hi);
  wino_load_cols<Arch>(r, cb, b_lo, b_hi);
  const __m512 x0 = _mm512_permutex2var_ps(a_lo, even, a_hi);
  const __m512 x1 = _mm512_permutex2var_ps(a_lo, odd, a_hi);
  const __m512 x2 = _mm512_permutex2var_ps(b_lo, even, b_hi);
  const __m512 x3 = _mm512_permutex2var_ps(b_lo, odd, b_hi);
  return {_mm512_sub_ps(x0, x2), _mm512_add_ps(x1, x2), _mm512_sub_ps(x2, x1),
          _mm512_sub_ps(x1, x3)};
}

// B^T along the rows of column b: v[(4a + b) ldv] for a < 4, from padded rows r0 .. r3.
template <class Arch>
inline void wino_bt_rows_avx512(__mmask16 k, float* o, std::size_t ldv, __m512 r0, __m512 r1,
                                __m512 r2, __m512 r3) noexcept {
  _mm512_mask_storeu_ps(o, k, _mm512_sub_ps(r0, r2));
  _mm512_mask_storeu_ps(o + 4 * ldv, k, _mm512_add_ps(r1, r2));
  _mm512_mask_storeu_ps(o + 8 * ldv, k, _mm512_sub_ps(r2, r1));
  _mm512_mask_storeu_ps(o + 12 * ldv, k, _mm512_sub_ps(r1, r3));
}

template <class Arch>
inline void wino_bt_tiles_avx512(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                                 const float* const* x, float* v, std::size_t ldv) noexcept {
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k < n; k += 16) {
    const auto cnt = static_cast<std::int64_t>(n - k < 16 ? n - k : 16);
    const std::int64_t c0 = 2 * static_cast<std::int64_t>(k) - sp;
    const WinoCols ca = wino_cols<Arch>(c0, sw, cnt);      // columns s, s + 1 of each tile
    const WinoCols cb = wino_cols<Arch>(c0 + 2, sw, cnt);  // columns s + 2, s + 3
    const auto kout = static_cast<__mmask16>((1u << cnt) - 1u);
    // Padded rows 2j .. 2j + 3; the last two are the next tile row's first two.
    WinoCols4 p0 = wino_bt_cols_avx512<Arch>(x[0], ca, cb);
    WinoCols4 p1 = wino_bt_cols_avx512<Arch>(x[1], ca, cb);
    for (std::size_t j = 0; j < rows; ++j) {
      const WinoCols4 p2 = wino_bt_cols_avx512<Arch>(x[2 * j + 2], ca, cb);
      const WinoCols4 p3 = wino_bt_cols_avx512<Arch>(x[2 * j + 3], ca, cb);
      float* o = v + j * n + k;
      wino_bt_rows_avx512<Arch>(kout, o, ldv, p0.b0, p1.b0, p2.b0, p3.b0);
      wino_bt_rows_avx512<Arch>(kout, o + ldv, ldv, p0.b1, p1.b1, p2.b1, p3.b1);
      wino_bt_rows_avx512<Arch>(kout, o + 2 * ldv, ldv, p0.b2, p1.b2, p2.b2, p3.b2);
      wino_bt_rows_avx512<Arch>(kout, o + 3 * ldv, ldv, p0.b3, p1.b3, p2.b3, p3.b3);
      p0 = p2;
      p1 = p3;
    }
  }
}

// 16 even and 16 odd columns (2k - pad .. 2k - pad + 31) per step: g of tiles k .. k + 15, and
// of tiles k - 1 .. k + 14 for h[k - 1] and g_3[k - 1] (loaded again rather than carried, so
// that the masks are computed once per step for all rows).
template <class Arch>
inline void wino_b_cols_avx512(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                               const float* g, std::size_t ldg, std::size_t ldb, float* x,
                               std::size_t ldx) noexcept {
  const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i ihi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const auto sw = static_cast<std::int64_t>(W), sp = static_cast<std::int64_t>(pad);
  for (std::size_t k = 0; k <= n; k += 16) {
    // Lanes l of the tiles k + l < n, and of the tiles k - 1 + l in [0, n).
    const std::size_t left = n - k;
    const auto kin = static_cast<__mmask16>(left >= 16 ? 0xffffu : (1u << left) - 1u);
    const auto kprev = static_cast<__mmask16>((left + 1 >= 16 ? 0xffffu : (1u << (left + 1)) - 1u) &
                                              (k == 0 ? 0xfffeu : 0xffffu));
    const auto cnt = static_cast<std::int64_t>(left + 1 < 16 ? left + 1 : 16);
    const WinoCols cols = wino_cols<Arch>(2 * static_cast<std::int64_t>(k) - sp, sw, cnt);
    if (cols.lo == 0 && cols.hi == 0) continue;
    for (std::size_t r = 0; r < rows; ++r) {
      const float* gr = g + r * ldg + k;
      // Lane 0 of the previous tile's loads is masked off at k = 0: its address is not read.
      const auto prev = reinterpret_cast<std::intptr_t>(gr) - std::intptr_t(sizeof(float));
      const auto at = [&](std::size_t b) {
        return reinterpret_cast<const void*>(prev +
                                             static_cast<std::intptr_t>(b * ldb * sizeof(float)));
      };
      const __m512 g0 = _mm512_maskz_loadu_ps(kin, gr), g1 = _mm512_maskz_loadu_ps(kin, gr + ldb);
      const __m512 g2 = _mm512_maskz_loadu_ps(kin, gr + 2 * ldb);
      const __m512 g3 = _mm512_maskz_loadu_ps(kin, gr + 3 * ldb);
      const __m512 p0 = _mm512_maskz_loadu_ps(kprev, at(0)),
                   p1 = _mm512_maskz_loadu_ps(kprev, at(1));
      const __m512 p2 = _mm512_maskz_loadu_ps(kprev, at(2)),
                   p3 = _mm512_maskz_loadu_ps(kprev, at(3));
      const __m512 ev = _mm512_add_ps(g0, _mm512_sub_ps(_mm512_add_ps(p1, p2), p0));
      const __m512 od = _mm512_sub_ps(_mm512_add_ps(_mm512_sub_ps(g1, g2), g3), p3);
      const auto base = reinterpret_cast<std::intptr_t>(x + r * ldx) + cols.off;
      wino_store_cols<Arch>(true, cols.lo, base, _mm512_permutex2var_ps(ev, ilo, od));
      wino_store_cols<Arch>(true, cols.hi, base + 64, _mm512_permutex2var_ps(ev, ihi, od));
    }
  }
}
#endif

template <class Arch, class T>
void wino_bt_tiles(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n,
                   const T* const* x, T* v, std::size_t ldv) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    wino_bt_tiles_avx512<Arch>(rows, W, pad, n, x, v, ldv);
    return;
  }
#endif
  wino_bt_tiles_generic<Arch, T>(rows, W, pad, n, x, v, ldv);
}

template <class Arch, class T>
void wino_b_cols(std::size_t rows, std::size_t W, std::size_t pad, std::size_t n, const T* g,
                 std::size_t ldg, std::size_t ldb, T* x, std::size_t ldx) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    wino_b_cols_avx512<Arch>(rows, W, pad, n, g, ldg, ldb, x, ldx);
    return;
  }
#endif
  for (std::size_t r = 0; r < rows; ++r) {
    wino_b_cols_row_generic<Arch, T>(W, pad, n, g + r * ldg, ldb, x + r * ldx);
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
    wino_store_cols<Arch>(add, static_cast<__mmask16>(m & 0xffffu), base, out0);
    wino_store_cols<Arch>(add, static_cast<__mmask16>((m >> 16) & 0xffffu), base + 64, out1);
    wino_store_cols<Arch>(add, static_cast<__mmask16>((m >> 32) & 0xffffu), base + 128, out2);
    wino_store_cols<Arch>(add, static_cast<__mmask16>(m >> 48), base + 192, out3);
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
