// ember: elementwise kernels (unary math, binary ops, trailing-vector broadcast); arch-tagged.
// PLACEHOLDER: correct scalar loops; the xsimd version replaces them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/kernel_table.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::impl {

template <class Arch, class T>
T apply_unary(UnaryOp op, T v) noexcept {
  switch (op) {
    case UnaryOp::exp: return std::exp(v);
    case UnaryOp::log: return std::log(v);
    case UnaryOp::tanh: return std::tanh(v);
    case UnaryOp::sigmoid: return T(1) / (T(1) + std::exp(-v));
    case UnaryOp::relu: return v > T(0) ? v : T(0);
    case UnaryOp::gelu: return T(0.5) * v * (T(1) + std::erf(v / std::sqrt(T(2))));
    case UnaryOp::gelu_tanh: {
      const T c = std::sqrt(T(2) / T(3.14159265358979323846));
      return T(0.5) * v * (T(1) + std::tanh(c * (v + T(0.044715) * v * v * v)));
    }
    case UnaryOp::silu: return v / (T(1) + std::exp(-v));
    case UnaryOp::neg: return -v;
    case UnaryOp::abs: return std::abs(v);
    case UnaryOp::sqrt: return std::sqrt(v);
    case UnaryOp::rsqrt: return T(1) / std::sqrt(v);
  }
  return v;
}

template <class Arch, class T>
T apply_binary(BinaryOp op, T a, T b) noexcept {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div: return a / b;
    case BinaryOp::max: return std::max(a, b);
    case BinaryOp::min: return std::min(a, b);
  }
  return a;
}

template <class Arch, class T>
void unary(UnaryOp op, std::size_t n, const T* x, T* y) noexcept {
  for (std::size_t i = 0; i < n; ++i) y[i] = apply_unary<Arch>(op, x[i]);
}

template <class Arch, class T>
void binary(BinaryOp op, std::size_t n, const T* a, const T* b, T* y) noexcept {
  for (std::size_t i = 0; i < n; ++i) y[i] = apply_binary<Arch>(op, a[i], b[i]);
}

template <class Arch, class T>
void binary_scalar(BinaryOp op, std::size_t n, const T* a, T s, bool scalar_first, T* y) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = scalar_first ? apply_binary<Arch>(op, s, a[i]) : apply_binary<Arch>(op, a[i], s);
  }
}

template <class Arch, class T>
void binary_rowvec(BinaryOp op, std::size_t rows, std::size_t cols, const T* a, std::size_t lda,
                   const T* v, T* y, std::size_t ldy) noexcept {
  for (std::size_t r = 0; r < rows; ++r) binary<Arch, T>(op, cols, a + r * lda, v, y + r * ldy);
}

}  // namespace ember::kernels::impl
