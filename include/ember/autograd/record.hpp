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
#include "ember/kernels/dispatch.hpp"

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
//
// The common case of a bias (shape equal to g's trailing dims, ones or nothing before them) skips
// the general reduction: a contiguous g is an [M, N] matrix whose rows are summed by the same
// column kernel, in the same order, as the general sum would use (so the same bits), and with
// M == 1 the gradient is g itself, reshaped.
template <class T>
Tensor<T> sum_to(const Tensor<T>& g, const Shape& shape) {
  if (!g.defined() || g.shape() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  if constexpr (std::is_floating_point_v<T>) {
    if (lead >= 0) {
      // k: the first dim from which shape (left-padded with ones) equals g's shape.
      int64_t k = g.dim();
      while (k > lead && shape[static_cast<std::size_t>(k - 1 - lead)] == g.size(k - 1)) --k;
      bool ones_before = true;
      for (int64_t d = lead; d < k; ++d)
        ones_before &= shape[static_cast<std::size_t>(d - lead)] == 1;
      if (ones_before) {
        int64_t m = 1, n = 1;
        for (int64_t d = 0; d < g.dim(); ++d) (d < k ? m : n) *= g.size(d);
        if (m == 1) return g.reshape(shape);
        if (m > 1 && n > 1 && g.is_contiguous()) {
          Tensor<T> r(shape);
          kernels::reduce_cols<T>(kernels::RowReduce::sum, static_cast<std::size_t>(m),
                                  static_cast<std::size_t>(n), g.data(),
                                  static_cast<std::size_t>(n), r.data());
          return r;
        }
      }
    }
  }
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
