// ember: F::linear, y = x W^T + b over the last dim of x (any leading dims).
#pragma once

#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::F {

// x: [..., in], weight: [out, in], bias: [out] or undefined. Gradients come from matmul and add.
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
    y = x.mm(weight.t());
  } else if (x.dim() == 1) {
    y = x.unsqueeze(0).mm(weight.t()).squeeze(0);
  } else {
    // Leading dims folded into rows: one GEMM instead of a batched matmul.
    Shape out_shape = x.shape();
    out_shape.back() = weight.size(0);
    y = x.reshape({-1, x.size(-1)}).mm(weight.t()).reshape(out_shape);
  }
  return bias.defined() ? y.add(bias) : y;
}

}  // namespace ember::F
