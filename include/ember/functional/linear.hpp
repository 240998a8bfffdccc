// ember: F::linear, y = x W^T + b over the last dim of x (any leading dims).
#pragma once

#include <type_traits>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::F {

namespace detail {

// x [m, in] @ weight^T as one GEMM with the transpose as a flag. The backward computes weight's
// gradient as g^T @ x, directly in weight's [out, in] layout: through x.mm(weight.t()) it came out
// as a transposed view of x^T @ g, which the gradient accumulation then copied with a strided
// (transposing) loop.
template <class T>
Tensor<T> linear_2d(const Tensor<T>& x, const Tensor<T>& weight) {
  return autograd::differentiable<T>(
      autograd::needs_grad(x, weight),
      [&] { return ember::detail::gemm_2d(x, false, weight, true); },
      [&](Tensor<T>& out) {
        const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
        autograd::record(
            out, "MmBackward", {x, weight},
            [sx = need_w ? autograd::save(x, "linear") : autograd::SavedTensor<T>(),
             sw = need_x ? autograd::save(weight, "linear") : autograd::SavedTensor<T>(), need_x,
             need_w](const Tensor<T>& g) {
              return std::vector<Tensor<T>>{
                  need_x ? ember::detail::gemm_2d(g, false, sw.get(), false) : Tensor<T>(),
                  need_w ? ember::detail::gemm_2d(g, true, sx.get(), false) : Tensor<T>()};
            });
      });
}

// x @ weight^T for a 2-d x.
template <class T>
Tensor<T> linear_mm(const Tensor<T>& x, const Tensor<T>& weight) {
  if constexpr (std::is_floating_point_v<T>) {
    return linear_2d(x, weight);
  } else {
    return x.mm(weight.t());
  }
}

}  // namespace detail

// x: [..., in], weight: [out, in], bias: [out] or undefined. Gradients: x @ weight^T's own
// backward (detail::linear_2d) and add's.
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>()) {
  x.check_defined("linear");
  weight.check_defined("linear");
  EMBER_CHECK_SHAPE(weight.dim() == 2, "linear: weight must be 2-d [out, in], got ",
                    weight.shape());
  EMBER_CHECK_SHAPE(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input of shape ",
                    x.shape(), " does not match weight of shape ", weight.shape(),
                    " (expected [..., ", weight.size(1), "])");
  EMBER_CHECK_SHAPE(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)),
                    "linear: bias of shape ", bias.shape(), " does not match weight of shape ",
                    weight.shape());
  Tensor<T> y;
  if (x.dim() == 2) {
    y = detail::linear_mm(x, weight);
  } else if (x.dim() == 1) {
    y = detail::linear_mm(x.unsqueeze(0), weight).squeeze(0);
  } else {
    // Leading dims folded into rows: one GEMM instead of a batched matmul.
    Shape out_shape = x.shape();
    out_shape.back() = weight.size(0);
    y = detail::linear_mm(x.reshape({-1, x.size(-1)}), weight).reshape(out_shape);
  }
  return bias.defined() ? y.add(bias) : y;
}

}  // namespace ember::F
