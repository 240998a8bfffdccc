// ember: BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm with PyTorch's parameters, buffers,
// state-dict keys and defaults (weight = 1, bias = 0, running_mean = 0, running_var = 1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ember/functional/normalization.hpp"
#include "ember/nn/detail/repr.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/options.hpp"

namespace ember::nn {

struct BatchNormOptions {
  /* implicit */ BatchNormOptions(int64_t num_features) : num_features_(num_features) {}
  EMBER_ARG(int64_t, num_features);
  EMBER_ARG(double, eps) = 1e-5;
  // nullopt: a cumulative moving average (running = mean of all batches so far).
  EMBER_ARG(std::optional<double>, momentum) = 0.1;
  EMBER_ARG(bool, affine) = true;
  EMBER_ARG(bool, track_running_stats) = true;
};

namespace detail {

// The shared body of BatchNorm1d and BatchNorm2d; Rank says which input ranks are accepted.
template <class T>
class BatchNormBase : public UnaryModule<T> {
 public:
  BatchNormBase(const BatchNormOptions& options, std::string name, std::string shape_text)
      : options_(options), name_(std::move(name)), shape_text_(std::move(shape_text)) {
    const int64_t c = options.num_features();
    EMBER_CHECK_VALUE(c > 0, name_, ": num_features must be positive, got ", c);
    if (options.affine()) {
      weight = this->register_parameter("weight", ones<T>({c}));
      bias = this->register_parameter("bias", zeros<T>({c}));
    }
    if (options.track_running_stats()) {
      running_mean = this->register_buffer("running_mean", zeros<T>({c}));
      running_var = this->register_buffer("running_var", ones<T>({c}));
      num_batches_tracked = this->register_buffer("num_batches_tracked", zeros<int64_t>({}));
    }
  }

  void reset_running_stats() {
    if (!options_.track_running_stats()) return;
    NoGradGuard no_grad;
    running_mean.zero_();
    running_var.fill_(T(1));
    num_batches_tracked.zero_();
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    x.check_defined(name_.c_str());
    EMBER_CHECK_SHAPE(rank_ok(x.dim()) && x.size(1) == options_.num_features(), this->repr(),
                      ": expected input of shape ", shape_text_, ", got ", x.shape());
    double factor = 0.0;
    const bool training = this->is_training();
    if (training && options_.track_running_stats()) {
      {
        NoGradGuard no_grad;
        num_batches_tracked.add_(int64_t{1});
      }
      factor = options_.momentum() ? *options_.momentum()
                                   : 1.0 / static_cast<double>(num_batches_tracked.item());
    }
    // Batch statistics in training, or always when no running statistics are kept.
    const bool use_batch = training || !options_.track_running_stats();
    return F::batch_norm(x, use_batch && !training ? Tensor<T>() : running_mean,
                         use_batch && !training ? Tensor<T>() : running_var, weight, bias,
                         use_batch, factor, options_.eps());
  }

  std::string name() const override { return name_; }
  std::string extra_repr() const override {
    return std::to_string(options_.num_features()) + ", eps=" + py_float(options_.eps()) +
           ", momentum=" + (options_.momentum() ? py_float(*options_.momentum()) : "None") +
           ", affine=" + py_bool(options_.affine()) +
           ", track_running_stats=" + py_bool(options_.track_running_stats());
  }
  const BatchNormOptions& options() const noexcept { return options_; }

  Tensor<T> weight, bias;               // undefined unless affine
  Tensor<T> running_mean, running_var;  // undefined unless track_running_stats
  Tensor<int64_t> num_batches_tracked;

 protected:
  virtual bool rank_ok(int64_t rank) const = 0;

 private:
  BatchNormOptions options_;
  std::string name_, shape_text_;
};

inline std::string bn_shape(int64_t c, const char* tail) {
  return "[N, " + std::to_string(c) + tail + "]";
}

}  // namespace detail

// Input [N, C] or [N, C, L].
template <class T = float>
class BatchNorm1d : public detail::BatchNormBase<T> {
 public:
  explicit BatchNorm1d(const BatchNormOptions& options)
      : detail::BatchNormBase<T>(options, "BatchNorm1d",
                                 detail::bn_shape(options.num_features(), ("] or [N, " +
                                                       std::to_string(options.num_features()) +
                                                       ", L").c_str())) {}

 protected:
  bool rank_ok(int64_t rank) const override { return rank == 2 || rank == 3; }
};
BatchNorm1d(const BatchNormOptions&)->BatchNorm1d<float>;
BatchNorm1d(int64_t)->BatchNorm1d<float>;

// Input [N, C, H, W].
template <class T = float>
class BatchNorm2d : public detail::BatchNormBase<T> {
 public:
  explicit BatchNorm2d(const BatchNormOptions& options)
      : detail::BatchNormBase<T>(options, "BatchNorm2d",
                                 detail::bn_shape(options.num_features(), ", H, W")) {}

 protected:
  bool rank_ok(int64_t rank) const override { return rank == 4; }
};
BatchNorm2d(const BatchNormOptions&)->BatchNorm2d<float>;
BatchNorm2d(int64_t)->BatchNorm2d<float>;

struct LayerNormOptions {
  /* implicit */ LayerNormOptions(std::vector<int64_t> normalized_shape)
      : normalized_shape_(std::move(normalized_shape)) {}
  EMBER_ARG(std::vector<int64_t>, normalized_shape);
  EMBER_ARG(double, eps) = 1e-5;
  EMBER_ARG(bool, elementwise_affine) = true;
};

template <class T = float>
class LayerNorm : public UnaryModule<T> {
 public:
  explicit LayerNorm(const LayerNormOptions& options) : options_(options) {
    const auto& s = options.normalized_shape();
    EMBER_CHECK_VALUE(!s.empty(), "LayerNorm: normalized_shape must not be empty");
    if (options.elementwise_affine()) {
      weight = this->register_parameter("weight", ones<T>(s));
      bias = this->register_parameter("bias", zeros<T>(s));
    }
  }
  Tensor<T> forward(const Tensor<T>& x) override {
    x.check_defined("LayerNorm");
    const auto& s = options_.normalized_shape();
    const auto k = static_cast<int64_t>(s.size());
    bool ok = x.dim() >= k;
    for (int64_t i = 0; ok && i < k; ++i)
      ok = x.size(x.dim() - k + i) == s[static_cast<std::size_t>(i)];
    EMBER_CHECK_SHAPE(ok, this->repr(), ": expected input of shape [*, ", F::detail::shape_tail(s),
                      "], got ", x.shape());
    return F::layer_norm(x, s, weight, bias, options_.eps());
  }
  std::string name() const override { return "LayerNorm"; }
  std::string extra_repr() const override {
    return detail::py_tuple(options_.normalized_shape()) + ", eps=" + detail::py_float(options_.eps()) +
           ", elementwise_affine=" + detail::py_bool(options_.elementwise_affine());
  }
  const LayerNormOptions& options() const noexcept { return options_; }

  Tensor<T> weight, bias;  // undefined unless elementwise_affine

 private:
  LayerNormOptions options_;
};
LayerNorm(const LayerNormOptions&)->LayerNorm<float>;
LayerNorm(std::vector<int64_t>)->LayerNorm<float>;

struct GroupNormOptions {
  GroupNormOptions(int64_t num_groups, int64_t num_channels)
      : num_groups_(num_groups), num_channels_(num_channels) {}
  EMBER_ARG(int64_t, num_groups);
  EMBER_ARG(int64_t, num_channels);
  EMBER_ARG(double, eps) = 1e-5;
  EMBER_ARG(bool, affine) = true;
};

template <class T = float>
class GroupNorm : public UnaryModule<T> {
 public:
  explicit GroupNorm(const GroupNormOptions& options) : options_(options) {
    const int64_t g = options.num_groups(), c = options.num_channels();
    EMBER_CHECK_VALUE(g > 0 && c % g == 0, "GroupNorm: num_channels ", c,
                      " must be divisible by num_groups ", g);
    if (options.affine()) {
      weight = this->register_parameter("weight", ones<T>({c}));
      bias = this->register_parameter("bias", zeros<T>({c}));
    }
  }
  GroupNorm(int64_t num_groups, int64_t num_channels)
      : GroupNorm(GroupNormOptions(num_groups, num_channels)) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    x.check_defined("GroupNorm");
    EMBER_CHECK_SHAPE(x.dim() >= 2 && x.size(1) == options_.num_channels(), this->repr(),
                      ": expected input of shape [N, ", options_.num_channels(), ", *], got ",
                      x.shape());
    return F::group_norm(x, options_.num_groups(), weight, bias, options_.eps());
  }
  std::string name() const override { return "GroupNorm"; }
  std::string extra_repr() const override {
    return std::to_string(options_.num_groups()) + ", " + std::to_string(options_.num_channels()) +
           ", eps=" + detail::py_float(options_.eps()) + ", affine=" + detail::py_bool(options_.affine());
  }
  const GroupNormOptions& options() const noexcept { return options_; }

  Tensor<T> weight, bias;

 private:
  GroupNormOptions options_;
};
GroupNorm(const GroupNormOptions&)->GroupNorm<float>;
GroupNorm(int64_t, int64_t)->GroupNorm<float>;

}  // namespace ember::nn
