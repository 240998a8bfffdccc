// ember: Conv1d, Conv2d, ConvTranspose2d and their options (PyTorch's parameters, init and repr).
//
//   nn::Conv2d conv(3, 16, 3);                                          // Conv2d<float>
//   nn::Conv2d<double> c2(nn::Conv2dOptions(3, 16, 3).stride(2).padding(1).bias(false));
//   nn::Conv1d c3(nn::Conv1dOptions(4, 8, 5).padding("same"));
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/tensor.hpp"
#include "ember/functional/conv.hpp"
#include "ember/nn/detail/repr.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/options.hpp"

namespace ember::nn {

// Options of Conv1d (D = 1) and Conv2d (D = 2).
template <std::size_t D>
struct ConvOptions {
  ConvOptions(int64_t in_channels, int64_t out_channels, F::Ints kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(std::move(kernel_size)) {}
  EMBER_ARG(int64_t, in_channels);
  EMBER_ARG(int64_t, out_channels);
  EMBER_ARG(F::Ints, kernel_size);
  EMBER_ARG(F::Ints, stride) = 1;
  EMBER_ARG(F::ConvPadding, padding) = 0;  // numbers, "same" or "valid"
  EMBER_ARG(F::Ints, dilation) = 1;
  EMBER_ARG(int64_t, groups) = 1;
  EMBER_ARG(bool, bias) = true;
  EMBER_ARG(std::string, padding_mode) = "zeros";  // only "zeros" is implemented
};
using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

// Options of ConvTranspose2d.
struct ConvTranspose2dOptions {
  ConvTranspose2dOptions(int64_t in_channels, int64_t out_channels, F::Ints kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(std::move(kernel_size)) {}
  EMBER_ARG(int64_t, in_channels);
  EMBER_ARG(int64_t, out_channels);
  EMBER_ARG(F::Ints, kernel_size);
  EMBER_ARG(F::Ints, stride) = 1;
  EMBER_ARG(F::Ints, padding) = 0;
  EMBER_ARG(F::Ints, output_padding) = 0;
  EMBER_ARG(int64_t, groups) = 1;
  EMBER_ARG(bool, bias) = true;
  EMBER_ARG(F::Ints, dilation) = 1;
  EMBER_ARG(std::string, padding_mode) = "zeros";
};

namespace detail {

// "3" when every dim has the same value, else "(3, 5)": the short form in error prefixes.
inline std::string short_ints(const std::vector<int64_t>& v) {
  for (int64_t x : v) {
    if (x != v[0]) return py_tuple(v);
  }
  return std::to_string(v[0]);
}

// The checks PyTorch's _ConvNd constructor makes; `who` is like "Conv2d(3, 16, kernel_size=3)".
inline void check_conv_module(const std::string& who, int64_t in, int64_t out, int64_t groups,
                              const std::vector<int64_t>& kernel, const std::string& padding_mode) {
  EMBER_CHECK_VALUE(in > 0 && out > 0, who, ": in_channels and out_channels must be positive, got ",
                    in, " and ", out);
  EMBER_CHECK_VALUE(groups > 0, who, ": groups must be a positive integer, got ", groups);
  EMBER_CHECK_VALUE(in % groups == 0, who, ": in_channels (", in, ") must be divisible by groups (",
                    groups, ")");
  EMBER_CHECK_VALUE(out % groups == 0, who, ": out_channels (", out,
                    ") must be divisible by groups (", groups, ")");
  F::detail::check_positive(kernel, who, "kernel_size");
  if (padding_mode == "reflect" || padding_mode == "replicate" || padding_mode == "circular") {
    fail(error_kind::value, who, ": padding_mode '", padding_mode,
         "' is not supported by ember yet; only 'zeros' is");
  }
  EMBER_CHECK_VALUE(padding_mode == "zeros", who,
                    ": padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', "
                    "got '", padding_mode, "'");
}

// weight ~ kaiming_uniform_(a = sqrt(5)); bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
template <class T>
void reset_conv_parameters(Tensor<T>& weight, Tensor<T>& bias, Generator* gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).fan_in;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

// The part of PyTorch's conv extra_repr after the channels and kernel size.
inline std::string conv_repr_tail(const std::vector<int64_t>& stride, const std::string& padding,
                                  bool padding_nonzero, const std::vector<int64_t>& dilation,
                                  const std::vector<int64_t>& output_padding, int64_t groups,
                                  bool bias, const std::string& padding_mode) {
  std::string s = ", stride=" + py_tuple(stride);
  if (padding_nonzero) s += ", padding=" + padding;
  for (int64_t d : dilation) {
    if (d != 1) {
      s += ", dilation=" + py_tuple(dilation);
      break;
    }
  }
  for (int64_t p : output_padding) {
    if (p != 0) {
      s += ", output_padding=" + py_tuple(output_padding);
      break;
    }
  }
  if (groups != 1) s += ", groups=" + std::to_string(groups);
  if (!bias) s += ", bias=False";
  if (padding_mode != "zeros") s += ", padding_mode=" + padding_mode;
  return s;
}

// Conv1d / Conv2d: the same module over D spatial dims.
template <class T, std::size_t D>
class ConvNd : public UnaryModule<T> {
 public:
  explicit ConvNd(const ConvOptions<D>& options, Generator* gen = nullptr) : options_(options) {
    const std::string who = describe();
    kernel_ = options.kernel_size().expand(D, who, "kernel_size");
    check_conv_module(who, options.in_channels(), options.out_channels(), options.groups(), kernel_,
                      options.padding_mode());
    // Validate stride / dilation / padding now, not at the first forward.
    stride_ = options.stride().expand(D, who, "stride");
    dilation_ = options.dilation().expand(D, who, "dilation");
    F::detail::conv_params(who, D, kernel_, options.stride(), options.padding(), options.dilation());
    Shape wshape{options.out_channels(), options.in_channels() / options.groups()};
    wshape.insert(wshape.end(), kernel_.begin(), kernel_.end());
    weight = this->register_parameter("weight", empty<T>(wshape));
    if (options.bias()) bias = this->register_parameter("bias", empty<T>({options.out_channels()}));
    reset_parameters(gen);
  }

  void reset_parameters(Generator* gen = nullptr) { reset_conv_parameters(weight, bias, gen); }

  Tensor<T> forward(const Tensor<T>& x) override {
    x.check_defined(name().c_str());
    const auto& o = options_;
    if constexpr (D == 1) {
      return F::conv1d(x, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups(),
                       describe());
    } else {
      return F::conv2d(x, weight, bias, o.stride(), o.padding(), o.dilation(), o.groups(),
                       describe());
    }
  }

  std::string name() const override { return D == 1 ? "Conv1d" : "Conv2d"; }

  // PyTorch: "3, 16, kernel_size=(3, 3), stride=(1, 1)" plus the options that differ from their
  // defaults.
  std::string extra_repr() const override {
    const auto& o = options_;
    std::string padding;
    bool nonzero = true;
    if (!o.padding().mode.empty()) {
      padding = o.padding().mode;
    } else {
      const auto p = o.padding().values.expand(D, name(), "padding");
      padding = py_tuple(p);
      nonzero = std::any_of(p.begin(), p.end(), [](int64_t v) { return v != 0; });
    }
    return std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
           ", kernel_size=" + py_tuple(kernel_) +
           conv_repr_tail(stride_, padding, nonzero, dilation_, {}, o.groups(), o.bias(),
                          o.padding_mode());
  }

  const ConvOptions<D>& options() const noexcept { return options_; }

  Tensor<T> weight;  // [out_channels, in_channels / groups, kernel...]
  Tensor<T> bias;    // [out_channels]; undefined when options.bias() is false

 private:
  // "Conv2d(3, 16, kernel_size=3)": the prefix of this layer's error messages.
  std::string describe() const {
    return name() + "(" + std::to_string(options_.in_channels()) + ", " +
           std::to_string(options_.out_channels()) +
           ", kernel_size=" + short_ints(options_.kernel_size().values) + ")";
  }

  ConvOptions<D> options_;
  std::vector<int64_t> kernel_, stride_, dilation_;
};

}  // namespace detail

// Conv1d: input [N, in, L] (or [in, L]) -> [N, out, L_out].
template <class T = float>
class Conv1d : public detail::ConvNd<T, 1> {
 public:
  explicit Conv1d(const Conv1dOptions& options, Generator* gen = nullptr)
      : detail::ConvNd<T, 1>(options, gen) {}
  Conv1d(int64_t in_channels, int64_t out_channels, F::Ints kernel_size, Generator* gen = nullptr)
      : Conv1d(Conv1dOptions(in_channels, out_channels, std::move(kernel_size)), gen) {}
};
Conv1d(const Conv1dOptions&)->Conv1d<float>;
Conv1d(int64_t, int64_t, int64_t)->Conv1d<float>;

// Conv2d: input [N, in, H, W] (or [in, H, W]) -> [N, out, H_out, W_out].
template <class T = float>
class Conv2d : public detail::ConvNd<T, 2> {
 public:
  explicit Conv2d(const Conv2dOptions& options, Generator* gen = nullptr)
      : detail::ConvNd<T, 2>(options, gen) {}
  Conv2d(int64_t in_channels, int64_t out_channels, F::Ints kernel_size, Generator* gen = nullptr)
      : Conv2d(Conv2dOptions(in_channels, out_channels, std::move(kernel_size)), gen) {}
};
Conv2d(const Conv2dOptions&)->Conv2d<float>;
Conv2d(int64_t, int64_t, int64_t)->Conv2d<float>;

// ConvTranspose2d: input [N, in, H, W] -> [N, out, H_out, W_out] with
// H_out = (H - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.
// weight: [in_channels, out_channels / groups, kh, kw].
template <class T = float>
class ConvTranspose2d : public UnaryModule<T> {
 public:
  explicit ConvTranspose2d(const ConvTranspose2dOptions& options, Generator* gen = nullptr)
      : options_(options) {
    const std::string who = describe();
    kernel_ = options.kernel_size().expand(2, who, "kernel_size");
    detail::check_conv_module(who, options.in_channels(), options.out_channels(), options.groups(),
                              kernel_, options.padding_mode());
    stride_ = options.stride().expand(2, who, "stride");
    padding_ = options.padding().expand(2, who, "padding");
    output_padding_ = options.output_padding().expand(2, who, "output_padding");
    dilation_ = options.dilation().expand(2, who, "dilation");
    F::detail::check_positive(stride_, who, "stride");
    F::detail::check_positive(dilation_, who, "dilation");
    F::detail::check_non_negative(padding_, who, "padding");
    F::detail::check_non_negative(output_padding_, who, "output_padding");
    weight = this->register_parameter(
        "weight", empty<T>({options.in_channels(), options.out_channels() / options.groups(),
                            kernel_[0], kernel_[1]}));
    if (options.bias()) bias = this->register_parameter("bias", empty<T>({options.out_channels()}));
    reset_parameters(gen);
  }
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, F::Ints kernel_size,
                  Generator* gen = nullptr)
      : ConvTranspose2d(ConvTranspose2dOptions(in_channels, out_channels, std::move(kernel_size)),
                        gen) {}

  void reset_parameters(Generator* gen = nullptr) {
    detail::reset_conv_parameters(weight, bias, gen);
  }

  Tensor<T> forward(const Tensor<T>& x) override {
    x.check_defined("ConvTranspose2d");
    const auto& o = options_;
    return F::conv_transpose2d(x, weight, bias, o.stride(), o.padding(), o.output_padding(),
                               o.groups(), o.dilation(), describe());
  }

  std::string name() const override { return "ConvTranspose2d"; }
  std::string extra_repr() const override {
    const auto& o = options_;
    const bool nonzero =
        std::any_of(padding_.begin(), padding_.end(), [](int64_t v) { return v != 0; });
    return std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
           ", kernel_size=" + detail::py_tuple(kernel_) +
           detail::conv_repr_tail(stride_, detail::py_tuple(padding_), nonzero, dilation_,
                                  output_padding_, o.groups(), o.bias(), o.padding_mode());
  }

  const ConvTranspose2dOptions& options() const noexcept { return options_; }

  Tensor<T> weight;  // [in_channels, out_channels / groups, kh, kw]
  Tensor<T> bias;    // [out_channels]; undefined when options.bias() is false

 private:
  std::string describe() const {
    return "ConvTranspose2d(" + std::to_string(options_.in_channels()) + ", " +
           std::to_string(options_.out_channels()) +
           ", kernel_size=" + detail::short_ints(options_.kernel_size().values) + ")";
  }

  ConvTranspose2dOptions options_;
  std::vector<int64_t> kernel_, stride_, padding_, output_padding_, dilation_;
};
ConvTranspose2d(const ConvTranspose2dOptions&)->ConvTranspose2d<float>;
ConvTranspose2d(int64_t, int64_t, int64_t)->ConvTranspose2d<float>;

}  // namespace ember::nn
