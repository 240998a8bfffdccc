// ember: reductions over all dims or given dims, with keepdim: sum, mean, prod, amax/amin,
// max/min with indices, argmax/argmin, var/std, logsumexp, norm.
//
// Two loop shapes, chosen by memory order: when the reduced elements are the densest (reducing
// the last axis) each output is one pass over a row, through kernels::reduce_rows when the row is
// contiguous; when the kept elements are the densest (reducing the first axis) whole rows of the
// input are folded into the output vector, through kernels::binary for sums. Each output element
// is always reduced in the same order, so results do not depend on the thread count.
#pragma once

#include <cmath>
#include <limits>
#include <optional>

#include "ember/autograd/reduce_helpers.hpp"
#include "ember/core/creation.hpp"
#include "ember/core/elementwise.hpp"
#include "ember/core/indexing.hpp"
#include "ember/core/iterate.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"
#include "ember/kernels/dispatch.hpp"

namespace ember {

namespace detail {

// A reduction: acc = combine(acc, map(x)) from init; kernel (if any) computes the same on rows.
template <class T>
struct SumOp {
  static constexpr bool has_identity = true;
  static T init() { return T(0); }
  static T map(T v) { return v; }
  static T combine(T a, T b) { return a + b; }
  static constexpr std::optional<kernels::RowReduce> row_kernel() {
    return kernels::RowReduce::sum;
  }
};
template <class T>
struct SumSqOp : SumOp<T> {
  static T map(T v) { return v * v; }
  static constexpr std::optional<kernels::RowReduce> row_kernel() {
    return kernels::RowReduce::sumsq;
  }
};
template <class T>
struct SumAbsOp : SumOp<T> {
  static T map(T v) { return v < T(0) ? -v : v; }
  static constexpr std::optional<kernels::RowReduce> row_kernel() { return std::nullopt; }
};
template <class T>
struct ProdOp {
  static constexpr bool has_identity = true;
  static T init() { return T(1); }
  static T map(T v) { return v; }
  static T combine(T a, T b) { return a * b; }
  static constexpr std::optional<kernels::RowReduce> row_kernel() { return std::nullopt; }
};
// NaN wins, like PyTorch's max.
template <class T>
struct MaxOp {
  static constexpr bool has_identity = false;
  static T init() {
    if constexpr (std::is_floating_point_v<T>)
      return -std::numeric_limits<T>::infinity();
    else
      return std::numeric_limits<T>::lowest();
  }
  static T map(T v) { return v; }
  static T combine(T a, T b) { return (b > a || b != b) ? b : a; }
  static constexpr std::optional<kernels::RowReduce> row_kernel() {
    return kernels::RowReduce::max;
  }
};
template <class T>
struct MaxAbsOp : MaxOp<T> {
  static constexpr bool has_identity = true;  // |x| >= 0: the norm of nothing is 0
  static T init() { return T(0); }
  static T map(T v) { return v < T(0) ? -v : v; }
  static constexpr std::optional<kernels::RowReduce> row_kernel() { return std::nullopt; }
};
template <class T>
struct MinOp {
  static constexpr bool has_identity = false;
  static T init() {
    if constexpr (std::is_floating_point_v<T>)
      return std::numeric_limits<T>::infinity();
    else
      return std::numeric_limits<T>::max();
  }
  static T map(T v) { return v; }
  static T combine(T a, T b) { return (b < a || b != b) ? b : a; }
  static constexpr std::optional<kernels::RowReduce> row_kernel() { return std::nullopt; }
};

// Splits x's dims into kept (K) and reduced (R) lists.
struct ReduceDims {
  Shape kept_sizes, kept_strides, red_sizes, red_strides;
  Shape keepdim_shape;  // output shape with size-1 reduced dims
};

template <class T>
ReduceDims split_dims(const Tensor<T>& x, const std::vector<int64_t>& dims, const char* name) {
  const std::vector<int64_t> red = wrap_dims(dims, x.dim(), name);
  ReduceDims r;
  std::vector<bool> is_red(static_cast<std::size_t>(x.dim()), false);
  for (int64_t d : red) {
    if (d < x.dim()) is_red[static_cast<std::size_t>(d)] = true;
  }
  for (std::size_t d = 0; d < x.shape().size(); ++d) {
    if (is_red[d]) {
      r.red_sizes.push_back(x.shape()[d]);
      r.red_strides.push_back(x.strides()[d]);
      r.keepdim_shape.push_back(1);
    } else {
      r.kept_sizes.push_back(x.shape()[d]);
      r.kept_strides.push_back(x.strides()[d]);
      r.keepdim_shape.push_back(x.shape()[d]);
    }
  }
  return r;
}

inline int64_t min_abs_stride(const Shape& sizes, const Shape& strides) {
  int64_t m = std::numeric_limits<int64_t>::max();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] > 1) m = std::min(m, strides[i] < 0 ? -strides[i] : strides[i]);
  }
  return m;
}

// Reduces x over dims with Op; the result has the kept dims (size-1 dims if keepdim).
template <class T, class Op>
Tensor<T> reduce(const Tensor<T>& x, const std::vector<int64_t>& dims, bool keepdim,
                 const char* name) {
  x.check_defined(name);
  const ReduceDims rd = split_dims(x, dims, name);
  const int64_t red_n = numel_of(rd.red_sizes);
  EMBER_CHECK_VALUE(Op::has_identity || red_n > 0 || numel_of(rd.kept_sizes) == 0, name,
                    ": cannot reduce over an empty dimension (input shape ", x.shape(), ", dims ",
                    dims, ") because the operation has no identity");
  Tensor<T> out(rd.kept_sizes);
  const int64_t out_n = out.numel();
  T* o = out.data();
  const T* xp = x.data();
  const auto kplan = make_plan<2>(rd.kept_sizes, {out.strides(), rd.kept_strides});
  const auto rplan = make_plan<1>(rd.red_sizes, {rd.red_strides});
  constexpr bool kernel_ok = has_kernels_v<T> && Op::row_kernel().has_value();

  // Folds every reduced element at x offset `base` into one accumulator, in a fixed order.
  auto reduce_one = [&](int64_t base) {
    T acc = Op::init();
    if constexpr (kernel_ok) {
      if (rplan.rows == 1 && rplan.inner_stride[0] == 1 && red_n > 0) {
        T partial;
        kernels::reduce_rows<T>(*Op::row_kernel(), 1, static_cast<std::size_t>(rplan.inner),
                                xp + base, static_cast<std::size_t>(rplan.inner), &partial);
        return Op::combine(acc, partial);
      }
    }
    for_each_row(rplan, 0, rplan.rows, [&](const std::array<int64_t, 1>& off, int64_t n) {
      const T* p = xp + base + off[0];
      const int64_t s = rplan.inner_stride[0];
      for (int64_t i = 0; i < n; ++i) acc = Op::combine(acc, Op::map(p[i * s]));
    });
    return acc;
  };

  if (out_n == 0) {
  } else if (out_n == 1 && red_n > 2 * elementwise_grain) {
    // Whole-tensor reduction of a big tensor: fixed-size blocks reduced in parallel, then the
    // block results folded in order (the blocks never depend on the thread count).
    const Tensor<T> xc = x.contiguous();
    const T* cp = xc.data();
    const int64_t block = elementwise_grain;
    const int64_t nblocks = (red_n + block - 1) / block;
    std::vector<T> partial(static_cast<std::size_t>(nblocks));
    parallel_chunks(0, static_cast<std::size_t>(nblocks), 1, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t b = lo; b < hi; ++b) {
        const int64_t start = static_cast<int64_t>(b) * block;
        const int64_t len = std::min(block, red_n - start);
        T acc = Op::init();
        if constexpr (kernel_ok) {
          kernels::reduce_rows<T>(*Op::row_kernel(), 1, static_cast<std::size_t>(len), cp + start,
                                  static_cast<std::size_t>(len), &acc);
        } else {
          for (int64_t i = 0; i < len; ++i) acc = Op::combine(acc, Op::map(cp[start + i]));
        }
        partial[b] = acc;
      }
    });
    T acc = Op::init();
    for (T v : partial) acc = Op::combine(acc, v);
    o[0] = acc;
  } else if (red_n > 0 && !rd.red_sizes.empty() && !rd.kept_sizes.empty() &&
             min_abs_stride(rd.kept_sizes, rd.kept_strides) <
                 min_abs_stride(rd.red_sizes, rd.red_strides)) {
    // Kept elements are densest: fold input rows into the output. Parallel over output chunks,
    // each chunk sees the reduced elements in the same order.
    if constexpr (has_kernels_v<T> && std::is_same_v<Op, SumOp<T>>) {
      // One dense block of columns summed over one strided run of rows (x.sum(0) of a matrix):
      // the column kernel keeps the partial sums in registers. Same order, same bits.
      if (rplan.rows == 1 && kplan.rows == 1 && kplan.inner_stride[0] == 1 &&
          kplan.inner_stride[1] == 1 && rplan.inner_stride[0] > 0) {
        kernels::reduce_cols<T>(kernels::RowReduce::sum, static_cast<std::size_t>(red_n),
                                static_cast<std::size_t>(kplan.inner), xp,
                                static_cast<std::size_t>(rplan.inner_stride[0]), o);
        return keepdim ? out.view(rd.keepdim_shape) : out;
      }
    }
    for (int64_t i = 0; i < out_n; ++i) o[i] = Op::init();
    const int64_t grain_rows =
        std::max<int64_t>(1, elementwise_grain / std::max<int64_t>(1, kplan.inner * red_n));
    parallel_chunks(
        0, static_cast<std::size_t>(kplan.rows), static_cast<std::size_t>(grain_rows),
        [&](std::size_t lo, std::size_t hi) {
          for_each_row(rplan, 0, rplan.rows, [&](const std::array<int64_t, 1>& roff, int64_t rn) {
            for (int64_t j = 0; j < rn; ++j) {
              const int64_t rbase = roff[0] + j * rplan.inner_stride[0];
              for_each_row(kplan, static_cast<int64_t>(lo), static_cast<int64_t>(hi),
                           [&](const std::array<int64_t, 2>& koff, int64_t kn) {
                             T* op = o + koff[0];
                             const T* ip = xp + rbase + koff[1];
                             const int64_t so = kplan.inner_stride[0], si = kplan.inner_stride[1];
                             if constexpr (has_kernels_v<T> && std::is_same_v<Op, SumOp<T>>) {
                               if (so == 1 && si == 1) {
                                 kernels::binary<T>(kernels::BinaryOp::add,
                                                    static_cast<std::size_t>(kn), op, ip, op);
                                 return;
                               }
                             }
                             for (int64_t i = 0; i < kn; ++i)
                               op[i * so] = Op::combine(op[i * so], Op::map(ip[i * si]));
                           });
            }
          });
        });
  } else if (kernel_ok && rplan.rows == 1 && rplan.inner_stride[0] == 1 && red_n > 0 &&
             kplan.inner_stride[0] == 1) {
    // Reduced elements are dense rows: one reduce_rows call per run of output elements.
    const int64_t grain_rows =
        std::max<int64_t>(1, elementwise_grain / std::max<int64_t>(1, red_n));
    parallel_chunks(
        0, static_cast<std::size_t>(out_n), static_cast<std::size_t>(grain_rows),
        [&](std::size_t lo, std::size_t hi) {
          // Treat the output as a flat list; kplan rows may be shorter than the chunk.
          const int64_t kinner = kplan.inner;
          int64_t i = static_cast<int64_t>(lo);
          while (i < static_cast<int64_t>(hi)) {
            const int64_t row = i / kinner, col = i % kinner;
            const int64_t len = std::min<int64_t>(kinner - col, static_cast<int64_t>(hi) - i);
            for_each_row(kplan, row, row + 1, [&](const std::array<int64_t, 2>& koff, int64_t) {
              if constexpr (kernel_ok) {
                kernels::reduce_rows<T>(
                    *Op::row_kernel(), static_cast<std::size_t>(len),
                    static_cast<std::size_t>(red_n), xp + koff[1] + col * kplan.inner_stride[1],
                    static_cast<std::size_t>(kplan.inner_stride[1]), o + koff[0] + col);
              }
            });
            i += len;
          }
        });
  } else {
    // General: each output element reduces its own strided set.
    const int64_t grain = std::max<int64_t>(1, elementwise_grain / std::max<int64_t>(1, red_n));
    parallel_chunks(0, static_cast<std::size_t>(kplan.rows),
                    static_cast<std::size_t>(std::max<int64_t>(1, grain / kplan.inner)),
                    [&](std::size_t lo, std::size_t hi) {
                      for_each_row(kplan, static_cast<int64_t>(lo), static_cast<int64_t>(hi),
                                   [&](const std::array<int64_t, 2>& koff, int64_t kn) {
                                     for (int64_t i = 0; i < kn; ++i) {
                                       o[koff[0] + i * kplan.inner_stride[0]] =
                                           reduce_one(koff[1] + i * kplan.inner_stride[1]);
                                     }
                                   });
                    });
  }
  return keepdim ? out.view(rd.keepdim_shape) : out;
}

// Values and first index of the max (Better = greater) or min along one dim.
template <class T, bool Max>
ValuesIndices<T> arg_reduce(const Tensor<T>& x, int64_t dim, bool keepdim, const char* name) {
  x.check_defined(name);
  const int64_t d = wrap_dim(dim, x.dim(), name);
  const int64_t n = x.dim() == 0 ? 1 : x.size(d);
  EMBER_CHECK_INDEX(n > 0, name, ": cannot take the ", Max ? "max" : "min", " over dimension ", dim,
                    " of size 0 (input shape ", x.shape(), ")");
  const int64_t step = x.dim() == 0 ? 0 : x.stride(d);
  const ReduceDims rd =
      split_dims(x, x.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{d}, name);
  ValuesIndices<T> r{Tensor<T>(rd.kept_sizes), Tensor<int64_t>(rd.kept_sizes)};
  const auto plan =
      make_plan<3>(rd.kept_sizes, {r.values.strides(), r.indices.strides(), rd.kept_strides});
  T* vo = r.values.data();
  int64_t* io = r.indices.data();
  const T* xp = x.data();
  parallel_rows(plan, [&](const std::array<int64_t, 3>& off, int64_t kn) {
    for (int64_t i = 0; i < kn; ++i) {
      const T* p = xp + off[2] + i * plan.inner_stride[2];
      T best = p[0];
      int64_t at = 0;
      for (int64_t j = 1; j < n && best == best; ++j) {
        const T v = p[j * step];
        if (v != v || (Max ? v > best : v < best)) {
          best = v;
          at = j;
        }
      }
      vo[off[0] + i * plan.inner_stride[0]] = best;
      io[off[1] + i * plan.inner_stride[1]] = at;
    }
  });
  if (keepdim && x.dim() > 0) {
    r.values = r.values.view(rd.keepdim_shape);
    r.indices = r.indices.view(rd.keepdim_shape);
  }
  return r;
}

template <class T>
void check_floating(const char* name) {
  static_assert(std::is_floating_point_v<T>, "this reduction needs a floating-point tensor");
  (void)name;
}

}  // namespace detail

// ---- forwards with their backward rules ---------------------------------------------------------
//
// A reduction's gradient is the output gradient with the reduced dims put back as size 1
// (autograd::detail::unreduce), broadcast against the input and scaled by the op's derivative.
// `ks` is the keepdim shape, captured as a value at record time.

template <class T>
Tensor<T> Tensor<T>::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] { return detail::reduce<T, detail::SumOp<T>>(*this, dims, keepdim, "sum"); },
      [&](auto& out) {
        autograd::record(out, "SumBackward", {*this},
                         [ks = autograd::detail::keepdim_shape(shape_, dims, "sum"),
                          in = shape_](const Tensor<T>& g) {
                           // A 0-d g (the whole tensor summed) expands as it is.
                           return std::vector<Tensor<T>>{
                               (g.dim() == 0 ? g : autograd::detail::unreduce(g, ks)).expand(in)};
                         });
      });
}

template <class T>
Tensor<T> Tensor<T>::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  static_assert(std::is_floating_point_v<T>, "mean needs a floating-point tensor");
  check_defined("mean");
  const auto rd = detail::split_dims(*this, dims, "mean");
  const int64_t n = detail::numel_of(rd.red_sizes);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        Tensor<T> s = sum(dims, keepdim);
        // Empty reductions give NaN (0 / 0), as in PyTorch.
        s.div_(static_cast<T>(n));
        return s;
      },
      [&](auto& out) {
        autograd::record(out, "MeanBackward", {*this},
                         [ks = rd.keepdim_shape, in = shape_, n](const Tensor<T>& g) {
                           return std::vector<Tensor<T>>{
                               autograd::detail::unreduce(g, ks).div(static_cast<T>(n)).expand(in)};
                         });
      });
}

template <class T>
Tensor<T> Tensor<T>::prod(const std::vector<int64_t>& dims, bool keepdim) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] { return detail::reduce<T, detail::ProdOp<T>>(*this, dims, keepdim, "prod"); },
      [&](auto& out) {
        autograd::record(
            out, "ProdBackward", {*this},
            [sx = autograd::save(*this, "prod"), dims](const Tensor<T>& g) {
              return std::vector<Tensor<T>>{autograd::detail::prod_backward(sx.get(), g, dims)};
            });
      });
}

namespace detail {

// amax/amin (and max()/min()): the gradient goes to the elements equal to the result, split
// evenly among ties (PyTorch's amax rule).
template <class T>
void record_extremum(Tensor<T>& out, const Tensor<T>& x, const std::vector<int64_t>& dims,
                     const char* name, const char* op) {
  autograd::record(
      out, name, {x},
      [sx = autograd::save(x, op), so = autograd::save(out, op),
       ks = autograd::detail::keepdim_shape(x.shape(), dims, op),
       rdims = wrap_dims(dims, x.dim(), op)](const Tensor<T>& g) {
        const Tensor<T> mask = sx.get().eq(autograd::detail::unreduce(so.get(), ks));
        const Tensor<T> count = mask.sum(rdims, true);
        return std::vector<Tensor<T>>{autograd::detail::unreduce(g, ks).div(count).mul(mask)};
      });
}

// max(dim)/min(dim) values: the gradient goes to the selected index only.
template <class T>
void record_select_extremum(ValuesIndices<T>& r, const Tensor<T>& x, int64_t dim,
                            const char* node_name, const char* name) {
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), name);
  const Shape ks = autograd::detail::keepdim_shape(
      x.shape(), x.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{d}, name);
  // The indices are saved like a tensor (version-checked): changing them in place would move
  // the gradient silently.
  autograd::record(
      r.values, node_name, {x},
      [idx = autograd::save(r.indices, name), ks, in = x.shape(), d](const Tensor<T>& g) {
        const Tensor<T> gk = autograd::detail::unreduce(g, ks);
        if (in.empty()) return std::vector<Tensor<T>>{gk};
        Tensor<T> gx = zeros<T>(in);
        gx.scatter_(d, idx.get().reshape(ks), gk);
        return std::vector<Tensor<T>>{gx};
      });
}

}  // namespace detail

template <class T>
Tensor<T> Tensor<T>::amax(const std::vector<int64_t>& dims, bool keepdim) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] { return detail::reduce<T, detail::MaxOp<T>>(*this, dims, keepdim, "amax"); },
      [&](auto& out) { detail::record_extremum(out, *this, dims, "AmaxBackward", "amax"); });
}

template <class T>
Tensor<T> Tensor<T>::amin(const std::vector<int64_t>& dims, bool keepdim) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] { return detail::reduce<T, detail::MinOp<T>>(*this, dims, keepdim, "amin"); },
      [&](auto& out) { detail::record_extremum(out, *this, dims, "AminBackward", "amin"); });
}

template <class T>
ValuesIndices<T> Tensor<T>::max(int64_t dim, bool keepdim) const {
  if (!autograd::needs_grad(*this)) return detail::arg_reduce<T, true>(*this, dim, keepdim, "max");
  ValuesIndices<T> r;
  {
    NoGradGuard no_grad;
    r = detail::arg_reduce<T, true>(*this, dim, keepdim, "max");
  }
  if constexpr (std::is_floating_point_v<T>)
    detail::record_select_extremum(r, *this, dim, "MaxBackward", "max");
  return r;
}
template <class T>
ValuesIndices<T> Tensor<T>::min(int64_t dim, bool keepdim) const {
  if (!autograd::needs_grad(*this)) return detail::arg_reduce<T, false>(*this, dim, keepdim, "min");
  ValuesIndices<T> r;
  {
    NoGradGuard no_grad;
    r = detail::arg_reduce<T, false>(*this, dim, keepdim, "min");
  }
  if constexpr (std::is_floating_point_v<T>)
    detail::record_select_extremum(r, *this, dim, "MinBackward", "min");
  return r;
}
template <class T>
Tensor<int64_t> Tensor<T>::argmax(int64_t dim, bool keepdim) const {
  return detail::arg_reduce<T, true>(*this, dim, keepdim, "argmax").indices;
}
template <class T>
Tensor<int64_t> Tensor<T>::argmin(int64_t dim, bool keepdim) const {
  return detail::arg_reduce<T, false>(*this, dim, keepdim, "argmin").indices;
}
// Over all elements: the index into the flattened tensor.
template <class T>
Tensor<int64_t> Tensor<T>::argmax() const {
  check_defined("argmax");
  return detail::arg_reduce<T, true>(reshape({-1}), 0, false, "argmax").indices;
}
template <class T>
Tensor<int64_t> Tensor<T>::argmin() const {
  check_defined("argmin");
  return detail::arg_reduce<T, false>(reshape({-1}), 0, false, "argmin").indices;
}

template <class T>
Tensor<T> Tensor<T>::var(const std::vector<int64_t>& dims, bool unbiased, bool keepdim) const {
  static_assert(std::is_floating_point_v<T>, "var needs a floating-point tensor");
  check_defined("var");
  const auto rd = detail::split_dims(*this, dims, "var");
  const int64_t n = detail::numel_of(rd.red_sizes);
  const auto denom = static_cast<T>(unbiased ? n - 1 : n);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        // Two passes (mean, then squared deviations): stable where sum(x^2) - n*mean^2 is not.
        const Tensor<T> centered = sub(mean(dims, true));
        Tensor<T> ss = detail::reduce<T, detail::SumSqOp<T>>(centered, dims, keepdim, "var");
        // n - 1 <= 0 gives inf or NaN like PyTorch.
        ss.div_(denom);
        return ss;
      },
      [&](auto& out) {
        // d var / dx = 2 (x - mean) / denom.
        autograd::record(out, "VarBackward", {*this},
                         [sx = autograd::save(*this, "var"), ks = rd.keepdim_shape, dims,
                          denom](const Tensor<T>& g) {
                           const Tensor<T>& x = sx.get();
                           const Tensor<T> centered = x.sub(x.mean(dims, true));
                           return std::vector<Tensor<T>>{
                               autograd::detail::unreduce(g, ks).mul(T(2) / denom).mul(centered)};
                         });
      });
}

template <class T>
Tensor<T> Tensor<T>::std(const std::vector<int64_t>& dims, bool unbiased, bool keepdim) const {
  static_assert(std::is_floating_point_v<T>, "std needs a floating-point tensor");
  check_defined("std");
  const auto rd = detail::split_dims(*this, dims, "std");
  const int64_t n = detail::numel_of(rd.red_sizes);
  const auto denom = static_cast<T>(unbiased ? n - 1 : n);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        Tensor<T> v = var(dims, unbiased, keepdim);
        v.sqrt_();
        return v;
      },
      [&](auto& out) {
        // d std / dx = (x - mean) / (denom * std); like PyTorch, a zero std gives inf/NaN.
        autograd::record(out, "StdBackward", {*this},
                         [sx = autograd::save(*this, "std"), so = autograd::save(out, "std"),
                          ks = rd.keepdim_shape, dims, denom](const Tensor<T>& g) {
                           const Tensor<T>& x = sx.get();
                           const Tensor<T> centered = x.sub(x.mean(dims, true));
                           const Tensor<T> scale = autograd::detail::unreduce(g, ks).div(
                               autograd::detail::unreduce(so.get(), ks).mul(denom));
                           return std::vector<Tensor<T>>{scale.mul(centered)};
                         });
      });
}

template <class T>
Tensor<T> Tensor<T>::logsumexp(const std::vector<int64_t>& dims, bool keepdim) const {
  static_assert(std::is_floating_point_v<T>, "logsumexp needs a floating-point tensor");
  check_defined("logsumexp");
  const Shape ks = autograd::detail::keepdim_shape(shape_, dims, "logsumexp");
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        // Shift by the max for stability; an infinite max shifts by 0 so -inf rows give -inf.
        Tensor<T> m = amax(dims, true);
        T* mp = m.data();
        for (int64_t i = 0; i < m.numel(); ++i) {
          if (std::isinf(mp[i])) mp[i] = T(0);
        }
        Tensor<T> s = sub(m).exp().sum(dims, true).log().add(m);
        if (!keepdim) s = s.view(detail::split_dims(*this, dims, "logsumexp").kept_sizes);
        return s;
      },
      [&](auto& out) {
        // d logsumexp / dx = exp(x - logsumexp) (the softmax over the reduced dims).
        autograd::record(
            out, "LogsumexpBackward", {*this},
            [sx = autograd::save(*this, "logsumexp"), so = autograd::save(out, "logsumexp"),
             ks](const Tensor<T>& g) {
              const Tensor<T> soft = sx.get().sub(autograd::detail::unreduce(so.get(), ks)).exp();
              return std::vector<Tensor<T>>{autograd::detail::unreduce(g, ks).mul(soft)};
            });
      });
}

template <class T>
Tensor<T> Tensor<T>::norm(double p, const std::vector<int64_t>& dims, bool keepdim) const {
  static_assert(std::is_floating_point_v<T>, "norm needs a floating-point tensor");
  EMBER_CHECK_VALUE(p == 1 || p == 2 || (std::isinf(p) && p > 0),
                    "norm: p must be 1, 2 or inf, got ", p);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        if (p == 1) return detail::reduce<T, detail::SumAbsOp<T>>(*this, dims, keepdim, "norm");
        if (p == 2) {
          Tensor<T> s = detail::reduce<T, detail::SumSqOp<T>>(*this, dims, keepdim, "norm");
          s.sqrt_();
          return s;
        }
        return detail::reduce<T, detail::MaxAbsOp<T>>(*this, dims, keepdim, "norm");
      },
      [&](auto& out) {
        autograd::record(out, "NormBackward", {*this},
                         [sx = autograd::save(*this, "norm"),
                          so = p == 1 ? autograd::SavedTensor<T>() : autograd::save(out, "norm"), p,
                          ks = autograd::detail::keepdim_shape(shape_, dims, "norm"),
                          rdims = detail::wrap_dims(dims, dim(), "norm")](const Tensor<T>& g) {
                           const Tensor<T>& x = sx.get();
                           const Tensor<T> gk = autograd::detail::unreduce(g, ks);
                           // sign(x), with sign(0) = 0 (PyTorch's subgradient at the kink of |x|).
                           const Tensor<T> sign = x.gt(T(0)).sub(x.lt(T(0)));
                           if (p == 1) return std::vector<Tensor<T>>{gk.mul(sign)};
                           const Tensor<T> nk = autograd::detail::unreduce(so.get(), ks);
                           if (p == 2) {
                             // x / ||x||, taken as 0 at the zero vector (PyTorch's subgradient),
                             // not 0/0.
                             const Tensor<T> scale = where(nk.eq(T(0)), T(0), gk.div(nk));
                             return std::vector<Tensor<T>>{scale.mul(x)};
                           }
                           // inf: sign(x) at the elements whose |x| is the max, split evenly among
                           // ties. |x| == norm, written without abs() to keep this rule's
                           // instantiations small.
                           const Tensor<T> mask = x.eq(nk).logical_or(x.eq(nk.neg()));
                           const Tensor<T> count = mask.sum(rdims, true);
                           return std::vector<Tensor<T>>{gk.div(count).mul(mask).mul(sign)};
                         });
      });
}

// ---- free functions -----------------------------------------------------------------------------

template <class T>
Tensor<T> sum(const Tensor<T>& x, const std::vector<int64_t>& dims = {}, bool keepdim = false) {
  return x.sum(dims, keepdim);
}
template <class T>
Tensor<T> mean(const Tensor<T>& x, const std::vector<int64_t>& dims = {}, bool keepdim = false) {
  return x.mean(dims, keepdim);
}
template <class T>
Tensor<T> logsumexp(const Tensor<T>& x, const std::vector<int64_t>& dims, bool keepdim = false) {
  return x.logsumexp(dims, keepdim);
}

}  // namespace ember
