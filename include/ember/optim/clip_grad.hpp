// ember::nn::utils::clip_grad_norm_ and clip_grad_value_ (PyTorch's names and semantics). They
// live beside the optimizers because they act on gradients right before step().
//
//   double total = ember::nn::utils::clip_grad_norm_(params, 1.0);  // L2 norm before clipping
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::nn::utils {

namespace detail {

// sum |g|^p (or max |g| when p is infinite) over one gradient, accumulated in double.
template <class T>
double grad_norm_part(const Tensor<T>& g, double p) {
  const Tensor<T> c = g.is_contiguous() ? g : g.contiguous();
  const T* x = c.data();
  const int64_t n = c.numel();
  double acc = 0.0;
  if (std::isinf(p)) {
    for (int64_t i = 0; i < n; ++i) acc = std::max(acc, static_cast<double>(std::abs(x[i])));
    // max() drops NaN: report it explicitly so error_if_nonfinite sees it.
    for (int64_t i = 0; i < n; ++i)
      if (std::isnan(x[i])) return std::numeric_limits<double>::quiet_NaN();
  } else if (p == 2.0) {
    for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  } else if (p == 1.0) {
    for (int64_t i = 0; i < n; ++i) acc += std::abs(static_cast<double>(x[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) acc += std::pow(std::abs(static_cast<double>(x[i])), p);
  }
  return acc;
}

}  // namespace detail

// Scales all gradients together so that their total norm (the norm of all gradients
// concatenated) is at most max_norm; returns the total norm before clipping. norm_type: any
// p >= 1, or infinity (max |g|). Parameters without a gradient are skipped.
template <class T>
double clip_grad_norm_(const std::vector<Tensor<T>>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false) {
  EMBER_CHECK_VALUE(norm_type >= 1.0, "clip_grad_norm_: invalid norm_type: ", norm_type,
                    " (expected p >= 1 or infinity)");
  EMBER_CHECK_VALUE(max_norm >= 0.0, "clip_grad_norm_: invalid max_norm: ", max_norm,
                    " (expected max_norm >= 0)");
  std::vector<Tensor<T>> grads;
  for (const auto& p : parameters) {
    Tensor<T> g = p.grad();
    if (g.defined()) grads.push_back(g);
  }
  if (grads.empty()) return 0.0;
  const bool inf_norm = std::isinf(norm_type);
  double acc = 0.0;
  for (const auto& g : grads) {
    const double part = detail::grad_norm_part(g, norm_type);
    acc = inf_norm ? (std::isnan(part) ? part : std::max(acc, part)) : acc + part;
  }
  const double total =
      inf_norm ? acc : (norm_type == 2.0 ? std::sqrt(acc) : std::pow(acc, 1.0 / norm_type));
  EMBER_CHECK_VALUE(!error_if_nonfinite || std::isfinite(total),
                    "clip_grad_norm_: the total norm of order ", norm_type,
                    " of the gradients is non-finite (", total,
                    "), so it cannot be clipped; pass error_if_nonfinite = false to clip anyway");
  // PyTorch's rule: scale by min(1, max_norm / (total + 1e-6)) unconditionally.
  const T coef = static_cast<T>(std::min(1.0, max_norm / (total + 1e-6)));
  NoGradGuard no_grad;
  for (auto& g : grads) g.mul_(coef);
  return total;
}

// Clamps every gradient element into [-clip_value, clip_value].
template <class T>
void clip_grad_value_(const std::vector<Tensor<T>>& parameters, double clip_value) {
  EMBER_CHECK_VALUE(clip_value >= 0.0, "clip_grad_value_: invalid clip_value: ", clip_value,
                    " (expected clip_value >= 0)");
  NoGradGuard no_grad;
  const T v = static_cast<T>(clip_value);
  for (const auto& p : parameters) {
    Tensor<T> g = p.grad();
    if (g.defined()) g.clamp_(-v, v);
  }
}

}  // namespace ember::nn::utils
