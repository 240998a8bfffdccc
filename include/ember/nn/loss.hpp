// ember: loss modules (CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss,
// BCELoss, BCEWithLogitsLoss, KLDivLoss): the ember::F losses with their options held, and
// class weights registered as a buffer like PyTorch's _WeightedLoss.
#pragma once

#include <cstdint>
#include <string>

#include "ember/functional/loss.hpp"
#include "ember/nn/module.hpp"

namespace ember::nn {

using F::KLReduction;
using F::Reduction;

namespace detail {
inline const char* reduction_name(Reduction r) {
  return r == Reduction::none ? "none" : (r == Reduction::sum ? "sum" : "mean");
}
}  // namespace detail

template <class T = float>
class CrossEntropyLoss : public Module<T> {
 public:
  explicit CrossEntropyLoss(Tensor<T> weight = Tensor<T>(), int64_t ignore_index = -100,
                            Reduction reduction = Reduction::mean, double label_smoothing = 0.0)
      : ignore_index_(ignore_index), reduction_(reduction), label_smoothing_(label_smoothing) {
    EMBER_CHECK_VALUE(label_smoothing >= 0.0 && label_smoothing <= 1.0,
                      "CrossEntropyLoss: label_smoothing must be in [0, 1], got ", label_smoothing);
    if (weight.defined()) weight_ = this->register_buffer("weight", weight);
  }
  // Class-index targets [N, d...] or class probabilities of the input's shape.
  Tensor<T> forward(const Tensor<T>& input, const Tensor<int64_t>& target) const {
    return F::cross_entropy(input, target, weight_, ignore_index_, reduction_, label_smoothing_);
  }
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target_probs) const {
    return F::cross_entropy(input, target_probs, weight_, reduction_, label_smoothing_);
  }
  template <class Target>
  Tensor<T> operator()(const Tensor<T>& input, const Tensor<Target>& target) const {
    return forward(input, target);
  }
  std::string name() const override { return "CrossEntropyLoss"; }

 private:
  Tensor<T> weight_;
  int64_t ignore_index_;
  Reduction reduction_;
  double label_smoothing_;
};

template <class T = float>
class NLLLoss : public Module<T> {
 public:
  explicit NLLLoss(Tensor<T> weight = Tensor<T>(), int64_t ignore_index = -100,
                   Reduction reduction = Reduction::mean)
      : ignore_index_(ignore_index), reduction_(reduction) {
    if (weight.defined()) weight_ = this->register_buffer("weight", weight);
  }
  Tensor<T> forward(const Tensor<T>& log_probs, const Tensor<int64_t>& target) const {
    return F::nll_loss(log_probs, target, weight_, ignore_index_, reduction_);
  }
  Tensor<T> operator()(const Tensor<T>& x, const Tensor<int64_t>& t) const { return forward(x, t); }
  std::string name() const override { return "NLLLoss"; }

 private:
  Tensor<T> weight_;
  int64_t ignore_index_;
  Reduction reduction_;
};

// Losses of (input, target) of one shape with a reduction and at most one scalar option.
#define EMBER_DETAIL_PAIR_LOSS(Name, call)                                                       \
  template <class T = float>                                                                     \
  class Name : public Module<T> {                                                                \
   public:                                                                                       \
    explicit Name(Reduction reduction = Reduction::mean, double option = 1.0)                    \
        : reduction_(reduction), option_(option) {}                                              \
    Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const {                   \
      (void)option_;                                                                             \
      return call;                                                                               \
    }                                                                                            \
    Tensor<T> operator()(const Tensor<T>& x, const Tensor<T>& t) const { return forward(x, t); } \
    std::string name() const override { return #Name; }                                          \
                                                                                                 \
   private:                                                                                      \
    Reduction reduction_;                                                                        \
    double option_;                                                                              \
  };
EMBER_DETAIL_PAIR_LOSS(MSELoss, F::mse_loss(input, target, reduction_))
EMBER_DETAIL_PAIR_LOSS(L1Loss, F::l1_loss(input, target, reduction_))
// option: beta
EMBER_DETAIL_PAIR_LOSS(SmoothL1Loss, F::smooth_l1_loss(input, target, reduction_, option_))
// option: delta
EMBER_DETAIL_PAIR_LOSS(HuberLoss, F::huber_loss(input, target, reduction_, option_))
#undef EMBER_DETAIL_PAIR_LOSS

template <class T = float>
class BCELoss : public Module<T> {
 public:
  explicit BCELoss(Tensor<T> weight = Tensor<T>(), Reduction reduction = Reduction::mean)
      : reduction_(reduction) {
    if (weight.defined()) weight_ = this->register_buffer("weight", weight);
  }
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const {
    return F::binary_cross_entropy(input, target, weight_, reduction_);
  }
  Tensor<T> operator()(const Tensor<T>& x, const Tensor<T>& t) const { return forward(x, t); }
  std::string name() const override { return "BCELoss"; }

 private:
  Tensor<T> weight_;
  Reduction reduction_;
};

template <class T = float>
class BCEWithLogitsLoss : public Module<T> {
 public:
  explicit BCEWithLogitsLoss(Tensor<T> weight = Tensor<T>(), Reduction reduction = Reduction::mean,
                             Tensor<T> pos_weight = Tensor<T>())
      : reduction_(reduction) {
    if (weight.defined()) weight_ = this->register_buffer("weight", weight);
    if (pos_weight.defined()) pos_weight_ = this->register_buffer("pos_weight", pos_weight);
  }
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const {
    return F::binary_cross_entropy_with_logits(input, target, weight_, pos_weight_, reduction_);
  }
  Tensor<T> operator()(const Tensor<T>& x, const Tensor<T>& t) const { return forward(x, t); }
  std::string name() const override { return "BCEWithLogitsLoss"; }

 private:
  Tensor<T> weight_, pos_weight_;
  Reduction reduction_;
};

template <class T = float>
class KLDivLoss : public Module<T> {
 public:
  explicit KLDivLoss(KLReduction reduction = KLReduction::mean, bool log_target = false)
      : reduction_(reduction), log_target_(log_target) {}
  Tensor<T> forward(const Tensor<T>& input, const Tensor<T>& target) const {
    return F::kl_div(input, target, reduction_, log_target_);
  }
  Tensor<T> operator()(const Tensor<T>& x, const Tensor<T>& t) const { return forward(x, t); }
  std::string name() const override { return "KLDivLoss"; }

 private:
  KLReduction reduction_;
  bool log_target_;
};

}  // namespace ember::nn
