// ember: row softmax, log-softmax, and row and column reductions (sum, max, sum of squares);
// arch-tagged.
//
// Work is split over rows only, and each row is reduced in one fixed order (four vector
// accumulators, combined pairwise, then lane by lane), so results do not depend on the thread
// count. Softmax subtracts the row max before exp (no overflow); a row holding NaN gives NaN, and
// max propagates NaN like torch.max.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "ember/kernels/arch.hpp"
#include "ember/kernels/detail/simd_loops.hpp"
#include "ember/kernels/elementwise.hpp"
#include "ember/kernels/kernel_table.hpp"
#include "ember/kernels/simd.hpp"
#include "ember/kernels/vmath.hpp"

namespace ember::kernels::impl {

template <class Arch, class T>
T max_nan_scalar(T a, T b) noexcept {
  return binary_scalar_op<Arch, T>(BinaryOp::max, a, b);
}

// Folds f(x[c]) over one row with combine(acc, value), starting from `identity`. Padding lanes of
// the last partial vector hold `pad`, chosen so that f(pad) is the identity.
template <class Arch, class T, class F, class Combine>
EMBER_FLATTEN T fold_row(std::size_t cols, const T* x, T identity, T pad, const F& f,
                         const Combine& combine) noexcept {
  if constexpr (is_scalar_arch<Arch>) {
    T acc = identity;
    for (std::size_t c = 0; c < cols; ++c) acc = combine(acc, f(x[c]));
    (void)pad;
    return acc;
  } else {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = B::size;
    B acc0(identity), acc1(identity), acc2(identity), acc3(identity);
    std::size_t c = 0;
    for (; c + 4 * W <= cols; c += 4 * W) {
      acc0 = combine(acc0, f(B::load_unaligned(x + c)));
      acc1 = combine(acc1, f(B::load_unaligned(x + c + W)));
      acc2 = combine(acc2, f(B::load_unaligned(x + c + 2 * W)));
      acc3 = combine(acc3, f(B::load_unaligned(x + c + 3 * W)));
    }
    for (; c + W <= cols; c += W) acc0 = combine(acc0, f(B::load_unaligned(x + c)));
    if (c < cols) {
      alignas(B::arch_type::alignment()) T buf[W];
      for (std::size_t i = 0; i < W; ++i) buf[i] = c + i < cols ? x[c + i] : pad;
      acc1 = combine(acc1, f(B::load_aligned(buf)));
    }
    const B acc = combine(combine(acc0, acc1), combine(acc2, acc3));
    alignas(B::arch_type::alignment()) T lanes[W];
    acc.store_aligned(lanes);
    T out = lanes[0];
    for (std::size_t i = 1; i < W; ++i) out = combine(out, lanes[i]);
    return out;
  }
}

// Combiners for fold_row, applied to vectors and then to the final lanes (member templates, not
// generic lambdas, so that the ODR check can demangle their symbols).
template <class Arch, class T>
struct combine_add {
  template <class V>
  V operator()(V a, V b) const noexcept {
    return a + b;
  }
};
template <class Arch, class T>
struct combine_max {
  T operator()(T a, T b) const noexcept { return max_nan_scalar<Arch, T>(a, b); }
  template <class V>
  V operator()(V a, V b) const noexcept {
    return vmath::max_nan(a, b);
  }
};

template <class Arch, class T>
struct row_ops {
  using V = std::conditional_t<is_scalar_arch<Arch>, T, xsimd::batch<T, Arch>>;
  static constexpr combine_add<Arch, T> add{};
  static constexpr combine_max<Arch, T> max{};
  static V id(V v) noexcept { return v; }
  static V sq(V v) noexcept { return v * v; }

  static T row_max(std::size_t cols, const T* x) noexcept {
    const T ninf = -std::numeric_limits<T>::infinity();
    return fold_row<Arch, T>(cols, x, ninf, ninf, id, max);
  }
  // sum over the row of exp(x - mx)
  static T sum_exp(std::size_t cols, const T* x, T mx) noexcept {
    const V vmx(mx);
    return fold_row<Arch, T>(
        cols, x, T(0), -std::numeric_limits<T>::infinity(),
        [&](V v) { return unary_math<Arch, T>::exp(v - vmx); }, add);
  }
};

template <class Arch, class T>
void reduce_rows(RowReduce op, std::size_t rows, std::size_t cols, const T* x, std::size_t ldx,
                 T* out) noexcept {
  using R = row_ops<Arch, T>;
  ember::parallel_for(0, rows, detail::row_grain<Arch>(cols), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const T* row = x + r * ldx;
      switch (op) {
        case RowReduce::sum:
          out[r] = fold_row<Arch, T>(cols, row, T(0), T(0), R::id, R::add);
          break;
        case RowReduce::max:
          out[r] = R::row_max(cols, row);
          break;
        case RowReduce::sumsq:
          out[r] = fold_row<Arch, T>(cols, row, T(0), T(0), R::sq, R::add);
          break;
      }
    }
  });
}

// Column reductions: out[c] = step(...step(step(init, x[0, c]), x[1, c])..., x[rows-1, c]), rows
// in order, so a column's result is the same whatever the vector width or thread count. Each step
// has a vector and a scalar form (the scalar one serves the last columns and the scalar arch).
template <class Arch, class T>
struct col_sum {
  template <class V>
  static V step(V acc, V v) noexcept {
    return acc + v;
  }
};
template <class Arch, class T>
struct col_sumsq {
  template <class V>
  static V step(V acc, V v) noexcept {
    return acc + v * v;
  }
};
template <class Arch, class T>
struct col_max {
  static T step(T acc, T v) noexcept { return max_nan_scalar<Arch, T>(acc, v); }
  template <class V>
  static V step(V acc, V v) noexcept {
    return vmath::max_nan(acc, v);
  }
};

// Columns [c0, c1) of x: blocks of up to 8 vectors accumulate in registers over every row.
template <class Arch, class T, class Op>
void fold_cols(std::size_t rows, std::size_t c0, std::size_t c1, const T* x, std::size_t ldx,
               T init, T* out) noexcept {
  std::size_t c = c0;
  if constexpr (!is_scalar_arch<Arch>) {
    using B = xsimd::batch<T, Arch>;
    constexpr std::size_t W = B::size, U = 8;
    for (; c + U * W <= c1; c += U * W) {
      B acc[U];
      for (std::size_t u = 0; u < U; ++u) acc[u] = B(init);
      for (std::size_t r = 0; r < rows; ++r) {
        const T* row = x + r * ldx + c;
#pragma GCC unroll 8
        for (std::size_t u = 0; u < U; ++u)
          acc[u] = Op::step(acc[u], B::load_unaligned(row + u * W));
      }
      for (std::size_t u = 0; u < U; ++u) acc[u].store_unaligned(out + c + u * W);
    }
    for (; c + W <= c1; c += W) {
      B acc(init);
      for (std::size_t r = 0; r < rows; ++r)
        acc = Op::step(acc, B::load_unaligned(x + r * ldx + c));
      acc.store_unaligned(out + c);
    }
  }
  for (; c < c1; ++c) {
    T acc = init;
    for (std::size_t r = 0; r < rows; ++r) acc = Op::step(acc, x[r * ldx + c]);
    out[c] = acc;
  }
}

template <class Arch, class T>
void reduce_cols(RowReduce op, std::size_t rows, std::size_t cols, const T* x, std::size_t ldx,
                 T* out) noexcept {
  // Threads take fixed blocks of columns; every column is reduced by one thread, rows in order.
  constexpr std::size_t block = 8 * detail::width<Arch, T>();
  const std::size_t blocks = (cols + block - 1) / block;
  ember::parallel_for(
      0, blocks, detail::row_grain<Arch>(rows * block), [&](std::size_t b0, std::size_t b1) {
        const std::size_t c0 = b0 * block, c1 = std::min(cols, b1 * block);
        switch (op) {
          case RowReduce::sum:
            return fold_cols<Arch, T, col_sum<Arch, T>>(rows, c0, c1, x, ldx, T(0), out);
          case RowReduce::sumsq:
            return fold_cols<Arch, T, col_sumsq<Arch, T>>(rows, c0, c1, x, ldx, T(0), out);
          case RowReduce::max:
            return fold_cols<Arch, T, col_max<Arch, T>>(rows, c0, c1, x, ldx,
                                                        -std::numeric_limits<T>::infinity(), out);
        }
      });
}

// One row of softmax: e = exp(x - max) is written to y, then scaled by 1 / sum(e).
template <class Arch, class T>
void softmax_row(std::size_t cols, const T* x, T* y) noexcept {
  using R = row_ops<Arch, T>;
  using V = typename R::V;
  const T mx = R::row_max(cols, x);
  const V vmx(mx);
  detail::map1<Arch, T>(0, cols, x, y, [&](V v) { return unary_math<Arch, T>::exp(v - vmx); });
  const T sum = fold_row<Arch, T>(cols, y, T(0), T(0), R::id, R::add);
  const V inv(T(1) / sum);
  detail::map1<Arch, T>(0, cols, y, y, [&](V v) { return v * inv; });
}

// One row of log-softmax: (x - max) - log(sum(exp(x - max))).
template <class Arch, class T>
void log_softmax_row(std::size_t cols, const T* x, T* y) noexcept {
  using R = row_ops<Arch, T>;
  using V = typename R::V;
  const T mx = R::row_max(cols, x);
  const V vmx(mx);
  const V lse(std::log(R::sum_exp(cols, x, mx)));
  detail::map1<Arch, T>(0, cols, x, y, [&](V v) { return (v - vmx) - lse; });
}

template <class Arch, class T>
void softmax_rows(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                  std::size_t ldy) noexcept {
  ember::parallel_for(0, rows, detail::row_grain<Arch>(cols), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) softmax_row<Arch, T>(cols, x + r * ldx, y + r * ldy);
  });
}

template <class Arch, class T>
void log_softmax_rows(std::size_t rows, std::size_t cols, const T* x, std::size_t ldx, T* y,
                      std::size_t ldy) noexcept {
  ember::parallel_for(0, rows, detail::row_grain<Arch>(cols), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) log_softmax_row<Arch, T>(cols, x + r * ldx, y + r * ldy);
  });
}

}  // namespace ember::kernels::impl
