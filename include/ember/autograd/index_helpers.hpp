// ember: helpers of the index-driven backward rules: masking a gradient by a condition (where,
// masked_fill), wrapping index_select's negative indices, and padding a gathered gradient back to
// a larger source shape (scatter). Only core headers below elementwise.hpp are used, so
// elementwise.hpp may include this one.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/iterate.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"

namespace ember::detail {

// g where (cond != 0) == keep_true, 0 elsewhere; cond broadcasts to g's shape.
template <class T, class M>
Tensor<T> mask_grad(const Tensor<T>& g, const Tensor<M>& cond, bool keep_true) {
  Tensor<T> out(g.shape());
  const Tensor<M> c = cond.expand(g.shape());
  const auto plan = make_plan<3>(g.shape(), {out.strides(), g.strides(), c.strides()});
  T* o = out.data();
  const T* gp = g.data();
  const M* cp = c.data();
  parallel_rows(plan, [&](const std::array<int64_t, 3>& off, int64_t n) {
    const auto& s = plan.inner_stride;
    for (int64_t i = 0; i < n; ++i) {
      const bool on = (cp[off[2] + i * s[2]] != M(0)) == keep_true;
      o[off[0] + i * s[0]] = on ? gp[off[1] + i * s[1]] : T(0);
    }
  });
  return out;
}

// index (0-d or 1-d) as a 1-d tensor with negative entries wrapped by n (index_select allows
// them; scatter_add, used by its backward, does not). The forward already checked the range.
inline Tensor<int64_t> wrap_indices(const Tensor<int64_t>& index, int64_t n) {
  const Tensor<int64_t> idx = index.reshape({-1}).contiguous();
  Tensor<int64_t> out({idx.numel()});
  for (int64_t i = 0; i < idx.numel(); ++i) {
    const int64_t j = idx.data()[i];
    out.data()[i] = j < 0 ? j + n : j;
  }
  return out;
}

// part (shape <= shape in every dim) placed at the origin of a zero tensor of `shape`: scatter's
// src may be larger than index, and only its leading block is read.
template <class T>
Tensor<T> pad_to(const Tensor<T>& part, const Shape& shape) {
  if (part.shape() == shape) return part;
  Tensor<T> out = zeros_for_grad<T>(shape);
  Tensor<T> block = out;
  for (int64_t d = 0; d < part.dim(); ++d) block = block.narrow(d, 0, part.size(d));
  block.copy_(part);
  return out;
}

// Backward of where(cond, a, b): g goes to a where cond holds and to b elsewhere, each summed back
// over the dims it was broadcast along. cond is not differentiable.
struct WhereBackward {
  template <class T, class M>
  static void record(Tensor<T>& out, const Tensor<M>& cond, const Tensor<T>& a,
                     const Tensor<T>& b) {
    autograd::record(out, "WhereBackward", {a, b},
                     [sc = autograd::save(cond, "where"), na = a.requires_grad(),
                      nb = b.requires_grad(), sa = a.shape(), sb = b.shape()](const Tensor<T>& g) {
                       return std::vector<Tensor<T>>{
                           na ? autograd::sum_to(mask_grad(g, sc.get(), true), sa) : Tensor<T>(),
                           nb ? autograd::sum_to(mask_grad(g, sc.get(), false), sb) : Tensor<T>()};
                     });
  }
};

}  // namespace ember::detail
