// ember: elementwise kernels (unary math, binary ops, scalar operands, trailing-vector broadcast);
// arch-tagged, called through dispatch.hpp.
//
// Semantics follow PyTorch: max/min propagate NaN, relu keeps NaN, relu_grad is threshold_backward
// (b <= 0 ? 0 : a), gelu is the exact erf form (computed as x/2 * erfc(-x/sqrt 2), which stays
// accurate where 1 + erf(x/sqrt 2) cancels), gelu_tanh uses 1 + tanh(u) = 2 sigmoid(2u) for the
// same reason, rsqrt is 1 / sqrt (not an approximation).
#pragma once

#include <cmath>
#include <cstddef>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/detail/simd_loops.hpp"
#include "ember/kernels/kernel_table.hpp"
#include "ember/kernels/simd.hpp"
#include "ember/kernels/vmath.hpp"

namespace ember::kernels::impl {

// ---- scalar forms (the scalar arch's kernels)
// ----------------------------------------------------

template <class Arch, class T>
T sigmoid_scalar(T x) noexcept {
  const T e = std::exp(-std::abs(x));
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

template <class Arch, class T>
T binary_scalar_op(BinaryOp op, T a, T b) noexcept {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    case BinaryOp::mul:
      return a * b;
    case BinaryOp::div:
      return a / b;
    case BinaryOp::max:
      return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? b : a);
    case BinaryOp::min:
      return std::isnan(a) || std::isnan(b) ? a + b : (b < a ? b : a);
    case BinaryOp::relu_grad:
      return b <= T(0) ? T(0) : a;
  }
  return a;
}

// ---- the functions, generic over T (scalar arch) and xsimd batches ------------------------------

template <class Arch, class T>
struct unary_math {
  // V is T for the scalar arch, xsimd::batch<T, Arch> otherwise.
  using V = std::conditional_t<is_scalar_arch<Arch>, T, xsimd::batch<T, Arch>>;
  static constexpr T inv_sqrt2 = T(0.70710678118654752440);
  static constexpr T sqrt_2_over_pi = T(0.79788456080286535588);

  static V exp(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return std::exp(x);
    else
      return vmath::exp(x);
  }
  static V sigmoid(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return sigmoid_scalar<Arch, T>(x);
    else
      return vmath::sigmoid(x);
  }
  static V log(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return std::log(x);
    else
      return vmath::log(x);
  }
  static V tanh(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return std::tanh(x);
    else
      return xsimd::tanh(x);
  }
  static V relu(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return x < T(0) ? T(0) : x;
    else
      return xsimd::select(x < V(T(0)), V(T(0)), x);
  }
  static V gelu(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return T(0.5) * x * std::erfc(-x * inv_sqrt2);
    else
      return V(T(0.5)) * x * vmath::erfc(-x * V(inv_sqrt2));
  }
  static V gelu_tanh(V x) noexcept {
    const V u = V(sqrt_2_over_pi) * x * (V(T(1)) + V(T(0.044715)) * x * x);
    return x * sigmoid(u + u);
  }
  static V silu(V x) noexcept { return x * sigmoid(x); }
  static V abs(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return std::abs(x);
    else
      return xsimd::abs(x);
  }
  static V sqrt(V x) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return std::sqrt(x);
    else
      return vmath::sqrt(x);
  }
  static V rsqrt(V x) noexcept { return div(V(T(1)), sqrt(x)); }
  static V div(V a, V b) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return a / b;
    else
      return vmath::div(a, b);
  }
};

template <class Arch, class T>
struct binary_math {
  using V = std::conditional_t<is_scalar_arch<Arch>, T, xsimd::batch<T, Arch>>;
  static V max(V a, V b) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return binary_scalar_op<Arch, T>(BinaryOp::max, a, b);
    else
      return vmath::max_nan(a, b);
  }
  static V min(V a, V b) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return binary_scalar_op<Arch, T>(BinaryOp::min, a, b);
    else
      return vmath::min_nan(a, b);
  }
  static V relu_grad(V a, V b) noexcept {
    if constexpr (is_scalar_arch<Arch>)
      return binary_scalar_op<Arch, T>(BinaryOp::relu_grad, a, b);
    else
      return xsimd::select(b <= V(T(0)), V(T(0)), a);
  }
};

// The binary functions as named functors (no generic lambdas: binutils' demangler cannot read
// the symbols those produce, and the ODR check reads symbols).
template <class Arch, class T>
struct bin_add {
  using V = typename binary_math<Arch, T>::V;
  V operator()(V a, V b) const noexcept { return a + b; }
};
template <class Arch, class T>
struct bin_sub {
  using V = typename binary_math<Arch, T>::V;
  V operator()(V a, V b) const noexcept { return a - b; }
};
template <class Arch, class T>
struct bin_mul {
  using V = typename binary_math<Arch, T>::V;
  V operator()(V a, V b) const noexcept { return a * b; }
};
template <class Arch, class T>
struct bin_div {
  using V = typename binary_math<Arch, T>::V;
  V operator()(V a, V b) const noexcept { return unary_math<Arch, T>::div(a, b); }
};
template <class Arch, class T>
struct bin_max {
  using V = typename binary_math<Arch, T>::V;
  V operator()(V a, V b) const noexcept { return binary_math<Arch, T>::max(a, b); }
};
template <class Arch, class T>
struct bin_min {
  using V = typename binary_math<Arch, T>::V;
  V operator()(V a, V b) const noexcept { return binary_math<Arch, T>::min(a, b); }
};

template <class Arch, class T>
struct bin_relu_grad {
  using V = typename binary_math<Arch, T>::V;
  V operator()(V a, V b) const noexcept { return binary_math<Arch, T>::relu_grad(a, b); }
};

// Calls Run::apply(f, args...) with f the functor for `op`: one loop instantiation per op, so the
// switch stays outside the loop.
template <class Arch, class T, class Run, class... Args>
void with_binary_fn(BinaryOp op, const Args&... args) noexcept {
  switch (op) {
    case BinaryOp::add:
      return Run::apply(bin_add<Arch, T>{}, args...);
    case BinaryOp::sub:
      return Run::apply(bin_sub<Arch, T>{}, args...);
    case BinaryOp::mul:
      return Run::apply(bin_mul<Arch, T>{}, args...);
    case BinaryOp::div:
      return Run::apply(bin_div<Arch, T>{}, args...);
    case BinaryOp::max:
      return Run::apply(bin_max<Arch, T>{}, args...);
    case BinaryOp::min:
      return Run::apply(bin_min<Arch, T>{}, args...);
    case BinaryOp::relu_grad:
      return Run::apply(bin_relu_grad<Arch, T>{}, args...);
  }
}

template <class Arch, class T, class F>
void unary_run(std::size_t n, const T* x, T* y, F f) noexcept {
  detail::parallel_range<Arch>(
      n, [&](std::size_t lo, std::size_t hi) { detail::map1<Arch, T>(lo, hi, x, y, f); });
}

template <class Arch, class T>
struct binary_run {
  template <class F>
  static void apply(F f, std::size_t n, const T* a, const T* b, T* y) noexcept {
    detail::parallel_range<Arch>(
        n, [&](std::size_t lo, std::size_t hi) { detail::map2<Arch, T>(lo, hi, a, b, y, f); });
  }
};

template <class Arch, class T>
struct binary_scalar_run {
  using V = typename binary_math<Arch, T>::V;
  template <class F>
  static void apply(F f, std::size_t n, const T* a, T s, bool scalar_first, T* y) noexcept {
    const V vs(s);
    detail::parallel_range<Arch>(n, [&](std::size_t lo, std::size_t hi) {
      if (scalar_first) {
        detail::map1<Arch, T>(lo, hi, a, y, [&](V v) { return f(vs, v); });
      } else {
        detail::map1<Arch, T>(lo, hi, a, y, [&](V v) { return f(v, vs); });
      }
    });
  }
};

template <class Arch, class T>
struct binary_rowvec_run {
  template <class F>
  static void apply(F f, std::size_t rows, std::size_t cols, const T* a, std::size_t lda,
                    const T* v, T* y, std::size_t ldy) noexcept {
    ember::parallel_for(0, rows, detail::row_grain<Arch>(cols),
                        [&](std::size_t r0, std::size_t r1) {
                          for (std::size_t r = r0; r < r1; ++r) {
                            detail::map2<Arch, T>(0, cols, a + r * lda, v, y + r * ldy, f);
                          }
                        });
  }
};

// ---- kernels
// -------------------------------------------------------------------------------------

template <class Arch, class T>
void unary(UnaryOp op, std::size_t n, const T* x, T* y) noexcept {
  using M = unary_math<Arch, T>;
  using V = typename M::V;
  switch (op) {
    case UnaryOp::exp:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::exp(v); });
    case UnaryOp::log:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::log(v); });
    case UnaryOp::tanh:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::tanh(v); });
    case UnaryOp::sigmoid:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::sigmoid(v); });
    case UnaryOp::relu:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::relu(v); });
    case UnaryOp::gelu:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::gelu(v); });
    case UnaryOp::gelu_tanh:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::gelu_tanh(v); });
    case UnaryOp::silu:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::silu(v); });
    case UnaryOp::neg:
      return unary_run<Arch, T>(n, x, y, [](V v) { return -v; });
    case UnaryOp::abs:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::abs(v); });
    case UnaryOp::sqrt:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::sqrt(v); });
    case UnaryOp::rsqrt:
      return unary_run<Arch, T>(n, x, y, [](V v) { return M::rsqrt(v); });
  }
}

template <class Arch, class T>
void binary(BinaryOp op, std::size_t n, const T* a, const T* b, T* y) noexcept {
  with_binary_fn<Arch, T, binary_run<Arch, T>>(op, n, a, b, y);
}

template <class Arch, class T>
void binary_scalar(BinaryOp op, std::size_t n, const T* a, T s, bool scalar_first, T* y) noexcept {
  with_binary_fn<Arch, T, binary_scalar_run<Arch, T>>(op, n, a, s, scalar_first, y);
}

template <class Arch, class T>
void binary_rowvec(BinaryOp op, std::size_t rows, std::size_t cols, const T* a, std::size_t lda,
                   const T* v, T* y, std::size_t ldy) noexcept {
  with_binary_fn<Arch, T, binary_rowvec_run<Arch, T>>(op, rows, cols, a, lda, v, y, ldy);
}

}  // namespace ember::kernels::impl
