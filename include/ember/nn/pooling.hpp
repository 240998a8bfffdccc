// ember: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool2d and their options (PyTorch's semantics and
// repr; stride defaults to kernel_size).
//
//   nn::MaxPool2d pool(2);
//   nn::AvgPool2d<double> avg(nn::AvgPool2dOptions(3).stride(2).padding(1));
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/functional/pooling.hpp"
#include "ember/nn/detail/repr.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/options.hpp"

namespace ember::nn {

namespace detail {

// PyTorch prints pooling arguments as given: 2 or (2, 3).
inline std::string py_ints(const F::Ints& v) {
  return v.values.size() == 1 ? std::to_string(v.values[0]) : py_tuple(v.values);
}

}  // namespace detail

template <std::size_t D>
struct MaxPoolOptions {
  MaxPoolOptions(F::Ints kernel_size)
      : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT
  EMBER_ARG(F::Ints, kernel_size);
  EMBER_ARG(F::Ints, stride);  // defaults to kernel_size
  EMBER_ARG(F::Ints, padding) = 0;
  EMBER_ARG(F::Ints, dilation) = 1;
  EMBER_ARG(bool, ceil_mode) = false;
};
using MaxPool1dOptions = MaxPoolOptions<1>;
using MaxPool2dOptions = MaxPoolOptions<2>;

template <std::size_t D>
struct AvgPoolOptions {
  AvgPoolOptions(F::Ints kernel_size)
      : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT
  EMBER_ARG(F::Ints, kernel_size);
  EMBER_ARG(F::Ints, stride);  // defaults to kernel_size
  EMBER_ARG(F::Ints, padding) = 0;
  EMBER_ARG(bool, ceil_mode) = false;
  EMBER_ARG(bool, count_include_pad) = true;
};
using AvgPool1dOptions = AvgPoolOptions<1>;
using AvgPool2dOptions = AvgPoolOptions<2>;

struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(F::Ints output_size) : output_size_(output_size) {}  // NOLINT
  EMBER_ARG(F::Ints, output_size);
};

namespace detail {

template <class T, std::size_t D>
class MaxPoolNd : public UnaryModule<T> {
 public:
  explicit MaxPoolNd(const MaxPoolOptions<D>& options) : options_(options) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    const auto& o = options_;
    if constexpr (D == 1) {
      return F::max_pool1d(x, o.kernel_size(), o.stride(), o.padding(), o.dilation(), o.ceil_mode(),
                           name());
    } else {
      return F::max_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.dilation(), o.ceil_mode(),
                           name());
    }
  }
  // relu(forward(x)) in the pool's own passes: the same values and gradients (nn::Sequential
  // uses it for a ReLU followed by this pool; see nn/container.hpp).
  Tensor<T> forward_relu(const Tensor<T>& x) {
    const auto& o = options_;
    return F::detail::max_pool(name(), x, D, o.kernel_size(), o.stride(), o.padding(), o.dilation(),
                               o.ceil_mode(), true, true);
  }
  std::string name() const override { return D == 1 ? "MaxPool1d" : "MaxPool2d"; }
  std::string extra_repr() const override {
    const auto& o = options_;
    return "kernel_size=" + py_ints(o.kernel_size()) + ", stride=" + py_ints(o.stride()) +
           ", padding=" + py_ints(o.padding()) + ", dilation=" + py_ints(o.dilation()) +
           ", ceil_mode=" + py_bool(o.ceil_mode());
  }
  const MaxPoolOptions<D>& options() const noexcept { return options_; }

 private:
  MaxPoolOptions<D> options_;
};

template <class T, std::size_t D>
class AvgPoolNd : public UnaryModule<T> {
 public:
  explicit AvgPoolNd(const AvgPoolOptions<D>& options) : options_(options) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    const auto& o = options_;
    if constexpr (D == 1) {
      return F::avg_pool1d(x, o.kernel_size(), o.stride(), o.padding(), o.ceil_mode(),
                           o.count_include_pad(), name());
    } else {
      return F::avg_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.ceil_mode(),
                           o.count_include_pad(), name());
    }
  }
  std::string name() const override { return D == 1 ? "AvgPool1d" : "AvgPool2d"; }
  // PyTorch's AvgPool1d stores its arguments as 1-tuples; AvgPool2d prints them as given.
  std::string extra_repr() const override {
    const auto& o = options_;
    auto show = [](const F::Ints& v) { return D == 1 ? py_tuple(v.values) : py_ints(v); };
    return "kernel_size=" + show(o.kernel_size()) + ", stride=" + show(o.stride()) +
           ", padding=" + show(o.padding());
  }
  const AvgPoolOptions<D>& options() const noexcept { return options_; }

 private:
  AvgPoolOptions<D> options_;
};

}  // namespace detail

template <class T = float>
class MaxPool1d : public detail::MaxPoolNd<T, 1> {
 public:
  explicit MaxPool1d(const MaxPool1dOptions& options) : detail::MaxPoolNd<T, 1>(options) {}
  explicit MaxPool1d(F::Ints kernel_size)
      : detail::MaxPoolNd<T, 1>(MaxPool1dOptions(std::move(kernel_size))) {}
};
MaxPool1d(const MaxPool1dOptions&)->MaxPool1d<float>;
MaxPool1d(int64_t)->MaxPool1d<float>;

template <class T = float>
class MaxPool2d : public detail::MaxPoolNd<T, 2> {
 public:
  explicit MaxPool2d(const MaxPool2dOptions& options) : detail::MaxPoolNd<T, 2>(options) {}
  explicit MaxPool2d(F::Ints kernel_size)
      : detail::MaxPoolNd<T, 2>(MaxPool2dOptions(std::move(kernel_size))) {}
};
MaxPool2d(const MaxPool2dOptions&)->MaxPool2d<float>;
MaxPool2d(int64_t)->MaxPool2d<float>;

template <class T = float>
class AvgPool1d : public detail::AvgPoolNd<T, 1> {
 public:
  explicit AvgPool1d(const AvgPool1dOptions& options) : detail::AvgPoolNd<T, 1>(options) {}
  explicit AvgPool1d(F::Ints kernel_size)
      : detail::AvgPoolNd<T, 1>(AvgPool1dOptions(std::move(kernel_size))) {}
};
AvgPool1d(const AvgPool1dOptions&)->AvgPool1d<float>;
AvgPool1d(int64_t)->AvgPool1d<float>;

template <class T = float>
class AvgPool2d : public detail::AvgPoolNd<T, 2> {
 public:
  explicit AvgPool2d(const AvgPool2dOptions& options) : detail::AvgPoolNd<T, 2>(options) {}
  explicit AvgPool2d(F::Ints kernel_size)
      : detail::AvgPoolNd<T, 2>(AvgPool2dOptions(std::move(kernel_size))) {}
};
AvgPool2d(const AvgPool2dOptions&)->AvgPool2d<float>;
AvgPool2d(int64_t)->AvgPool2d<float>;

template <class T = float>
class AdaptiveAvgPool2d : public UnaryModule<T> {
 public:
  explicit AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options) : options_(options) {}
  explicit AdaptiveAvgPool2d(F::Ints output_size)
      : options_(AdaptiveAvgPool2dOptions(std::move(output_size))) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    return F::adaptive_avg_pool2d(x, options_.output_size(), name());
  }
  std::string name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override {
    return "output_size=" + detail::py_ints(options_.output_size());
  }
  const AdaptiveAvgPool2dOptions& options() const noexcept { return options_; }

 private:
  AdaptiveAvgPool2dOptions options_;
};
AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions&)->AdaptiveAvgPool2d<float>;
AdaptiveAvgPool2d(int64_t)->AdaptiveAvgPool2d<float>;

}  // namespace ember::nn
