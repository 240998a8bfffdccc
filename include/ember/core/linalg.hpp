// ember: matrix products. matmul follows torch.matmul (1-d operands are promoted and the added
// dim removed again; batch dims broadcast); mm is 2-d only, bmm 3-d only. Every product goes
// through kernels::gemm / gemm_strided_batched; a transposed operand is passed as a transpose
// flag instead of being copied.
#pragma once

#include <algorithm>
#include <array>
#include <type_traits>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/creation.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"
#include "ember/kernels/dispatch.hpp"

namespace ember {

namespace detail {

// How a 2-d matrix (the last two dims) can be handed to gemm without a copy.
struct MatrixLayout {
  bool ok = false;
  bool trans = false;
  int64_t ld = 0;
};

inline MatrixLayout matrix_layout(int64_t rows, int64_t cols, int64_t row_stride,
                                  int64_t col_stride) {
  // Size-1 dims may carry any stride; normalise them first.
  if (cols == 1) col_stride = 1;
  if (rows == 1) row_stride = cols;
  if (col_stride == 1 && row_stride >= std::max<int64_t>(cols, 1)) return {true, false, row_stride};
  if (row_stride == 1 && col_stride >= std::max<int64_t>(rows, 1)) return {true, true, col_stride};
  return {};
}

// c[batch..., m, n] = a[batch..., m, k] @ b[batch..., k, n]; a, b already expanded to the batch.
template <class T>
void batched_gemm(const Tensor<T>& a, const Tensor<T>& b, const Tensor<T>& c) {
  const int64_t nd = a.dim();
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Tensor<T> A = a, B = b;
  MatrixLayout la = matrix_layout(m, k, A.stride(-2), A.stride(-1));
  if (!la.ok) {
    A = A.contiguous();
    la = {true, false, k};
  }
  MatrixLayout lb = matrix_layout(k, n, B.stride(-2), B.stride(-1));
  if (!lb.ok) {
    B = B.contiguous();
    lb = {true, false, n};
  }
  const Shape batch(c.shape().begin(), c.shape().end() - 2);
  const Shape sa(A.strides().begin(), A.strides().end() - 2);
  const Shape sb(B.strides().begin(), B.strides().end() - 2);
  const Shape sc(c.strides().begin(), c.strides().end() - 2);
  const auto plan = make_plan<3>(batch, {sc, sa, sb});
  (void)nd;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill_n(c.data(), static_cast<std::size_t>(c.numel()), T(0));  // c is fresh, contiguous
    return;
  }
  for_each_row(plan, 0, plan.rows, [&](const std::array<int64_t, 3>& off, int64_t cnt) {
    const int64_t str_c = plan.inner_stride[0], str_a = plan.inner_stride[1],
                  str_b = plan.inner_stride[2];
    if (cnt > 1 && str_a >= 0 && str_b >= 0) {
      kernels::gemm_strided_batched<T>(
          la.trans, lb.trans, static_cast<std::size_t>(m), static_cast<std::size_t>(n),
          static_cast<std::size_t>(k), T(1), A.data() + off[1], static_cast<std::size_t>(la.ld),
          static_cast<std::size_t>(str_a), B.data() + off[2], static_cast<std::size_t>(lb.ld),
          static_cast<std::size_t>(str_b), T(0), c.data() + off[0], static_cast<std::size_t>(n),
          static_cast<std::size_t>(str_c), static_cast<std::size_t>(cnt));
    } else {
      for (int64_t i = 0; i < cnt; ++i) {
        kernels::gemm<T>(la.trans, lb.trans, static_cast<std::size_t>(m),
                         static_cast<std::size_t>(n), static_cast<std::size_t>(k), T(1),
                         A.data() + off[1] + i * str_a, static_cast<std::size_t>(la.ld),
                         B.data() + off[2] + i * str_b, static_cast<std::size_t>(lb.ld), T(0),
                         c.data() + off[0] + i * str_c, static_cast<std::size_t>(n));
      }
    }
  });
}

// int64 has no gemm kernel: a plain triple loop (indices and labels rarely multiply).
template <>
inline void batched_gemm<int64_t>(const Tensor<int64_t>& a, const Tensor<int64_t>& b,
                                  const Tensor<int64_t>& c) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const int64_t batch = c.numel() / std::max<int64_t>(1, m * n);
  const Tensor<int64_t> A = a.contiguous().reshape({batch, m, k});
  const Tensor<int64_t> B = b.contiguous().reshape({batch, k, n});
  int64_t* cp = c.data();
  for (int64_t t = 0; t < batch; ++t) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        int64_t acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += A.data()[(t * m + i) * k + p] * B.data()[(t * k + p) * n + j];
        cp[(t * m + i) * n + j] = acc;
      }
    }
  }
}

}  // namespace detail

namespace detail {

// op(a) @ op(b) for 2-d float/double tensors, op = transpose when the flag is set, as one gemm
// call: the transposes are flags, not views or copies (a copy only for layouts gemm cannot
// take). The common case of small graphs (a linear layer at batch 1), where building views and
// batch plans would cost more than the product itself.
template <class T>
Tensor<T> gemm_2d(const Tensor<T>& a, bool ta, const Tensor<T>& b, bool tb) {
  const auto logical = [](const Tensor<T>& t, bool tr) {
    // rows, cols, row stride, col stride of op(t)
    return tr ? std::array<int64_t, 4>{t.size(1), t.size(0), t.stride(1), t.stride(0)}
              : std::array<int64_t, 4>{t.size(0), t.size(1), t.stride(0), t.stride(1)};
  };
  auto la4 = logical(a, ta);
  auto lb4 = logical(b, tb);
  const int64_t m = la4[0], k = la4[1], n = lb4[1];
  MatrixLayout la = matrix_layout(la4[0], la4[1], la4[2], la4[3]);
  MatrixLayout lb = matrix_layout(lb4[0], lb4[1], lb4[2], lb4[3]);
  Tensor<T> A = a, B = b;
  if (!la.ok) {
    A = (ta ? a.t() : a).contiguous();
    la = {true, false, k};
  }
  if (!lb.ok) {
    B = (tb ? b.t() : b).contiguous();
    lb = {true, false, n};
  }
  Tensor<T> out({m, n});
  if (m == 0 || n == 0) return out;
  if (k == 0) {
    std::fill_n(out.data(), static_cast<std::size_t>(m * n), T(0));
    return out;
  }
  kernels::gemm<T>(la.trans, lb.trans, static_cast<std::size_t>(m), static_cast<std::size_t>(n),
                   static_cast<std::size_t>(k), T(1), A.data(), static_cast<std::size_t>(la.ld),
                   B.data(), static_cast<std::size_t>(lb.ld), T(0), out.data(),
                   static_cast<std::size_t>(n));
  return out;
}

// torch.matmul's forward (argument checks included); see the file comment.
template <class T>
Tensor<T> matmul_forward(const Tensor<T>& self, const Tensor<T>& other) {
  self.check_defined("matmul");
  other.check_defined("matmul");
  EMBER_CHECK_SHAPE(self.dim() >= 1 && other.dim() >= 1,
                    "matmul: both arguments need at least 1 "
                    "dimension, got shapes ",
                    self.shape(), " and ", other.shape());
  if constexpr (std::is_floating_point_v<T>) {
    if (self.dim() == 2 && other.dim() == 2) {
      EMBER_CHECK_SHAPE(self.size(1) == other.size(0), "matmul: shapes ", self.shape(), " and ",
                        other.shape(), " cannot be multiplied");
      return gemm_2d(self, false, other, false);
    }
  }
  // Promote 1-d operands: a vector on the left is a row, on the right a column.
  const Tensor<T> a = self.dim() == 1 ? self.unsqueeze(0) : self;
  const Tensor<T> b = other.dim() == 1 ? other.unsqueeze(1) : other;
  EMBER_CHECK_SHAPE(a.size(-1) == b.size(-2), "matmul: shapes ", self.shape(), " and ",
                    other.shape(), " cannot be multiplied");
  const Shape ba(a.shape().begin(), a.shape().end() - 2);
  const Shape bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  Shape sa = batch, sb = batch, sc = batch;
  sa.insert(sa.end(), {a.size(-2), a.size(-1)});
  sb.insert(sb.end(), {b.size(-2), b.size(-1)});
  sc.insert(sc.end(), {a.size(-2), b.size(-1)});
  Tensor<T> out(sc);
  batched_gemm<T>(a.expand(sa), b.expand(sb), out);
  // Drop the dims that the 1-d promotion added.
  if (self.dim() == 1) out = out.squeeze(-2);
  if (other.dim() == 1) out = out.squeeze(-1);
  return out;
}

// The gradients of out = a @ b (torch.matmul semantics) for the inputs that need them:
// ga = g @ b^T and gb = a^T @ g on the 1-d-promoted operands, then summed over the batch dims
// that broadcasting added or stretched. Every product goes through the GEMM kernels with the
// transposes as flags (gemm_2d for 2-d operands, transpose views + matmul otherwise), never a
// loop.
template <class T>
std::vector<Tensor<T>> matmul_backward(const Tensor<T>& g, const Tensor<T>& a, const Tensor<T>& b,
                                       const Shape& shape_a, const Shape& shape_b, bool need_a,
                                       bool need_b) {
  if (shape_a.size() == 2 && shape_b.size() == 2) {
    return {need_a ? gemm_2d(g, false, b, true) : Tensor<T>(),
            need_b ? gemm_2d(a, true, g, false) : Tensor<T>()};
  }
  const bool a_vec = shape_a.size() == 1, b_vec = shape_b.size() == 1;
  Tensor<T> gp = g;  // g with the dims that 1-d promotion removed put back: [batch..., m, n]
  if (b_vec) gp = gp.unsqueeze(-1);
  if (a_vec) gp = gp.unsqueeze(-2);
  Tensor<T> ga, gb;
  if (need_a) {
    const Tensor<T> B = b_vec ? b.unsqueeze(1) : b;
    const Shape pa = a_vec ? Shape{1, shape_a[0]} : shape_a;
    ga = autograd::sum_to(gp.matmul(B.transpose(-1, -2)), pa).reshape(shape_a);
  }
  if (need_b) {
    const Tensor<T> A = a_vec ? a.unsqueeze(0) : a;
    const Shape pb = b_vec ? Shape{shape_b[0], 1} : shape_b;
    if (pb.size() == 2 && gp.dim() > 2) {
      // A 2-d b against a batched a (a linear layer on [batch..., m, k]): fold the batch into
      // the rows, so the batch sum happens inside one GEMM instead of after it.
      const int64_t k = A.size(-1), n = gp.size(-1);
      gb = A.reshape({-1, k}).t().matmul(gp.reshape({-1, n})).reshape(shape_b);
    } else {
      gb = autograd::sum_to(A.transpose(-1, -2).matmul(gp), pb).reshape(shape_b);
    }
  }
  return {ga, gb};
}

// Records out = a @ b; saves an operand only when the other one needs its gradient.
template <class T>
void record_matmul(Tensor<T>& out, const Tensor<T>& a, const Tensor<T>& b, const char* name,
                   const char* op) {
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  autograd::record(out, name, {a, b},
                   [sa = need_b ? autograd::save(a, op) : autograd::SavedTensor<T>(),
                    sb = need_a ? autograd::save(b, op) : autograd::SavedTensor<T>(),
                    shape_a = a.shape(), shape_b = b.shape(), need_a, need_b](const Tensor<T>& g) {
                     return matmul_backward(g, sa.get(), sb.get(), shape_a, shape_b, need_a,
                                            need_b);
                   });
}

}  // namespace detail

template <class T>
Tensor<T> Tensor<T>::matmul(const Tensor& other) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this, other), [&] { return detail::matmul_forward(*this, other); },
      [&](auto& out) { detail::record_matmul(out, *this, other, "MatmulBackward", "matmul"); });
}

template <class T>
Tensor<T> Tensor<T>::mm(const Tensor& other) const {
  check_defined("mm");
  other.check_defined("mm");
  EMBER_CHECK_SHAPE(dim() == 2 && other.dim() == 2, "mm: expects 2-d tensors, got shapes ", shape_,
                    " and ", other.shape());
  EMBER_CHECK_SHAPE(size(1) == other.size(0), "mm: shapes ", shape_, " and ", other.shape(),
                    " cannot be multiplied");
  return autograd::differentiable<T>(
      autograd::needs_grad(*this, other), [&] { return detail::matmul_forward(*this, other); },
      [&](auto& out) { detail::record_matmul(out, *this, other, "MmBackward", "mm"); });
}

template <class T>
Tensor<T> Tensor<T>::bmm(const Tensor& other) const {
  check_defined("bmm");
  other.check_defined("bmm");
  EMBER_CHECK_SHAPE(dim() == 3 && other.dim() == 3, "bmm: expects 3-d tensors, got shapes ", shape_,
                    " and ", other.shape());
  EMBER_CHECK_SHAPE(size(0) == other.size(0), "bmm: batch sizes differ: shapes ", shape_, " and ",
                    other.shape());
  EMBER_CHECK_SHAPE(size(2) == other.size(1), "bmm: shapes ", shape_, " and ", other.shape(),
                    " cannot be multiplied");
  return autograd::differentiable<T>(
      autograd::needs_grad(*this, other), [&] { return detail::matmul_forward(*this, other); },
      [&](auto& out) { detail::record_matmul(out, *this, other, "BmmBackward", "bmm"); });
}

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  return a.matmul(b);
}
template <class T>
Tensor<T> mm(const Tensor<T>& a, const Tensor<T>& b) {
  return a.mm(b);
}
template <class T>
Tensor<T> bmm(const Tensor<T>& a, const Tensor<T>& b) {
  return a.bmm(b);
}

}  // namespace ember
