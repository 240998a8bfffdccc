// ember: vectorised math on xsimd batches (exp, sigmoid, NaN-propagating max/min), templated on
// the arch through the batch type so every instantiation carries its arch in its symbol.
//
// exp is our own rather than xsimd 8.1's: xsimd flushes results below FLT_MIN/DBL_MIN to zero,
// and exp is the hot loop of softmax. Method: k = round(x / ln 2), r = x - k ln 2 (Cody-Waite
// split), e^r by a polynomial, then 2^k applied as two exact power-of-two factors so that results
// in the subnormal range round once instead of flushing. tanh comes from xsimd; log is xsimd's
// for normal inputs (its subnormal path is off by 3 ln 2 in double); erfc is libm's per lane
// (xsimd 8.1's erfc is off by up to 3e4 ulp in double and 19 ulp in float; exact gelu is the only
// user, gelu_tanh is the fast form).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ember/kernels/simd.hpp"

namespace ember::kernels::vmath {

// 2^k for integral k (as a float batch) with k + bias inside the normal exponent range. The magic
// add puts k in the low mantissa bits; shifting them up into the exponent field discards the rest.
template <class A>
xsimd::batch<float, A> pow2i(const xsimd::batch<float, A>& k) noexcept {
  using I = xsimd::batch<std::int32_t, A>;
  const I bits = xsimd::bitwise_cast<I>(k + xsimd::batch<float, A>(12582912.0f));  // 1.5 * 2^23
  return xsimd::bitwise_cast<xsimd::batch<float, A>>((bits + I(127)) << 23);
}

template <class A>
xsimd::batch<double, A> pow2i(const xsimd::batch<double, A>& k) noexcept {
  using I = xsimd::batch<std::int64_t, A>;
  const I bits =
      xsimd::bitwise_cast<I>(k + xsimd::batch<double, A>(6755399441055744.0));  // 1.5*2^52
  return xsimd::bitwise_cast<xsimd::batch<double, A>>((bits + I(1023)) << 52);
}

// Round to nearest (ties to even) for |v| < 2^22 (float) / 2^51 (double), in any SIMD ISA.
template <class T, class A>
xsimd::batch<T, A> round_small(const xsimd::batch<T, A>& v) noexcept {
  const xsimd::batch<T, A> magic(std::is_same_v<T, float> ? T(12582912.0) : T(6755399441055744.0));
  return (v + magic) - magic;
}

// e^x with results scaled by 2^k1 * 2^k2 (k1 + k2 = k) so both factors stay normal.
template <class T, class A>
xsimd::batch<T, A> scale_by_pow2(const xsimd::batch<T, A>& p,
                                 const xsimd::batch<T, A>& k) noexcept {
  using B = xsimd::batch<T, A>;
  const B k1 = round_small(k * B(T(0.5)));
  return (p * pow2i(k1)) * pow2i(k - k1);
}

// lo <= x <= hi by comparisons, not xsimd::min/max: g++ 12 warns (-Wmaybe-uninitialized, an
// error here) inside its own _mm512_max_ps. NaN passes through unchanged.
template <class T, class A>
xsimd::batch<T, A> clamp(const xsimd::batch<T, A>& x, const xsimd::batch<T, A>& lo,
                         const xsimd::batch<T, A>& hi) noexcept {
  return xsimd::select(x < lo, lo, xsimd::select(x > hi, hi, x));
}

template <class A>
xsimd::batch<float, A> exp(const xsimd::batch<float, A>& x) noexcept {
  using B = xsimd::batch<float, A>;
  // Beyond these bounds e^x is inf / rounds to 0; clamping keeps k within the two-factor range.
  const B xc = clamp(x, B(-104.0f), B(89.0f));
  const B k = round_small(xc * B(1.44269504088896341f));
  B r = xsimd::fnma(k, B(0.693359375f), xc);  // ln 2 = 0.693359375 - 2.12194440e-4 (Cephes)
  r = xsimd::fnma(k, B(-2.12194440e-4f), r);
  // Cephes expf minimax polynomial on [-ln2/2, ln2/2]: e^r = 1 + r + r^2 P(r).
  B p(1.9875691500e-4f);
  p = xsimd::fma(p, r, B(1.3981999507e-3f));
  p = xsimd::fma(p, r, B(8.3334519073e-3f));
  p = xsimd::fma(p, r, B(4.1665795894e-2f));
  p = xsimd::fma(p, r, B(1.6666665459e-1f));
  p = xsimd::fma(p, r, B(5.0000001201e-1f));
  p = xsimd::fma(p, r * r, r + B(1.0f));
  return xsimd::select(x != x, x, scale_by_pow2(p, k));  // NaN in, NaN out
}

template <class A>
xsimd::batch<double, A> exp(const xsimd::batch<double, A>& x) noexcept {
  using B = xsimd::batch<double, A>;
  const B xc = clamp(x, B(-746.0), B(710.0));
  const B k = round_small(xc * B(1.4426950408889634074));
  B r = xsimd::fnma(k, B(6.93145751953125e-1), xc);  // Cephes split of ln 2
  r = xsimd::fnma(k, B(1.42860682030941723212e-6), r);
  // Taylor series to r^13: truncation error |r|^14/14! < 5e-18 for |r| <= ln2/2.
  B p(1.0 / 6227020800.0);
  p = xsimd::fma(p, r, B(1.0 / 479001600.0));
  p = xsimd::fma(p, r, B(1.0 / 39916800.0));
  p = xsimd::fma(p, r, B(1.0 / 3628800.0));
  p = xsimd::fma(p, r, B(1.0 / 362880.0));
  p = xsimd::fma(p, r, B(1.0 / 40320.0));
  p = xsimd::fma(p, r, B(1.0 / 5040.0));
  p = xsimd::fma(p, r, B(1.0 / 720.0));
  p = xsimd::fma(p, r, B(1.0 / 120.0));
  p = xsimd::fma(p, r, B(1.0 / 24.0));
  p = xsimd::fma(p, r, B(1.0 / 6.0));
  p = xsimd::fma(p, r, B(0.5));
  p = xsimd::fma(p, r * r, r + B(1.0));
  return xsimd::select(x != x, x, scale_by_pow2(p, k));
}

// a / b and sqrt(x), correctly rounded on every ISA. xsimd 8.1 computes float division and
// square root on AArch64 with the 32-bit NEON reciprocal-estimate sequences (a few ulp off, and
// sqrt(inf) = NaN); AArch64 has IEEE instructions for both, used here.
template <class T, class A>
xsimd::batch<T, A> div(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
#if XSIMD_WITH_NEON64
  if constexpr (std::is_same_v<T, float> && std::is_same_v<A, xsimd::neon64>) {
    return xsimd::batch<T, A>(vdivq_f32(a, b));
  }
#endif
  return a / b;
}

template <class T, class A>
xsimd::batch<T, A> sqrt(const xsimd::batch<T, A>& x) noexcept {
#if XSIMD_WITH_NEON64
  if constexpr (std::is_same_v<T, float> && std::is_same_v<A, xsimd::neon64>) {
    return xsimd::batch<T, A>(vsqrtq_f32(x));
  }
#endif
  return xsimd::sqrt(x);
}

// log x; subnormal x is scaled into the normal range first (2^54 covers float and double).
template <class T, class A>
xsimd::batch<T, A> log(const xsimd::batch<T, A>& x) noexcept {
  using B = xsimd::batch<T, A>;
  const auto sub = x < B(std::numeric_limits<T>::min());
  const B scaled = xsimd::select(sub, x * B(T(18014398509481984.0)), x);              // 2^54
  return xsimd::log(scaled) - xsimd::select(sub, B(T(37.429947750237046)), B(T(0)));  // 54 ln 2
}

// erfc lane by lane through libm (see the header comment).
template <class T, class A>
xsimd::batch<T, A> erfc(const xsimd::batch<T, A>& x) noexcept {
  using B = xsimd::batch<T, A>;
  alignas(A::alignment()) T lanes[B::size];
  x.store_aligned(lanes);
  for (std::size_t i = 0; i < B::size; ++i) lanes[i] = std::erfc(lanes[i]);
  return B::load_aligned(lanes);
}

// 1 / (1 + e^-x) from e = e^-|x| <= 1, so neither side overflows and tiny results stay accurate.
template <class T, class A>
xsimd::batch<T, A> sigmoid(const xsimd::batch<T, A>& x) noexcept {
  using B = xsimd::batch<T, A>;
  const B e = vmath::exp(-xsimd::abs(x));
  const B r = vmath::div(B(T(1)), B(T(1)) + e);
  return xsimd::select(x >= B(T(0)), r, e * r);
}

// max/min that return NaN when either input is NaN (torch.maximum / torch.minimum).
template <class T, class A>
xsimd::batch<T, A> max_nan(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(xsimd::isnan(a) | xsimd::isnan(b), a + b, xsimd::select(a < b, b, a));
}

template <class T, class A>
xsimd::batch<T, A> min_nan(const xsimd::batch<T, A>& a, const xsimd::batch<T, A>& b) noexcept {
  return xsimd::select(xsimd::isnan(a) | xsimd::isnan(b), a + b, xsimd::select(b < a, b, a));
}

}  // namespace ember::kernels::vmath
