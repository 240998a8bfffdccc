// ember: activation modules (ReLU, LeakyReLU, ELU, GELU, SiLU, Mish, Tanh, Sigmoid, Softmax,
// LogSoftmax, Softplus, Hardtanh): thin wrappers of the ember::F functions with PyTorch's reprs.
#pragma once

#include <cstdint>
#include <string>

#include "ember/functional/activation.hpp"
#include "ember/nn/detail/repr.hpp"
#include "ember/nn/module.hpp"

namespace ember::nn {

// Activations without options.
#define EMBER_DETAIL_SIMPLE_ACTIVATION(Name, fn)                                     \
  template <class T = float>                                                         \
  class Name : public UnaryModule<T> {                                               \
   public:                                                                           \
    Tensor<T> forward(const Tensor<T>& x) override { return F::fn(x); }              \
    std::string name() const override { return #Name; }                              \
  };
EMBER_DETAIL_SIMPLE_ACTIVATION(ReLU, relu)
EMBER_DETAIL_SIMPLE_ACTIVATION(SiLU, silu)
EMBER_DETAIL_SIMPLE_ACTIVATION(Mish, mish)
EMBER_DETAIL_SIMPLE_ACTIVATION(Tanh, tanh)
EMBER_DETAIL_SIMPLE_ACTIVATION(Sigmoid, sigmoid)
#undef EMBER_DETAIL_SIMPLE_ACTIVATION

template <class T = float>
class LeakyReLU : public UnaryModule<T> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
  Tensor<T> forward(const Tensor<T>& x) override { return F::leaky_relu(x, negative_slope_); }
  std::string name() const override { return "LeakyReLU"; }
  std::string extra_repr() const override {
    return "negative_slope=" + detail::py_float(negative_slope_);
  }

 private:
  double negative_slope_;
};
LeakyReLU()->LeakyReLU<float>;
LeakyReLU(double)->LeakyReLU<float>;

template <class T = float>
class ELU : public UnaryModule<T> {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {}
  Tensor<T> forward(const Tensor<T>& x) override { return F::elu(x, alpha_); }
  std::string name() const override { return "ELU"; }
  std::string extra_repr() const override { return "alpha=" + detail::py_float(alpha_); }

 private:
  double alpha_;
};
ELU()->ELU<float>;
ELU(double)->ELU<float>;

template <class T = float>
class GELU : public UnaryModule<T> {
 public:
  explicit GELU(std::string approximate = "none") : approximate_(std::move(approximate)) {
    EMBER_CHECK_VALUE(approximate_ == "none" || approximate_ == "tanh",
                      "GELU: approximate must be \"none\" or \"tanh\", got \"", approximate_, "\"");
  }
  Tensor<T> forward(const Tensor<T>& x) override { return F::gelu(x, approximate_); }
  std::string name() const override { return "GELU"; }
  std::string extra_repr() const override { return "approximate='" + approximate_ + "'"; }

 private:
  std::string approximate_;
};
GELU()->GELU<float>;
GELU(std::string)->GELU<float>;
GELU(const char*)->GELU<float>;

template <class T = float>
class Softmax : public UnaryModule<T> {
 public:
  explicit Softmax(int64_t dim) : dim_(dim) {}
  Tensor<T> forward(const Tensor<T>& x) override { return F::softmax(x, dim_); }
  std::string name() const override { return "Softmax"; }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim_); }

 private:
  int64_t dim_;
};
Softmax(int64_t)->Softmax<float>;

template <class T = float>
class LogSoftmax : public UnaryModule<T> {
 public:
  explicit LogSoftmax(int64_t dim) : dim_(dim) {}
  Tensor<T> forward(const Tensor<T>& x) override { return F::log_softmax(x, dim_); }
  std::string name() const override { return "LogSoftmax"; }
  std::string extra_repr() const override { return "dim=" + std::to_string(dim_); }

 private:
  int64_t dim_;
};
LogSoftmax(int64_t)->LogSoftmax<float>;

template <class T = float>
class Softplus : public UnaryModule<T> {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : beta_(beta), threshold_(threshold) {
    EMBER_CHECK_VALUE(beta != 0.0, "Softplus: beta must be nonzero");
  }
  Tensor<T> forward(const Tensor<T>& x) override { return F::softplus(x, beta_, threshold_); }
  std::string name() const override { return "Softplus"; }
  std::string extra_repr() const override {
    return "beta=" + detail::py_number(beta_) + ", threshold=" + detail::py_number(threshold_);
  }

 private:
  double beta_, threshold_;
};
Softplus()->Softplus<float>;
Softplus(double)->Softplus<float>;
Softplus(double, double)->Softplus<float>;

template <class T = float>
class Hardtanh : public UnaryModule<T> {
 public:
  explicit Hardtanh(double min_val = -1.0, double max_val = 1.0)
      : min_val_(min_val), max_val_(max_val) {
    EMBER_CHECK_VALUE(min_val <= max_val, "Hardtanh: min_val ", min_val,
                      " must not be greater than max_val ", max_val);
  }
  Tensor<T> forward(const Tensor<T>& x) override { return F::hardtanh(x, min_val_, max_val_); }
  std::string name() const override { return "Hardtanh"; }
  std::string extra_repr() const override {
    return "min_val=" + detail::py_float(min_val_) + ", max_val=" + detail::py_float(max_val_);
  }

 private:
  double min_val_, max_val_;
};
Hardtanh()->Hardtanh<float>;
Hardtanh(double, double)->Hardtanh<float>;

}  // namespace ember::nn
