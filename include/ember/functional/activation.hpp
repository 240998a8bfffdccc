// ember: activation functions (ember::F), PyTorch's names, defaults and gradients.
//
// Pointwise activations run as one pass forward and one pass backward (gx = g * f'(x) computed
// per element with scalar std:: math). Their backward is itself not recorded (no double
// backward). Measured (bench_nn, [64, 4096] float, forward + backward): gelu "tanh" this way
// takes 2x the time of the same formula composed from the SIMD tensor ops, so the forward
// should move to kernels::unary (gelu, gelu_tanh, silu) once their accuracy is checked against
// the double-precision fixtures. softmax/log_softmax use the dispatched row kernels and a fused
// row backward (4.5x faster than the composite in bench_nn).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "ember/autograd/record.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::F {

namespace detail {

// y = f(x) elementwise; when recording, gx = g * df(x) (df gets x and y).
template <class T, class Fwd, class Df>
Tensor<T> pointwise(const Tensor<T>& x, const char* name, const char* backward_name, Fwd fwd,
                    Df df) {
  static_assert(std::is_floating_point_v<T>, "activations need a floating-point tensor");
  x.check_defined(name);
  return autograd::differentiable<T>(
      autograd::needs_grad(x),
      [&] { return ember::detail::unary_op(x, name, ember::detail::no_kernel_t{}, fwd); },
      [&](Tensor<T>& out) {
        autograd::record(out, backward_name, {x},
                         [sx = autograd::save(x, name), df](const Tensor<T>& g) {
                           return std::vector<Tensor<T>>{ember::detail::binary_op<T, T>(
                               sx.get(), g, "activation backward", ember::detail::no_kernel_t{},
                               [df](T a, T gv) { return gv * df(a); })};
                         });
      });
}

template <class T>
T softplus_scalar(T v) {  // log(1 + e^v) without overflow
  return v > T(0) ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
}
template <class T>
T sigmoid_scalar(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

}  // namespace detail

template <class T>
Tensor<T> relu(const Tensor<T>& x) {
  return x.relu();
}

template <class T>
Tensor<T> tanh(const Tensor<T>& x) {
  return x.tanh();
}

template <class T>
Tensor<T> sigmoid(const Tensor<T>& x) {
  return x.sigmoid();
}

template <class T>
Tensor<T> leaky_relu(const Tensor<T>& x, double negative_slope = 0.01) {
  const T s = static_cast<T>(negative_slope);
  return detail::pointwise(
      x, "leaky_relu", "LeakyReluBackward", [s](T v) { return v > T(0) ? v : v * s; },
      [s](T v) { return v > T(0) ? T(1) : s; });
}

template <class T>
Tensor<T> elu(const Tensor<T>& x, double alpha = 1.0) {
  const T a = static_cast<T>(alpha);
  return detail::pointwise(
      x, "elu", "EluBackward", [a](T v) { return v > T(0) ? v : a * std::expm1(v); },
      [a](T v) { return v > T(0) ? T(1) : a * std::exp(v); });
}

// approximate: "none" (exact, with erf) or "tanh".
template <class T>
Tensor<T> gelu(const Tensor<T>& x, const std::string& approximate = "none") {
  if (approximate == "none") {
    return detail::pointwise(
        x, "gelu", "GeluBackward",
        [](T v) { return T(0.5) * v * (T(1) + std::erf(v * T(0.7071067811865476))); },
        [](T v) {
          const T cdf = T(0.5) * (T(1) + std::erf(v * T(0.7071067811865476)));
          const T pdf = std::exp(T(-0.5) * v * v) * T(0.3989422804014327);  // 1/sqrt(2 pi)
          return cdf + v * pdf;
        });
  }
  EMBER_CHECK_VALUE(approximate == "tanh", "gelu: approximate must be \"none\" or \"tanh\", got \"",
                    approximate, "\"");
  constexpr T k = T(0.7978845608028654);  // sqrt(2 / pi)
  constexpr T c = T(0.044715);
  return detail::pointwise(
      x, "gelu", "GeluBackward",
      [](T v) { return T(0.5) * v * (T(1) + std::tanh(k * (v + c * v * v * v))); },
      [](T v) {
        const T t = std::tanh(k * (v + c * v * v * v));
        return T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * k * (T(1) + T(3) * c * v * v);
      });
}

template <class T>
Tensor<T> silu(const Tensor<T>& x) {
  return detail::pointwise(
      x, "silu", "SiluBackward", [](T v) { return v * detail::sigmoid_scalar(v); },
      [](T v) {
        const T s = detail::sigmoid_scalar(v);
        return s * (T(1) + v * (T(1) - s));
      });
}

template <class T>
Tensor<T> mish(const Tensor<T>& x) {
  return detail::pointwise(
      x, "mish", "MishBackward", [](T v) { return v * std::tanh(detail::softplus_scalar(v)); },
      [](T v) {
        const T t = std::tanh(detail::softplus_scalar(v));
        return t + v * detail::sigmoid_scalar(v) * (T(1) - t * t);
      });
}

// log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.
template <class T>
Tensor<T> softplus(const Tensor<T>& x, double beta = 1.0, double threshold = 20.0) {
  EMBER_CHECK_VALUE(beta != 0.0, "softplus: beta must be nonzero");
  const T b = static_cast<T>(beta), th = static_cast<T>(threshold);
  return detail::pointwise(
      x, "softplus", "SoftplusBackward",
      [b, th](T v) { return v * b > th ? v : std::log1p(std::exp(v * b)) / b; },
      [b, th](T v) { return v * b > th ? T(1) : detail::sigmoid_scalar(v * b); });
}

// clamp(x, min_val, max_val); the gradient is 0 at and outside the bounds (PyTorch's rule).
template <class T>
Tensor<T> hardtanh(const Tensor<T>& x, double min_val = -1.0, double max_val = 1.0) {
  EMBER_CHECK_VALUE(min_val <= max_val, "hardtanh: min_val ", min_val,
                    " must not be greater than max_val ", max_val);
  const T lo = static_cast<T>(min_val), hi = static_cast<T>(max_val);
  return detail::pointwise(
      x, "hardtanh", "HardtanhBackward", [lo, hi](T v) { return v < lo ? lo : (v > hi ? hi : v); },
      [lo, hi](T v) { return v > lo && v < hi ? T(1) : T(0); });
}

namespace detail {

// softmax / log_softmax over the rows of a contiguous [rows, cols] view.
template <class T>
void softmax_rows_of(const Tensor<T>& x, const Tensor<T>& y, bool log) {
  const auto cols = static_cast<std::size_t>(x.size(-1));
  const auto rows = static_cast<std::size_t>(cols ? x.numel() / x.size(-1) : 0);
  if (rows == 0 || cols == 0) return;
  const std::size_t grain = std::max<std::size_t>(1, 16384 / cols);
  parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
    const T* xp = x.data() + lo * cols;
    T* yp = y.data() + lo * cols;
    if (log)
      kernels::log_softmax_rows<T>(hi - lo, cols, xp, cols, yp, cols);
    else
      kernels::softmax_rows<T>(hi - lo, cols, xp, cols, yp, cols);
  });
}

// Fused backward over contiguous rows: softmax gx = y (g - sum(g y)); log_softmax
// gx = g - exp(y) sum(g).
template <class T>
Tensor<T> softmax_backward_rows(const Tensor<T>& y, const Tensor<T>& g, bool log) {
  Tensor<T> gx(y.shape());
  const auto cols = static_cast<std::size_t>(y.size(-1));
  const auto rows = static_cast<std::size_t>(cols ? y.numel() / y.size(-1) : 0);
  if (rows == 0 || cols == 0) return gx;
  const std::size_t grain = std::max<std::size_t>(1, 16384 / cols);
  parallel_for(0, rows, grain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t r = lo; r < hi; ++r) {
      const T* yp = y.data() + r * cols;
      const T* gp = g.data() + r * cols;
      T* op = gx.data() + r * cols;
      T acc = 0;
      if (log) {
        for (std::size_t c = 0; c < cols; ++c) acc += gp[c];
        for (std::size_t c = 0; c < cols; ++c) op[c] = gp[c] - std::exp(yp[c]) * acc;
      } else {
        for (std::size_t c = 0; c < cols; ++c) acc += gp[c] * yp[c];
        for (std::size_t c = 0; c < cols; ++c) op[c] = yp[c] * (gp[c] - acc);
      }
    }
  });
  return gx;
}

// Runs over `dim` by moving it last: a contiguous input with dim last needs no copy.
template <class T>
Tensor<T> softmax_impl(const Tensor<T>& x, int64_t dim, bool log) {
  static_assert(std::is_floating_point_v<T>, "softmax needs a floating-point tensor");
  const char* name = log ? "log_softmax" : "softmax";
  x.check_defined(name);
  if (x.dim() == 0) return softmax_impl(x.reshape({1}), 0, log).reshape({});
  const int64_t d = ember::detail::wrap_dim(dim, x.dim(), name);
  const int64_t last = x.dim() - 1;
  return autograd::differentiable<T>(
      autograd::needs_grad(x),
      [&] {
        const Tensor<T> xt = (d == last ? x : x.transpose(d, last)).contiguous();
        Tensor<T> yt(xt.shape());
        softmax_rows_of(xt, yt, log);
        return d == last ? yt : yt.transpose(d, last).contiguous();
      },
      [&](Tensor<T>& out) {
        autograd::record(out, log ? "LogSoftmaxBackward" : "SoftmaxBackward", {x},
                         [so = autograd::save(out, name), d, last, log](const Tensor<T>& g) {
                           const Tensor<T>& y = so.get();
                           auto rows = [&](const Tensor<T>& t) {
                             return (d == last ? t : t.transpose(d, last)).contiguous();
                           };
                           Tensor<T> gx = softmax_backward_rows(rows(y), rows(g), log);
                           return std::vector<Tensor<T>>{d == last ? gx : gx.transpose(d, last)};
                         });
      });
}

}  // namespace detail

template <class T>
Tensor<T> softmax(const Tensor<T>& x, int64_t dim) {
  return detail::softmax_impl(x, dim, false);
}

template <class T>
Tensor<T> log_softmax(const Tensor<T>& x, int64_t dim) {
  return detail::softmax_impl(x, dim, true);
}

}  // namespace ember::F
