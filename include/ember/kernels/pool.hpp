// ember: max pooling with a 2x2 window and stride 2 (the pool of most CNNs), forward with its
// argmax and the matching backward; arch-tagged, called through dispatch.hpp.
//
// Output (r, c) reads the four taps x[2r * ldx + 2c + t], t = 0, 1, ldx, ldx + 1, in this order.
// It is the first tap that is the maximum, or the first NaN tap if there is one (PyTorch's rule),
// copied bit for bit; its offset from x is the argmax (int32: the caller keeps offsets in range).
// With relu, the output is relu(max) instead (ReLU's rule: v < 0 becomes +0, NaN and -0.0 stay)
// and the argmax is -1 where v <= 0 (ReLU's gradient is zero there; the backward skips it): the
// pool of nn::Sequential's ReLU -> max pool, in one pass (functional/pooling.hpp).
// The backward writes every tap (the gradient on the argmax tap, zero on the others), so the
// 2 rows x 2 cols input block it covers needs no zero fill; the gradient is written as
// gy + 0, the bits of adding it to a zeroed buffer (-0 becomes +0).
//
// Float on AVX2 and AVX-512 has explicit vector code: even/odd deinterleaving is a shuffle that
// xsimd 8 does not offer, so it uses the ISA's intrinsics (the units are compiled with its flags).
// Other element types and ISAs use the branch-free loop, which gives the same bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::impl {

// Whether tap value v can be the window's argmax given its maximum m (NaN if any tap is NaN): v
// equals m, or v is a NaN. The first such tap in window order wins.
template <class Arch, class T>
inline bool pool_is_tap(T v, T m) noexcept {
  return (v == m) | (v != v);
}

// One output: value and argmax offset (from the first tap) of taps a, b, c, d. m: the maximum,
// where a later tap replaces it when larger or NaN.
template <class Arch, class T>
inline void pool2x2_one(T a, T b, T c, T d, std::int32_t ldx, T& y, std::int32_t& at) noexcept {
  T m = a;
  m = ((b > m) | (b != b)) ? b : m;
  m = ((c > m) | (c != c)) ? c : m;
  m = ((d > m) | (d != d)) ? d : m;
  const bool ia = pool_is_tap<Arch, T>(a, m), ib = pool_is_tap<Arch, T>(b, m);
  const bool ic = pool_is_tap<Arch, T>(c, m);
  y = ia ? a : ib ? b : ic ? c : d;
  at = ia ? 0 : ib ? 1 : ic ? ldx : ldx + 1;
}

// The portable loop over columns [c0, cols) of output row r.
template <class Arch, class T>
void max_pool2x2_row_generic(std::size_t c0, std::size_t cols, const T* x0, const T* x1,
                             std::int32_t ldx, std::int32_t base, T* y, std::int32_t* at,
                             bool relu) noexcept {
  for (std::size_t c = c0; c < cols; ++c) {
    T v;
    std::int32_t off;
    pool2x2_one<Arch, T>(x0[2 * c], x0[2 * c + 1], x1[2 * c], x1[2 * c + 1], ldx, v, off);
    const bool dead = relu && v <= T(0);
    y[c] = relu && v < T(0) ? T(0) : v;
    if (at) at[c] = dead ? -1 : base + 2 * static_cast<std::int32_t>(c) + off;
  }
}

template <class Arch, class T>
void max_pool2x2_backward_row_generic(std::size_t c0, std::size_t cols, const T* gy,
                                      const std::int32_t* at, std::int32_t ldx, std::int32_t base,
                                      T* g0, T* g1) noexcept {
  for (std::size_t c = c0; c < cols; ++c) {
    const std::int32_t rel = at[c] - base - 2 * static_cast<std::int32_t>(c);
    const T g = gy[c] + T(0);
    g0[2 * c] = rel == 0 ? g : T(0);
    g0[2 * c + 1] = rel == 1 ? g : T(0);
    g1[2 * c] = rel == ldx ? g : T(0);
    g1[2 * c + 1] = rel == ldx + 1 ? g : T(0);
  }
}

#if defined(__AVX512F__)
// The window taps of 16 outputs from two 32-float source rows t = (t0, t1) and b = (b0, b1):
// output lane l reads t[even[l]], t[odd[l]], b[even[l]], b[odd[l]], and its first tap is at
// offset pos[l] from x. Writes the lanes of kout.
template <class Arch>
inline void max_pool2x2_avx512_core(__m512 t0, __m512 t1, __m512 b0, __m512 b1, __m512i even,
                                    __m512i odd, std::int32_t ldx, __m512i pos, __mmask16 kout,
                                    float* y, std::int32_t* at, bool relu) noexcept {
  const __m512 a = _mm512_permutex2var_ps(t0, even, t1);
  const __m512 b = _mm512_permutex2var_ps(t0, odd, t1);
  const __m512 c = _mm512_permutex2var_ps(b0, even, b1);
  const __m512 d = _mm512_permutex2var_ps(b0, odd, b1);
  __m512 m = a;
  m = _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(b, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q), m, b);
  m = _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(c, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q), m, c);
  m = _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(d, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(d, d, _CMP_UNORD_Q), m, d);
  const __mmask16 ia =
      _mm512_cmp_ps_mask(a, m, _CMP_EQ_OQ) | _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
  const __mmask16 ib =
      _mm512_cmp_ps_mask(b, m, _CMP_EQ_OQ) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
  const __mmask16 ic =
      _mm512_cmp_ps_mask(c, m, _CMP_EQ_OQ) | _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q);
  __m512 v = _mm512_mask_blend_ps(ic, d, c);
  v = _mm512_mask_blend_ps(ib, v, b);
  v = _mm512_mask_blend_ps(ia, v, a);
  const __mmask16 dead = relu ? _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LE_OQ) : 0;
  if (relu) {
    v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), v,
                             _mm512_setzero_ps());
  }
  _mm512_mask_storeu_ps(y, kout, v);
  if (at) {
    __m512i off = _mm512_set1_epi32(ldx + 1);
    off = _mm512_mask_blend_epi32(ic, off, _mm512_set1_epi32(ldx));
    off = _mm512_mask_blend_epi32(ib, off, _mm512_set1_epi32(1));
    off = _mm512_mask_blend_epi32(ia, off, _mm512_setzero_si512());
    _mm512_mask_storeu_epi32(
        at, kout, _mm512_mask_blend_epi32(dead, _mm512_add_epi32(pos, off), _mm512_set1_epi32(-1)));
  }
}

// (Helpers templated on Arch, like every function here: a per-ISA unit must not emit untagged
// inline symbols, DESIGN section 3.)
template <class Arch>
inline __m512i pool_lanes() noexcept {
  return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

// Lanes [0, k) of 16.
template <class Arch>
inline __mmask16 pool_first(std::size_t k) noexcept {
  return static_cast<__mmask16>(k >= 16 ? 0xffffu : (1u << k) - 1u);
}

// 16 outputs (columns c0 .. c0 + n - 1, n <= 16) of one row, AVX-512 masked loads and stores.
template <class Arch>
inline void max_pool2x2_avx512_chunk(std::size_t n, const float* x0, const float* x1,
                                     std::int32_t ldx, std::int32_t base, float* y,
                                     std::int32_t* at, bool relu) noexcept {
  const __m512i lane2 = _mm512_slli_epi32(pool_lanes<Arch>(), 1);
  const auto in = 2 * n;  // input floats per row
  const __mmask16 klo = pool_first<Arch>(in), khi = in > 16 ? pool_first<Arch>(in - 16) : 0;
  const __m512 t0 = _mm512_maskz_loadu_ps(klo, x0), t1 = _mm512_maskz_loadu_ps(khi, x0 + 16);
  const __m512 b0 = _mm512_maskz_loadu_ps(klo, x1), b1 = _mm512_maskz_loadu_ps(khi, x1 + 16);
  max_pool2x2_avx512_core<Arch>(
      t0, t1, b0, b1, lane2, _mm512_add_epi32(lane2, _mm512_set1_epi32(1)), ldx,
      _mm512_add_epi32(_mm512_set1_epi32(base), lane2), pool_first<Arch>(n), y, at, relu);
}

// Two output rows of n <= 8 outputs in one 16-lane chunk, for rows of y that follow each other
// (ldy == n): lanes [0, n) are row r, lanes [n, 2n) row r + 1. A row's n outputs alone would leave
// half the lanes or more idle (7 outputs: a 14x14 plane's pool).
template <class Arch>
struct PoolTwoRows {
  __m512i even, odd;  // tap positions in (row r's 2n floats, row r + 1's 2n floats)
  __m512i col;        // each lane's first tap, from row r's start: 2l, or 2 ldx + 2 (l - n)
  __m512i lo, hi;     // backward: taps of row r, of row r + 1, from (first taps, second taps)
  __mmask16 k;        // the 2n lanes (and the 2n floats of an input row)
  PoolTwoRows(std::size_t n, std::int32_t ldx) noexcept {
    const __m512i lane = pool_lanes<Arch>(), nv = _mm512_set1_epi32(static_cast<int>(n));
    const __mmask16 first = pool_first<Arch>(n);
    const __m512i rel = _mm512_slli_epi32(_mm512_sub_epi32(lane, nv), 1);  // 2 (l - n)
    even = _mm512_mask_blend_epi32(first, _mm512_add_epi32(rel, _mm512_set1_epi32(16)),
                                   _mm512_slli_epi32(lane, 1));
    odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    col = _mm512_mask_blend_epi32(first, _mm512_add_epi32(rel, _mm512_set1_epi32(2 * ldx)),
                                  _mm512_slli_epi32(lane, 1));
    // Tap j of a row pair: (j odd ? second : first)[j / 2 (+ n for row r + 1)].
    lo = _mm512_add_epi32(_mm512_srli_epi32(lane, 1),
                          _mm512_slli_epi32(_mm512_and_si512(lane, _mm512_set1_epi32(1)), 4));
    hi = _mm512_add_epi32(lo, nv);
    k = pool_first<Arch>(2 * n);
  }
};

template <class Arch>
inline void max_pool2x2_avx512_two_rows(const PoolTwoRows<Arch>& t, const float* x,
                                        std::int32_t ldx, std::int32_t base, float* y,
                                        std::int32_t* at, bool relu) noexcept {
  const __m512 t0 = _mm512_maskz_loadu_ps(t.k, x), t1 = _mm512_maskz_loadu_ps(t.k, x + 2 * ldx);
  const __m512 b0 = _mm512_maskz_loadu_ps(t.k, x + ldx);
  const __m512 b1 = _mm512_maskz_loadu_ps(t.k, x + 3 * ldx);
  max_pool2x2_avx512_core<Arch>(t0, t1, b0, b1, t.even, t.odd, ldx,
                                _mm512_add_epi32(_mm512_set1_epi32(base), t.col), t.k, y, at, relu);
}

template <class Arch>
inline void max_pool2x2_backward_avx512_two_rows(const PoolTwoRows<Arch>& t, const float* gy,
                                                 const std::int32_t* at, std::int32_t ldx,
                                                 std::int32_t base, float* g0) noexcept {
  const __m512 g = _mm512_add_ps(_mm512_maskz_loadu_ps(t.k, gy), _mm512_setzero_ps());
  const __m512i rel = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(t.k, at),
                                       _mm512_add_epi32(_mm512_set1_epi32(base), t.col));
  const __m512 a = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_setzero_si512()), g);
  const __m512 b = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(1)), g);
  const __m512 c = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(ldx)), g);
  const __m512 d = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(ldx + 1)), g);
  _mm512_mask_storeu_ps(g0, t.k, _mm512_permutex2var_ps(a, t.lo, b));
  _mm512_mask_storeu_ps(g0 + ldx, t.k, _mm512_permutex2var_ps(c, t.lo, d));
  _mm512_mask_storeu_ps(g0 + 2 * ldx, t.k, _mm512_permutex2var_ps(a, t.hi, b));
  _mm512_mask_storeu_ps(g0 + 3 * ldx, t.k, _mm512_permutex2var_ps(c, t.hi, d));
}

template <class Arch>
inline void max_pool2x2_backward_avx512_chunk(std::size_t n, const float* gy,
                                              const std::int32_t* at, std::int32_t ldx,
                                              std::int32_t base, float* g0, float* g1) noexcept {
  const auto in = 2 * n;
  const __mmask16 klo = pool_first<Arch>(in), khi = in > 16 ? pool_first<Arch>(in - 16) : 0;
  const __mmask16 kout = pool_first<Arch>(n);
  const __m512 g = _mm512_add_ps(_mm512_maskz_loadu_ps(kout, gy), _mm512_setzero_ps());
  const __m512i col2 =
      _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
  const __m512i rel = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(kout, at),
                                       _mm512_add_epi32(_mm512_set1_epi32(base), col2));
  const __m512 a = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_setzero_si512()), g);
  const __m512 b = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(1)), g);
  const __m512 c = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(ldx)), g);
  const __m512 d = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_set1_epi32(ldx + 1)), g);
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  _mm512_mask_storeu_ps(g0, klo, _mm512_permutex2var_ps(a, lo, b));
  _mm512_mask_storeu_ps(g0 + 16, khi, _mm512_permutex2var_ps(a, hi, b));
  _mm512_mask_storeu_ps(g1, klo, _mm512_permutex2var_ps(c, lo, d));
  _mm512_mask_storeu_ps(g1 + 16, khi, _mm512_permutex2var_ps(c, hi, d));
}
#endif

#if defined(__AVX2__)
// 8 outputs of one row (16 input floats per row), AVX2.
template <class Arch>
inline void max_pool2x2_avx2_chunk(const float* x0, const float* x1, std::int32_t ldx,
                                   std::int32_t base, float* y, std::int32_t* at,
                                   bool relu) noexcept {
  auto even = [](__m256 p, __m256 q) {
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(p, q, 0x88)), 0xd8));
  };
  auto odd = [](__m256 p, __m256 q) {
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(p, q, 0xdd)), 0xd8));
  };
  const __m256 t0 = _mm256_loadu_ps(x0), t1 = _mm256_loadu_ps(x0 + 8);
  const __m256 b0 = _mm256_loadu_ps(x1), b1 = _mm256_loadu_ps(x1 + 8);
  const __m256 a = even(t0, t1), b = odd(t0, t1), c = even(b0, b1), d = odd(b0, b1);
  auto beats = [](__m256 v, __m256 m) {
    return _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  };
  auto is_tap = [](__m256 v, __m256 m) {
    return _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_EQ_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  };
  __m256 m = a;
  m = _mm256_blendv_ps(m, b, beats(b, m));
  m = _mm256_blendv_ps(m, c, beats(c, m));
  m = _mm256_blendv_ps(m, d, beats(d, m));
  const __m256 ia = is_tap(a, m), ib = is_tap(b, m), ic = is_tap(c, m);
  __m256 v = _mm256_blendv_ps(d, c, ic);
  v = _mm256_blendv_ps(v, b, ib);
  v = _mm256_blendv_ps(v, a, ia);
  const __m256 zero = _mm256_setzero_ps();
  const __m256 dead = relu ? _mm256_cmp_ps(v, zero, _CMP_LE_OQ) : zero;
  if (relu) v = _mm256_blendv_ps(v, zero, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
  _mm256_storeu_ps(y, v);
  if (at) {
    __m256i off = _mm256_set1_epi32(ldx + 1);
    off = _mm256_blendv_epi8(off, _mm256_set1_epi32(ldx), _mm256_castps_si256(ic));
    off = _mm256_blendv_epi8(off, _mm256_set1_epi32(1), _mm256_castps_si256(ib));
    off = _mm256_blendv_epi8(off, _mm256_setzero_si256(), _mm256_castps_si256(ia));
    const __m256i col2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i pos = _mm256_add_epi32(_mm256_add_epi32(_mm256_set1_epi32(base), col2), off);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(at),
                        _mm256_blendv_epi8(pos, _mm256_set1_epi32(-1), _mm256_castps_si256(dead)));
  }
}

template <class Arch>
inline void max_pool2x2_backward_avx2_chunk(const float* gy, const std::int32_t* at,
                                            std::int32_t ldx, std::int32_t base, float* g0,
                                            float* g1) noexcept {
  const __m256 g = _mm256_add_ps(_mm256_loadu_ps(gy), _mm256_setzero_ps());
  const __m256i rel = _mm256_sub_epi32(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at)),
      _mm256_add_epi32(_mm256_set1_epi32(base), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)));
  auto pick = [&](int t) {
    return _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(rel, _mm256_set1_epi32(t))), g);
  };
  const __m256 a = pick(0), b = pick(1), c = pick(ldx), d = pick(ldx + 1);
  const __m256 ab_lo = _mm256_unpacklo_ps(a, b), ab_hi = _mm256_unpackhi_ps(a, b);
  const __m256 cd_lo = _mm256_unpacklo_ps(c, d), cd_hi = _mm256_unpackhi_ps(c, d);
  _mm256_storeu_ps(g0, _mm256_permute2f128_ps(ab_lo, ab_hi, 0x20));
  _mm256_storeu_ps(g0 + 8, _mm256_permute2f128_ps(ab_lo, ab_hi, 0x31));
  _mm256_storeu_ps(g1, _mm256_permute2f128_ps(cd_lo, cd_hi, 0x20));
  _mm256_storeu_ps(g1 + 8, _mm256_permute2f128_ps(cd_lo, cd_hi, 0x31));
}
#endif

// y[r * ldy + c], at[r * ldy + c] (at may be null) for r < rows, c < cols, relu(max) when relu; see
// the file comment.
template <class Arch, class T>
void max_pool2x2(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                 std::size_t ldy, std::int32_t* at, bool relu) noexcept {
  const auto ld = static_cast<std::int32_t>(ldx);
  std::size_t r = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    if (cols <= 8 && ldy == cols && rows >= 2) {
      const PoolTwoRows<Arch> t(cols, ld);
      for (; r + 2 <= rows; r += 2) {
        max_pool2x2_avx512_two_rows<Arch>(t, x + 2 * r * ldx, ld,
                                          static_cast<std::int32_t>(2 * r * ldx), y + r * ldy,
                                          at ? at + r * ldy : nullptr, relu);
      }
    }
  }
#endif
  for (; r < rows; ++r) {
    const T* x0 = x + 2 * r * ldx;
    const T* x1 = x0 + ldx;
    T* yr = y + r * ldy;
    std::int32_t* ar = at ? at + r * ldy : nullptr;
    const auto base = static_cast<std::int32_t>(2 * r * ldx);
    std::size_t c = 0;
    if constexpr (std::is_same_v<T, float>) {
#if defined(__AVX512F__)
      if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
        for (; c < cols; c += 16) {
          max_pool2x2_avx512_chunk<Arch>(cols - c < 16 ? cols - c : 16, x0 + 2 * c, x1 + 2 * c, ld,
                                         base + 2 * static_cast<std::int32_t>(c), yr + c,
                                         ar ? ar + c : nullptr, relu);
        }
      }
#endif
#if defined(__AVX2__)
      if constexpr (std::is_base_of_v<xsimd::avx2, Arch>) {
        for (; c + 8 <= cols; c += 8) {
          max_pool2x2_avx2_chunk<Arch>(x0 + 2 * c, x1 + 2 * c, ld,
                                       base + 2 * static_cast<std::int32_t>(c), yr + c,
                                       ar ? ar + c : nullptr, relu);
        }
      }
#endif
    }
    max_pool2x2_row_generic<Arch, T>(c, cols, x0, x1, ld, base, yr, ar, relu);
  }
}

// The backward of max_pool2x2: writes gx's rows [0, 2 * rows) x columns [0, 2 * cols).
template <class Arch, class T>
void max_pool2x2_backward(std::size_t rows, std::size_t cols, const T* gy, const std::int32_t* at,
                          std::size_t ldy, T* gx, std::size_t ldx) noexcept {
  const auto ld = static_cast<std::int32_t>(ldx);
  std::size_t r = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, Arch>) {
    if (cols <= 8 && ldy == cols && rows >= 2) {
      const PoolTwoRows<Arch> t(cols, ld);
      for (; r + 2 <= rows; r += 2) {
        max_pool2x2_backward_avx512_two_rows<Arch>(t, gy + r * ldy, at + r * ldy, ld,
                                                   static_cast<std::int32_t>(2 * r * ldx),
                                                   gx + 2 * r * ldx);
      }
    }
  }
#endif
  for (; r < rows; ++r) {
    T* g0 = gx + 2 * r * ldx;
    T* g1 = g0 + ldx;
    const T* gr = gy + r * ldy;
    const std::int32_t* ar = at + r * ldy;
    const auto base = static_cast<std::int32_t>(2 * r * ldx);
    std::size_t c = 0;
    if constexpr (std::is_same_v<T, float>) {
#if defined(__AVX512F__)
      if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
        for (; c < cols; c += 16) {
          max_pool2x2_backward_avx512_chunk<Arch>(cols - c < 16 ? cols - c : 16, gr + c, ar + c, ld,
                                                  base + 2 * static_cast<std::int32_t>(c),
                                                  g0 + 2 * c, g1 + 2 * c);
        }
      }
#endif
#if defined(__AVX2__)
      if constexpr (std::is_base_of_v<xsimd::avx2, Arch>) {
        for (; c + 8 <= cols; c += 8) {
          max_pool2x2_backward_avx2_chunk<Arch>(
              gr + c, ar + c, ld, base + 2 * static_cast<std::int32_t>(c), g0 + 2 * c, g1 + 2 * c);
        }
      }
#endif
    }
    max_pool2x2_backward_row_generic<Arch, T>(c, cols, gr, ar, ld, base, g0, g1);
  }
}

}  // namespace ember::kernels::impl
