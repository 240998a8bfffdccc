// ember: what an op needs to record its backward: differentiable() runs the forward (without
// recording the op's internal steps) and then records, and sum_to() folds a broadcast gradient
// back to an input's shape.
#pragma once

#include <type_traits>
#include <utility>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/autograd/node.hpp"
#include "ember/core/tensor_base.hpp"

namespace ember::autograd {

// When `recording`, runs forward() with recording off (its internal views and copies are not
// part of the graph), then record_fn(out); otherwise just forward().
template <class T, class Forward, class Record>
Tensor<T> differentiable(bool recording, Forward&& forward, Record&& record_fn) {
  if constexpr (!std::is_floating_point_v<T>) {
    (void)recording;
    (void)record_fn;
    return forward();
  } else {
    if (!recording) return forward();
    Tensor<T> out;
    {
      NoGradGuard no_grad;
      out = forward();
    }
    record_fn(out);
    return out;
  }
}

// The gradient of a broadcast: sums g over the dims that broadcasting added or stretched, so the
// result has `shape` (PyTorch's sum_to_size).
template <class T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  if (!g.defined() || g.shape() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < g.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[static_cast<std::size_t>(d - lead)] == 1 && g.size(d) != 1) {
      dims.push_back(d);
    }
  }
  Tensor<T> r = dims.empty() ? g : g.sum(dims, /*keepdim=*/true);
  return r.reshape(shape);
}

}  // namespace ember::autograd

namespace ember::autograd {

// In-place ops call this first: writing into a tensor that is part of a recorded graph would make
// its gradient wrong, so it is an error while recording (under NoGradGuard it is allowed, which is
// how optimizers update parameters).
template <class T>
void check_inplace(const Tensor<T>& t, const char* op) {
  if constexpr (std::is_floating_point_v<T>) {
    EMBER_CHECK_STATE(!(is_grad_enabled() && t.requires_grad()), op,
                      ": cannot modify in place a tensor that requires grad while gradients are "
                      "recorded (",
                      t.is_leaf() ? "a leaf" : "an op result", " of shape ", t.shape(),
                      "); use the out-of-place form, or do it under NoGradGuard");
  } else {
    (void)t;
    (void)op;
  }
}

}  // namespace ember::autograd
