// ember: row softmax, log-softmax and row reductions; arch-tagged.
// PLACEHOLDER: correct scalar loops; the xsimd version replaces them.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/kernel_table.hpp"
#include "ember/kernels/simd.hpp"

namespace ember::kernels::impl {

template <class Arch, class T>
void reduce_rows(RowReduce op, std::size_t rows, std::size_t cols, const T* x, std::size_t ldx,
                 T* out) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * ldx;
    T acc = op == RowReduce::max ? -std::numeric_limits<T>::infinity() : T(0);
    for (std::size_t c = 0; c < cols; ++c) {
      if (op == RowReduce::sum) acc += row[c];
      else if (op == RowReduce::sumsq) acc += row[c] * row[c];
      else acc = row[c] > acc || std::isnan(row[c]) ? row[c] : acc;
    }
    out[r] = acc;
  }
}

template <class Arch, class T>
void softmax_rows_impl(bool log_out, std::size_t rows, std::size_t cols, const T* x,
                       std::size_t ldx, T* y, std::size_t ldy) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* in = x + r * ldx;
    T* out = y + r * ldy;
    T mx = -std::numeric_limits<T>::infinity();
    for (std::size_t c = 0; c < cols; ++c) mx = in[c] > mx ? in[c] : mx;
    T sum = T(0);
    for (std::size_t c = 0; c < cols; ++c) sum += std::exp(in[c] - mx);
    if (log_out) {
      const T lse = mx + std::log(sum);
      for (std::size_t c = 0; c < cols; ++c) out[c] = in[c] - lse;
    } else {
      for (std::size_t c = 0; c < cols; ++c) out[c] = std::exp(in[c] - mx) / sum;
    }
  }
}

template <class Arch, class T>
void softmax_rows(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                  std::size_t ldy) noexcept {
  softmax_rows_impl<Arch, T>(false, rows, cols, x, ldx, y, ldy);
}

template <class Arch, class T>
void log_softmax_rows(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                      std::size_t ldy) noexcept {
  softmax_rows_impl<Arch, T>(true, rows, cols, x, ldx, y, ldy);
}

}  // namespace ember::kernels::impl
