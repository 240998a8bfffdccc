// ember::F: loss functions, PyTorch semantics (torch.nn.functional). Each is composed of
// differentiable Tensor ops, so its gradient comes from autograd; the log-sum-exp forms keep them
// numerically stable for large logits.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/error.hpp"
#include "ember/functional/activation.hpp"

namespace ember::F {

enum class Reduction { none, mean, sum };

namespace detail {

template <class T>
Tensor<T> reduce_loss(const Tensor<T>& loss, Reduction r) {
  switch (r) {
    case Reduction::none:
      return loss;
    case Reduction::sum:
      return loss.sum();
    case Reduction::mean:
      break;
  }
  return loss.mean();
}

template <class T>
void check_same_shape(const Tensor<T>& input, const Tensor<T>& target, const char* op) {
  EMBER_CHECK_SHAPE(input.shape() == target.shape(), op, ": input of shape ", input.shape(),
                    " and target of shape ", target.shape(), " differ");
}

// log_softmax over dim 1 (the class dim): the fused row kernel with its own backward.
template <class T>
Tensor<T> log_softmax_classes(const Tensor<T>& x) {
  return log_softmax(x, 1);
}

// Checks class-index targets against [0, C) (ignore_index excepted) and the input's shape:
// input [N, C, d...], target [N, d...].
inline void check_class_targets(const Shape& input, const Tensor<int64_t>& target,
                                int64_t ignore_index, const char* op) {
  Shape expected = input;
  expected.erase(expected.begin() + 1);
  EMBER_CHECK_SHAPE(input.size() >= 2 && target.shape() == expected, op, ": input of shape ", input,
                    " expects class-index targets of shape ", expected, ", got ", target.shape());
  const int64_t classes = input[1];
  const Tensor<int64_t> t = target.contiguous();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t c = t.data()[i];
    EMBER_CHECK_INDEX(c == ignore_index || (c >= 0 && c < classes), op, ": target ", c,
                      " is out of range for ", classes, " classes");
  }
}

// Moves the class dim last and flattens: [N, C, d...] -> [M, C].
template <class T>
Tensor<T> classes_last(const Tensor<T>& x) {
  if (x.dim() == 2) return x;
  std::vector<int64_t> perm{0};
  for (int64_t d = 2; d < x.dim(); ++d) perm.push_back(d);
  perm.push_back(1);
  return x.permute(perm).reshape({-1, x.size(1)});
}

}  // namespace detail

// nll_loss(log_probs [N, C, d...], target [N, d...]): -weight[t] * log_probs[t], averaged over
// the summed weights of the non-ignored targets for mean (PyTorch's definition).
template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Tensor<int64_t>& target,
                   const Tensor<T>& weight = Tensor<T>(), int64_t ignore_index = -100,
                   Reduction reduction = Reduction::mean) {
  detail::check_class_targets(log_probs.shape(), target, ignore_index, "nll_loss");
  const int64_t classes = log_probs.size(1);
  EMBER_CHECK_SHAPE(!weight.defined() || weight.shape() == Shape{classes},
                    "nll_loss: weight of shape ", weight.shape(), " given for ", classes,
                    " classes");
  const Tensor<T> lp = detail::classes_last(log_probs);  // [M, C]
  const Tensor<int64_t> t = target.reshape({-1});        // [M]
  const Tensor<T> valid = t.ne(ignore_index).template to<T>();
  const Tensor<int64_t> safe_t = t.mul(t.ne(ignore_index));  // ignored rows read class 0
  Tensor<T> w = valid;
  if (weight.defined()) w = w.mul(weight.index_select(0, safe_t));
  Tensor<T> loss = lp.gather(1, safe_t.unsqueeze(1)).squeeze(1).mul(w).neg();  // [M]
  if (reduction == Reduction::none) return loss.reshape(target.shape());
  if (reduction == Reduction::sum) return loss.sum();
  return loss.sum().div(w.sum());
}

// cross_entropy with class-index targets: input [N, C, d...], target [N, d...].
// label_smoothing mixes the one-hot target with the uniform distribution over classes.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& input, const Tensor<int64_t>& target,
                        const Tensor<T>& weight = Tensor<T>(), int64_t ignore_index = -100,
                        Reduction reduction = Reduction::mean, double label_smoothing = 0.0) {
  EMBER_CHECK_VALUE(label_smoothing >= 0.0 && label_smoothing <= 1.0,
                    "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  detail::check_class_targets(input.shape(), target, ignore_index, "cross_entropy");
  const Tensor<T> logp = detail::log_softmax_classes(input);
  Tensor<T> nll = nll_loss(logp, target, weight, ignore_index, reduction);
  if (label_smoothing == 0.0) return nll;
  // Smoothing term: -sum_c w_c logp_c / C per sample, over the non-ignored samples.
  const int64_t classes = input.size(1);
  Tensor<T> lp = detail::classes_last(logp);  // [M, C]
  if (weight.defined()) lp = lp.mul(weight);
  const Tensor<int64_t> t = target.reshape({-1});
  const Tensor<T> valid = t.ne(ignore_index).template to<T>();
  Tensor<T> smooth = lp.sum({1}).neg().mul(valid);  // [M]
  if (reduction == Reduction::none) {
    smooth = smooth.reshape(target.shape());
  } else if (reduction == Reduction::sum) {
    smooth = smooth.sum();
  } else {
    Tensor<T> denom = valid.sum();
    if (weight.defined()) {
      const Tensor<int64_t> safe_t = t.mul(t.ne(ignore_index));
      denom = weight.index_select(0, safe_t).mul(valid).sum();
    }
    smooth = smooth.sum().div(denom);
  }
  const T eps = static_cast<T>(label_smoothing);
  return nll.mul(T(1) - eps).add(smooth.mul(eps / static_cast<T>(classes)));
}

// cross_entropy with class-probability targets of the input's shape.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& input, const Tensor<T>& target_probs,
                        const Tensor<T>& weight = Tensor<T>(),
                        Reduction reduction = Reduction::mean, double label_smoothing = 0.0) {
  detail::check_same_shape(input, target_probs, "cross_entropy");
  EMBER_CHECK_SHAPE(input.dim() >= 2,
                    "cross_entropy: input must have a class dim (shape [N, C, ...]), got ",
                    input.shape());
  EMBER_CHECK_VALUE(label_smoothing >= 0.0 && label_smoothing <= 1.0,
                    "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  const int64_t classes = input.size(1);
  Tensor<T> target = target_probs;
  if (label_smoothing > 0.0) {
    const T eps = static_cast<T>(label_smoothing);
    target = target.mul(T(1) - eps).add(eps / static_cast<T>(classes));
  }
  Tensor<T> lp = detail::log_softmax_classes(input).mul(target);
  if (weight.defined()) {
    EMBER_CHECK_SHAPE(weight.shape() == Shape{classes}, "cross_entropy: weight of shape ",
                      weight.shape(), " given for ", classes, " classes");
    Shape wshape(static_cast<std::size_t>(input.dim()), 1);
    wshape[1] = classes;
    lp = lp.mul(weight.reshape(wshape));
  }
  Tensor<T> loss = lp.sum({1}).neg();  // [N, d...]
  if (reduction == Reduction::mean) return loss.sum().div(static_cast<T>(input.size(0)));
  return detail::reduce_loss(loss, reduction);
}

template <class T>
Tensor<T> mse_loss(const Tensor<T>& input, const Tensor<T>& target,
                   Reduction reduction = Reduction::mean) {
  detail::check_same_shape(input, target, "mse_loss");
  const Tensor<T> d = input.sub(target);
  return detail::reduce_loss(d.mul(d), reduction);
}

template <class T>
Tensor<T> l1_loss(const Tensor<T>& input, const Tensor<T>& target,
                  Reduction reduction = Reduction::mean) {
  detail::check_same_shape(input, target, "l1_loss");
  return detail::reduce_loss(input.sub(target).abs(), reduction);
}

// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta.
template <class T>
Tensor<T> smooth_l1_loss(const Tensor<T>& input, const Tensor<T>& target,
                         Reduction reduction = Reduction::mean, double beta = 1.0) {
  detail::check_same_shape(input, target, "smooth_l1_loss");
  EMBER_CHECK_VALUE(beta >= 0.0, "smooth_l1_loss: beta must be >= 0, got ", beta);
  const Tensor<T> d = input.sub(target).abs();
  if (beta == 0.0) return detail::reduce_loss(d, reduction);
  const T b = static_cast<T>(beta);
  const Tensor<T> quad = d.mul(d).mul(T(0.5) / b);
  const Tensor<T> lin = d.sub(T(0.5) * b);
  return detail::reduce_loss(where(d.lt(b), quad, lin), reduction);
}

// 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta).
template <class T>
Tensor<T> huber_loss(const Tensor<T>& input, const Tensor<T>& target,
                     Reduction reduction = Reduction::mean, double delta = 1.0) {
  detail::check_same_shape(input, target, "huber_loss");
  EMBER_CHECK_VALUE(delta > 0.0, "huber_loss: delta must be > 0, got ", delta);
  const T dl = static_cast<T>(delta);
  const Tensor<T> d = input.sub(target).abs();
  const Tensor<T> quad = d.mul(d).mul(T(0.5));
  const Tensor<T> lin = d.sub(T(0.5) * dl).mul(dl);
  return detail::reduce_loss(where(d.le(dl), quad, lin), reduction);
}

// Binary cross-entropy on probabilities; log clamped at -100 like PyTorch.
template <class T>
Tensor<T> binary_cross_entropy(const Tensor<T>& input, const Tensor<T>& target,
                               const Tensor<T>& weight = Tensor<T>(),
                               Reduction reduction = Reduction::mean) {
  detail::check_same_shape(input, target, "binary_cross_entropy");
  {
    const Tensor<T> x = input.detach().contiguous();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const T v = x.data()[i];
      EMBER_CHECK_VALUE(v >= T(0) && v <= T(1),
                        "binary_cross_entropy: input values must be in "
                        "[0, 1], got ",
                        v, " at flat index ", i);
    }
  }
  const Tensor<T> log_p = input.log().clamp_min(T(-100));
  const Tensor<T> log_1mp = input.neg().add(T(1)).log().clamp_min(T(-100));
  Tensor<T> loss = target.mul(log_p).add(target.neg().add(T(1)).mul(log_1mp)).neg();
  if (weight.defined()) loss = loss.mul(weight);
  return detail::reduce_loss(loss, reduction);
}

// Binary cross-entropy on logits, in the stable form
// (1 - y) x + (1 + (p - 1) y) * log(1 + exp(-x)), with log(1 + exp(-x)) = softplus(-x).
template <class T>
Tensor<T> binary_cross_entropy_with_logits(const Tensor<T>& input, const Tensor<T>& target,
                                           const Tensor<T>& weight = Tensor<T>(),
                                           const Tensor<T>& pos_weight = Tensor<T>(),
                                           Reduction reduction = Reduction::mean) {
  detail::check_same_shape(input, target, "binary_cross_entropy_with_logits");
  // softplus(-x) = max(-x, 0) + log(1 + exp(-|x|))
  const Tensor<T> sp = input.neg().clamp_min(T(0)).add(input.abs().neg().exp().add(T(1)).log());
  Tensor<T> coef = ones_like(input);
  if (pos_weight.defined()) coef = pos_weight.sub(T(1)).mul(target).add(T(1));
  Tensor<T> loss = target.neg().add(T(1)).mul(input).add(coef.mul(sp));
  if (weight.defined()) loss = loss.mul(weight);
  return detail::reduce_loss(loss, reduction);
}

// kl_div(input = log q, target = p or log p): p (log p - log q), 0 where p == 0.
// reduction mean averages over every element like PyTorch; batchmean is sum / N.
enum class KLReduction { none, mean, sum, batchmean };
template <class T>
Tensor<T> kl_div(const Tensor<T>& input, const Tensor<T>& target,
                 KLReduction reduction = KLReduction::mean, bool log_target = false) {
  detail::check_same_shape(input, target, "kl_div");
  Tensor<T> loss;
  if (log_target) {
    loss = target.exp().mul(target.sub(input));
  } else {
    const Tensor<T> pos = target.gt(T(0));
    // xlogy: 0 * log 0 = 0; the log reads 1 where target is 0, so no NaN reaches the gradient.
    const Tensor<T> safe = where(pos, target, ones_like(target));
    loss = target.mul(safe.log()).sub(target.mul(input));
  }
  switch (reduction) {
    case KLReduction::none:
      return loss;
    case KLReduction::sum:
      return loss.sum();
    case KLReduction::batchmean:
      return loss.sum().div(static_cast<T>(input.dim() > 0 ? input.size(0) : 1));
    case KLReduction::mean:
      break;
  }
  return loss.mean();
}

}  // namespace ember::F
