// ember: whole-tensor comparisons that answer with one bool: equal and allclose.
#pragma once

#include <cmath>

#include "ember/core/iterate.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"

namespace ember {

// Same shape and the same values (NaN is never equal, as in PyTorch).
template <class T>
bool equal(const Tensor<T>& a, const Tensor<T>& b) {
  a.check_defined("equal");
  b.check_defined("equal");
  if (a.shape() != b.shape()) return false;
  const auto plan = detail::make_plan<2>(a.shape(), {a.strides(), b.strides()});
  bool same = true;
  detail::for_each_row(plan, 0, plan.rows, [&](const std::array<int64_t, 2>& off, int64_t n) {
    for (int64_t i = 0; i < n && same; ++i) {
      same = a.data()[off[0] + i * plan.inner_stride[0]] ==
             b.data()[off[1] + i * plan.inner_stride[1]];
    }
  });
  return same;
}

// |a - b| <= atol + rtol * |b| everywhere, after broadcasting (torch.allclose).
template <class T>
bool allclose(const Tensor<T>& a, const Tensor<T>& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false) {
  a.check_defined("allclose");
  b.check_defined("allclose");
  const Shape shape = detail::broadcast_shapes(a.shape(), b.shape(), "allclose");
  const Tensor<T> x = a.expand(shape), y = b.expand(shape);
  const auto plan = detail::make_plan<2>(shape, {x.strides(), y.strides()});
  bool close = true;
  detail::for_each_row(plan, 0, plan.rows, [&](const std::array<int64_t, 2>& off, int64_t n) {
    for (int64_t i = 0; i < n && close; ++i) {
      const auto u = static_cast<double>(x.data()[off[0] + i * plan.inner_stride[0]]);
      const auto v = static_cast<double>(y.data()[off[1] + i * plan.inner_stride[1]]);
      if (std::isnan(u) || std::isnan(v)) {
        close = equal_nan && std::isnan(u) && std::isnan(v);
      } else if (std::isinf(u) || std::isinf(v)) {
        close = u == v;
      } else {
        close = std::fabs(u - v) <= atol + rtol * std::fabs(v);
      }
    }
  });
  return close;
}

}  // namespace ember
