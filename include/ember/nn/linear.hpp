// ember: Linear, Identity, Flatten and Unflatten.
//
//   nn::Linear fc(784, 10);                                   // Linear<float>
//   nn::Linear<double> fc2(nn::LinearOptions(784, 10).bias(false));
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/functional/linear.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/detail/repr.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/options.hpp"

namespace ember::nn {


struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  EMBER_ARG(int64_t, in_features);
  EMBER_ARG(int64_t, out_features);
  EMBER_ARG(bool, bias) = true;
};

// y = x W^T + b. weight: [out, in] ~ kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in),
// 1/sqrt(in)); bias: [out] ~ U(-1/sqrt(in), 1/sqrt(in)), as PyTorch initialises them.
template <class T = float>
class Linear : public UnaryModule<T> {
 public:
  explicit Linear(const LinearOptions& options, Generator* gen = nullptr) : options_(options) {
    EMBER_CHECK_VALUE(options.in_features() >= 0 && options.out_features() >= 0,
                      "Linear: in_features and out_features must be non-negative, got ",
                      options.in_features(), " and ", options.out_features());
    weight = this->register_parameter("weight",
                                      empty<T>({options.out_features(), options.in_features()}));
    if (options.bias()) bias = this->register_parameter("bias", empty<T>({options.out_features()}));
    reset_parameters(gen);
  }
  Linear(int64_t in_features, int64_t out_features, Generator* gen = nullptr)
      : Linear(LinearOptions(in_features, out_features), gen) {}

  void reset_parameters(Generator* gen = nullptr) {
    init::kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
    if (bias.defined()) {
      const int64_t fan_in = options_.in_features();
      const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
      init::uniform_(bias, -bound, bound, gen);
    }
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    x.check_defined("Linear");
    EMBER_CHECK_SHAPE(x.dim() >= 1 && x.size(-1) == options_.in_features(), this->repr(),
                      ": expected input of shape [..., ", options_.in_features(), "], got ",
                      x.shape());
    return F::linear(x, weight, bias);
  }

  std::string name() const override { return "Linear"; }
  std::string extra_repr() const override {
    return "in_features=" + std::to_string(options_.in_features()) +
           ", out_features=" + std::to_string(options_.out_features()) +
           ", bias=" + detail::py_bool(options_.bias());
  }
  const LinearOptions& options() const noexcept { return options_; }

  Tensor<T> weight;
  Tensor<T> bias;  // undefined when options.bias() is false

 private:
  LinearOptions options_;
};

Linear(int64_t, int64_t)->Linear<float>;
Linear(const LinearOptions&)->Linear<float>;

// Returns its input.
template <class T = float>
class Identity : public UnaryModule<T> {
 public:
  Tensor<T> forward(const Tensor<T>& x) override { return x; }
  std::string name() const override { return "Identity"; }
};

struct FlattenOptions {
  EMBER_ARG(int64_t, start_dim) = 1;
  EMBER_ARG(int64_t, end_dim) = -1;
};

// Flattens dims start_dim..end_dim into one (by default everything but the batch dim).
template <class T = float>
class Flatten : public UnaryModule<T> {
 public:
  explicit Flatten(const FlattenOptions& options = {}) : options_(options) {}
  Flatten(int64_t start_dim, int64_t end_dim = -1)
      : options_(FlattenOptions().start_dim(start_dim).end_dim(end_dim)) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    return x.flatten(options_.start_dim(), options_.end_dim());
  }
  std::string name() const override { return "Flatten"; }
  std::string extra_repr() const override {
    return "start_dim=" + std::to_string(options_.start_dim()) +
           ", end_dim=" + std::to_string(options_.end_dim());
  }

 private:
  FlattenOptions options_;
};

Flatten()->Flatten<float>;
Flatten(int64_t, int64_t)->Flatten<float>;

struct UnflattenOptions {
  UnflattenOptions(int64_t dim, std::vector<int64_t> sizes)
      : dim_(dim), unflattened_size_(std::move(sizes)) {}
  EMBER_ARG(int64_t, dim);
  EMBER_ARG(std::vector<int64_t>, unflattened_size);
};

// Splits dim `dim` into unflattened_size (its product must equal the dim's size).
template <class T = float>
class Unflatten : public UnaryModule<T> {
 public:
  explicit Unflatten(const UnflattenOptions& options) : options_(options) {}
  Unflatten(int64_t dim, std::vector<int64_t> sizes) : options_(dim, std::move(sizes)) {}
  Tensor<T> forward(const Tensor<T>& x) override {
    x.check_defined("Unflatten");
    const int64_t d = ember::detail::wrap_dim(options_.dim(), x.dim(), "Unflatten");
    const auto& sizes = options_.unflattened_size();
    int64_t prod = 1;
    for (int64_t s : sizes) prod *= s;
    EMBER_CHECK_SHAPE(prod == x.size(d), this->repr(), ": the sizes ", sizes,
                      " do not multiply to ", x.size(d), ", the size of dim ", options_.dim(),
                      " of the input ", x.shape());
    Shape shape(x.shape().begin(), x.shape().begin() + d);
    shape.insert(shape.end(), sizes.begin(), sizes.end());
    shape.insert(shape.end(), x.shape().begin() + d + 1, x.shape().end());
    return x.reshape(shape);
  }
  std::string name() const override { return "Unflatten"; }
  std::string extra_repr() const override {
    return "dim=" + std::to_string(options_.dim()) +
           ", unflattened_size=" + detail::py_tuple(options_.unflattened_size());
  }

 private:
  UnflattenOptions options_;
};

Unflatten(int64_t, std::vector<int64_t>)->Unflatten<float>;
Unflatten(const UnflattenOptions&)->Unflatten<float>;

}  // namespace ember::nn
