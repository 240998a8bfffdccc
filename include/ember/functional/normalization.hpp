// ember: batch_norm, layer_norm and group_norm (ember::F).
//
// All three share one step, xhat = (x - mean) * rsqrt(var + eps) over some dims (biased var),
// with a fused backward gx = rsqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat)) instead of
// the chain through mean, var, sub, rsqrt and mul (bench_nn: about as fast as the composite for
// [64, 512], since both are built from the same tensor ops; raw row loops would be the next
// step). The affine part (xhat * weight + bias) gets
// its gradients from mul and add.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/autograd/record.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"

namespace ember::F {

namespace detail {

template <class T>
struct Normalized {
  Tensor<T> xhat;  // differentiable w.r.t. x
  Tensor<T> mean;  // detached, keepdim
  Tensor<T> var;   // detached, biased, keepdim
};

template <class T>
Normalized<T> normalize(const Tensor<T>& x, const std::vector<int64_t>& dims, double eps) {
  Normalized<T> r;
  const Tensor<T> xd = x.detach();
  {
    NoGradGuard no_grad;
    r.mean = xd.mean(dims, true);
    r.var = xd.var(dims, /*unbiased=*/false, /*keepdim=*/true);
  }
  const Tensor<T> invstd = r.var.add(static_cast<T>(eps)).rsqrt();
  r.xhat = autograd::differentiable<T>(
      autograd::needs_grad(x), [&] { return xd.sub(r.mean).mul(invstd); },
      [&](Tensor<T>& out) {
        autograd::record(
            out, "NormalizeBackward", {x},
            [sxhat = autograd::save(out, "normalize"), invstd, dims](const Tensor<T>& g) {
              const Tensor<T>& xhat = sxhat.get();
              const Tensor<T> gx =
                  g.sub(g.mean(dims, true)).sub(xhat.mul(g.mul(xhat).mean(dims, true))).mul(invstd);
              return std::vector<Tensor<T>>{gx};
            });
      });
  return r;
}

// y = xhat * weight + bias with weight and bias viewed as `shape` (either may be undefined).
template <class T>
Tensor<T> affine(const Tensor<T>& xhat, const Tensor<T>& weight, const Tensor<T>& bias,
                 const Shape& shape) {
  Tensor<T> y = xhat;
  if (weight.defined()) y = y.mul(weight.reshape(shape));
  if (bias.defined()) y = y.add(bias.reshape(shape));
  return y;
}

// [1, C, 1, ...] for an input of x's rank.
inline Shape channel_shape(int64_t c, int64_t rank) {
  Shape s(static_cast<std::size_t>(rank), 1);
  s[1] = c;
  return s;
}

// "2, 3" for [2, 3]: the tail of an expected shape in messages.
inline std::string shape_tail(const Shape& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out;
}

template <class T>
void check_channel_param(const Tensor<T>& t, int64_t c, const char* op, const char* what) {
  EMBER_CHECK_SHAPE(!t.defined() || (t.dim() == 1 && t.size(0) == c), op, ": ", what,
                    " must have shape [", c, "], got ", t.shape());
}

}  // namespace detail

// x: [N, C, *]. training: normalises with the batch statistics of each channel and, when the
// running buffers are given, updates them in place: running = (1 - momentum) * running +
// momentum * batch (unbiased variance). Otherwise normalises with the running statistics.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& x, const Tensor<T>& running_mean,
                     const Tensor<T>& running_var, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), bool training = false,
                     double momentum = 0.1, double eps = 1e-5) {
  x.check_defined("batch_norm");
  EMBER_CHECK_SHAPE(x.dim() >= 2, "batch_norm: expected an input of shape [N, C, *], got ",
                    x.shape());
  const int64_t c = x.size(1);
  detail::check_channel_param(running_mean, c, "batch_norm", "running_mean");
  detail::check_channel_param(running_var, c, "batch_norm", "running_var");
  detail::check_channel_param(weight, c, "batch_norm", "weight");
  detail::check_channel_param(bias, c, "batch_norm", "bias");
  const Shape cshape = detail::channel_shape(c, x.dim());
  if (!training) {
    EMBER_CHECK_STATE(running_mean.defined() && running_var.defined(),
                      "batch_norm: running_mean and running_var are needed in eval mode");
    const Tensor<T> invstd = running_var.add(static_cast<T>(eps)).rsqrt().reshape(cshape);
    const Tensor<T> xhat = x.sub(running_mean.reshape(cshape)).mul(invstd);
    return detail::affine(xhat, weight, bias, cshape);
  }
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  const int64_t n = c > 0 ? x.numel() / c : 0;
  EMBER_CHECK_VALUE(n > 1,
                    "batch_norm: expected more than 1 value per channel when training, "
                    "got input of shape ",
                    x.shape());
  const detail::Normalized<T> nr = detail::normalize(x, dims, eps);
  if (running_mean.defined() && running_var.defined()) {
    NoGradGuard no_grad;
    const T m = static_cast<T>(momentum);
    Tensor<T> rm = running_mean, rv = running_var;
    rm.mul_(T(1) - m).add_(nr.mean.reshape({c}).mul(m));
    const T unbias = static_cast<T>(static_cast<double>(n) / static_cast<double>(n - 1));
    rv.mul_(T(1) - m).add_(nr.var.reshape({c}).mul(m * unbias));
  }
  return detail::affine(nr.xhat, weight, bias, cshape);
}

// Normalises over the last normalized_shape.size() dims, which must equal normalized_shape;
// weight and bias (optional) have shape normalized_shape.
template <class T>
Tensor<T> layer_norm(const Tensor<T>& x, const Shape& normalized_shape,
                     const Tensor<T>& weight = Tensor<T>(), const Tensor<T>& bias = Tensor<T>(),
                     double eps = 1e-5) {
  x.check_defined("layer_norm");
  const auto k = static_cast<int64_t>(normalized_shape.size());
  bool ok = k >= 1 && x.dim() >= k;
  for (int64_t i = 0; ok && i < k; ++i)
    ok = x.size(x.dim() - k + i) == normalized_shape[static_cast<std::size_t>(i)];
  EMBER_CHECK_SHAPE(ok, "layer_norm: expected input of shape [*, ",
                    detail::shape_tail(normalized_shape), "], got ", x.shape());
  EMBER_CHECK_SHAPE(!weight.defined() || weight.shape() == normalized_shape,
                    "layer_norm: weight must have shape ", normalized_shape, ", got ",
                    weight.shape());
  EMBER_CHECK_SHAPE(!bias.defined() || bias.shape() == normalized_shape,
                    "layer_norm: bias must have shape ", normalized_shape, ", got ", bias.shape());
  std::vector<int64_t> dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  const detail::Normalized<T> nr = detail::normalize(x, dims, eps);
  return detail::affine(nr.xhat, weight, bias, normalized_shape);
}

// x: [N, C, *] with C divisible by num_groups; each group of C / num_groups channels is
// normalised per sample; weight and bias (optional) have shape [C].
template <class T>
Tensor<T> group_norm(const Tensor<T>& x, int64_t num_groups, const Tensor<T>& weight = Tensor<T>(),
                     const Tensor<T>& bias = Tensor<T>(), double eps = 1e-5) {
  x.check_defined("group_norm");
  EMBER_CHECK_SHAPE(x.dim() >= 2, "group_norm: expected an input of shape [N, C, *], got ",
                    x.shape());
  const int64_t c = x.size(1);
  EMBER_CHECK_VALUE(num_groups > 0 && c % num_groups == 0,
                    "group_norm: expected the number of "
                    "channels ",
                    c, " to be divisible by num_groups ", num_groups);
  detail::check_channel_param(weight, c, "group_norm", "weight");
  detail::check_channel_param(bias, c, "group_norm", "bias");
  const Tensor<T> xr = x.reshape({x.size(0), num_groups, -1});
  const detail::Normalized<T> nr = detail::normalize(xr, {2}, eps);
  return detail::affine(nr.xhat.reshape(x.shape()), weight, bias,
                        detail::channel_shape(c, x.dim()));
}

}  // namespace ember::F
